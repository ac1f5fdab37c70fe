"""OMS: the transition table, report edge cases, timeouts and the open-order indexes."""
from __future__ import annotations

from decimal import Decimal

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
from pipeline.messages import CancelAll, CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus, RejectReason, Side
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
    out = _fire(oms, msg, event)
    expected = TABLE.get((state, event))
    if (state, event) == (S.FILLED, E.PARTIAL_FILL):
        # unreachable: any further fill of a filled order is a FILL (an overfill)
        expected = TABLE[(S.FILLED, E.FILL)]
    if event is E.CANCEL_REQUEST and state.is_terminal:
        assert o.status is state  # request_cancel refuses terminal orders: not a transition
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
@given(steps=st.lists(st.tuples(st.integers(0, 3), _REPORT_KINDS, st.integers(1, 6)),
                      max_size=60))
def test_any_report_sequence_keeps_the_open_indexes_consistent(
        steps: list[tuple[int, str, int]]) -> None:
    oms = make_oms()
    msgs = [buy(oms, lots=8, side=Side.BUY if i % 2 else Side.SELL, venue=v)
            for i, v in enumerate(("binance", "okx", "gate", "binance"))]
    applied = {m.client_id: 0 for m in msgs}
    for n, (i, kind, k) in enumerate(steps):
        m = msgs[i]
        if kind == "ack":
            out = oms.on_report(report(m, ExecType.NEW, S.NEW))
        elif kind in ("fill", "fill_dup"):
            tid = "dup" if kind == "fill_dup" else f"t{n}"
            out = oms.on_report(report(m, ExecType.TRADE, S.PARTIALLY_FILLED, last_lots=k,
                                       trade_id=tid))
        elif kind == "cancel_req":
            oms.request_cancel(m.client_id, n)
            out = []
        elif kind == "canceled":
            out = oms.on_report(report(m, ExecType.CANCELED, S.CANCELED))
        elif kind == "cancel_rej":
            out = oms.on_report(report(m, ExecType.CANCEL_REJECTED, S.NEW,
                                       reason=RejectReason.OTHER))
        elif kind == "rejected":
            out = oms.on_report(report(m, ExecType.REJECTED, S.REJECTED))
        elif kind == "expired":
            out = oms.on_report(report(m, ExecType.EXPIRED, S.EXPIRED))
        else:
            out = oms.on_report(report(m, ExecType.STATUS, S.NEW))
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
    from engine.oms import build_new_order
    from pipeline.messages import decode, encode
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
