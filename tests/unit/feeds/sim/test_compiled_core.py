"""The compiled matching engine and market model (Cython twins of `matching_core.py` and
`market_core.py`) behave exactly like the pure-Python ones: same events (every field), same
book after every pass, same ledgers, for seeded markets on every venue's rules and for
random command streams (hypothesis); and both reproduce the traces the original pure-Python
code gave before the split (digests recorded at commit 6628272), so the refactoring for the
compiler changed nothing either. Also: which path is active and why (`feeds.sim.fast`), the
HFT_PURE_PYTHON=1 switch, and a stale build being refused.

The twins must be built (`pip install -e .` / `setup.py build_ext --inplace` builds them):
unless HFT_PURE_PYTHON=1 is set, nothing here is skipped.
"""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.sim import fast
from feeds.sim.events import SymbolParams
from feeds.sim.market import MarketSimulator, PureMarketSimulator
from feeds.sim.matching import MatchingEngine, PureMatchingEngine
from tests.unit.feeds.sim.market_trace import (
    digest,
    engine_commands,
    market_trace,
    run_commands,
)

ROOT = Path(__file__).resolve().parents[4]
VENUES = ("binance", "okx", "gate")
PURE_RUN = fast.pure_requested()

# sha256 of the traces, computed with the pure-Python engine and market before they were
# split for the compiler (commit 6628272)
MARKET_DIGESTS = {
    ("binance", 1): "20e8ecd1a0c923cbe225aa65493f858fb9c36000d409340c2e567ad87bbc6b3b",
    ("binance", 2): "5bb0b028df0a93852ca59d2b854dd022b3e8d926e8f5ea40b4e5277f5698a5e4",
    ("okx", 1): "5a6bb9971896559e556739a28c39a521cb2c109f622cc24c34f6027e2687cf7c",
    ("okx", 2): "c793d45286bb003f96fc5db8cb4fadea2fee12c8a42e82c99e02992a96561053",
    ("gate", 1): "61a959e7f63df425ebef7964654f115ccdc237ce2e1011d71182c0a397633656",
    ("gate", 2): "1baee07f038167e58ee5b35d9232949c3ca1895116b904cbc44634e083a5cfc3",
}
ENGINE_DIGESTS = {
    "binance": "6ec3fffe626c97cd09644c18ddac792226738d9cd2d1fa1a7035024efa48e278",
    "okx": "c1d879447dfb49c15378ad7323eab309e61c4fce36feab3fd3593ed87a8d8843",
    "gate": "c3ae9824741e00c3e77199c623ab565cb52e69628f0fccdeb7019b0cbb5a1aec",
}


def same(pure: list[str], compiled: list[str]) -> None:
    """Equal traces; on a difference, the first differing line (not a 10k-line diff)."""
    for i, (a, b) in enumerate(zip(pure, compiled)):
        assert a == b, f"line {i} differs:\n pure:     {a}\n compiled: {b}"
    assert len(pure) == len(compiled)


def test_the_compiled_twins_are_built_and_active() -> None:
    if PURE_RUN:
        assert not fast.compiled() and "HFT_PURE_PYTHON" in fast.describe()
        assert MatchingEngine is PureMatchingEngine
        return
    assert fast.compiled(), fast.describe()
    assert fast.describe() == "compiled (Cython)"
    for cls in (MatchingEngine, MarketSimulator):
        assert Path(sys.modules[cls.__module__].__file__ or "").suffix == ".so"
    for cls in (PureMatchingEngine, PureMarketSimulator):
        assert Path(sys.modules[cls.__module__].__file__ or "").suffix == ".py"
    assert MatchingEngine is not PureMatchingEngine


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("seed", [1, 2])
def test_seeded_market_runs_match_event_by_event_and_the_original_code(venue: str,
                                                                       seed: int) -> None:
    pure = market_trace(PureMarketSimulator, PureMatchingEngine, venue, seed)
    assert digest(pure) == MARKET_DIGESTS[venue, seed]
    same(pure, market_trace(MarketSimulator, MatchingEngine, venue, seed))


@pytest.mark.parametrize("venue", VENUES)
def test_engine_command_streams_match_and_the_original_code(venue: str) -> None:
    cmds = engine_commands(7, 3000)
    pure = run_commands(PureMatchingEngine, venue, cmds)
    assert digest(pure) == ENGINE_DIGESTS[venue]
    same(pure, run_commands(MatchingEngine, venue, cmds))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue=st.sampled_from(VENUES), seed=st.integers(0, 2**32 - 1),
       n=st.integers(1, 400))
def test_random_command_streams_match(venue: str, seed: int, n: int) -> None:
    cmds = engine_commands(seed, n)
    same(run_commands(PureMatchingEngine, venue, cmds), run_commands(MatchingEngine, venue, cmds))


ops = st.lists(st.one_of(
    st.tuples(st.just("limit"), st.sampled_from("abc"), st.sampled_from(["", "x", "y", "z"]),
              st.sampled_from([1, -1]), st.integers(4_999_990, 5_000_010), st.integers(-2, 60),
              st.sampled_from(["GTC", "IOC", "FOK", "POST_ONLY"])),
    st.tuples(st.just("market"), st.sampled_from("abc"), st.sampled_from(["", "m"]),
              st.sampled_from([1, -1]), st.integers(0, 80),
              st.sampled_from(["GTC", "IOC", "FOK", "POST_ONLY"]),
              st.one_of(st.none(), st.decimals(-5, 500, places=2))),
    st.tuples(st.just("cancel"), st.sampled_from("abc"), st.integers(-1, 60)),
    st.tuples(st.just("cancel_cid"), st.sampled_from("abc"), st.sampled_from(["", "x", "y"])),
    st.tuples(st.just("cancel_all"), st.sampled_from("abc"))), max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue=st.sampled_from(VENUES), cmds=ops)
def test_hypothesis_command_streams_match(venue: str, cmds: list[tuple]) -> None:
    """Arbitrary shapes too: bad sizes, post-only markets, quote amounts on sells, negative
    or unknown ids (whatever one path raises or rejects, the other must as well)."""
    from pipeline.model import Side, TimeInForce
    conv = []
    for c in cmds:
        if c[0] in ("limit", "market"):
            c = (*c[:3], Side(c[3]), *c[4:])
            i = 5 if c[0] == "market" else 6
            c = (*c[:i], TimeInForce[c[i]], *c[i + 1:])
        conv.append(c)
    same(run_commands(PureMatchingEngine, venue, conv), run_commands(MatchingEngine, venue, conv))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue=st.sampled_from(VENUES), seed=st.integers(0, 2**32 - 1),
       rate=st.sampled_from([5.0, 300.0, 20_000.0]), share=st.floats(0.0, 0.6),
       vol=st.floats(0.1, 30.0), levels=st.integers(1, 30), target=st.integers(1, 200),
       size=st.one_of(st.none(), st.integers(1, 5000)),
       depth=st.one_of(st.none(), st.floats(0.5, 40.0)))
def test_random_market_parameters_match(venue: str, seed: int, rate: float, share: float,
                                        vol: float, levels: int, target: int,
                                        size: int | None, depth: float | None) -> None:
    from feeds.sim.accounts import Accounts
    from feeds.sim.instruments import listed
    from feeds.sim.venue_rules import RULES
    insts = listed(venue, ["BTC/USDT", "SOL/USDT"])
    params = {"BTC/USDT": SymbolParams(D(65000), vol_bps=vol, market_share=share,
                                       min_levels=levels, target_orders=target,
                                       size_lots=size, depth_ticks=depth, jump_rate_hz=1.0),
              "SOL/USDT": SymbolParams(D(150), drift_bps=vol, jump_bps=vol)}

    def run(sim_cls: type, eng_cls: type) -> list[str]:
        acc = Accounts()
        engines = {i.symbol: eng_cls(i, RULES[venue], acc) for i in insts}
        sim = sim_cls(insts, RULES[venue], acc, params, seed=seed, rate_hz=rate,
                      engines=engines)
        out: list[str] = []
        for k in range(6):
            out += map(repr, sim.step(150) if k % 2 else sim.advance_to(sim.now_ns + 10**8))
            out += [f"{s} {e.sequence} {e.depth(40)} {e.drain_level_changes()}"
                    for s, e in engines.items()]
            out.append(f"{sim.arrivals} {sim.now_ns} {[sim.mid_ticks(s) for s in engines]}")
        return out

    same(run(PureMarketSimulator, PureMatchingEngine), run(MarketSimulator, MatchingEngine))


def test_pure_switch_selects_the_python_sources() -> None:
    code = ("from feeds.sim import fast, matching, market; import sys; "
            "print(fast.describe()); print(sys.modules[matching.MatchingEngine.__module__]"
            ".__file__); print(sys.modules[market.MarketSimulator.__module__].__file__)")
    env = dict(os.environ, HFT_PURE_PYTHON="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert out[0] == "pure Python (HFT_PURE_PYTHON=1)"
    assert out[1].endswith("matching_core.py") and out[2].endswith("market_core.py")


def test_the_simulator_test_suite_passes_on_the_pure_path() -> None:
    """The engine, market, venue and property tests, run again with HFT_PURE_PYTHON=1 (this
    file's own comparisons need both paths, so it is left out)."""
    if PURE_RUN:
        pytest.skip("already running on the pure path")
    here = Path(__file__).parent
    files = [str(here / f) for f in ("test_matching.py", "test_matching_properties.py",
                                     "test_market.py", "test_venue_bbo.py",
                                     "test_venue_faults.py")]
    env = dict(os.environ, HFT_PURE_PYTHON="1")
    res = subprocess.run([sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider",
                          *files], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout


def test_a_build_older_than_its_source_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    built = tmp_path / "matching_core.cpython-311-x86_64-linux-gnu.so"
    src = tmp_path / "matching_core.py"
    pxd = tmp_path / "matching_core.pxd"
    for p in (built, src, pxd):
        p.write_text("")
    monkeypatch.setattr(fast, "_HERE", tmp_path)
    os.utime(src, (1000, 1000))
    os.utime(pxd, (1000, 1000))
    os.utime(built, (2000, 2000))
    assert not fast._stale("matching", built)
    os.utime(pxd, (3000, 3000))           # the declarations changed after the build
    assert fast._stale("matching", built)
    os.utime(pxd, (1000, 1000))
    os.utime(src, (3000, 3000))           # the source changed after the build
    assert fast._stale("matching", built)


def test_no_build_means_the_pure_path_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.machinery
    import importlib.util
    monkeypatch.delenv(fast.PURE_ENV, raising=False)
    py = importlib.machinery.ModuleSpec("feeds.sim.matching_core", None,
                                        origin=str(ROOT / "feeds/sim/matching_core.py"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: py)
    why = fast._decide()
    assert why is not None and "feeds.sim.matching_core is not compiled" in why


odd_instruments = st.builds(
    lambda tick, lot, mq, mn, xq, xn: __import__("pipeline.model", fromlist=["Instrument"])
    .Instrument("binance", "X/USDT", "XUSDT", "X", "USDT", D(tick), D(lot), min_qty=D(mq),
                min_notional=D(mn), max_qty=None if xq is None else D(xq),
                max_notional=None if xn is None else D(xn)),
    st.sampled_from(["0.01", "0.1", "1", "0.00000001", "25", "0.0025", "1E+3"]),
    st.sampled_from(["0.00001", "0.001", "1", "0.00000001", "0.3", "5E+2"]),
    st.sampled_from(["0", "0.00001", "0.01", "1", "0.33"]),
    st.sampled_from(["0", "1", "5", "3.3333", "100000"]),
    st.one_of(st.none(), st.sampled_from(["9000", "0.5", "1E+30", "123.456"])),
    st.one_of(st.none(), st.sampled_from(["1000000", "55.5", "1E+40"])))


@settings(max_examples=400, deadline=None)
@given(inst=odd_instruments, price=st.one_of(st.none(), st.integers(-3, 10**15),
                                             st.integers(10**20, 10**40)),
       lots=st.one_of(st.integers(-3, 10**12), st.integers(10**20, 10**40)))
def test_integer_filter_check_equals_check_filters(inst, price: int | None, lots: int) -> None:  # type: ignore[no-untyped-def]
    """The engine's integer form of the exchange filters answers as `check_filters` does,
    including near every bound and where only Decimal can answer (huge numbers)."""
    from feeds.sim.accounts import Accounts
    from feeds.sim.venue_rules import BINANCE, check_filters
    eng = PureMatchingEngine(inst, BINANCE, Accounts())
    assert eng._check_filters(price, lots) == check_filters(inst, price, lots)
    for edge in ("min_qty", "max_qty"):   # right at and around each size bound
        bound = getattr(inst, edge)
        if bound is not None and bound < 10**20:
            n = int(bound / inst.lot_size)
            for k in (n - 1, n, n + 1):
                assert eng._check_filters(price, k) == check_filters(inst, price, k)
