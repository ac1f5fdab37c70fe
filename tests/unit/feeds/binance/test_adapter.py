"""The binance adapters as glue: plans and requests they build (checked with the codec's own
server side), and what they make of venue frames (Ack / Failure / RateInfo / ExecReport,
one NEW per order, in-band local refusals)."""
from __future__ import annotations

from urllib.parse import urlencode

import orjson

from feeds.adapter import Ack, Failure, RateInfo
from feeds.binance import adapter as A
from feeds.binance.protocol import constants as C
from feeds.binance.protocol import orders as O
from feeds.binance.protocol.signing import verify_rest
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import OrderType, RejectReason, Side, TimeInForce
from pipeline.ratelimit import WINDOW_JITTER_S

from .conftest import BTCUSDT

KEY, SECRET = "testKey123", "testSecret456"
LIMITS = [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50,
           "count": 12},
          {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
           "limit": 6000, "count": 321}]


def gw() -> A.BinanceGatewayAdapter:
    a = A.make_gateway_adapter(None, KEY, SECRET)
    a.instruments[BTCUSDT.venue_symbol] = BTCUSDT
    return a


def new_order(cid: str = "mm-1") -> NewOrder:
    return NewOrder(cid, "binance", "BTC/USDT", Side.BUY, 6_400_000, 100, OrderType.LIMIT,
                    TimeInForce.GTC)


def result(rid: str, cid: str = "mm-1", status: str = "NEW") -> bytes:
    return orjson.dumps({"id": rid, "status": 200, "rateLimits": LIMITS, "result": {
        "symbol": "BTCUSDT", "orderId": 77, "orderListId": -1, "clientOrderId": cid,
        "transactTime": 1700000000000, "price": "64000.00000000", "origQty": "0.00100000",
        "executedQty": "0.00000000", "origQuoteOrderQty": "0.000000",
        "cummulativeQuoteQty": "0.00000000", "status": status, "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "workingTime": 1700000000000,
        "selfTradePreventionMode": "NONE"}})


def er_new(cid: str = "mm-1") -> bytes:
    o = O.VenueOrder("BTCUSDT", 77, cid, Side.BUY, "LIMIT", "GTC", O.Decimal("64000"),
                     O.Decimal("0.001"))
    return O.encode_user_event(0, O.encode_execution_report(o, "NEW", 10**18, 10**18,
                                                            execution_id=1)).encode()


def test_feed_plan_is_combined_streams_with_keepalive_and_rollover() -> None:
    f = A.make_feed_adapter(None)
    [plan] = f.ws_plans("ws://h:1", ["BTCUSDT"])
    assert plan.url == ("ws://h:1/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/"
                        "btcusdt@trade")
    assert plan.on_open == () and plan.protocol_ping_interval_s is None
    assert orjson.loads(plan.app_ping or "") == {"method": "LIST_SUBSCRIPTIONS",
                                                 "id": "keepalive"}
    assert plan.idle_timeout_s == C.PONG_TIMEOUT_S
    assert plan.max_lifetime_s is not None and plan.max_lifetime_s < C.CONNECTION_LIFETIME_S
    many = [f"S{i}USDT" for i in range(400)]           # 1200 streams -> two connections
    plans = f.ws_plans("ws://h:1", many)
    assert len(plans) == 2
    assert sum(len(p.url.split("streams=")[1].split("/")) for p in plans) == 1200
    req = f.snapshot_request("BTCUSDT")
    assert (req.method, req.path, req.params) == ("GET", "/api/v3/depth",
                                                  {"symbol": "BTCUSDT", "limit": "1000"})


def test_feed_parses_keepalive_answer_as_control() -> None:
    f = A.make_feed_adapter(None)
    [rec] = f.parse(b'{"result":["btcusdt@trade"],"id":"keepalive"}', 0)
    assert isinstance(rec, Control) and rec.kind == "ack" and f.control_reply(rec) is None


def test_order_budget_stays_under_the_10s_order_limit() -> None:
    a = gw()
    assert a.order_burst + (10 + WINDOW_JITTER_S) * a.order_rate_per_s <= C.ORDERS_PER_10S + 1e-9
    assert a.order_burst + 10 * a.order_rate_per_s > C.ORDERS_PER_10S * 0.98  # not wasteful
    assert a.deadman_request(0, 10) is None


def test_session_frame_is_a_signed_user_data_subscribe_and_its_ack_means_ready() -> None:
    a = gw()
    [frame] = a.session_frames(1_700_000_000_000)
    req = O.decode_ws_request(frame)
    assert req.req.method == C.WS_USER_DATA_SUBSCRIBE_SIGNATURE and req.req.verify(SECRET)
    rid = req.req.id
    recs = a.parse(orjson.dumps({"id": rid, "status": 200, "result": {"subscriptionId": 0}}), 1)
    assert [a.session_ready(r) for r in recs] == [True]
    refused = a.parse(orjson.dumps({"id": rid, "status": 400, "error": {
        "code": -1022, "msg": "Signature for this request is not valid."}}), 1)
    assert not any(a.session_ready(r) for r in refused)
    assert refused[0].kind == "error" and refused[0].detail["reason"] is RejectReason.AUTH


def test_place_response_then_stream_new_reports_new_once() -> None:
    a = gw()
    frame = a.encode_place(new_order(), BTCUSDT, "1", 1_700_000_000_000)
    assert O.decode_ws_request(frame).req.verify(SECRET)
    recs = a.parse(result("1"), 5)
    assert [type(r) for r in recs] == [RateInfo, RateInfo, Ack]
    assert recs[0] == RateInfo("orders", 12, 50, 10.0)
    assert recs[1] == RateInfo("weight", 321, 6000, 60.0)
    assert recs[2] == Ack("1", "77", 1_700_000_000_000 * 1_000_000)
    assert a.parse(er_new(), 6) == []


def test_stream_new_before_the_response_reports_new_once() -> None:
    a = gw()
    a.encode_place(new_order(), BTCUSDT, "1", 0)
    [r] = a.parse(er_new(), 5)
    assert isinstance(r, ExecReport) and r.exec_type is ExecType.NEW
    assert [type(x) for x in a.parse(result("1"), 6)] == [RateInfo, RateInfo]


def test_venue_errors_become_classified_failures() -> None:
    a = gw()
    a.encode_place(new_order(), BTCUSDT, "3", 0)
    recs = a.parse(orjson.dumps({"id": "3", "status": 429, "error": {
        "code": -1003, "msg": "Too much request weight used"}}), 1)
    assert recs == [Failure("3", RejectReason.RATE_LIMITED, "-1003",
                            "Too much request weight used")]
    a.encode_cancel(CancelOrder("mm-x", "binance", "BTC/USDT"), BTCUSDT, "4", 0)
    [f] = a.parse(orjson.dumps({"id": "4", "status": 400, "error": {
        "code": -2011, "msg": "Unknown order sent."}}), 1)
    assert (f.reason, f.code) == (RejectReason.UNKNOWN_ORDER, "-2011")


def test_an_order_the_codec_refuses_is_answered_in_band_not_raised() -> None:
    a = gw()
    frame = a.encode_place(new_order("bad id with spaces"), BTCUSDT, "9", 0)
    assert orjson.loads(frame) == {"id": "9", "method": "ping"}   # nothing unsigned goes out
    [f] = a.parse(b'{"id":"9","status":200,"result":{}}', 1)
    assert isinstance(f, Failure) and (f.req_id, f.reason, f.code) == ("9", RejectReason.OTHER,
                                                                       "local")


def test_status_answer_acks_the_query_and_reports_status() -> None:
    a = gw()
    a.encode_status("mm-1", BTCUSDT, "5", 0)
    recs = a.parse(result("5"), 2)
    assert isinstance(recs[-2], Ack) and recs[-2].req_id == "5"
    assert isinstance(recs[-1], ExecReport) and recs[-1].exec_type is ExecType.STATUS


def test_rest_requests_are_signed_as_sent() -> None:
    a = gw()
    req = a.open_orders_request(1_700_000_000_000)
    assert (req.method, req.path, req.headers) == ("GET", "/api/v3/openOrders",
                                                  {"X-MBX-APIKEY": KEY})
    assert verify_rest(SECRET, urlencode(list(req.params.items())))
    cx = a.cancel_all_request(BTCUSDT, 1_700_000_000_000)
    assert cx is not None and (cx.method, cx.params["symbol"]) == ("DELETE", "BTCUSDT")
    assert verify_rest(SECRET, urlencode(list(cx.params.items())))
