"""Binance orders: client builders (signed WS API and REST), server decoding of the doc's
requests, response and user-event parsing into exact ExecReports, encoder key sets, and
server encode -> client parse round trips."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest

from feeds.binance.protocol import orders as O
from feeds.binance.protocol.signing import verify_rest
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce

from .conftest import BTCUSDT, ETHBTC, INSTRUMENTS, LTCBTC, VECTORS, fixture_json, fixture_text

MS = 1_000_000
V = next(v for v in json.loads(VECTORS.read_text()) if v["kind"] == "ws_api_order_place")
KEY, SECRET = V["key"], V["secret"]


def new_order(**kw: Any) -> NewOrder:
    base: dict[str, Any] = {"client_id": "mm-1_a", "venue": "binance", "symbol": "BTC/USDT",
                            "side": Side.BUY, "price_ticks": 2_341_610, "lots": 847,
                            "order_type": OrderType.LIMIT, "tif": TimeInForce.GTC}
    base.update(kw)
    return NewOrder(**base)


def decode(frame: str) -> Any:
    req = O.decode_ws_request(frame)
    assert req.req.verify(SECRET), "client-built frame must verify on the server side"
    return req


# -- client builders ---------------------------------------------------------------------------
def test_limit_gtc_place_frame() -> None:
    f = O.build_order_place(new_order(), BTCUSDT, KEY, SECRET, 1660801715431, "r1")
    body = orjson.loads(f)
    assert body["id"] == "r1" and body["method"] == "order.place"
    p = body["params"]
    assert {k: p[k] for k in ("symbol", "side", "type", "timeInForce", "price", "quantity",
                              "newClientOrderId", "newOrderRespType", "apiKey", "timestamp")} == {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "price": "23416.1", "quantity": "0.00847", "newClientOrderId": "mm-1_a",
        "newOrderRespType": "RESULT", "apiKey": KEY, "timestamp": 1660801715431}
    req = decode(f)
    assert isinstance(req, O.PlaceRequest)
    assert (req.symbol, req.side, req.order_type, req.time_in_force, req.price, req.quantity,
            req.client_id) == ("BTCUSDT", Side.BUY, "LIMIT", "GTC", Decimal("23416.1"),
                               Decimal("0.00847"), "mm-1_a")


def test_post_only_is_limit_maker_without_time_in_force() -> None:
    p = orjson.loads(O.build_order_place(new_order(tif=TimeInForce.POST_ONLY), BTCUSDT, KEY,
                                         SECRET, 1, 1))["params"]
    assert p["type"] == "LIMIT_MAKER" and "timeInForce" not in p
    assert decode(O.build_order_place(new_order(tif=TimeInForce.POST_ONLY), BTCUSDT, KEY,
                                      SECRET, 1, 1)).order_type == "LIMIT_MAKER"


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_ioc_fok_are_limit_with_time_in_force(tif: TimeInForce) -> None:
    p = orjson.loads(O.build_order_place(new_order(tif=tif), BTCUSDT, KEY, SECRET, 1, 1))["params"]
    assert (p["type"], p["timeInForce"]) == ("LIMIT", tif.name)


def test_market_sends_quantity_only() -> None:
    f = O.build_order_place(new_order(order_type=OrderType.MARKET, price_ticks=0), BTCUSDT, KEY,
                            SECRET, 1, 1, resp_type=None, recv_window=5000)
    p = orjson.loads(f)["params"]
    assert p["type"] == "MARKET" and "price" not in p and "timeInForce" not in p
    assert "newOrderRespType" not in p and p["recvWindow"] == 5000
    req = decode(f)
    assert req.price is None and req.resp_type == "FULL"


@pytest.mark.parametrize(("kw", "reason"), [
    ({"client_id": "x" * 37}, RejectReason.OTHER),
    ({"client_id": "has space"}, RejectReason.OTHER),
    ({"client_id": ""}, RejectReason.OTHER),
    ({"lots": 0}, RejectReason.BAD_SIZE),
    ({"price_ticks": 0}, RejectReason.BAD_PRICE),
    ({"order_type": OrderType.MARKET, "tif": TimeInForce.POST_ONLY}, RejectReason.OTHER),
])
def test_invalid_orders_are_refused_with_a_typed_reason(kw: dict[str, Any],
                                                        reason: RejectReason) -> None:
    with pytest.raises(O.InvalidOrder) as ei:
        O.build_order_place(new_order(**kw), BTCUSDT, KEY, SECRET, 1, 1)
    assert ei.value.reason is reason


def test_client_id_of_36_allowed_chars_is_accepted() -> None:
    cid = "aZ09-_" * 6
    assert O.validate_client_id(cid) == cid


def test_cancel_by_order_id_or_client_id() -> None:
    by_id = decode(O.build_order_cancel(CancelOrder("c1", "binance", "BTC/USDT", "12510053279"),
                                        BTCUSDT, KEY, SECRET, 2, 7))
    assert isinstance(by_id, O.CancelRequest)
    assert (by_id.order_id, by_id.orig_client_id) == (12510053279, "")
    by_cid = decode(O.build_order_cancel(CancelOrder("c1", "binance", "BTC/USDT"), BTCUSDT, KEY,
                                         SECRET, 2, 8))
    assert (by_cid.order_id, by_cid.orig_client_id, by_cid.symbol) == (None, "c1", "BTCUSDT")


def test_cancel_all_status_open_orders_and_user_stream_frames() -> None:
    ca = decode(O.build_cancel_all("BTCUSDT", KEY, SECRET, 3, 9))
    assert isinstance(ca, O.CancelAllRequest) and ca.symbol == "BTCUSDT"
    st = decode(O.build_order_status(BTCUSDT, KEY, SECRET, 3, 10, client_id="c1"))
    assert isinstance(st, O.StatusRequest) and st.orig_client_id == "c1"
    oo = decode(O.build_open_orders_status(KEY, SECRET, 3, 11))
    assert isinstance(oo, O.OpenOrdersRequest) and oo.symbol == ""
    sub = decode(O.build_user_data_subscribe(KEY, SECRET, 3, 12))
    assert sub.req.method == "userDataStream.subscribe.signature"
    assert set(sub.req.params) == {"apiKey", "timestamp", "signature"}
    un = O.decode_ws_request(O.build_user_data_unsubscribe(13, 0))
    assert isinstance(un, O.UserStreamRequest) and un.subscription_id == 0


def test_session_logon_reproduces_the_doc_example_signature() -> None:
    doc = fixture_json("ws_api_session_logon_request.json")
    built = orjson.loads(O.build_session_logon(KEY, SECRET, 1649729878532, doc["id"]))
    assert built == doc


def test_rest_requests_are_signed_and_keep_the_key_out_of_repr() -> None:
    r = O.build_rest_order(new_order(), BTCUSDT, KEY, SECRET, 1499827319559, recv_window=5000)
    assert (r.method, r.path, r.headers) == ("POST", "/api/v3/order", {"X-MBX-APIKEY": KEY})
    assert r.query.startswith("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&price=23416.1")
    assert "&recvWindow=5000&timestamp=1499827319559&signature=" in r.query
    assert verify_rest(SECRET, r.query) and KEY not in repr(r)
    assert dict(r.params)["signature"] == r.query.rsplit("=", 1)[1]
    oo = O.build_rest_open_orders(KEY, SECRET, 5, venue_symbol="LTCBTC")
    assert (oo.method, oo.path) == ("GET", "/api/v3/openOrders") and verify_rest(SECRET, oo.query)
    ca = O.build_rest_cancel_all("LTCBTC", KEY, SECRET, 5)
    assert (ca.method, ca.path) == ("DELETE", "/api/v3/openOrders")
    cx = O.build_rest_cancel(CancelOrder("c1", "binance", "LTC/BTC"), LTCBTC, KEY, SECRET, 5)
    assert cx.query.startswith("symbol=LTCBTC&origClientOrderId=c1&timestamp=5&signature=")


# -- server: the doc's request examples --------------------------------------------------------
def test_doc_order_place_request_decodes_and_verifies() -> None:
    req = O.decode_ws_request(fixture_text("ws_api_order_place_request.json"))
    assert isinstance(req, O.PlaceRequest) and req.req.verify(SECRET)
    assert (req.symbol, req.side, req.order_type, req.time_in_force, req.price, req.quantity,
            req.client_id, req.resp_type) == ("BTCUSDT", Side.SELL, "LIMIT", "GTC",
                                              Decimal("23416.10000000"), Decimal("0.00847000"),
                                              "", "FULL")
    assert req.req.id == "56374a46-3061-486b-a311-99ee972eb648"
    assert req.req.timestamp_ok(1660801715431 + 5000)
    assert not req.req.timestamp_ok(1660801715431 + 5001)       # older than recvWindow
    assert not req.req.timestamp_ok(1660801715431 - 1000)       # 1000 ms ahead of the server
    assert req.req.timestamp_ok(1660801715431 - 999)


def test_doc_cancel_and_cancel_all_requests_decode_and_verify() -> None:
    c = O.decode_ws_request(fixture_text("ws_api_order_cancel_request.json"))
    assert isinstance(c, O.CancelRequest) and c.req.verify(SECRET)
    assert (c.symbol, c.orig_client_id, c.order_id) == ("BTCUSDT", "4d96324ff9d44481926157", None)
    ca = O.decode_ws_request(fixture_text("ws_api_cancel_all_request.json"))
    assert isinstance(ca, O.CancelAllRequest) and ca.symbol == "BTCUSDT"
    assert not ca.req.verify(SECRET)  # the doc elides the key as "..."
    with_key = dict(ca.req.params, apiKey=KEY)
    assert O.WsRequest(ca.req.id, ca.req.method, with_key).verify(SECRET)


def test_doc_user_stream_subscribe_request_is_ed25519_not_hmac() -> None:
    r = O.decode_ws_request(fixture_text("ws_api_user_data_subscribe_signature_request.json"))
    assert isinstance(r, O.UserStreamRequest) and r.req.timestamp_ms == 1747385641636
    assert not r.req.verify(SECRET)


@pytest.mark.parametrize(("params", "code"), [
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "price": "1", "quantity": "1"}, -1102),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "timeInForce": "GTC",
      "price": "1", "quantity": "1"}, -1106),
    ({"symbol": "BTCUSDT", "side": "UP", "type": "LIMIT", "price": "1", "quantity": "1"}, -1117),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "STOP", "quantity": "1"}, -1116),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTX",
      "price": "1", "quantity": "1"}, -1115),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1",
      "newClientOrderId": "bad id!"}, -1100),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "-1"}, -1102),
    ({"symbol": "BTC-USDT", "side": "BUY", "type": "MARKET", "quantity": "1"}, -1121),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": {"x": 1}}, -1100),
])
def test_bad_place_requests_get_binance_codes(params: dict[str, Any], code: int) -> None:
    frame = orjson.dumps({"id": 5, "method": "order.place", "params": dict(params, timestamp=1)})
    with pytest.raises(O.RequestError) as ei:
        O.decode_ws_request(frame)
    assert ei.value.code == code and ei.value.status == 400
    [resp] = O.parse_private(ei.value.encode(), 0, INSTRUMENTS)
    assert isinstance(resp, O.WsApiResponse) and resp.error_code == code and resp.id == 5


@pytest.mark.parametrize(("frame", "code"), [
    ('{"id":1,"method":"order.cancel","params":{"symbol":"BTCUSDT","timestamp":1}}', -1102),
    ('{"id":1,"method":"order.place","params":{"symbol":"BTCUSDT"}}', -1102),
    ('{"id":1,"method":"order.frob","params":{"timestamp":1}}', -1100),
    ('{"id":1,"params":{}}', -1102),
    ("[1]", -1100), ("{", -1100),
])
def test_bad_envelopes_get_binance_codes(frame: str, code: int) -> None:
    with pytest.raises(O.RequestError) as ei:
        O.decode_ws_request(frame)
    assert ei.value.code == code


# -- responses -------------------------------------------------------------------------------
def test_doc_place_response_parses_with_rate_limits() -> None:
    [r] = O.parse_private(fixture_text("ws_api_order_place_response.json"), 77, INSTRUMENTS)
    assert isinstance(r, O.WsApiResponse) and r.ok and r.id == "e2a85d9f-07a5-4f94-8d5f-789dc3deb097"
    assert [(x.rate_limit_type, x.window_s, x.limit, x.count) for x in r.rate_limits] == [
        ("ORDERS", 10.0, 50, 12), ("ORDERS", 86400.0, 160000, 4043),
        ("REQUEST_WEIGHT", 60.0, 6000, 321)]
    [rep] = O.response_reports(r, "order.place", INSTRUMENTS, 77)
    assert rep == ExecReport(
        venue="binance", symbol="BTC/USDT", client_id="a097fe6304b20a7e4fc436",
        venue_order_id="12510053279", exec_type=ExecType.NEW, status=OrderStatus.NEW,
        side=Side.BUY, price_ticks=10, lots=1_000_000, filled_lots=0,
        ts_event=1655716096505 * MS, ts_recv=77)
    assert O.parse_order_ack(r.result) == O.OrderAck("a097fe6304b20a7e4fc436", "12510053279",
                                                     1655716096505 * MS)


def test_doc_rest_ack_and_full_answers() -> None:
    ack = O.WsApiResponse(1, 200, fixture_json("rest_order_ack.json"))
    assert O.response_reports(ack, "order.place", INSTRUMENTS, 0) == []
    assert O.parse_order_ack(ack.result).venue_order_id == "28"
    full = O.WsApiResponse(1, 200, fixture_json("rest_order_full.json"))
    [rep] = O.response_reports(full, "order.place", INSTRUMENTS, 0)
    # FILLED is reported, but fills are left to executionReport (no double counting)
    assert (rep.status, rep.side, rep.filled_lots, rep.last_lots, rep.price_ticks) == (
        OrderStatus.FILLED, Side.SELL, 1_000_000, 0, 0)


def test_doc_cancel_response_uses_the_original_client_id() -> None:
    resp = O.WsApiResponse(1, 200, fixture_json("rest_cancel_response.json"))
    [rep] = O.response_reports(resp, "order.cancel", INSTRUMENTS, 0)
    assert (rep.symbol, rep.client_id, rep.venue_order_id, rep.exec_type, rep.status) == (
        "LTC/BTC", "myOrder1", "4", ExecType.CANCELED, OrderStatus.CANCELED)
    assert (rep.price_ticks, rep.lots, rep.ts_event) == (2_000_000, 1000, 1684804350068 * MS)


def test_doc_open_orders_are_status_reports() -> None:
    [rep] = O.parse_rest_open_orders(fixture_json("rest_open_orders.json"), INSTRUMENTS, 9)
    assert (rep.client_id, rep.exec_type, rep.status, rep.price_ticks, rep.lots) == (
        "myOrder1", ExecType.STATUS, OrderStatus.NEW, 100_000, 1000)
    assert rep.ts_event == 1499827319559 * MS
    resp = O.WsApiResponse(1, 200, fixture_json("rest_open_orders.json"))
    assert O.response_reports(resp, "openOrders.status", INSTRUMENTS, 9) == [rep]


def test_cancel_all_flattens_order_lists_and_skips_unknown_symbols() -> None:
    leg = fixture_json("rest_cancel_response.json")
    other = dict(leg, symbol="DOGEUSDT")
    result = [leg, {"orderListId": 1, "contingencyType": "OCO", "orderReports": [leg]}, other]
    reps = O.response_reports(O.WsApiResponse(1, 200, result), "openOrders.cancelAll",
                              INSTRUMENTS, 0)
    assert [r.exec_type for r in reps] == [ExecType.CANCELED, ExecType.CANCELED]


def test_subscribe_response_and_rate_limit_error() -> None:
    [r] = O.parse_private(fixture_text("ws_api_user_data_subscribe_response.json"), 0, INSTRUMENTS)
    assert isinstance(r, O.WsApiResponse) and r.ok and r.result == {"subscriptionId": 0}
    frame = O.encode_ws_error(3, 429, -1003, "Too much request weight used",
                              [O.RateLimit("REQUEST_WEIGHT", "MINUTE", 1, 6000, 6001)],
                              data={"serverTime": 1, "retryAfter": 1700000000000})
    [e] = O.parse_private(frame, 0, INSTRUMENTS)
    assert isinstance(e, O.WsApiResponse) and not e.ok
    assert (e.reason, e.retry_after_ms, e.rate_limits[0].count) == (RejectReason.RATE_LIMITED,
                                                                    1700000000000, 6001)
    assert O.response_reports(e, "order.place", INSTRUMENTS, 0) == []


def test_rest_error_body() -> None:
    r = O.parse_rest_error({"code": -1121, "msg": "Invalid symbol."}, 400)
    assert (r.error_code, r.reason, r.ok) == (-1121, RejectReason.BAD_SYMBOL, False)


# -- user data events ------------------------------------------------------------------------
def test_doc_execution_report_parses_exactly() -> None:
    [r] = O.parse_private(fixture_text("ws_user_execution_report.json"), 5, INSTRUMENTS)
    assert r == ExecReport(
        venue="binance", symbol="ETH/BTC", client_id="mUvoqJxFIILMdfAW5iGSOW",
        venue_order_id="4293153", exec_type=ExecType.NEW, status=OrderStatus.NEW, side=Side.BUY,
        price_ticks=1_026_441, lots=10_000, filled_lots=0, last_lots=0, last_price_ticks=0,
        fee=Decimal(0), fee_asset="", trade_id="", is_maker=False, reason=RejectReason.NONE,
        ts_event=1499405658657 * MS, ts_recv=5)


def test_doc_stream_terminated_is_a_shutdown_control() -> None:
    assert O.parse_private(fixture_text("ws_user_stream_terminated.json"), 0, INSTRUMENTS) == [
        Control("shutdown", {"e": "eventStreamTerminated", "subscriptionId": 0})]


def test_execution_report_for_unknown_symbol_is_a_notice() -> None:
    ev = fixture_json("ws_user_execution_report.json")
    ev["event"]["s"] = "DOGEUSDT"
    [r] = O.parse_private(orjson.dumps(ev), 0, INSTRUMENTS)
    assert isinstance(r, Control) and r.kind == "notice"


def venue_order(**kw: Any) -> O.VenueOrder:
    base: dict[str, Any] = {"symbol": "BTCUSDT", "order_id": 12510053279, "client_id": "mm-1_a",
                            "side": Side.BUY, "order_type": "LIMIT", "time_in_force": "GTC",
                            "price": Decimal("23416.1"), "orig_qty": Decimal("0.00847"),
                            "time_ns": 1655716096505 * MS, "working_ns": 1655716096505 * MS}
    base.update(kw)
    return O.VenueOrder(**base)


def test_fill_round_trip_is_exact() -> None:
    o = venue_order(executed_qty=Decimal("0.003"), cum_quote=Decimal("70.2483"),
                    status="PARTIALLY_FILLED")
    ev = O.encode_execution_report(o, "TRADE", 1655716096600 * MS, 1655716096599 * MS,
                                   execution_id=9, last_qty="0.003", last_price="23416.1",
                                   commission="0.0000012", commission_asset="BNB",
                                   trade_id=56, is_maker=True)
    [r] = O.parse_private(O.encode_user_event(0, ev), 11, INSTRUMENTS)
    assert isinstance(r, ExecReport)
    assert (r.exec_type, r.status, r.client_id, r.price_ticks, r.lots, r.filled_lots,
            r.last_lots, r.last_price_ticks, r.fee, r.fee_asset, r.trade_id, r.is_maker,
            r.ts_event) == (ExecType.TRADE, OrderStatus.PARTIALLY_FILLED, "mm-1_a", 2_341_610,
                            847, 300, 300, 2_341_610, Decimal("0.0000012"), "BNB", "56", True,
                            1655716096599 * MS)
    assert ev["Y"] == "70.24830000" and ev["w"] is True


def test_cancel_execution_reports_the_original_client_id() -> None:
    ev = O.encode_cancel_execution(venue_order(status="CANCELED"), 5 * MS, 5 * MS,
                                   execution_id=10, cancel_client_id="cxl-1")
    assert (ev["c"], ev["C"], ev["x"], ev["w"]) == ("cxl-1", "mm-1_a", "CANCELED", False)
    [r] = O.parse_private(O.encode_user_event(0, ev), 0, INSTRUMENTS)
    assert isinstance(r, ExecReport)
    assert (r.client_id, r.exec_type, r.status) == ("mm-1_a", ExecType.CANCELED,
                                                    OrderStatus.CANCELED)


@pytest.mark.parametrize(("x", "X", "r", "exec_type", "status", "reason"), [
    ("REJECTED", "REJECTED", "WOULD_MATCH_IMMEDIATELY", ExecType.REJECTED, OrderStatus.REJECTED,
     RejectReason.POST_ONLY_WOULD_CROSS),
    ("REJECTED", "REJECTED", "INSUFFICIENT_BALANCES", ExecType.REJECTED, OrderStatus.REJECTED,
     RejectReason.INSUFFICIENT_BALANCE),
    ("EXPIRED", "EXPIRED", "NONE", ExecType.EXPIRED, OrderStatus.EXPIRED, RejectReason.NONE),
    ("TRADE_PREVENTION", "EXPIRED_IN_MATCH", "NONE", ExecType.EXPIRED, OrderStatus.EXPIRED,
     RejectReason.SELF_TRADE),
])
def test_execution_types_and_reject_reasons(x: str, X: str, r: str, exec_type: ExecType,
                                            status: OrderStatus, reason: RejectReason) -> None:
    ev = O.encode_execution_report(venue_order(status=X), x, 1, 1, execution_id=1,
                                   reject_reason=r)
    [rep] = O.parse_private(O.encode_user_event(0, ev), 0, INSTRUMENTS)
    assert isinstance(rep, ExecReport)
    assert (rep.exec_type, rep.status, rep.reason) == (exec_type, status, reason)


def test_account_position_and_balance_update_round_trip() -> None:
    ev = O.encode_account_position(3 * MS, 2 * MS, [("BTC", "1.5", "0.25"), ("USDT", 100, 0)])
    [r] = O.parse_private(O.encode_user_event(0, ev), 0, INSTRUMENTS)
    assert r == O.AccountPosition(3 * MS, 2 * MS, (
        O.Balance("BTC", Decimal("1.5"), Decimal("0.25")),
        O.Balance("USDT", Decimal(100), Decimal(0))))
    bu = O.encode_balance_update(4 * MS, "BTC", Decimal("-0.5"), 3 * MS)
    [b] = O.parse_private(O.encode_user_event(0, bu), 0, INSTRUMENTS)
    assert b == O.BalanceDelta("BTC", Decimal("-0.5"), 4 * MS, 3 * MS)
    assert set(ev) == {"e", "E", "u", "B"} and set(ev["B"][0]) == {"a", "f", "l"}
    assert set(bu) == {"e", "E", "a", "d", "T"}


# -- encoders emit exactly the documented keys -------------------------------------------------
def test_execution_report_keys_match_the_doc_example() -> None:
    doc = fixture_json("ws_user_execution_report.json")
    ev = O.encode_execution_report(venue_order(), "NEW", 1, 1, execution_id=1)
    assert set(ev) == set(doc["event"]) - {"v"}  # `v` is conditional (prevented match id)
    ev2 = O.encode_execution_report(venue_order(), "NEW", 1, 1, execution_id=1,
                                    prevented_match_id=3)
    assert list(ev2) == list(doc["event"])  # and the doc's key order
    for k, v in doc["event"].items():
        assert type(ev2[k]) is type(v) or v is None, k
    env = orjson.loads(O.encode_user_event(0, ev))
    assert set(env) == set(doc)


def test_order_result_shapes_match_the_doc() -> None:
    o = venue_order()
    assert set(O.encode_order_ack(o, 1)) == set(fixture_json("rest_order_ack.json"))
    result = O.encode_order_result(o, 1)
    assert list(result) == list(fixture_json("ws_api_order_place_response.json")["result"])
    full_doc = fixture_json("rest_order_full.json")
    full = O.encode_order_full(o, 1, [O.Fill("4000", "1", "4", "USDT", 56)])
    assert list(full) == list(full_doc) and full["fills"][0] == full_doc["fills"][0]
    assert list(O.encode_cancel_report(o, 1, "c")) == list(fixture_json("rest_cancel_response.json"))
    assert list(O.encode_open_order(o)) == list(fixture_json("rest_open_orders.json")[0])


def test_ws_response_and_error_shapes_match_the_doc() -> None:
    doc_ok = fixture_json("ws_api_order_place_response.json")
    limits = [O.RateLimit(d["rateLimitType"], d["interval"], d["intervalNum"], d["limit"],
                          d["count"]) for d in doc_ok["rateLimits"]]
    ok = orjson.loads(O.encode_ws_response(doc_ok["id"], doc_ok["result"], limits))
    assert ok == doc_ok  # byte-for-byte the doc's response
    doc_err = fixture_json("ws_api_order_place_error.json")
    limits_e = [O.RateLimit(d["rateLimitType"], d["interval"], d["intervalNum"], d["limit"],
                            d["count"]) for d in doc_err["rateLimits"]]
    err = orjson.loads(O.encode_ws_error(doc_err["id"], 400, -2010, doc_err["error"]["msg"],
                                         limits_e))
    assert err == doc_err
    assert "rateLimits" not in orjson.loads(O.encode_ws_response(1, {}))


def test_place_then_answer_round_trip_keeps_ticks_and_lots() -> None:
    order = new_order(tif=TimeInForce.POST_ONLY, price_ticks=1_234_567, lots=12_345)
    req = O.decode_ws_request(O.build_order_place(order, BTCUSDT, KEY, SECRET, 1, 42))
    assert isinstance(req, O.PlaceRequest) and req.price is not None
    vo = venue_order(client_id=req.client_id, order_type=req.order_type, price=req.price,
                     orig_qty=req.quantity, side=req.side)
    answer = O.encode_ws_response(req.req.id, O.encode_order_result(vo, 7 * MS))
    [resp] = O.parse_private(answer, 0, INSTRUMENTS)
    assert isinstance(resp, O.WsApiResponse) and resp.id == 42
    [rep] = O.response_reports(resp, "order.place", INSTRUMENTS, 0)
    assert (rep.client_id, rep.price_ticks, rep.lots, rep.side, rep.ts_event) == (
        order.client_id, 1_234_567, 12_345, Side.BUY, 7 * MS)


def test_ethbtc_instrument_is_used_for_its_symbol() -> None:
    assert INSTRUMENTS["ETHBTC"] is ETHBTC
