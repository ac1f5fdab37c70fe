"""Gate order traffic: client builders/parsers and the simulator's decode/encode side."""
from __future__ import annotations

import json
from decimal import Decimal

import orjson
import pytest

from feeds.gate.protocol import orders as o
from feeds.gate.protocol.signing import Credentials, sign_ws_api
from pipeline.errors import ProtocolError
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, OrderType, RejectReason, Side, TimeInForce

from .conftest import instrument, load

CREDS = Credentials("key", "secret")


def new(tif: TimeInForce = TimeInForce.POST_ONLY, otype: OrderType = OrderType.LIMIT,
        side: Side = Side.BUY, ticks: int = 10000, lots: int = 100) -> NewOrder:
    return NewOrder("my-custom-id", "gate", "GT/USDT", side, ticks, lots, otype, tif)


# -- client ids --------------------------------------------------------------------------------
def test_text_rules() -> None:
    assert o.to_text("abc_1.2-3") == "t-abc_1.2-3" and o.from_text("t-abc") == "abc"
    assert o.from_text("apiv4-ws") == "" and o.from_text("t-t-x") == "t-x"
    assert o.is_valid_client_id("x" * 28) and not o.is_valid_client_id("x" * 29)
    for bad in ("", "a b", "é", "a/b"):
        assert not o.is_valid_client_id(bad)
        with pytest.raises(ProtocolError):
            o.to_text(bad)


# -- WS API requests -----------------------------------------------------------------------------
def test_login_frame_has_doc_shape_and_vector_signature() -> None:
    f = orjson.loads(o.build_login(CREDS, "request-1", 1681984544))
    doc = orjson.loads(load("ws_api_login_request"))
    assert list(f) == list(doc) and list(f["payload"]) == list(doc["payload"])
    assert f["payload"]["signature"] == (
        "3e133322aeffb544225b263d43fc10fc8e6b9b14126a09e4c945363d60afc591c441f08c3eff1770c1331"
        "171386501f6843560f889840e87ba1f3d99a80daffa")
    assert f["payload"]["timestamp"] == "1681984544"


@pytest.mark.parametrize("tif,wire", [(TimeInForce.GTC, "gtc"), (TimeInForce.IOC, "ioc"),
                                      (TimeInForce.FOK, "fok"), (TimeInForce.POST_ONLY, "poc")])
def test_limit_order_place(gt: Instrument, tif: TimeInForce, wire: str) -> None:
    f = orjson.loads(o.build_order_place(new(tif), gt, "request-2", 1681986203))
    assert f == {"time": 1681986203, "channel": "spot.order_place", "event": "api",
                 "payload": {"req_id": "request-2", "req_param": {
                     "text": "t-my-custom-id", "currency_pair": "GT_USDT", "type": "limit",
                     "account": "spot", "side": "buy", "amount": "1", "price": "1",
                     "time_in_force": wire}}}


def test_order_place_matches_the_doc_example_apart_from_tif(gt: Instrument) -> None:
    f = orjson.loads(o.build_order_place(new(TimeInForce.GTC), gt, "request-2", 1681986203))
    doc = orjson.loads(load("ws_api_order_place_request"))
    del f["payload"]["req_param"]["time_in_force"]  # gtc is the default the doc left out
    assert f == doc


def test_market_orders(gt: Instrument) -> None:
    sell = orjson.loads(o.build_order_place(new(otype=OrderType.MARKET, side=Side.SELL), gt,
                                            "r", 1))["payload"]["req_param"]
    assert (sell["type"], sell["amount"], sell["time_in_force"]) == ("market", "1", "ioc")
    assert "price" not in sell
    buy = orjson.loads(o.build_order_place(new(TimeInForce.FOK, OrderType.MARKET, Side.BUY,
                                               ticks=12345, lots=333), gt, "r", 1))
    p = buy["payload"]["req_param"]
    assert (p["amount"], p["time_in_force"]) == ("4.1108", "fok")  # 3.33 x 1.2345, cut
    with pytest.raises(ProtocolError):
        o.build_order_place(new(otype=OrderType.MARKET, ticks=0), gt, "r", 1)


def test_bad_orders_are_refused(gt: Instrument) -> None:
    with pytest.raises(ProtocolError):
        o.build_order_place(new(lots=0), gt, "r", 1)
    with pytest.raises(ProtocolError):
        o.build_order_place(new(ticks=0), gt, "r", 1)


def test_exptime_header_and_sdk_style_signature(gt: Instrument) -> None:
    f = o.build_order_place(new(TimeInForce.GTC), gt, "r", 1681986203, exptime_ms=1700,
                            sign_with=CREDS)
    d = json.loads(f)
    assert d["payload"]["req_header"] == {"x-gate-exptime": "1700"}
    text = json.dumps(d["payload"]["req_param"])
    assert text in f  # the signed bytes are the bytes on the wire
    assert d["payload"]["signature"] == sign_ws_api("secret", "spot.order_place", text,
                                                    "1681986203")
    req = o.decode_ws_request(f)
    assert isinstance(req, o.PlaceRequest) and o.verify_api_signature(req, "secret")
    assert not o.verify_api_signature(req, "wrong")


def test_cancel_cp_status_frames(gt: Instrument) -> None:
    c = CancelOrder("my-custom-id", "gate", "GT/USDT", venue_order_id="1700664330")
    f = orjson.loads(o.build_order_cancel(c, gt, "request-5", 1681986206))
    assert f == orjson.loads(load("ws_api_order_cancel_request"))
    by_text = orjson.loads(o.build_order_cancel(CancelOrder("abc", "gate", "GT/USDT"), gt, "r",
                                                1))
    assert by_text["payload"]["req_param"]["order_id"] == "t-abc"
    cp = orjson.loads(o.build_order_cancel_cp("GT_USDT", "r", 1, side=Side.BUY))
    assert cp["channel"] == "spot.order_cancel_cp"
    assert cp["payload"]["req_param"] == {"currency_pair": "GT_USDT", "side": "buy"}
    st = orjson.loads(o.build_order_status("GT_USDT", "1700664330", "r", 1))
    assert st["payload"]["req_param"] == {"order_id": "1700664330", "currency_pair": "GT_USDT"}


def test_private_subscribe_carries_channel_auth() -> None:
    f = orjson.loads(o.build_private_subscribe("spot.orders", ["BTC_USDT", "GT_USDT"], CREDS,
                                               123456789, 1611541000))
    doc = orjson.loads(load("ws_subscribe_private_request"))
    assert list(f) == list(doc) and f["payload"] == doc["payload"]
    assert f["auth"]["SIGN"].startswith("833a44bb4cd0")
    bal = orjson.loads(o.build_private_subscribe("spot.balances", [], CREDS, 1, 1))
    assert "payload" not in bal
    with pytest.raises(ProtocolError):
        o.build_private_subscribe("spot.trades", [], CREDS, 1, 1)


# -- REST forms ----------------------------------------------------------------------------------
def test_rest_forms(gt: Instrument) -> None:
    r = o.rest_open_orders(CREDS, 1)
    assert (r.method, r.path_query) == ("GET", "/spot/open_orders")
    r = o.rest_open_orders(CREDS, 1, "GT_USDT", limit=100)
    assert r.path_query == "/spot/orders?currency_pair=GT_USDT&status=open&limit=100"
    r = o.rest_my_trades(CREDS, 1, "GT_USDT", limit=50)
    assert r.path_query == "/spot/my_trades?currency_pair=GT_USDT&limit=50"
    r = o.rest_cancel_all(CREDS, 1, "GT_USDT", Side.SELL)
    assert (r.method, r.path_query) == ("DELETE", "/spot/orders?currency_pair=GT_USDT&side=sell")
    assert o.rest_cancel_all(CREDS, 1).path_query == "/spot/orders"
    r = o.rest_countdown_cancel_all(CREDS, 1, 30, "BTC_USDT")
    assert (r.method, r.path, orjson.loads(r.body)) == (
        "POST", "/spot/countdown_cancel_all", orjson.loads(load("rest_countdown_request")))
    assert r.headers["KEY"] == "key" and len(r.headers["SIGN"]) == 128
    with pytest.raises(ProtocolError):
        o.rest_countdown_cancel_all(CREDS, 1, 3)
    r = o.rest_place_order(new(TimeInForce.GTC), gt, CREDS, 1)
    assert r.path == "/spot/orders" and orjson.loads(r.body)["text"] == "t-my-custom-id"
    r = o.rest_cancel_order(CancelOrder("x", "gate", "GT/USDT", "42"), gt, CREDS, 1)
    assert (r.method, r.path_query) == ("DELETE", "/spot/orders/42?currency_pair=GT_USDT")


def test_rest_parsers(btc: Instrument, instruments: dict[str, Instrument]) -> None:
    assert o.parse_rest_error(load("rest_error")) == (
        "INVALID_PARAM_VALUE", "Invalid parameter `text` with value: abc")
    assert o.parse_countdown(load("rest_countdown_response")) == 1660039145000 * 10**6
    assert o.parse_countdown({"trigger_time": 1660039145000}) == 1660039145000 * 10**6
    rep = o.parse_rest_order(load("rest_order_create_response"), btc, 5)
    assert (rep.client_id, rep.venue_order_id, rep.status, rep.exec_type) == (
        "abc123", "1852454420", OrderStatus.FILLED, ExecType.STATUS)
    assert (rep.price_ticks, rep.lots, rep.filled_lots, rep.fee_asset) == (
        650000, 100, 100, "BTC")
    assert rep.ts_event == 1710488334074 * 10**6


# -- WS API responses ----------------------------------------------------------------------------
def test_ack_then_result(gt: Instrument, instruments: dict[str, Instrument]) -> None:
    ack = o.parse_api_response(load("ws_api_order_place_ack"))
    assert ack.ack and ack.ok and ack.request_id == "request-2"
    assert ack.ratelimit_reset_ms == 1736408263764  # the doc's misspelt key
    assert o.api_result_reports(ack, instruments, 1) == []
    res = o.parse_api_response(load("ws_api_order_place_result"))
    assert not res.ack and res.ok and res.channel == "spot.order_place"
    assert (res.ratelimit_remain, res.ratelimit_limit, res.ratelimit_reset_ms) == (
        9, 10, 1681986204784)
    [rep] = o.api_result_reports(res, instruments, 7)
    assert rep == ExecReport(
        venue="gate", symbol="GT/USDT", client_id="my-custom-id", venue_order_id="1700664330",
        exec_type=ExecType.NEW, status=OrderStatus.NEW, side=Side.BUY, price_ticks=10000,
        lots=100, filled_lots=0, fee_asset="GT", ts_event=1681986204832 * 10**6, ts_recv=7)


def test_error_response_and_reject_report() -> None:
    err = o.parse_api_response(load("ws_api_error_429"))
    assert not err.ok and err.status == 429 and err.err_label == "TOO_MANY_REQUESTS"
    assert err.reason is RejectReason.RATE_LIMITED and err.ratelimit_remain is None
    order = new()
    rep = o.reject_report(order, err.err_label, err.err_message, 9)
    assert (rep.exec_type, rep.status, rep.reason, rep.client_id) == (
        ExecType.REJECTED, OrderStatus.REJECTED, RejectReason.RATE_LIMITED, "my-custom-id")
    crep = o.cancel_reject_report(CancelOrder("a", "gate", "GT/USDT"), "ORDER_NOT_FOUND", "",
                                  9)
    assert crep.exec_type is ExecType.CANCEL_REJECTED and crep.reason is RejectReason.UNKNOWN_ORDER


def test_login_response_parses() -> None:
    r = o.parse_api_response(load("ws_api_login_response"))
    assert r.ok and r.channel == "spot.login" and r.result["uid"] == "110284739"
    assert o.api_result_reports(r, {}, 1) == []


# -- private pushes ------------------------------------------------------------------------------
def test_orders_push_example(btc: Instrument, instruments: dict[str, Instrument]) -> None:
    [rep] = o.parse_private(load("ws_orders_push"), 3, instruments)
    assert rep == ExecReport(
        venue="gate", symbol="BTC/USDT", client_id="testtext", venue_order_id="399123456",
        exec_type=ExecType.NEW, status=OrderStatus.NEW, side=Side.SELL, price_ticks=262533,
        lots=10, filled_lots=0, fee_asset="USDT", ts_event=1694655225315 * 10**6, ts_recv=3)


def _push_with(**changes: object) -> str:
    d = orjson.loads(load("ws_orders_push"))
    d["result"][0].update(changes)
    return orjson.dumps(d).decode()


@pytest.mark.parametrize("changes,exec_type,status,reason", [
    ({"event": "update", "left": "0.00005"}, ExecType.STATUS, OrderStatus.PARTIALLY_FILLED,
     RejectReason.NONE),
    ({"event": "finish", "left": "0", "finish_as": "filled"}, ExecType.STATUS,
     OrderStatus.FILLED, RejectReason.NONE),
    ({"event": "finish", "finish_as": "cancelled"}, ExecType.CANCELED, OrderStatus.CANCELED,
     RejectReason.NONE),
    ({"event": "finish", "finish_as": "poc"}, ExecType.EXPIRED, OrderStatus.EXPIRED,
     RejectReason.POST_ONLY_WOULD_CROSS),
    ({"event": "finish", "finish_as": "ioc", "left": "0.00005"}, ExecType.EXPIRED,
     OrderStatus.EXPIRED, RejectReason.NONE),
    ({"event": "finish", "finish_as": "stp"}, ExecType.EXPIRED, OrderStatus.EXPIRED,
     RejectReason.SELF_TRADE),
])
def test_orders_push_lifecycle(instruments: dict[str, Instrument], changes: dict,
                               exec_type: ExecType, status: OrderStatus,
                               reason: RejectReason) -> None:
    [rep] = o.parse_private(_push_with(**changes), 3, instruments)
    assert (rep.exec_type, rep.status, rep.reason) == (exec_type, status, reason)
    if "left" in changes:
        assert rep.filled_lots == 10 - int(Decimal(str(changes["left"])) / Decimal("0.00001"))


def test_push_for_unknown_pair_is_skipped(btc: Instrument) -> None:
    assert o.parse_private(load("ws_orders_push"), 3, {}) == []


def test_off_tick_price_is_a_protocol_error(instruments: dict[str, Instrument]) -> None:
    with pytest.raises(ProtocolError):
        o.parse_private(_push_with(price="26253.35"), 3, instruments)


def test_usertrades_example(instruments: dict[str, Instrument]) -> None:
    btc = instrument("BTC_USDT", "0.01", "0.00000001")
    [rep] = o.parse_private(load("ws_usertrades_push"), 4, {"BTC_USDT": btc})
    assert rep == ExecReport(
        venue="gate", symbol="BTC/USDT", client_id="", venue_order_id="30784428",
        exec_type=ExecType.TRADE, status=OrderStatus.PARTIALLY_FILLED, side=Side.SELL,
        last_lots=100000000, last_price_ticks=1000000, fee=Decimal("0.002"),
        fee_asset="USDT", trade_id="5736713", is_maker=False,
        ts_event=1605176741123456000, ts_recv=4)


def test_usertrade_gt_fee_and_maker(instruments: dict[str, Instrument]) -> None:
    d = orjson.loads(load("ws_usertrades_push"))
    d["result"][0].update(fee="0", gt_fee="0.01", role="maker", side="buy", amount="1",
                          price="10000", text="t-abc")
    [rep] = o.parse_private(orjson.dumps(d), 4, instruments)
    assert (rep.fee, rep.fee_asset, rep.is_maker, rep.client_id) == (
        Decimal("0.01"), "GT", True, "abc")


def test_private_connection_controls_and_balances(instruments: dict[str, Instrument]) -> None:
    [ack] = o.parse_private(load("ws_subscribe_ack"), 1, instruments)
    assert ack.kind == "ack"
    bal = '{"time":1,"time_ms":1,"channel":"spot.balances","event":"update","result":[]}'
    assert o.parse_private(bal, 1, instruments)[0].kind == "notice"


def test_open_orders_and_my_trades(instruments: dict[str, Instrument]) -> None:
    order = orjson.loads(load("ws_orders_push"))["result"][0]
    reps = o.parse_open_orders([{"currency_pair": "BTC_USDT", "total": 1, "orders": [order]}],
                               instruments, 1)
    assert [r.venue_order_id for r in reps] == ["399123456"]
    assert o.parse_open_orders([order], instruments, 1)[0].status is OrderStatus.NEW
    trade = orjson.loads(load("ws_usertrades_push"))["result"][0]
    trade.update(amount="1", price="10000")
    assert o.parse_my_trades([trade], instruments, 1)[0].last_lots == 100000


# -- server side ---------------------------------------------------------------------------------
NOW = 1681986204784_000_000


def test_decode_doc_requests() -> None:
    login = o.decode_ws_request(load("ws_api_login_request"))
    assert isinstance(login, o.LoginRequest) and login.req_id == "request-1"
    place = o.decode_ws_request(load("ws_api_order_place_request"))
    assert isinstance(place, o.PlaceRequest)
    [p] = place.orders
    assert (p.text, p.currency_pair, p.type, p.side, p.amount, p.price, p.time_in_force) == (
        "t-my-custom-id", "GT_USDT", "limit", Side.BUY, Decimal(1), Decimal(1), "gtc")
    cancel = o.decode_ws_request(load("ws_api_order_cancel_request"))
    assert isinstance(cancel, o.CancelRequest)
    assert (cancel.order_id, cancel.currency_pair) == ("1700664330", "GT_USDT")
    ids = o.decode_ws_request('{"time":1,"channel":"spot.order_cancel_ids","event":"api",'
                              '"payload":{"req_id":"r","req_param":[{"currency_pair":"GT_USDT",'
                              '"id":"1700664343"}]}}')
    assert isinstance(ids, o.CancelIdsRequest) and ids.items == (("GT_USDT", "1700664343"),)
    amend = o.decode_ws_request('{"time":1,"channel":"spot.order_amend","event":"api",'
                                '"payload":{"req_id":"r","req_param":{}}}')
    assert type(amend) is o.ApiRequest


def test_login_signature_verification() -> None:
    req = o.decode_ws_request(o.build_login(CREDS, "r", 1681984544))
    assert isinstance(req, o.LoginRequest)
    assert o.verify_api_signature(req, "secret") and not o.verify_api_signature(req, "x")
    doc = o.decode_ws_request(load("ws_api_login_request"))
    assert not o.verify_api_signature(doc, "secret")


def test_client_frames_decode_on_the_server(gt: Instrument) -> None:
    for tif in TimeInForce:
        req = o.decode_ws_request(o.build_order_place(new(tif), gt, "r", 1))
        assert isinstance(req, o.PlaceRequest)
        assert req.orders[0].amount == Decimal(1) and req.orders[0].price == Decimal(1)
    mk = o.decode_ws_request(o.build_order_place(new(otype=OrderType.MARKET, side=Side.SELL),
                                                 gt, "r", 1))
    assert isinstance(mk, o.PlaceRequest) and mk.orders[0].price is None
    cp = o.decode_ws_request(o.build_order_cancel_cp("GT_USDT", "r", 1))
    assert isinstance(cp, o.CancelPairRequest) and cp.side is None
    st = o.decode_ws_request(o.build_order_status("GT_USDT", "5", "r", 1))
    assert isinstance(st, o.StatusRequest) and st.order_id == "5"


def test_server_rejects_bad_enums() -> None:
    for param in (('{"currency_pair":"A_B","side":"buy","amount":"1","type":"market",'
                  '"time_in_force":"gtc"}'),
                  '{"currency_pair":"A_B","side":"hold","amount":"1","price":"1"}',
                  '{"currency_pair":"A_B","side":"buy","amount":"1"}'):
        with pytest.raises(ProtocolError):
            o.decode_ws_request('{"time":1,"channel":"spot.order_place","event":"api",'
                                f'"payload":{{"req_id":"r","req_param":{param}}}}}')


def _shape(x: object) -> object:
    """Keys (in order) and JSON types, recursively, for exact-shape comparisons."""
    if isinstance(x, dict):
        return [(k, _shape(v)) for k, v in x.items()]
    return type(x).__name__


def _venue_order() -> o.VenueOrder:
    return o.VenueOrder(id="1700664330", text="t-my-custom-id", currency_pair="GT_USDT",
                        side=Side.BUY, amount=Decimal(1), price=Decimal(1),
                        create_ns=1681986204832_000_000, update_ns=1681986204832_000_000,
                        fee_currency="GT", rebated_fee_currency="USDT", stp_id=1, stp_act="cn",
                        gt_maker_fee=Decimal("0.0015"), gt_taker_fee=Decimal("0.0015"),
                        gt_discount=True)


def test_encode_ack_result_error_login_have_doc_shapes(instruments: dict) -> None:
    info = o.HeaderInfo("::1-0x140001623c0", "5e74253e9c793974",
                        "1bde5aaa0acf2f5f48edfd4392e1fa68", "e410abb5f74b4afc519e67920548838d")
    rate = o.RateLimitInfo(limit=10, reset_ms=1681986204784, remain=9)
    req = o.decode_ws_request(load("ws_api_order_place_request"))
    ack = orjson.loads(o.encode_api_ack(req, NOW, info=info, rate=rate))
    doc_ack = orjson.loads(load("ws_api_order_place_ack"))
    doc_ack["header"]["x_gate_ratelimit_reset_timestamp"] = doc_ack["header"].pop(
        "x_gat_ratelimit_reset_timestamp")  # we send the correct spelling
    assert _shape(ack) == _shape(doc_ack) and ack["data"] == doc_ack["data"]
    res_text = o.encode_api_result("request-2", "spot.order_place",
                                   o.encode_order_ws(_venue_order()), NOW, info=info, rate=rate)
    res, doc_res = orjson.loads(res_text), orjson.loads(load("ws_api_order_place_result"))
    assert _shape(res) == _shape(doc_res)
    assert res["data"] == doc_res["data"] and res["header"]["status"] == "200"
    [rep] = o.api_result_reports(o.parse_api_response(res_text), instruments, 1)
    assert rep.exec_type is ExecType.NEW and rep.venue_order_id == "1700664330"
    err = orjson.loads(o.encode_api_error("xxxx", "spot.order_place", "TOO_MANY_REQUESTS",
                                          "Request Rate limit Exceeded (211)", NOW, info=info,
                                          rate=o.RateLimitInfo(10, 1677816785084)))
    doc_err = orjson.loads(load("ws_api_error_429"))
    assert _shape(err) == _shape(doc_err) and err["data"] == doc_err["data"]
    assert err["header"]["status"] == "429"
    login = orjson.loads(o.encode_login_result("request-1", "ea83fad2604399da16bf97e6eea772a6",
                                               "110284739", NOW, info=info))
    doc_login = orjson.loads(load("ws_api_login_response"))
    assert _shape(login) == _shape(doc_login) and login["data"] == doc_login["data"]


def test_encode_rest_order_has_doc_shape_and_round_trips(btc: Instrument) -> None:
    v = o.VenueOrder(id="1852454420", text="t-abc123", currency_pair="BTC_USDT", side=Side.BUY,
                     amount=Decimal("0.001"), price=Decimal(65000), account="unified",
                     create_ns=1710488334073_000_000, update_ns=1710488334074_000_000,
                     left=Decimal(0), filled_amount=Decimal("0.001"),
                     filled_total=Decimal("63.4693"), fee=Decimal("0.00000022"),
                     fee_currency="BTC", rebated_fee_currency="USDT", status="closed",
                     finish_as="filled")
    enc = o.encode_order_rest(v)
    doc = orjson.loads(load("rest_order_create_response"))
    assert _shape(enc) == _shape(doc) and enc == doc
    assert o.parse_rest_order(orjson.dumps(enc), btc, 1) == o.parse_rest_order(doc, btc, 1)


def test_encode_pushes_have_doc_shapes_and_round_trip(instruments: dict) -> None:
    v = o.VenueOrder(id="399123456", text="t-testtext", currency_pair="BTC_USDT",
                     side=Side.SELL, amount=Decimal("0.0001"), price=Decimal("26253.3"),
                     create_ns=1694655225315_000_000, update_ns=1694655225315_000_000,
                     fee_currency="USDT", rebated_fee_currency="USDT", user=3497082)
    push = o.encode_orders_push([(v, "put")], 1694655225315_000_000)
    doc = load("ws_orders_push")
    assert _shape(orjson.loads(push)["result"][0]) == _shape(orjson.loads(doc)["result"][0])
    assert orjson.loads(push) == orjson.loads(doc)
    assert o.parse_private(push, 1, instruments) == o.parse_private(doc, 1, instruments)
    f = o.VenueFill(id=5736713, order_id="30784428", currency_pair="BTC_USDT", side=Side.SELL,
                    amount=Decimal(1), price=Decimal(10000), role="taker",
                    fee=Decimal("0.002"), fee_currency="USDT", ts_ns=1605176741123456000,
                    text="apiv4", user_id=1000001)
    tp = orjson.loads(o.encode_usertrades_push([f], 1605176741763_000_000))
    doc_t = orjson.loads(load("ws_usertrades_push"))
    want = [k for k in doc_t["result"][0]]
    got = [k for k in tp["result"][0] if k != "fee_currency"]  # documented in the field table
    assert got == want
    assert {k: type(x) for k, x in tp["result"][0].items() if k != "fee_currency"} == {
        k: type(x) for k, x in doc_t["result"][0].items()}
    assert [k for k in tp if k != "result"] == [k for k in doc_t if k != "result"]
    [rep] = o.parse_private(orjson.dumps(tp), 1, instruments)
    assert (rep.last_lots, rep.last_price_ticks, rep.fee, rep.trade_id) == (
        100000, 100000, Decimal("0.002"), "5736713")
    assert o.parse_my_trades(o.encode_my_trades([f]), instruments, 1)[0].trade_id == "5736713"


def test_rest_side_encoders() -> None:
    assert o.encode_countdown(1660039145000_000_000) == orjson.loads(
        load("rest_countdown_response"))
    grouped = o.encode_open_orders([_venue_order(), _venue_order()])
    assert [(g["currency_pair"], g["total"]) for g in grouped] == [("GT_USDT", 2)]
    assert o.encode_cancel_ids_result([("GT_USDT", "1700664343", True)]) == [
        {"currency_pair": "GT_USDT", "id": "1700664343", "succeeded": True}]
