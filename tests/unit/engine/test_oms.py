"""OMS: the transition table, report edge cases, timeouts and the open-order indexes."""
from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.oms import (
    OMS,
    TABLE,
    FillApplied,
    FillGap,
    IllegalTransition,
    NeedsQuery,
    Order,
    OrderEvent,
    OrderUpdated,
    UnknownOrder,
)
from engine.portfolio import Portfolio
from feeds.gate.protocol import orders as gate_orders
from feeds.gate.protocol.order_server import (
    VenueFill,
    VenueOrder,
    encode_api_result,
    encode_my_trades,
    encode_order_ws,
    encode_orders_push,
    encode_usertrades_push,
)
from pipeline.messages import CancelAll, CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, RejectReason, Side
from tests.unit.engine.helpers import SYM, buy, check_books, make_oms, report

S = OrderStatus
E = OrderEvent
LOTS = 10
_trade_seq = [0]


def _tid() -> str:
    _trade_seq[0] += 1
    return f"T{_trade_seq[0]}"


def _force(oms: OMS, msg: NewOrder, state: OrderStatus) -> Order:
    """Put a fresh 10-lot order into `state` (2 lots filled if PARTIALLY_FILLED, all if
    FILLED) with the OMS's indexes consistent."""
    o = oms.orders[msg.client_id]
    filled = {S.PARTIALLY_FILLED: 2, S.FILLED: LOTS}.get(state, 0)
    if filled:
        oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=filled,
                             trade_id=_tid()))
    if state is not o.status:
        if state.is_terminal and not o.status.is_terminal:
            o.status = state
            oms._close(o)
        else:
            o.status = state
    return o


def _fire(oms: OMS, msg: NewOrder, ev: OrderEvent) -> list[object] | None:
    o = oms.orders[msg.client_id]
    if ev is E.ACK:
        return list(oms.on_report(report(msg, ExecType.NEW, S.NEW)))
    if ev is E.PARTIAL_FILL:
        return list(oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1,
                                         trade_id=_tid())))
    if ev is E.FILL:
        rest = max(1, o.lots - o.filled_lots)
        return list(oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=rest,
                                         trade_id=_tid())))
    if ev is E.CANCEL_REQUEST:
        oms.request_cancel(msg.client_id, 5_000)
        return None
    kind = {E.CANCELED: ExecType.CANCELED, E.CANCEL_REJECT: ExecType.CANCEL_REJECTED,
            E.REJECTED: ExecType.REJECTED, E.EXPIRED: ExecType.EXPIRED}[ev]
    status = {E.CANCELED: S.CANCELED, E.CANCEL_REJECT: o.status, E.REJECTED: S.REJECTED,
              E.EXPIRED: S.EXPIRED}[ev]
    return list(oms.on_report(report(msg, kind, status, reason=RejectReason.OTHER)))


ALL_PAIRS = [(s, e) for s in OrderStatus for e in OrderEvent]


@pytest.mark.parametrize("state,event", ALL_PAIRS, ids=[f"{s.name}-{e.name}" for s, e in ALL_PAIRS])
def test_every_state_event_pair_follows_the_table(state: OrderStatus, event: OrderEvent) -> None:
    oms = make_oms()
    msg = buy(oms)
    o = _force(oms, msg, state)
    illegal_before = oms.counters["illegal_transitions"]
    late_before = oms.counters["late_acks"]
    out = _fire(oms, msg, event)
    expected = TABLE.get((state, event))
    if (state, event) == (S.FILLED, E.PARTIAL_FILL):
        # unreachable: any further fill of a filled order is a FILL (an overfill)
        expected = TABLE[(S.FILLED, E.FILL)]
    if event is E.CANCEL_REQUEST and state.is_terminal:
        assert o.status is state  # request_cancel refuses terminal orders: not a transition
    elif event is E.ACK and state in (S.FILLED, S.CANCELED, S.EXPIRED):
        # an ack for an order the venue already ended is stale, not a transition
        assert out == [] and o.status is state
        assert oms.counters["illegal_transitions"] == illegal_before
        assert oms.counters["late_acks"] == late_before + 1
    elif expected is None:
        assert o.status is state
        assert oms.counters["illegal_transitions"] == illegal_before + 1
        assert out is not None and any(isinstance(x, IllegalTransition) for x in out)
    else:
        if expected is S.NEW and o.filled_lots:
            expected = S.PARTIALLY_FILLED
        assert o.status is expected
        assert oms.counters["illegal_transitions"] == illegal_before
    check_books(oms)


def test_table_never_leaves_a_terminal_state() -> None:
    for (state, _), new in TABLE.items():
        if state.is_terminal:
            assert new is state


def test_create_registers_pending_new_and_returns_the_gateway_message() -> None:
    oms = make_oms()
    msg = buy(oms, lots=7, price=123, now=50)
    assert isinstance(msg, NewOrder)
    assert msg.ts_decision == 50 and msg.ts_tick_recv == 40 and msg.lots == 7
    o = oms.get(msg.client_id)
    assert o is not None and o.status is S.PENDING_NEW and o.ts_created == 50
    assert oms.open_lots_of("binance", SYM, Side.BUY) == 7 and oms.n_open("binance") == 1
    assert buy(oms).client_id != msg.client_id


def test_ack_then_partial_then_final_fill_with_exact_average_price() -> None:
    oms = make_oms()
    msg = buy(oms, lots=10, price=100)
    (upd,) = oms.on_report(report(msg, ExecType.NEW, S.NEW, ts=77))
    assert isinstance(upd, OrderUpdated) and (upd.old, upd.new) == (S.PENDING_NEW, S.NEW)
    o = oms.orders[msg.client_id]
    assert o.ts_acked == 77 and o.venue_order_id == "v-" + msg.client_id
    f1, u1 = oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=3,
                                  price=99, trade_id="a", fee=Decimal("0.01")))
    assert isinstance(f1, FillApplied) and f1.lots == 3 and f1.price_ticks == 99
    assert f1.fee == Decimal("0.01") and f1.order is o
    assert isinstance(u1, OrderUpdated) and u1.new is S.PARTIALLY_FILLED
    assert oms.open_lots_of("binance", SYM, Side.BUY) == 7
    out = oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=7, price=100,
                               trade_id="b"))
    assert [type(x) for x in out] == [FillApplied, OrderUpdated]
    assert o.status is S.FILLED and o.filled_lots == 10
    assert o.avg_price_ticks == Decimal(3 * 99 + 7 * 100) / 10
    assert oms.open_orders() == [] and oms.n_open() == 0
    check_books(oms)


def test_duplicate_fill_with_same_trade_id_is_ignored() -> None:
    oms = make_oms()
    msg = buy(oms)
    r = report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=4, trade_id="dup")
    assert any(isinstance(x, FillApplied) for x in oms.on_report(r))
    assert oms.on_report(r) == []
    assert oms.orders[msg.client_id].filled_lots == 4
    assert oms.counters["duplicate_fills"] == 1 and oms.counters["fills"] == 1
    check_books(oms)


def test_same_trade_id_on_both_of_our_orders_counts_twice() -> None:
    """A self-trade has one venue trade id and two sides: both are real fills."""
    oms = make_oms()
    b, s = buy(oms, side=Side.BUY), buy(oms, side=Side.SELL)
    fb = oms.on_report(report(b, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1, trade_id="x"))
    fs = oms.on_report(report(s, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1, trade_id="x"))
    assert isinstance(fb[0], FillApplied) and isinstance(fs[0], FillApplied)


def test_fill_without_trade_id_is_deduplicated_by_cumulative_size() -> None:
    oms = make_oms()
    msg = buy(oms)
    r = report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=4, filled=4)
    assert isinstance(oms.on_report(r)[0], FillApplied)
    assert oms.on_report(r) == []
    r2 = report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1, filled=5)
    assert isinstance(oms.on_report(r2)[0], FillApplied)
    assert oms.orders[msg.client_id].filled_lots == 5


def test_fill_before_ack_then_late_ack_keeps_partially_filled() -> None:
    oms = make_oms()
    msg = buy(oms)
    out = oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=2,
                               trade_id="t"))
    o = oms.orders[msg.client_id]
    assert isinstance(out[0], FillApplied) and o.status is S.PARTIALLY_FILLED
    assert oms.counters["fill_before_ack"] == 1
    assert oms.on_report(report(msg, ExecType.NEW, S.NEW, ts=9)) == []
    assert o.status is S.PARTIALLY_FILLED and o.ts_acked == 9
    assert oms.counters["illegal_transitions"] == 0


def test_full_fill_before_ack_then_ack_is_harmless() -> None:
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="t"))
    assert oms.on_report(report(msg, ExecType.NEW, S.NEW)) == []
    assert oms.orders[msg.client_id].status is S.FILLED
    assert oms.counters["illegal_transitions"] == 0
    check_books(oms)


def test_fill_after_cancel_request_is_applied_and_cancel_still_pending() -> None:
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.NEW, S.NEW))
    cxl = oms.request_cancel(msg.client_id, 2_000)
    assert isinstance(cxl, CancelOrder) and cxl.venue_order_id == "v-" + msg.client_id
    o = oms.orders[msg.client_id]
    assert o.status is S.PENDING_CANCEL and o.ts_cancel_requested == 2_000
    out = oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=3,
                               trade_id="t"))
    assert [type(x) for x in out] == [FillApplied]
    assert o.status is S.PENDING_CANCEL and o.filled_lots == 3
    assert oms.counters["fill_after_cancel_request"] == 1
    assert oms.open_lots_of("binance", SYM, Side.BUY) == 7
    oms.on_report(report(msg, ExecType.CANCELED, S.CANCELED))
    assert o.status is S.CANCELED and o.filled_lots == 3
    check_books(oms)


def test_last_fill_racing_the_cancel_ends_filled_and_the_cancel_reject_is_benign() -> None:
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.NEW, S.NEW))
    oms.request_cancel(msg.client_id, 2_000)
    oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="t"))
    out = oms.on_report(report(msg, ExecType.CANCEL_REJECTED, S.FILLED,
                               reason=RejectReason.UNKNOWN_ORDER))
    assert out == [] and oms.orders[msg.client_id].status is S.FILLED
    assert oms.counters["illegal_transitions"] == 0
    check_books(oms)


def test_cancel_rejected_as_unknown_before_the_fill_is_seen_asks_for_a_query() -> None:
    """The venue no longer has the order, but we saw neither its fill nor its cancel: we do
    not guess; the engine queries and the answer settles it."""
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.NEW, S.NEW))
    oms.request_cancel(msg.client_id, 2_000)
    out = oms.on_report(report(msg, ExecType.CANCEL_REJECTED, S.PENDING_CANCEL,
                               reason=RejectReason.UNKNOWN_ORDER))
    o = oms.orders[msg.client_id]
    assert len(out) == 1 and isinstance(out[0], NeedsQuery) and out[0].order is o
    assert o.status is S.PENDING_CANCEL
    # the query answer: FILLED, but we hold no trades yet -> gap to fetch
    out = oms.on_report(report(msg, ExecType.STATUS, S.FILLED, filled=LOTS))
    assert o.status is S.FILLED
    gaps = [x for x in out if isinstance(x, FillGap)]
    assert len(gaps) == 1 and gaps[0].missing_lots == LOTS
    # the trade arrives afterwards: money applied, state stays FILLED, no new gap
    out = oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="t"))
    assert [type(x) for x in out] == [FillApplied]
    assert o.filled_lots == LOTS and oms.counters["illegal_transitions"] == 0
    check_books(oms)


def test_cancel_rejected_for_another_reason_puts_the_order_back_to_work() -> None:
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1, trade_id="t"))
    oms.request_cancel(msg.client_id, 2_000)
    (upd,) = oms.on_report(report(msg, ExecType.CANCEL_REJECTED, S.PARTIALLY_FILLED,
                                  reason=RejectReason.RATE_LIMITED))
    assert isinstance(upd, OrderUpdated) and upd.new is S.PARTIALLY_FILLED
    assert oms.counters["cancel_rejects"] == 1


def test_request_cancel_of_unknown_or_terminal_order_returns_none() -> None:
    oms = make_oms()
    assert oms.request_cancel("nope", 1) is None
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.REJECTED, S.REJECTED, reason=RejectReason.BAD_PRICE))
    assert oms.request_cancel(msg.client_id, 1) is None
    assert oms.orders[msg.client_id].reject_reason is RejectReason.BAD_PRICE


def test_request_cancel_all_marks_only_that_venues_open_orders() -> None:
    oms = make_oms()
    a, b = buy(oms), buy(oms, side=Side.SELL, price=6_100_000)
    c = buy(oms, venue="okx")
    msg = oms.request_cancel_all("binance", 3_000, reason="kill")
    assert msg == CancelAll("binance", "", "kill")
    assert oms.orders[a.client_id].status is S.PENDING_CANCEL
    assert oms.orders[b.client_id].status is S.PENDING_CANCEL
    assert oms.orders[c.client_id].status is S.PENDING_NEW


def test_report_for_unknown_order_is_returned_and_its_fill_still_applied_once() -> None:
    oms = make_oms()
    ghost = buy(make_oms())  # an order from "another run"
    r = report(ghost, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=2, trade_id="g1",
               client_id="oldrun123")
    out = oms.on_report(r)
    assert isinstance(out[0], UnknownOrder) and out[0].report is r
    assert isinstance(out[1], FillApplied) and out[1].order is None and out[1].lots == 2
    assert [type(x) for x in oms.on_report(r)] == [UnknownOrder]
    ack = report(ghost, ExecType.NEW, S.NEW, client_id="oldrun123")
    assert [type(x) for x in oms.on_report(ack)] == [UnknownOrder]
    assert oms.counters["unknown_reports"] == 3 and oms.counters["unknown_fills"] == 1


def test_status_reports_reconcile_to_the_venue_state() -> None:
    oms = make_oms()
    a, b, c = buy(oms), buy(oms), buy(oms)
    oms.on_report(report(a, ExecType.STATUS, S.NEW))
    assert oms.orders[a.client_id].status is S.NEW
    oms.on_report(report(b, ExecType.STATUS, S.CANCELED))
    assert oms.orders[b.client_id].status is S.CANCELED
    out = oms.on_report(report(c, ExecType.STATUS, S.PARTIALLY_FILLED, filled=4))
    assert oms.orders[c.client_id].status is S.NEW  # no trades seen yet: the gap says so
    assert any(isinstance(x, FillGap) and x.missing_lots == 4 for x in out)
    assert oms.counters["status_reports"] == 3
    check_books(oms)


def test_status_working_while_cancel_pending_means_the_cancel_was_lost() -> None:
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.NEW, S.NEW))
    oms.request_cancel(msg.client_id, 2_000)
    (upd,) = oms.on_report(report(msg, ExecType.STATUS, S.NEW))
    assert isinstance(upd, OrderUpdated) and upd.new is S.NEW
    assert oms.counters["cancels_lost"] == 1


def test_in_flight_timeouts_list_stuck_orders_once_per_timeout() -> None:
    oms = make_oms()
    a = buy(oms, now=1_000)
    b = buy(oms, now=1_000)
    c = buy(oms, now=1_000)
    oms.on_report(report(b, ExecType.NEW, S.NEW))
    oms.on_report(report(c, ExecType.NEW, S.NEW))
    oms.request_cancel(c.client_id, 1_500)
    assert oms.in_flight_timeouts(1_999, 1_000) == []
    assert oms.in_flight_timeouts(2_000, 1_000) == [a.client_id]
    assert oms.in_flight_timeouts(2_400, 1_000) == []          # just queried
    assert oms.in_flight_timeouts(2_500, 1_000) == [c.client_id]
    assert oms.in_flight_timeouts(3_000, 1_000) == [a.client_id]
    assert oms.counters["timeouts"] == 3 and oms.orders[a.client_id].queries == 2


def test_mark_unknown_outcome_makes_the_order_due_for_a_query_at_once() -> None:
    oms = make_oms()
    msg = buy(oms, now=1_000)
    assert oms.mark_unknown_outcome(msg.client_id, 1_001) is not None
    assert oms.in_flight_timeouts(1_002, 10**12) == [msg.client_id]
    assert oms.mark_unknown_outcome("nope", 1) is None


def test_reject_local_closes_an_unsent_order() -> None:
    oms = make_oms()
    msg = buy(oms)
    o = oms.reject_local(msg.client_id, 5, RejectReason.RISK)
    assert o is not None and o.status is S.REJECTED and o.reject_reason is RejectReason.RISK
    assert oms.n_open() == 0 and oms.reject_local(msg.client_id, 6) is None
    check_books(oms)


def test_open_orders_filter_by_venue_and_symbol() -> None:
    oms = make_oms()
    a = buy(oms)
    b = buy(oms, venue="okx")
    c = oms.create("okx", "ETH/USDT", Side.SELL, 1, 1, a.tif, 1)
    ids = lambda xs: {o.client_id for o in xs}
    assert ids(oms.open_orders()) == {a.client_id, b.client_id, c.client_id}
    assert ids(oms.open_orders("okx")) == {b.client_id, c.client_id}
    assert ids(oms.open_orders("okx", SYM)) == {b.client_id}
    assert ids(oms.open_orders(symbol="ETH/USDT")) == {c.client_id}


def test_overfill_is_counted_and_applied() -> None:
    oms = make_oms()
    msg = buy(oms, lots=2)
    oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=3, trade_id="o"))
    assert oms.counters["overfills"] == 1 and oms.orders[msg.client_id].filled_lots == 3
    check_books(oms)


def test_terminal_orders_beyond_retention_are_forgotten() -> None:
    oms = make_oms(retain_terminal=2)
    msgs = [buy(oms) for _ in range(3)]
    for m in msgs:
        oms.on_report(report(m, ExecType.CANCELED, S.CANCELED))
    assert msgs[0].client_id not in oms.orders and msgs[2].client_id in oms.orders
    assert oms.counters["purged"] == 1
    assert isinstance(oms.on_report(report(msgs[0], ExecType.CANCELED, S.CANCELED))[0],
                      UnknownOrder)


_REPORT_KINDS = st.sampled_from(["ack", "fill", "fill_dup", "cancel_req", "canceled",
                                 "cancel_rej", "rejected", "expired", "status_new"])


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 3), _REPORT_KINDS, st.integers(1, 6),
                                st.booleans()), max_size=60))
def test_any_report_sequence_keeps_the_open_indexes_consistent(
        steps: list[tuple[int, str, int, bool]]) -> None:
    """Reports with and without a receive time: stamped ones take the ack / full-fill fast
    paths, unstamped ones the general `_transition` path; both must keep the indexes."""
    oms = make_oms()
    msgs = [buy(oms, lots=8, side=Side.BUY if i % 2 else Side.SELL, venue=v)
            for i, v in enumerate(("binance", "okx", "gate", "binance"))]
    applied = {m.client_id: 0 for m in msgs}
    for n, (i, kind, k, stamped) in enumerate(steps):
        m = msgs[i]
        ts = n + 1 if stamped else 0
        if kind == "ack":
            out = oms.on_report(report(m, ExecType.NEW, S.NEW, ts=ts))
        elif kind in ("fill", "fill_dup"):
            tid = "dup" if kind == "fill_dup" else f"t{n}"
            out = oms.on_report(report(m, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=k,
                                       trade_id=tid, ts=ts))
        elif kind == "cancel_req":
            oms.request_cancel(m.client_id, n)
            out = []
        elif kind == "canceled":
            out = oms.on_report(report(m, ExecType.CANCELED, S.CANCELED, ts=ts))
        elif kind == "cancel_rej":
            out = oms.on_report(report(m, ExecType.CANCEL_REJECTED, S.NEW,
                                       reason=RejectReason.OTHER, ts=ts))
        elif kind == "rejected":
            out = oms.on_report(report(m, ExecType.REJECTED, S.REJECTED, ts=ts))
        elif kind == "expired":
            out = oms.on_report(report(m, ExecType.EXPIRED, S.EXPIRED, ts=ts))
        else:
            out = oms.on_report(report(m, ExecType.STATUS, S.NEW, ts=ts))
        for x in out:
            if isinstance(x, FillApplied):
                applied[x.client_id] += x.lots
        check_books(oms)
    for m in msgs:
        o = oms.orders[m.client_id]
        assert o.filled_lots == applied[m.client_id]
        if o.status is S.NEW:
            assert o.filled_lots == 0
        if o.status is S.PARTIALLY_FILLED:
            assert o.filled_lots > 0


def test_fast_new_order_builder_equals_the_dataclass_constructor() -> None:
    from pipeline.messages import build_new_order, decode, encode
    from pipeline.model import OrderType, TimeInForce
    args = ("b0x", "binance", SYM, Side.SELL, 123, 7, OrderType.LIMIT, TimeInForce.GTC, 5, 6)
    fast = build_new_order(*args)
    assert fast == NewOrder(*args) and hash(fast) == hash(NewOrder(*args))
    assert decode(encode(fast)) == fast
    with pytest.raises(AttributeError):
        fast.lots = 8  # type: ignore[misc]  # still frozen


def test_a_replayed_fill_without_its_client_id_is_not_applied_twice() -> None:
    """Reconciliation replays a trade the stream already delivered, but without the client id
    (Binance myTrades): same venue trade id and side -> a duplicate, whatever the client id."""
    oms = make_oms()
    b = buy(oms)
    first = oms.on_report(report(b, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=1,
                                 trade_id="t7"))
    assert isinstance(first[0], FillApplied)
    replay = ExecReport(venue=b.venue, symbol=b.symbol, client_id="", venue_order_id="V1",
                        exec_type=ExecType.TRADE, status=S.PARTIALLY_FILLED, side=b.side,
                        last_lots=1, last_price_ticks=b.price_ticks, trade_id="t7")
    assert not [e for e in oms.on_report(replay) if isinstance(e, FillApplied)]
    assert oms.counters["unknown_fills"] == 0


# -- late acks: the report sequences of the flaky-venue acceptance run ------------------------
# There, illegal_transitions counted Gate post-only orders the venue expired as "would cross":
# the WS API answer to the place already said finish_as "poc" (EXPIRED), then the spot.orders
# `put` push (NEW) and `finish` push (EXPIRED) followed. The reports below are made by the
# Gate codec the gateway uses, from the order objects the venue sends.
GATE_PAIR = "BTC_USDT"
T0 = 1_795_605_659_942_000_000  # the run's clock, ns


def _gate_instrument() -> Instrument:
    return Instrument("gate", SYM, GATE_PAIR, "BTC", "USDT", Decimal("0.01"), Decimal("0.0001"))


def _gate_order(msg: NewOrder, **changes: Any) -> VenueOrder:
    """The venue's view of our 10-lot post-only buy at 60000.00 (0.0010 BTC)."""
    o = VenueOrder(id="424000", text="t-" + msg.client_id, currency_pair=GATE_PAIR,
                   side=msg.side, amount=Decimal("0.0010"), price=Decimal("60000.00"),
                   create_ns=T0, update_ns=T0, time_in_force="poc", fee_currency="BTC")
    return dataclasses.replace(o, **changes)


def _gate_place_result(o: VenueOrder, ts_recv: int) -> list[ExecReport]:
    frame = encode_api_result("1", "spot.order_place", encode_order_ws(o), ts_recv)
    (resp,) = gate_orders.parse_private(frame, ts_recv, {GATE_PAIR: _gate_instrument()})
    assert isinstance(resp, gate_orders.ApiResponse)
    return gate_orders.api_result_reports(resp, {GATE_PAIR: _gate_instrument()}, ts_recv)


def _gate_orders_push(o: VenueOrder, event: str, ts_recv: int) -> list[ExecReport]:
    frame = encode_orders_push([(o, event)], ts_recv)
    out = gate_orders.parse_private(frame, ts_recv, {GATE_PAIR: _gate_instrument()})
    assert all(isinstance(r, ExecReport) for r in out)
    return out  # type: ignore[return-value]


def _apply(oms: OMS, pf: Portfolio, reports: list[ExecReport]) -> list[object]:
    """Feed reports to the OMS and its fills to a portfolio, as the engine loop does."""
    out: list[object] = []
    for r in reports:
        for ev in oms.on_report(r):
            out.append(ev)
            if isinstance(ev, FillApplied):
                pf.apply_fill(ev.venue, _gate_instrument(), ev.side, ev.price_ticks, ev.lots,
                              ev.fee, ev.fee_asset)
    return out


@pytest.mark.parametrize("cancel_first", [True, False], ids=["cancel-requested", "pending"])
def test_gate_post_only_would_cross_then_late_put_push_is_a_late_ack(
        cancel_first: bool) -> None:
    """The flaky run's sequence (with the strategy's requote cancel sent before any answer, as
    there): place result EXPIRED/poc, `put` push NEW, `finish` push EXPIRED, then the refused
    cancel. The late NEW is counted as a late ack; the order stays EXPIRED, nothing is open,
    nothing is filled, and no transition is illegal."""
    oms, pf = make_oms(), Portfolio()
    msg = buy(oms, venue="gate")
    o = oms.orders[msg.client_id]
    if cancel_first:
        assert oms.request_cancel(msg.client_id, T0 - 1_000_000) is not None
    ended = _gate_order(msg, status="cancelled", finish_as="poc")
    place = _gate_place_result(ended, T0 + 7_151_351)
    assert [(r.exec_type, r.status, r.reason) for r in place] == [
        (ExecType.EXPIRED, S.EXPIRED, RejectReason.POST_ONLY_WOULD_CROSS)]
    out = _apply(oms, pf, place)
    assert [type(x) for x in out] == [OrderUpdated] and o.status is S.EXPIRED
    assert o.reject_reason is RejectReason.POST_ONLY_WOULD_CROSS
    put = _gate_orders_push(_gate_order(msg), "put", T0 + 7_461_312)
    assert [(r.exec_type, r.status) for r in put] == [(ExecType.NEW, S.NEW)]
    assert _apply(oms, pf, put) == []
    finish = _gate_orders_push(ended, "finish", T0 + 7_604_311)
    assert [(r.exec_type, r.status) for r in finish] == [(ExecType.EXPIRED, S.EXPIRED)]
    assert _apply(oms, pf, finish) == []
    if cancel_first:  # the venue refuses our cancel: the order is already gone
        refused = ExecReport("gate", SYM, msg.client_id, "", ExecType.CANCEL_REJECTED, S.NEW,
                             msg.side, reason=RejectReason.UNKNOWN_ORDER,
                             reason_text="ORDER_CANCELLED Order cancelled",
                             ts_recv=T0 + 19_710_640)
        assert _apply(oms, pf, [refused]) == []
    assert o.status is S.EXPIRED and o.filled_lots == 0
    assert o.venue_order_id == "424000"
    assert pf.position_lots("gate", SYM) == 0
    c = oms.counters
    assert c["illegal_transitions"] == 0 and c["late_acks"] == 1
    assert c["cancel_rejects"] == (1 if cancel_first else 0) and c["fills"] == 0
    assert oms.n_open() == 0 and oms.open_lots_of("gate", SYM, Side.BUY) == 0
    assert oms.best_own_price("gate", SYM, Side.BUY) is None
    check_books(oms)


def test_gate_fill_finish_push_before_its_trade_is_a_transient_gap_and_a_late_fill() -> None:
    """The flaky run's Gate fills: place result NEW, `put` push NEW, `finish` push (cumulative
    0.0010 filled, STATUS/FILLED) *before* the `spot.usertrades` push of that fill, then the
    trade replayed twice by reconnect reconciliation (REST my_trades). The finish push is
    ahead of the trade, so it is counted as a fill gap and the trade as a late fill; the money
    is applied exactly once; no transition is illegal and no ack is late."""
    oms, pf = make_oms(), Portfolio()
    msg = buy(oms, venue="gate")
    o = oms.orders[msg.client_id]
    assert [type(x) for x in _apply(oms, pf, _gate_place_result(_gate_order(msg), T0 + 1))] \
        == [OrderUpdated]
    assert _apply(oms, pf, _gate_orders_push(_gate_order(msg), "put", T0 + 2)) == []
    assert o.status is S.NEW
    filled = _gate_order(msg, status="closed", finish_as="filled", left=Decimal(0),
                         filled_amount=Decimal("0.0010"), filled_total=Decimal("60.000000"),
                         update_ns=T0 + 5_000_000)
    (fin,) = _gate_orders_push(filled, "finish", T0 + 6)
    assert (fin.exec_type, fin.status, fin.filled_lots) == (ExecType.STATUS, S.FILLED, 10)
    out = _apply(oms, pf, [fin])
    assert [type(x) for x in out] == [OrderUpdated, FillGap]
    assert o.status is S.FILLED and pf.position_lots("gate", SYM) == 0
    assert isinstance(out[1], FillGap) and out[1].missing_lots == 10
    fill = VenueFill(id=61001, order_id="424000", currency_pair=GATE_PAIR, side=msg.side,
                     amount=Decimal("0.0010"), price=Decimal("60000.00"), role="maker",
                     fee=Decimal("0.0000001"), fee_currency="BTC", ts_ns=T0 + 5_000_000,
                     text="t-" + msg.client_id)
    trades = gate_orders.parse_private(encode_usertrades_push([fill], T0 + 7), T0 + 7,
                                       {GATE_PAIR: _gate_instrument()})
    out = _apply(oms, pf, trades)  # type: ignore[arg-type]
    assert [type(x) for x in out] == [FillApplied]
    replay = gate_orders.parse_my_trades(encode_my_trades([fill]), {GATE_PAIR: _gate_instrument()},
                                         T0 + 6_500_000_000)
    assert _apply(oms, pf, replay + replay) == []
    assert o.status is S.FILLED and o.filled_lots == 10
    assert pf.position_lots("gate", SYM) == 10
    c = oms.counters
    assert (c["fill_gaps"], c["late_fills"], c["duplicate_fills"], c["fills"]) == (1, 1, 2, 1)
    assert c["illegal_transitions"] == 0 and c["late_acks"] == 0
    assert oms.n_open() == 0 and oms.open_lots_of("gate", SYM, Side.BUY) == 0
    check_books(oms)


@pytest.mark.parametrize("end", [ExecType.CANCELED, ExecType.TRADE], ids=["canceled", "filled"])
def test_an_ack_after_the_cancel_or_the_full_fill_is_a_late_ack(end: ExecType) -> None:
    """The user stream lags the WS API response: the cancel (or the last fill) is applied
    before the order's ack. The ack changes nothing and is counted as late."""
    oms = make_oms()
    msg = buy(oms)
    o = oms.orders[msg.client_id]
    if end is ExecType.CANCELED:
        oms.request_cancel(msg.client_id, 2_000)
        oms.on_report(report(msg, ExecType.CANCELED, S.CANCELED, ts=3_000))
        final, filled = S.CANCELED, 0
    else:
        oms.on_report(report(msg, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="t",
                             ts=3_000))
        final, filled = S.FILLED, LOTS
    assert oms.on_report(report(msg, ExecType.NEW, S.NEW, ts=4_000)) == []
    assert o.status is final and o.filled_lots == filled and o.ts_updated == 3_000
    c = oms.counters
    assert c["late_acks"] == 1 and c["illegal_transitions"] == 0 and c["fills"] == filled // LOTS
    check_books(oms)


def test_an_ack_for_an_order_the_venue_said_it_did_not_know_stays_illegal(
        caplog: pytest.LogCaptureFixture) -> None:
    """The gateway closes an order the venue does not know as STATUS/EXPIRED(UNKNOWN_ORDER):
    our conclusion that it never arrived. A later ack says it did (it may be working at the
    venue): a real inconsistency, so it is counted as illegal and logged, not a late ack."""
    oms = make_oms()
    msg = buy(oms, venue="gate")
    gone = ExecReport("gate", SYM, msg.client_id, "", ExecType.STATUS, S.EXPIRED, msg.side,
                      reason=RejectReason.UNKNOWN_ORDER, reason_text="venue does not know it",
                      ts_recv=5_000)
    oms.on_report(gone)
    o = oms.orders[msg.client_id]
    assert o.status is S.EXPIRED and o.reject_reason is RejectReason.UNKNOWN_ORDER
    with caplog.at_level(logging.WARNING, logger="engine.oms"):
        out = oms.on_report(report(msg, ExecType.NEW, S.NEW, ts=6_000))
    assert len(out) == 1 and isinstance(out[0], IllegalTransition)
    assert (out[0].state, out[0].event) == (S.EXPIRED, E.ACK)
    assert o.status is S.EXPIRED
    assert oms.counters["illegal_transitions"] == 1 and oms.counters["late_acks"] == 0
    assert any("illegal ACK in state EXPIRED" in m and msg.client_id in m
               for m in caplog.messages)
    check_books(oms)


def test_an_ack_after_a_venue_reject_stays_illegal(caplog: pytest.LogCaptureFixture) -> None:
    """A refused order was never accepted: an ack after the reject contradicts it."""
    oms = make_oms()
    msg = buy(oms)
    oms.on_report(report(msg, ExecType.REJECTED, S.REJECTED, reason=RejectReason.BAD_PRICE))
    with caplog.at_level(logging.WARNING, logger="engine.oms"):
        out = oms.on_report(report(msg, ExecType.NEW, S.NEW, ts=6_000))
    assert [type(x) for x in out] == [IllegalTransition]
    assert oms.orders[msg.client_id].status is S.REJECTED
    assert oms.counters["illegal_transitions"] == 1 and oms.counters["late_acks"] == 0
    assert any("illegal ACK in state REJECTED from a NEW report" in m for m in caplog.messages)


def test_a_full_fill_on_the_fast_path_takes_its_price_out_of_the_own_price_index() -> None:
    """A stamped full fill of a working order closes it on the inlined fast path; its price
    must leave `open_prices` as `_close` does, or the RMS self-trade check keeps seeing a bid
    we no longer have (and refuses our asks at or below it)."""
    oms = make_oms()
    a, b = buy(oms, price=6_000_000), buy(oms, price=6_000_000)
    for m in (a, b):
        oms.on_report(report(m, ExecType.NEW, S.NEW, ts=1_000))
    assert oms.open_prices[("binance", SYM, Side.BUY)] == {6_000_000: 2}
    out = oms.on_report(report(a, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="a",
                               ts=2_000))
    assert [type(x) for x in out] == [FillApplied, OrderUpdated]
    assert oms.orders[a.client_id].status is S.FILLED
    assert oms.open_prices[("binance", SYM, Side.BUY)] == {6_000_000: 1}
    assert oms.best_own_price("binance", SYM, Side.BUY) == 6_000_000
    oms.on_report(report(b, ExecType.TRADE, S.FILLED, last_lots=LOTS, trade_id="b", ts=3_000))
    assert oms.best_own_price("binance", SYM, Side.BUY) is None
    assert oms.n_open() == 0 and oms.open_lots_of("binance", SYM, Side.BUY) == 0
    check_books(oms)
