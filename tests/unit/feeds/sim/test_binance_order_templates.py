"""The Binance server codec's fast encoders give the same bytes as the general ones: order
results, acks and cancel reports from spelled numbers, and no-fill `executionReport`s from a
per-order template copied after the order changed (fills, status, update time)."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.binance.protocol import order_server as S
from pipeline.model import Side

_TS = st.integers(min_value=0, max_value=2**62)
_CID = st.text("abcXYZ019_-", min_size=1, max_size=36)


@st.composite
def _orders(draw: st.DrawFn) -> tuple[S.VenueOrder, S.VenueOrder]:
    """An order as accepted, and the same order later (filled some, a new status)."""
    otype = draw(st.sampled_from(["LIMIT", "LIMIT_MAKER", "MARKET"]))
    created = draw(_TS)
    o = S.VenueOrder(
        symbol=draw(st.sampled_from(["BTCUSDT", "ETHUSDT"])), order_id=draw(_TS),
        client_id=draw(_CID), side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        order_type=otype, time_in_force=draw(st.sampled_from(["GTC", "IOC", "FOK"])),
        price=Decimal(draw(st.integers(0, 10**9))) * Decimal("0.01"),
        orig_qty=Decimal(draw(st.integers(1, 10**9))) * Decimal("0.00001"),
        time_ns=created, update_ns=created, working_ns=draw(st.sampled_from([0, created])))
    later = dataclasses.replace(
        o, executed_qty=Decimal(draw(st.integers(0, 10**6))) * Decimal("0.00001"),
        cum_quote=Decimal(draw(st.integers(0, 10**12))) * Decimal("0.0000001"),
        status=draw(st.sampled_from(["NEW", "PARTIALLY_FILLED", "CANCELED", "EXPIRED",
                                     "FILLED"])), update_ns=draw(_TS))
    return o, later


def _same(a: object, b: object) -> None:
    assert orjson.dumps(a) == orjson.dumps(b)   # bytes: key order counts


@settings(max_examples=300, deadline=None)
@given(_orders(), st.sampled_from(["NEW", "EXPIRED", "TRADE_PREVENTION"]), _TS, _TS,
       st.integers(1, 2**40), _CID)
def test_binance_template_execution_reports_are_the_general_ones(
        orders: tuple[S.VenueOrder, S.VenueOrder], x: str, event_ns: int, transact_ns: int,
        eid: int, cancel_cid: str) -> None:
    first, now = orders
    tmpl = S.execution_template(first)
    _same(S.encode_plain_execution(tmpl, now, x, event_ns, transact_ns, eid, now.client_id),
          S.encode_execution_report(now, x, event_ns, transact_ns, execution_id=eid))
    _same(S.encode_plain_execution(tmpl, now, "CANCELED", event_ns, transact_ns, eid,
                                   cancel_cid, now.client_id),
          S.encode_cancel_execution(now, event_ns, transact_ns, execution_id=eid,
                                    cancel_client_id=cancel_cid))
    assert tmpl == S.execution_template(first)   # the template itself is never written


@settings(max_examples=300, deadline=None)
@given(_orders(), _TS, _CID)
def test_binance_spelled_results_are_the_general_ones(
        orders: tuple[S.VenueOrder, S.VenueOrder], transact_ns: int, cancel_cid: str) -> None:
    _, o = orders
    f8, ms = S.fmt8, transact_ns // 1_000_000
    side = "BUY" if o.side is Side.BUY else "SELL"
    _same(S.encode_order_ack_spelled(o.symbol, o.order_id, o.client_id, ms),
          S.encode_order_ack(o, transact_ns))
    _same(S.encode_order_result_spelled(
        o.symbol, o.order_id, o.client_id, ms, f8(o.price), f8(o.orig_qty),
        f8(o.executed_qty), f8(o.cum_quote), o.status, o.time_in_force, o.order_type, side,
        o.working_ns // 1_000_000 if o.working_ns else -1), S.encode_order_result(o, transact_ns))
    _same(S.encode_cancel_report_spelled(
        o.symbol, o.client_id, o.order_id, cancel_cid, ms, f8(o.price), f8(o.orig_qty),
        f8(o.executed_qty), f8(o.cum_quote), o.status, o.time_in_force, o.order_type, side),
        S.encode_cancel_report(o, transact_ns, cancel_cid))
    fills = [S.Fill(Decimal("1.5"), Decimal("0.001"), Decimal("0.0000015"), "BTC", 7)]
    body = S.encode_order_result(o, transact_ns)
    body["fills"] = S.encode_fills(fills)
    _same(body, S.encode_order_full(o, transact_ns, fills))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TS, _TS), min_size=1, max_size=3), _TS)
def test_binance_answers_with_encoded_rate_limits_are_the_general_ones(
        counts: list[tuple[int, int]], rid: int) -> None:
    limits = [S.RateLimit("ORDERS", "SECOND", 10, lim, n) for lim, n in counts]
    items = [S.rate_limit_item("ORDERS", "SECOND", 10, lim, n) for lim, n in counts]
    assert S.encode_ws_answer(rid, {"a": 1}, items) == S.encode_ws_response(rid, {"a": 1},
                                                                            limits)
    assert S.encode_ws_answer(rid, [], None) == S.encode_ws_response(rid, [], None)
    for data in (None, {"retryAfter": 5}):
        assert S.encode_ws_refusal(rid, 429, -1003, "m", items, data) == \
            S.encode_ws_error(rid, 429, -1003, "m", limits, data)
        assert S.encode_ws_refusal(rid, 400, -1022, "m", None, data) == \
            S.encode_ws_error(rid, 400, -1022, "m", None, data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["symbol", "side", "price", "timestamp", "apiKey",
                                        "recvWindow", "signature", "a{b"]),
                       st.one_of(st.text(max_size=8), st.integers(), st.booleans()),
                       min_size=0, max_size=8))
def test_binance_payload_by_layout_is_the_documented_one(params: dict[str, object]) -> None:
    from feeds.binance.protocol import signing

    for _ in range(2):   # the second time through the memoised layout
        assert S._payload(params) == signing.ws_payload(params)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.integers(-10, 70_000), st.booleans(), st.text(max_size=8),
                 st.floats(allow_nan=False)), st.integers(0, 10_000))
def test_binance_timestamp_check_is_the_decimal_one(window: object, lag: int) -> None:
    server = 1_700_000_000_000
    params: dict[str, object] = {"timestamp": server - lag + 500}
    if window is not None:
        params["recvWindow"] = window
    req = S.WsRequest(1, "order.place", params)
    w = req.recv_window_ms   # the general rule, in Decimal
    ts = server - lag + 500
    want = 0 <= w <= 60_000 and ts < server + 1000 and server - ts <= w
    assert req.timestamp_ok(server) is want


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(0, 2**63 - 1), st.integers(-5, -1)), _orders(), _TS)
def test_binance_user_event_around_encoded_json_is_the_general_one(
        sid: int, orders: tuple[S.VenueOrder, S.VenueOrder], event_ns: int) -> None:
    _, o = orders
    for ev in (S.encode_execution_report(o, "NEW", event_ns, event_ns, execution_id=3),
               S.encode_account_position(event_ns, event_ns, [("BTC", o.orig_qty, o.price)])):
        assert S.encode_user_event_json(sid, S.dumps(ev)) == S.encode_user_event(sid, ev)
