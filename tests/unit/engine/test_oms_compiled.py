"""The compiled order path (engine/_oms_fast.pyx, engine/_rms_fast.pyx) is indistinguishable
from the pure-Python one: driven by the same random streams of orders, reports and requests,
a compiled OMS and a pure OMS return the same events (types, fields, order), hold the same
orders in the same states and keep the same indexes and counters; a compiled RMS and a pure
RMS pass and deny the same orders with the same `Denial`s, counters and token bucket.

Streams: acks, partial and full fills, duplicate trade ids, fills without a trade id (the
cumulative size as the key), cancels and their rejects, venue rejects, expiries (also "the
venue does not know it"), status answers with fill gaps, reports for unknown ids, reports
before the ack or after the end (out of order), local rejects, timeouts, with tiny retention
so purging and the trade-id generations turn over. The extensions must be built (they are, by
`pip install -e .` / `setup.py build_ext --inplace`): nothing here is skipped.
"""
from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import _oms_fast, _rms_fast
from engine import oms as oms_mod
from engine import rms as rms_mod
from engine.client_ids import ClientIdFactory
from engine.oms import PureOMS, PureOrder
from engine.portfolio import Portfolio
from engine.rms import PureRMS
from pipeline.config import RiskConfig, SystemConfig
from pipeline.messages import ExecReport, ExecType, NewOrder
from pipeline.model import VENUES, OrderStatus, OrderType, RejectReason, Side, TimeInForce
from tests.unit.engine.helpers import START_MS, SYM, check_books, instruments

ROOT = Path(__file__).resolve().parents[3]
S = OrderStatus


class CompiledOMS(_oms_fast.OmsCore, PureOMS):
    """What `engine.oms.OMS` is when the extension is built (made here too, so these tests
    hold whether or not HFT_PURE_PYTHON is set)."""


class CompiledRMS(_rms_fast.RmsCore, PureRMS):
    """What `engine.rms.RMS` is when the extension is built."""


ORDER_FIELDS = ("client_id", "venue_order_id", "venue", "symbol", "side", "price_ticks", "lots",
                "filled_lots", "filled_notional", "status", "tif", "order_type", "ts_created",
                "ts_sent", "ts_acked", "ts_tick_recv", "ts_updated", "ts_cancel_requested",
                "ts_pending", "reject_reason", "queries", "layer", "lots_key")


def order_state(o: Any) -> tuple[Any, ...]:
    """An order's whole state, its index entries by value (the two OMSs own separate dicts)."""
    return (type(o).__name__, *(getattr(o, f) for f in ORDER_FIELDS),
            None if o.prices is None else dict(o.prices), sorted(o.book),
            o.remaining_lots, o.is_open, o.avg_price_ticks, repr(o))


def event_view(ev: Any) -> tuple[Any, ...]:
    """An event by type and fields, with its order (if any) as its state."""
    out: list[Any] = [type(ev).__qualname__]
    for f in dataclasses.fields(ev):
        v = getattr(ev, f.name)
        out.append(order_state(v) if isinstance(v, (PureOrder, _oms_fast.Order)) else v)
    return tuple(out)


def oms_state(oms: Any) -> tuple[Any, ...]:
    return (oms.counters, {k: order_state(o) for k, o in oms.orders.items()},
            {k: list(b) for k, b in oms.open_by_vs.items()},
            {k: v for k, v in oms.open_lots.items()}, dict(oms.open_count),
            {k: dict(v) for k, v in oms.open_prices.items()}, list(oms._terminal),
            set(oms._trades_young), set(oms._trades_old), oms.n_open())


def outcome(f: Any, *args: Any) -> Any:
    """What `f(*args)` returned, or the exception it raised by type and text (both paths
    must raise alike, e.g. int(nan) for a market order without a fair value)."""
    try:
        return f(*args)
    except Exception as e:  # noqa: BLE001 - compared, not swallowed
        return ("raised", type(e), str(e))


def make(cls: type, **kw: Any) -> Any:
    return cls({v: ClientIdFactory(v, START_MS) for v in VENUES}, **kw)


# -- OMS streams -------------------------------------------------------------------------------
ints = st.integers(0, 12)
stamps = st.sampled_from([0, 0, 1, 5_000, 10**9, 2**62])
reasons = st.sampled_from(list(RejectReason))
statuses = st.sampled_from(list(OrderStatus))
trade_ids = st.sampled_from(["", "", "t1", "t2", "t3", "t4"])

create_op = st.tuples(st.just("create"), st.sampled_from(VENUES), st.sampled_from(list(Side)),
                      st.integers(5_999_990, 6_000_010), st.integers(1, 10), stamps,
                      st.sampled_from(list(OrderType)), st.integers(0, 3))
report_op = st.tuples(st.just("report"), ints, st.sampled_from(list(ExecType)), statuses,
                      st.integers(-1, 12), st.integers(0, 14), trade_ids, reasons, stamps,
                      stamps, st.booleans(), st.sampled_from(["", "v1", "v2"]))
other_op = st.one_of(
    st.tuples(st.just("cancel"), ints, stamps),
    st.tuples(st.just("cancel_all"), st.sampled_from(VENUES), st.sampled_from(["", SYM])),
    st.tuples(st.just("reject_local"), ints, stamps),
    st.tuples(st.just("timeouts"), stamps, st.sampled_from([0, 1, 10**9])),
    st.tuples(st.just("unknown_outcome"), ints, stamps),
    st.tuples(st.just("sent"), ints, stamps))
streams = st.lists(st.one_of(create_op, report_op, report_op, report_op, other_op),
                   min_size=1, max_size=60)


def apply(oms: Any, msgs: list[NewOrder], op: tuple[Any, ...]) -> Any:
    """One stream step on `oms`; returns what it returned, comparable across the two."""
    kind = op[0]
    if kind == "create":
        _, venue, side, price, lots, ts, otype, layer = op
        m = oms.create(venue, SYM, side, price, lots, TimeInForce.POST_ONLY, ts, ts // 2,
                       otype, layer)
        msgs.append(m)
        return ("new", m, type(m))
    if kind == "report":
        _, k, et, status, last, filled, tid, reason, ts, ts_sent, maker, void = op
        if msgs and k < len(msgs) + 1:
            m = msgs[k % len(msgs)]
            cid, venue, side, price, lots = m.client_id, m.venue, m.side, m.price_ticks, m.lots
        else:   # an id this OMS never issued
            cid, venue, side, price, lots = f"zz{k}", "binance", Side.BUY, 6_000_000, 3
        r = ExecReport(venue, SYM, cid, void, et, status, side, price, lots, filled, last,
                       price + 1, Decimal("0.01"), "USDT", tid, maker, reason, "x", ts + 1, ts,
                       ts_sent)
        return [event_view(e) for e in oms.on_report(r)]
    if kind == "cancel":
        _, k, ts = op
        cid = msgs[k % len(msgs)].client_id if msgs else "nope"
        return oms.request_cancel(cid, ts)
    if kind == "cancel_all":
        return oms.request_cancel_all(op[1], 7, op[2], "r")
    if kind == "reject_local":
        _, k, ts = op
        o = oms.reject_local(msgs[k % len(msgs)].client_id if msgs else "nope", ts)
        return None if o is None else order_state(o)
    if kind == "timeouts":
        return oms.in_flight_timeouts(op[1], op[2])
    if kind == "unknown_outcome":
        _, k, ts = op
        o = oms.mark_unknown_outcome(msgs[k % len(msgs)].client_id if msgs else "nope", ts)
        return None if o is None else order_state(o)
    _, k, ts = op
    return oms.mark_sent(msgs[k % len(msgs)].client_id if msgs else "nope", ts)


@settings(max_examples=400, deadline=None)
@given(streams, st.sampled_from([1, 2, 100_000]), st.sampled_from([2, 4, 1_000_000]))
def test_random_report_streams_give_identical_results(ops: list[tuple[Any, ...]],
                                                      retain: int, trades: int) -> None:
    pure = make(PureOMS, retain_terminal=retain, retain_trade_ids=trades)
    comp = make(CompiledOMS, retain_terminal=retain, retain_trade_ids=trades)
    pm: list[NewOrder] = []
    cm: list[NewOrder] = []
    for op in ops:
        assert outcome(apply, comp, cm, op) == outcome(apply, pure, pm, op), op
        assert oms_state(comp) == oms_state(pure), op
    check_books(comp)


def test_the_common_cycle_is_identical_and_uses_the_compiled_records() -> None:
    """create -> ack -> full fill, the benchmark's cycle: same events, compiled `Order`."""
    pure, comp = make(PureOMS), make(CompiledOMS)
    for oms in (pure, comp):
        m = oms.create("okx", SYM, Side.SELL, 6_000_005, 4, TimeInForce.GTC, 10, 9, layer=2)
        assert m == NewOrder(m.client_id, "okx", SYM, Side.SELL, 6_000_005, 4, OrderType.LIMIT,
                             TimeInForce.GTC, 9, 10) and type(m) is NewOrder
    assert type(comp.orders[m.client_id]) is _oms_fast.Order
    assert type(pure.orders[m.client_id]) is PureOrder
    ack = ExecReport("okx", SYM, m.client_id, "77", ExecType.NEW, S.NEW, Side.SELL, 6_000_005, 4,
                     ts_recv=20)
    fill = ExecReport("okx", SYM, m.client_id, "77", ExecType.TRADE, S.FILLED, Side.SELL,
                      6_000_005, 4, 4, 4, 6_000_004, Decimal("0.5"), "USDT", "T9", True,
                      ts_event=29, ts_recv=30)
    outs = [[[event_view(e) for e in oms.on_report(r)] for r in (ack, fill, fill)]
            for oms in (pure, comp)]
    assert outs[0] == outs[1]
    assert [v[0] for v in outs[1][1]] == ["FillApplied", "OrderUpdated"] and outs[1][2] == []
    assert oms_state(comp) == oms_state(pure)


def test_client_ids_are_the_same_up_to_and_at_exhaustion() -> None:
    """The compiled create issues a `ClientIdFactory`'s ids itself: same ids, same `issued`,
    and at the end of the counter the same OverflowError with the counter left alike."""
    out = []
    for cls in (PureOMS, CompiledOMS):
        f = ClientIdFactory("okx", START_MS, "ab12")
        oms = cls({"okx": f})
        f._seq = f._max_seq - 2
        got: list[Any] = [oms.create("okx", SYM, Side.BUY, 1, 1, TimeInForce.GTC, 1).client_id
                          for _ in range(2)]
        got.append(outcome(oms.create, "okx", SYM, Side.BUY, 1, 1, TimeInForce.GTC, 1))
        got += [f.issued, oms.n_created, sorted(oms.orders)]
        out.append(got)
        assert got[1] == f.prefix + format(f._max_seq, "x") and got[3] == f._max_seq + 1
    assert out[0] == out[1] and out[1][2][1] is OverflowError


def test_an_id_source_that_is_not_a_factory_is_called_as_is() -> None:
    for cls in (PureOMS, CompiledOMS):
        oms = cls({})
        oms._next_id = {"gate": iter(["t-x1", "t-x2"]).__next__}
        assert [oms.create("gate", SYM, Side.SELL, 9, 1, TimeInForce.GTC, 1).client_id
                for _ in range(2)] == ["t-x1", "t-x2"]


def test_a_report_that_is_not_an_exec_report_takes_the_pure_path() -> None:
    """A look-alike record (not exactly ExecReport) is handled by the pure code, alike."""
    @dataclasses.dataclass
    class Look:
        venue: str
        symbol: str
        client_id: str
        venue_order_id: str = "v"
        exec_type: ExecType = ExecType.NEW
        status: OrderStatus = S.NEW
        side: Side = Side.BUY
        filled_lots: int = 0
        ts_recv: int = 5
        ts_event: int = 4
        ts_sent: int = 0
    pure, comp = make(PureOMS), make(CompiledOMS)
    for oms in (pure, comp):
        m = oms.create("gate", SYM, Side.BUY, 6_000_000, 2, TimeInForce.POST_ONLY, 1)
    r = Look("gate", SYM, m.client_id)
    assert [event_view(e) for e in comp.on_report(r)] == \
        [event_view(e) for e in pure.on_report(r)]
    assert oms_state(comp) == oms_state(pure)


def test_the_compiled_order_record_matches_the_pure_one() -> None:
    args = ("b0x", "binance", SYM, Side.BUY, 5, 7, TimeInForce.GTC, OrderType.LIMIT, 11, 3, 1)
    a, b = PureOrder(*args), _oms_fast.Order(*args)
    assert order_state(a)[1:] == order_state(b)[1:]
    b.status, b.filled_lots, b.filled_notional = S.PARTIALLY_FILLED, 3, 15
    a.status, a.filled_lots, a.filled_notional = S.PARTIALLY_FILLED, 3, 15
    assert order_state(a)[1:] == order_state(b)[1:] and b.avg_price_ticks == Decimal(5)


# -- RMS streams -------------------------------------------------------------------------------
fairs = st.one_of(st.floats(5_900_000, 6_100_000), st.sampled_from(
    [None, 0.0, -1.0, math.nan, math.inf, 6_000_000, 6_000_000.0, 1e300]))
rms_op = st.one_of(
    st.tuples(st.just("order"), st.sampled_from(VENUES + ("nowhere",)),
              st.sampled_from(list(Side)), st.integers(5_990_000, 6_010_000),
              st.one_of(st.integers(-2, 5_000), st.sampled_from([2**63, 10**30])),
              st.sampled_from(list(OrderType)), fairs, st.integers(0, 4) , st.booleans()),
    st.tuples(st.just("fill"), st.sampled_from(VENUES), st.sampled_from(list(Side)),
              st.integers(1, 3_000)),
    st.tuples(st.just("state"), st.sampled_from(["halt", "reduce", "resume", "down", "up",
                                                 "stale", "ok"]), st.sampled_from(VENUES)),
    st.tuples(st.just("balance"), st.sampled_from(VENUES), st.sampled_from(["USDT", "BTC"]),
              st.sampled_from([Decimal(0), Decimal(10), Decimal("1e6")])),
    st.tuples(st.just("ack"), st.integers(0, 30)))


def set_state(rms: Any, what: str, venue: str, now: int) -> Any:
    if what in ("halt", "reduce", "resume"):
        return getattr(rms, what)(what, now)
    hook = {"down": rms.on_venue_down, "up": rms.on_venue_up, "stale": rms.on_feed_stale,
            "ok": rms.on_feed_ok}[what]
    return hook(venue, now)


def rig(rms_cls: type, oms_cls: type, rate: float) -> tuple[Any, Any, Portfolio]:
    risk = RiskConfig.model_validate({"max_orders_per_second": rate, "max_open_orders": 6,
                                      "max_position_per_venue": 0.03,
                                      "max_position_total": 0.05})
    return (rms_cls(risk, SystemConfig.model_validate({"max_orders_per_second": 1e12}),
                    instruments()), make(oms_cls), Portfolio())


@settings(max_examples=400, deadline=None)
@given(st.lists(rms_op, min_size=1, max_size=50), st.sampled_from([1e12, 3.0, 0.5]))
def test_random_orders_get_identical_checks(ops: list[tuple[Any, ...]], rate: float) -> None:
    sides = [rig(PureRMS, PureOMS, rate), rig(CompiledRMS, CompiledOMS, rate)]
    now = 10**15
    insts = instruments()
    msgs: list[list[NewOrder]] = [[], []]
    for op in ops:
        now += 100_000_000 if op[0] != "ack" else -1
        results = []
        for (rms, oms, pf), mine in zip(sides, msgs):
            if op[0] == "order":
                _, venue, side, price, lots, otype, fair, dt, register = op
                if register and venue != "nowhere":
                    m = oms.create(venue, SYM, side, price, lots, TimeInForce.POST_ONLY, now,
                                   0, otype)
                    mine.append(m)
                else:
                    m = NewOrder("", venue, SYM, side, price, lots, otype)
                results.append(outcome(rms.check, m, fair, oms, pf, now + dt))
            elif op[0] == "fill":
                _, venue, side, lots = op
                pf.apply_fill(venue, insts[(venue, SYM)], side, 6_000_000, lots)
            elif op[0] == "balance":
                rms.set_balance(op[1], op[2], op[3])
            elif op[0] == "ack" and mine:
                m = mine[op[1] % len(mine)]
                oms.on_report(ExecReport(m.venue, SYM, m.client_id, "v", ExecType.NEW, S.NEW,
                                         m.side, m.price_ticks, m.lots, ts_recv=now))
            elif op[0] == "state":
                results.append(set_state(rms, op[1], op[2], now))
        assert results[:len(results) // 2] == results[len(results) // 2:], op
        (a, _, _), (b, _, _) = sides
        assert b.handed_over >= sum(b.deny_counts.values())
        assert (a.passed, a.deny_counts, list(a.denials), a._tokens, a._last_ns, a.state,
                a.venue_state) == (b.passed, b.deny_counts, list(b.denials), b._tokens,
                                   b._last_ns, b.state, b.venue_state), op


def test_a_passing_order_is_decided_by_the_compiled_check_alone() -> None:
    rms, oms, pf = rig(CompiledRMS, CompiledOMS, 1e12)
    for i, v in enumerate(VENUES):
        m = oms.create(v, SYM, Side.BUY, 5_999_990, 50, TimeInForce.POST_ONLY, i)
        assert rms.check(m, 6_000_000.0, oms, pf, 10**15 + i) is None
    assert rms.passed == 3 and rms.handed_over == 0
    m = oms.create("okx", SYM, Side.SELL, 5_999_990, 50, TimeInForce.POST_ONLY, 9)
    d = rms.check(m, 6_000_000.0, oms, pf, 10**15 + 9)   # crosses our own bid: pure denies
    assert d is not None and d.reason.name == "SELF_TRADE" and rms.handed_over == 1


# -- which path runs ---------------------------------------------------------------------------
def test_the_built_extension_is_the_default_path() -> None:
    if os.environ.get("HFT_PURE_PYTHON", "") not in ("", "0"):
        assert oms_mod.OMS is PureOMS and rms_mod.RMS is PureRMS
        assert oms_mod.HOT_PATH.startswith("pure") and rms_mod.HOT_PATH.startswith("pure")
    else:
        assert issubclass(oms_mod.OMS, _oms_fast.OmsCore) and oms_mod.Order is _oms_fast.Order
        assert issubclass(rms_mod.RMS, _rms_fast.RmsCore)
        assert oms_mod.log_hot_path() == "compiled (engine._oms_fast)"


def test_hft_pure_python_selects_the_pure_path_and_the_engine_tests_pass_on_it() -> None:
    """HFT_PURE_PYTHON=1 (what a machine without a compiler gets): the same unit tests pass."""
    env = {**os.environ, "HFT_PURE_PYTHON": "1"}
    probe = subprocess.run(
        [sys.executable, "-c", ("import engine.oms as o, engine.rms as r; print(o.OMS is "
                                "o.PureOMS, o.Order is o.PureOrder, r.RMS is r.PureRMS)")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.split()[:3] == ["True", "True", "True"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/unit/engine/test_oms.py", "tests/unit/engine/test_rms.py",
         "tests/unit/engine/test_core.py"], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
