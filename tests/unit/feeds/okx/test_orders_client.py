"""Order entry, client side: WS/REST request builders, op responses and orders pushes."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from feeds.okx.protocol import orders, signing
from feeds.okx.protocol.order_server import VenueOrder, encode_orders_push
from pipeline.errors import ProtocolError, VenueError
from pipeline.messages import CancelOrder, ExecType, NewOrder
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce

from ._helpers import btc_usdt, load

CREDS = signing.Credentials("key1", "22582BD0CFF14C41EDBF1AB98506286D", "pass1")
INST = btc_usdt()
INSTS = {"BTC-USDT": INST}
MS = 1_000_000


def new(tif: TimeInForce = TimeInForce.POST_ONLY, typ: OrderType = OrderType.LIMIT,
        cid: str = "c1") -> NewOrder:
    return NewOrder(cid, "okx", "BTC/USDT", Side.BUY, 315271, 100000, typ, tif)


@pytest.mark.parametrize("tif,ord_type", [(TimeInForce.GTC, "limit"), (TimeInForce.IOC, "ioc"),
                                          (TimeInForce.FOK, "fok"),
                                          (TimeInForce.POST_ONLY, "post_only")])
def test_ws_place_uses_inst_id_code_and_exact_strings(tif: TimeInForce, ord_type: str) -> None:
    d = json.loads(orders.build_order(new(tif), INST, "r1"))
    assert d == {"id": "r1", "op": "order", "args": [{
        "instIdCode": 1000000000, "tdMode": "cash", "clOrdId": "c1", "side": "buy",
        "ordType": ord_type, "px": "31527.1", "sz": "0.001"}]}


def test_market_order_is_sized_in_base_and_has_no_price() -> None:
    d = json.loads(orders.build_order(new(typ=OrderType.MARKET), INST, "r1",
                                      exp_time_ms=1700000000000))
    a = d["args"][0]
    assert a["ordType"] == "market" and "px" not in a and a["tgtCcy"] == "base_ccy"
    assert d["expTime"] == "1700000000000"


def test_ws_ops_need_an_inst_id_code() -> None:
    with pytest.raises(ProtocolError):
        orders.build_order(new(), btc_usdt(code=None), "r1")
    # REST still keys by instId and does not need it
    assert orders.order_args(new(), btc_usdt(code=None), ws=False)["instId"] == "BTC-USDT"


@pytest.mark.parametrize("cid", ["", "a" * 33, "has-dash", "sp ace", "ünï", "x\n"])
def test_invalid_client_ids_are_refused(cid: str) -> None:
    assert not orders.is_valid_client_id(cid)
    with pytest.raises(ProtocolError):
        orders.build_order(new(cid=cid), INST, "r1")


def test_valid_client_id_up_to_32() -> None:
    assert orders.is_valid_client_id("A1" * 16)


def test_non_positive_size_or_price_is_refused() -> None:
    with pytest.raises(ProtocolError):
        orders.order_args(replace(new(), lots=0), INST)
    with pytest.raises(ProtocolError):
        orders.order_args(replace(new(), price_ticks=0), INST)


def test_cancel_prefers_ord_id_then_cl_ord_id() -> None:
    d = json.loads(orders.build_cancel(CancelOrder("c1", "okx", "BTC/USDT", "2510789768709120"),
                                       INST, "1514"))
    assert d == {"id": "1514", "op": "cancel-order",
                 "args": [{"instIdCode": 1000000000, "ordId": "2510789768709120"}]}
    d2 = json.loads(orders.build_cancel(CancelOrder("c1", "okx", "BTC/USDT"), INST, "2"))
    assert d2["args"] == [{"instIdCode": 1000000000, "clOrdId": "c1"}]


def test_cancel_request_has_the_doc_shape() -> None:
    inst = replace(INST, venue_code=123456)
    got = json.loads(orders.build_cancel(
        CancelOrder("c", "okx", "BTC/USDT", "2510789768709120"), inst, "1514"))
    assert got == load("ws_cancel_request")


def test_batches_are_1_to_20() -> None:
    items = [(new(cid=f"c{i}"), INST) for i in range(20)]
    d = json.loads(orders.build_batch_orders(items, "b1"))
    assert d["op"] == "batch-orders" and [a["clOrdId"] for a in d["args"]][-1] == "c19"
    with pytest.raises(ProtocolError):
        orders.build_batch_orders([*items, (new(cid="c20"), INST)], "b1")
    with pytest.raises(ProtocolError):
        orders.build_batch_cancel([], "b1")
    cx = json.loads(orders.build_batch_cancel(
        [(CancelOrder(f"c{i}", "okx", "BTC/USDT"), INST) for i in range(3)], "b2"))
    assert cx["op"] == "batch-cancel-orders" and len(cx["args"]) == 3


def test_login_frame_signs_with_unix_seconds() -> None:
    d = json.loads(orders.build_login(CREDS, 1538054050))
    assert d == {"op": "login", "args": [{
        "apiKey": "key1", "passphrase": "pass1", "timestamp": "1538054050",
        "sign": "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="}]}


def test_orders_subscribe_matches_the_doc() -> None:
    assert json.loads(orders.build_orders_subscribe("1512")) == load("ws_orders_subscribe")
    assert json.loads(orders.build_orders_unsubscribe(inst_id="BTC-USDT"))["args"] == [
        {"channel": "orders", "instType": "SPOT", "instId": "BTC-USDT"}]


def test_rest_requests_are_signed_over_the_exact_path_and_body() -> None:
    ts_ms = 1607418537715
    req = orders.rest_orders_pending(CREDS, ts_ms, "BTC-USDT", after="123", limit=500)
    assert req.method == "GET"
    assert req.request_path == ("/api/v5/trade/orders-pending?instType=SPOT&instId=BTC-USDT"
                                "&after=123&limit=100")
    assert req.headers["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert signing.verify_rest(CREDS.secret, "2020-12-08T09:08:57.715Z", "GET",
                               req.request_path, "", req.headers["OK-ACCESS-SIGN"])
    post = orders.rest_place_order(new(), INST, CREDS, ts_ms)
    assert post.path == "/api/v5/trade/order" and json.loads(post.body)["instId"] == "BTC-USDT"
    assert signing.verify_rest(CREDS.secret, "2020-12-08T09:08:57.715Z", "POST", post.path,
                               post.body, post.headers["OK-ACCESS-SIGN"])
    assert "pass1" not in repr(post) and "key1" not in repr(post)
    fills = orders.rest_fills(CREDS, ts_ms)
    assert fills.request_path == "/api/v5/trade/fills?instType=SPOT&limit=100"
    cx = orders.rest_cancel_order(CancelOrder("c1", "okx", "BTC/USDT", "9"), INST, CREDS, ts_ms)
    assert json.loads(cx.body) == {"instId": "BTC-USDT", "ordId": "9"}


def test_cancel_all_after_bounds() -> None:
    assert json.loads(orders.rest_cancel_all_after(CREDS, 0, 0).body) == {"timeOut": "0"}
    assert json.loads(orders.rest_cancel_all_after(CREDS, 0, 10, tag="mm1").body) == {
        "timeOut": "10", "tag": "mm1"}
    for bad in (5, 121):
        with pytest.raises(ProtocolError):
            orders.rest_cancel_all_after(CREDS, 0, bad)


def test_cancel_all_after_response() -> None:
    r = orders.parse_cancel_all_after({"code": "0", "msg": "", "data": [
        {"triggerTime": "1587971460", "tag": "", "ts": "1587971400"}]})
    assert r.trigger_time_ns == 1587971460 * MS and r.ts_event == 1587971400 * MS
    with pytest.raises(VenueError):
        orders.parse_cancel_all_after({"code": "51071", "msg": "x", "data": []})


# -- responses ---------------------------------------------------------------------------------
def test_partial_batch_response_items_are_checked_one_by_one() -> None:
    frame = json.dumps({"id": "9", "op": "batch-orders", "code": "2", "msg": "", "data": [
        {"clOrdId": "a", "ordId": "1", "tag": "", "ts": "1", "sCode": "0", "sMsg": ""},
        {"clOrdId": "b", "ordId": "", "tag": "", "ts": "1", "sCode": "51121", "sMsg": "lot"}],
        "inTime": "", "outTime": ""})
    [r] = orders.parse_private(frame, 0, INSTS)
    assert not r.ok and r.reason is RejectReason.NONE
    assert [i.ok for i in r.items] == [True, False]
    assert r.items[1].reason is RejectReason.BAD_SIZE


def test_rate_limited_request_level_code() -> None:
    [r] = orders.parse_private('{"id":"1","op":"order","code":"50011","msg":"Rate limit",'
                               '"data":[]}', 0, INSTS)
    assert r.reason is RejectReason.RATE_LIMITED


def test_reject_reports() -> None:
    rep = orders.reject_report(new(), "51008", "Insufficient", 5, ts_sent=4)
    assert rep.exec_type is ExecType.REJECTED and rep.status is OrderStatus.REJECTED
    assert rep.reason is RejectReason.INSUFFICIENT_BALANCE and rep.ts_sent == 4
    cx = orders.cancel_reject_report(CancelOrder("c1", "okx", "BTC/USDT"), Side.SELL, "51400",
                                     "gone", 5)
    assert cx.exec_type is ExecType.CANCEL_REJECTED and cx.reason is RejectReason.UNKNOWN_ORDER


# -- orders pushes -------------------------------------------------------------------------------
def vo(**kw: object) -> VenueOrder:
    o = VenueOrder(inst_id="BTC-USDT", ord_id="77", side=Side.BUY, ord_type="post_only",
                   sz=Decimal("0.002"), px=Decimal("30000.5"), state="live",
                   c_time_ns=1000 * MS, u_time_ns=1001 * MS, cl_ord_id="c1", fee_ccy="BTC",
                   rebate_ccy="USDT")
    return replace(o, **kw)


def push(*os: VenueOrder) -> list:
    return orders.parse_private(encode_orders_push(list(os), "614488474791936"), 9, INSTS)


def test_live_push_is_new() -> None:
    [r] = push(vo())
    assert (r.exec_type, r.status) == (ExecType.NEW, OrderStatus.NEW)
    assert r.price_ticks == 300005 and r.lots == 200000 and r.client_id == "c1"
    assert r.ts_event == 1001 * MS


def test_partial_fill_with_rebate_is_a_negative_fee() -> None:
    [r] = push(vo(state="partially_filled", acc_fill_sz=Decimal("0.001"), trade_id="5",
                  fill_px=Decimal("30000.5"), fill_sz=Decimal("0.001"), fill_time_ns=1002 * MS,
                  fill_fee_paid=Decimal("-0.0001"), fill_fee_ccy="USDT", exec_type="M"))
    assert r.exec_type is ExecType.TRADE and r.status is OrderStatus.PARTIALLY_FILLED
    assert r.last_lots == 100000 and r.filled_lots == 100000 and r.last_price_ticks == 300005
    assert r.fee == Decimal("-0.0001") and r.is_maker and r.ts_event == 1002 * MS


def test_post_only_cancel_source_31_is_expired_post_only() -> None:
    [r] = push(vo(state="canceled", cancel_source="31"))
    assert r.exec_type is ExecType.EXPIRED and r.status is OrderStatus.EXPIRED
    assert r.reason is RejectReason.POST_ONLY_WOULD_CROSS


@pytest.mark.parametrize("src,exec_type,reason", [
    ("1", ExecType.CANCELED, RejectReason.NONE), ("", ExecType.CANCELED, RejectReason.NONE),
    ("14", ExecType.EXPIRED, RejectReason.NONE), ("20", ExecType.EXPIRED, RejectReason.NONE),
    ("32", ExecType.EXPIRED, RejectReason.SELF_TRADE)])
def test_cancel_sources(src: str, exec_type: ExecType, reason: RejectReason) -> None:
    [r] = push(vo(state="canceled", cancel_source=src))
    assert r.exec_type is exec_type and r.reason is reason and r.status.is_terminal


def test_ioc_fill_and_cancel_in_one_push_gives_two_reports() -> None:
    reports = push(vo(ord_type="ioc", state="canceled", cancel_source="14",
                      acc_fill_sz=Decimal("0.001"), trade_id="6", fill_px=Decimal(30000),
                      fill_sz=Decimal("0.001"), exec_type="T", fill_fee_paid=Decimal("0.03"),
                      fill_fee_ccy="BTC"))
    assert [r.exec_type for r in reports] == [ExecType.TRADE, ExecType.EXPIRED]
    assert reports[0].fee == Decimal("0.03") and not reports[0].is_maker


def test_market_filled_without_trade_id_is_a_status() -> None:
    [r] = push(vo(ord_type="market", px=None, state="filled", acc_fill_sz=Decimal("0.002"),
                  tgt_ccy="quote_ccy"))
    assert r.exec_type is ExecType.STATUS and r.status is OrderStatus.FILLED
    assert r.lots == 0 and r.price_ticks == 0 and r.filled_lots == 200000


def test_unknown_instruments_are_skipped() -> None:
    assert orders.parse_private(encode_orders_push([vo(inst_id="ETH-USDT")], "1"), 0,
                                INSTS) == []


def test_off_grid_prices_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        push(vo(px=Decimal("30000.55")))


def test_dedup_follows_the_doc_rules() -> None:
    dd = orders.PushDedup(capacity=10)
    fill = vo(state="filled", acc_fill_sz=Decimal("0.002"), trade_id="8",
              fill_px=Decimal("30000.5"), fill_sz=Decimal("0.002"), exec_type="M")
    [a] = push(fill)
    [b] = push(replace(fill, u_time_ns=1005 * MS))          # repeated with another uTime
    [c] = push(replace(fill, trade_id="", fill_sz=Decimal(0)))  # terminal repeat, no trade
    [live] = push(vo())
    assert dd.accept(a) and not dd.accept(b) and not dd.accept(c)
    assert dd.accept(live) and dd.accept(live)


def test_fills_rest_parse() -> None:
    from feeds.okx.protocol.order_server import VenueFill, encode_fills
    body = encode_fills([VenueFill("BTC-USDT", "11", "77", "b1", Side.SELL, Decimal(30000),
                                   Decimal("0.5"), "T", Decimal(15), "USDT", 5 * MS, "c1")])
    [r] = orders.parse_fills(body, INSTS, 1)
    assert r.exec_type is ExecType.TRADE and r.trade_id == "11" and r.fee == Decimal(15)
    assert r.last_lots == 50000000 and r.last_price_ticks == 300000 and r.side is Side.SELL
    with pytest.raises(VenueError):
        orders.parse_fills({"code": "50011", "msg": "", "data": []}, INSTS, 1)
