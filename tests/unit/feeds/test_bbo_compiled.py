"""The compiled BBO hot path (`feeds/_bbo_fast.pyx`) is indistinguishable from the pure-Python
one: for every frame, each venue's two `FeedCore`s — one running `BboFrameHandler`, one the
plain closure — leave byte-identical ring records (all fields, the ring's stamps and doorbell
too) and identical counters, and raise alike. Frames the compiled path declines reach the
Python path exactly once; frames the Python fast path takes (a known symbol) never reach it.

Frames: the venues' own encoders, the documented examples, and the hypothesis strategies of
each venue's `test_market_fast.py` (one hostile field, one text edit, every token respelled),
plus known-symbol well-formed frames with extreme numbers, pretty-printed and bytes frames.
The extension must be built (it is, by `pip install -e .`): nothing here is skipped.
"""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds import _bbo_fast, feed_core
from feeds.binance.protocol import market as binance_m
from feeds.feed_core import FeedCore
from feeds.gate.protocol import market as gate_m
from feeds.okx.protocol import market as okx_m
from feeds.runner import frame_handler, load_feed_adapter
from pipeline.config import Config
from shm import registry
from shm.book import BookSlots
from shm.layout import KIND_BBO, TICK_DTYPE, VENUE_IDS
from shm.ring import RingReader, RingWriter

from .bbo_fast import SETTINGS, good_ids, mutate_text, near_miss, respellings
from .binance import test_market_fast as binance_t
from .gate import test_market_fast as gate_t
from .okx import test_market_fast as okx_t

SYMBOLS = {"binance": ["BTCUSDT", "BNBUSDT", "1000SATSUSDT"],
           "okx": ["BTC-USDT", "BCH-USDT-SWAP", "ETH-USDT"],
           "gate": ["BTC_USDT", "GT_USDT", "ETH_USDT"]}
TESTS = {"binance": binance_t, "okx": okx_t, "gate": gate_t}
VENUES = tuple(SYMBOLS)
T0 = 1_700_000_000_000_000_000

big_nums = st.from_regex(r"[0-9]{1,30}(\.[0-9]{1,30})?", fullmatch=True)
nums = st.one_of(binance_t.good_nums, big_nums, st.sampled_from(
    ["0", "0.0", "9" * 30 + "." + "9" * 30, "9007199254740993", "0." + "0" * 29 + "1",
     "1" * 31, "1." + "0" * 31, "00.10", "2.2250738585072011", "4.9406564584124654"]))
ts_recvs = st.one_of(st.integers(0, 2**63 - 1), st.sampled_from(
    [0, 2**63 - 1, 2**63, -2**63, -2**63 - 1, True, 1.5, None]))


@dataclass
class Side:
    """One FeedCore with its own ring, book slots and a reader of every record."""
    core: FeedCore
    ring: RingWriter
    books: BookSlots
    reader: RingReader
    on_frame: Callable[[Any, int], None]


@dataclass
class Pair:
    venue: str
    compiled: Side
    python: Side
    names: list[str]

    def close(self) -> None:
        for s in (self.compiled, self.python):
            s.reader.close()
            s.ring.close()
            s.books.close()
        for n in self.names:
            registry.unlink(n)


def _side(venue: str, tag: str, compiled: bool, clock: Callable[[], int],
          names: list[str]) -> Side:
    adapter = load_feed_adapter(venue, Config())
    rname = registry.segment_name("ring", f"bbo.{venue}.{tag}")
    bname = registry.segment_name("book", f"bbo.{venue}.{tag}")
    names += [rname, bname]
    ring = RingWriter.create(rname, TICK_DTYPE, 1 << 10)
    books = BookSlots.create(bname, n_symbols=len(SYMBOLS[venue]), depth=5)
    core = FeedCore(adapter, list(enumerate(SYMBOLS[venue])), ring, books, depth=5, clock=clock)
    reader = RingReader.attach(rname, dtype=TICK_DTYPE)
    on_frame = core.make_on_frame(compiled=compiled)
    return Side(core, ring, books, reader, on_frame)


def make_pair(venue: str, clock: Callable[[], Callable[[], int]] | None = None) -> Pair:
    names: list[str] = []
    clock = clock or (lambda: itertools.count(T0, 7).__next__)
    c = _side(venue, "c", True, clock(), names)
    p = _side(venue, "p", False, clock(), names)
    assert isinstance(c.on_frame, _bbo_fast.BboFrameHandler), c.core.bbo_path
    assert not isinstance(p.on_frame, _bbo_fast.BboFrameHandler)
    return Pair(venue, c, p, names)


@pytest.fixture(scope="module")
def pairs() -> Iterator[dict[str, Pair]]:
    made = {v: make_pair(v) for v in VENUES}
    yield made
    for p in made.values():
        p.close()


def _run(on_frame: Callable[[Any, Any], None], frame: Any, ts: Any) -> str | None:
    try:
        on_frame(frame, ts)
    except Exception as exc:  # noqa: BLE001 - compared across the two paths, type and all
        return type(exc).__name__
    return None


def check(pair: Pair, frame: Any, ts: Any = 12345) -> bytes:
    """Feed one frame to both cores; everything they leave behind must be identical.
    Returns the records published."""
    c, p = pair.compiled, pair.python
    assert _run(c.on_frame, frame, ts) == _run(p.on_frame, frame, ts), frame
    got, want = c.reader.poll(), p.reader.poll()
    assert got.tobytes() == want.tobytes(), (frame, got, want)
    assert c.core.counters.values == p.core.counters.values, frame
    assert c.ring.published == p.ring.published
    assert c.core.replies == p.core.replies
    return got.tobytes()


def python_takes(venue: str, frame: Any) -> bool:
    """Would the pure-Python fast path publish this frame itself (no general parse)?"""
    row = load_feed_adapter(venue, Config()).parse_bbo_fast(frame)
    return row is not None and row[0] in SYMBOLS[venue]


def check_slow_calls(pair: Pair, frame: Any, ts: Any = 12345) -> None:
    """The handler hands `frame` to the Python path exactly when that path's fast BBO would
    not take it, and then exactly once."""
    calls: list[Any] = []
    c = pair.compiled.core
    slow = c.make_on_frame(compiled=False)

    def counting(data: Any, ts_recv: int) -> None:
        calls.append(data)
        slow(data, ts_recv)

    sid_of = {vs: s.symbol_id for vs, s in c.symbols.items()}
    h = _bbo_fast.BboFrameHandler(c.adapter.bbo_shape, counting, c.counters.values, sid_of,
                                  c.ring, c.clock, VENUE_IDS[pair.venue], KIND_BBO)
    _run(h, frame, ts)
    pair.compiled.reader.poll()
    # keep the pair in step: the python side sees the frame too
    _run(pair.python.on_frame, frame, ts)
    pair.python.reader.poll()
    taken = type(frame) is str and type(ts) is int and -2**63 <= ts < 2**63 \
        and python_takes(pair.venue, frame)
    assert len(calls) == (0 if taken else 1), (frame, calls)


# -- frames ------------------------------------------------------------------------------------
def encoded(venue: str, sym: str, b: str, bq: str, a: str, aq: str, ts_ms: int,
            uid: int) -> str:
    """A BBO frame as the venue's (simulator's) own encoder writes it."""
    if venue == "binance":
        return binance_m.wrap_combined(f"{sym.lower()}@bookTicker",
                                       binance_m.encode_bbo(sym, b, bq, a, aq, uid))
    if venue == "okx":
        return okx_m.encode_bbo(sym, (b, bq), (a, aq), ts_ms * 10**6, uid)
    return gate_m.encode_bbo(sym, b, bq, a, aq, uid, ts_ms * 10**6)


def hostile(venue: str, data: st.DataObject) -> str:
    t = TESTS[venue]
    extra = {"binance": ("e", "lastUpdateId", "x"), "okx": ("x",), "gate": ("error", "x")}
    f = near_miss(data, t.GOOD, t.HOSTILE, extra_keys=extra[venue])
    if venue == "okx" and f["items"] is t.DROP:
        f["items"] = 1
    if data.draw(st.booleans()):  # the good frame's symbol is a known one: make it count
        key = {"binance": "s", "okx": "instId", "gate": "s"}[venue]
        if f.get(key) == t.GOOD[key]:
            f[key] = data.draw(st.sampled_from(SYMBOLS[venue]))
    return t._frame(f, data.draw(st.booleans()))  # type: ignore[no-any-return]


def shaped(venue: str, sym: str, b: str, bq: str, a: str, aq: str, ts_ms: int,
           uid: int) -> str:
    """A BBO frame of the venue's exact shape with any field values (the venues' encoders
    normalise numbers; the shape's limits need raw strings)."""
    t = TESTS[venue]
    if venue == "binance":
        f = {"stream": f"{sym.lower()}@bookTicker", "u": uid, "s": sym, "b": b, "B": bq,
             "a": a, "A": aq}
    elif venue == "okx":
        f = {**t.GOOD, "instId": sym, "ask": a, "ask_sz": aq, "bid": b, "bid_sz": bq,
             "ts": str(ts_ms), "seqId": uid}
    else:
        f = {**t.GOOD, "t": ts_ms, "u": uid, "s": sym, "b": b, "B": bq, "a": a, "A": aq}
    return t._frame(f)  # type: ignore[no-any-return]


@st.composite
def well_formed(draw: Any, venue: str) -> str:
    sym = draw(st.one_of(st.sampled_from(SYMBOLS[venue]), st.sampled_from(["X", "A" * 40])))
    return shaped(venue, sym, draw(nums), draw(nums), draw(nums), draw(nums),
                  draw(st.one_of(st.integers(0, 9 * 10**12), st.just(8999999999999))),
                  draw(st.one_of(good_ids, st.just(10**18 - 1))))


# -- the examples ------------------------------------------------------------------------------
@pytest.mark.parametrize("venue", VENUES)
def test_the_venues_frames_publish_identical_records(pairs: dict[str, Pair], venue: str) -> None:
    pair = pairs[venue]
    before = pair.compiled.core.counters.values["bbo"]
    for i in range(50):
        sym = SYMBOLS[venue][i % 3]
        frame = encoded(venue, sym, f"{65000 - i / 10:.1f}", "0.5", f"{65000 + i / 10:.1f}",
                        f"{i}.{i:03d}", 1_700_000_000_000 + i, i + 1)
        rec = check(pair, frame, T0 + i)
        assert len(rec) == TICK_DTYPE.itemsize
        check_slow_calls(pair, frame, T0 + i)
    assert pair.compiled.core.counters.values["bbo"] == before + 100


@pytest.mark.parametrize("venue", VENUES)
def test_the_documented_examples_and_their_respellings(pairs: dict[str, Pair],
                                                       venue: str) -> None:
    t = TESTS[venue]
    good = t._frame(t.GOOD)
    frames = [good, good.encode(), json.dumps(json.loads(good)), good + " ", " " + good,
              good.replace(",", ", "), good[:-1], good + "}", "", "pong", good.upper(),
              good.replace("1", "\u0661"), good.replace('"', "'")]
    frames += respellings(good)
    for f in frames:
        check(pair := pairs[venue], f)
        check_slow_calls(pair, f)


@pytest.mark.parametrize("venue", VENUES)
def test_hostile_ts_recv_and_str_subclasses_take_the_python_path(pairs: dict[str, Pair],
                                                                  venue: str) -> None:
    pair = pairs[venue]
    frame = encoded(venue, SYMBOLS[venue][0], "1.5", "2", "3.25", "4", 1_700_000_000_000, 9)

    class Text(str):
        pass

    for ts in (0, 2**63 - 1, 2**63, -2**63, -2**63 - 1, True, 1.5, None, 10**30):
        check(pair, frame, ts)
        check_slow_calls(pair, frame, ts)
    check(pair, Text(frame))
    check_slow_calls(pair, Text(frame))


# -- fuzz --------------------------------------------------------------------------------------
@pytest.mark.parametrize("venue", VENUES)
@SETTINGS
@given(data=st.data())
def test_a_frame_with_one_hostile_field(pairs: dict[str, Pair], venue: str,
                                        data: st.DataObject) -> None:
    frame = hostile(venue, data)
    check(pairs[venue], frame, data.draw(ts_recvs))
    check_slow_calls(pairs[venue], frame)


@pytest.mark.parametrize("venue", VENUES)
@SETTINGS
@given(data=st.data())
def test_one_edit_of_a_well_formed_frame(pairs: dict[str, Pair], venue: str,
                                         data: st.DataObject) -> None:
    frame = mutate_text(data.draw(well_formed(venue)), data)
    if data.draw(st.integers(0, 9)) == 0:
        frame = frame.encode()
    check(pairs[venue], frame, data.draw(ts_recvs))
    check_slow_calls(pairs[venue], frame)


@pytest.mark.parametrize("venue", VENUES)
@SETTINGS
@given(data=st.data())
def test_well_formed_frames_with_extreme_numbers(pairs: dict[str, Pair], venue: str,
                                                 data: st.DataObject) -> None:
    frame = data.draw(well_formed(venue))
    check(pairs[venue], frame, data.draw(st.integers(0, 2**63 - 1)))
    check_slow_calls(pairs[venue], frame)


@pytest.mark.parametrize("venue", VENUES)
def test_other_frames_go_through_both_paths_alike(pairs: dict[str, Pair], venue: str) -> None:
    """Depth, trades, snapshots-in-band and control frames: the handler passes them on."""
    pair = pairs[venue]
    ts = 1_700_000_000_000_000_000
    if venue == "binance":
        frames = [binance_m.wrap_combined("btcusdt@depth@100ms", binance_m.encode_depth_update(
            "BTCUSDT", 5, 6, [("1.0", "2.0")], [("1.1", "3.0")], ts))]
    elif venue == "okx":
        frames = [okx_m.encode_books("snapshot", "BTC-USDT", [("1.0", "2.0")], [("1.1", "3")],
                                     ts, 5, -1), "pong"]
    else:
        frames = [gate_m.encode_order_book_update("BTC_USDT", 5, 6, [("1.0", "2.0")],
                                                  [("1.1", "3.0")], ts)]
    for f in frames + ["{}", "[]", "not json"]:
        check(pair, f)
        check_slow_calls(pair, f)


# -- clocks, doorbell, closed ring ---------------------------------------------------------------
@pytest.mark.parametrize("venue", VENUES)
def test_time_time_ns_is_read_as_the_wall_clock(venue: str) -> None:
    pair = make_pair(venue, clock=lambda: time.time_ns)
    try:
        frame = encoded(venue, SYMBOLS[venue][1], "1.5", "2", "3.25", "4", 1_700_000_000_000, 9)
        t0 = time.time_ns()
        pair.compiled.on_frame(frame, 5)
        pair.python.on_frame(frame, 5)
        t1 = time.time_ns()
        got, want = pair.compiled.reader.poll(), pair.python.reader.poll()
        assert t0 <= got["ts_pub"][0] <= t1
        got["ts_pub"] = want["ts_pub"] = 0
        assert got.tobytes() == want.tobytes()
    finally:
        pair.close()


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("value", [1.5, 2**63, -2**63 - 1, None, 7])
def test_a_clock_returning_what_a_ring_field_cannot_hold_raises_alike(venue: str,
                                                                      value: Any) -> None:
    pair = make_pair(venue, clock=lambda: (lambda: value))
    try:
        frame = encoded(venue, SYMBOLS[venue][0], "1.5", "2", "3.25", "4", 1_700_000_000_000, 9)
        check(pair, frame)
    finally:
        pair.close()


@pytest.mark.parametrize("venue", VENUES)
def test_a_parked_reader_is_woken_alike(venue: str) -> None:
    pair = make_pair(venue)
    try:
        frame = encoded(venue, SYMBOLS[venue][0], "1.5", "2", "3.25", "4", 1_700_000_000_000, 9)
        for s in (pair.compiled, pair.python):
            s.ring._m.doorbell.parked_view[0] = 1
        check(pair, frame)
        bells = [s.ring._m.doorbell._bell[0] for s in (pair.compiled, pair.python)]
        assert bells == [1, 1]
        for s in (pair.compiled, pair.python):
            s.ring._m.doorbell.parked_view[0] = 0
        check(pair, frame)
        assert [s.ring._m.doorbell._bell[0] for s in (pair.compiled, pair.python)] == bells
    finally:
        pair.close()


@pytest.mark.parametrize("venue", VENUES)
def test_a_closed_ring_raises_as_the_python_path_does(venue: str) -> None:
    pair = make_pair(venue)
    frame = encoded(venue, SYMBOLS[venue][0], "1.5", "2", "3.25", "4", 1_700_000_000_000, 9)
    for s in (pair.compiled, pair.python):
        s.reader.close()
        s.ring.close()
    try:
        for s in (pair.compiled, pair.python):
            with pytest.raises(ValueError, match="closed"):
                s.on_frame(frame, 5)
        assert pair.compiled.core.counters.values == pair.python.core.counters.values
    finally:
        for s in (pair.compiled, pair.python):
            s.books.close()
        for n in pair.names:
            registry.unlink(n)


# -- which path runs ---------------------------------------------------------------------------
@pytest.mark.parametrize("venue", VENUES)
def test_the_feed_process_callback_is_the_compiled_handler(pairs: dict[str, Pair],
                                                           venue: str) -> None:
    core = pairs[venue].compiled.core
    assert core.bbo_path.startswith("compiled")
    assert isinstance(core.on_frame, _bbo_fast.BboFrameHandler)
    assert isinstance(frame_handler(core, [].append), _bbo_fast.BboFrameHandler)


def test_without_the_extension_the_pure_python_path_runs(monkeypatch: pytest.MonkeyPatch,
                                                         pairs: dict[str, Pair]) -> None:
    monkeypatch.setattr(feed_core, "_bbo_fast", None)
    core = pairs["binance"].compiled.core
    monkeypatch.setattr(core, "bbo_path", core.bbo_path)  # restored afterwards
    on_frame = core.make_on_frame()
    assert not isinstance(on_frame, _bbo_fast.BboFrameHandler)
    assert core.bbo_path == "pure Python (feeds._bbo_fast not built)"
    frame = encoded("binance", "BTCUSDT", "1.5", "2", "3.25", "4", 0, 9)
    n = core.counters.values["bbo"]
    on_frame(frame, 1)
    assert core.counters.values["bbo"] == n + 1
    pairs["binance"].compiled.reader.poll()
    pairs["binance"].python.on_frame(frame, 1)  # keep the pair in step
    pairs["binance"].python.reader.poll()


def test_an_import_failure_leaves_the_extension_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`feeds.feed_core` imports the extension optionally: a failed import means None."""
    import builtins
    import importlib
    import sys

    real_import = builtins.__import__

    def no_ext(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
               level: int = 0) -> Any:
        if fromlist and "_bbo_fast" in fromlist:
            raise ImportError("no compiled extension here")
        return real_import(name, globals, locals, fromlist, level)

    spec = importlib.util.find_spec("feeds.feed_core")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(builtins, "__import__", no_ext)
    spec.loader.exec_module(mod)
    monkeypatch.undo()
    assert mod._bbo_fast is None
    assert sys.modules["feeds.feed_core"] is feed_core  # the real module is untouched


def test_test_doubles_and_changed_patterns_get_the_python_path(pairs: dict[str, Pair]) -> None:
    core = pairs["okx"].compiled.core
    sid_of = {vs: s.symbol_id for vs, s in core.symbols.items()}
    name, pattern = core.adapter.bbo_shape

    def slow(data: Any, ts: int) -> None:
        pass

    def make(shape: Any, ring: Any) -> Any:
        return _bbo_fast.BboFrameHandler(shape, slow, core.counters.values, sid_of, ring,
                                         core.clock, 2, KIND_BBO)

    assert isinstance(make((name, pattern), core.ring), _bbo_fast.BboFrameHandler)
    with pytest.raises(ValueError):
        make((name, pattern + "x"), core.ring)
    with pytest.raises(ValueError):
        make(("kraken", pattern), core.ring)
    with pytest.raises(TypeError):
        make((name, pattern), object())

    class Adapter:  # no declared shape
        venue = "okx"
        parse = core.adapter.parse
        parse_bbo_fast = staticmethod(core.adapter.parse_bbo_fast)

        def new_book_sync(self, vs: str) -> Any:
            return core.adapter.new_book_sync(vs)

    bare = FeedCore(Adapter(), [(0, "BTC-USDT")], core.ring, core.books)  # type: ignore[arg-type]
    assert not isinstance(bare.on_frame, _bbo_fast.BboFrameHandler)
    assert "bbo_shape" in bare.bbo_path
