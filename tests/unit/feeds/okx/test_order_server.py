"""Order entry, server side: request decoding, login checks, and reply/push shapes exactly
as documented, each parsed back by the client code."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from feeds.okx.protocol import errors, orders, signing
from feeds.okx.protocol import order_server as srv
from feeds.okx.protocol.ops import OpItem
from pipeline.messages import ExecType, NewOrder
from pipeline.model import OrderStatus, OrderType, Side, TimeInForce

from ._helpers import btc_usdt, load

MS = 1_000_000
IN_NS, OUT_NS = 1695190491421339 * 1000, 1695190491423240 * 1000
CREDS = signing.Credentials("sim-key", "SIMSECRET", "Pass#1")


def order(**kw: object) -> srv.VenueOrder:
    base = srv.VenueOrder(inst_id="BTC-USDT", ord_id="452197707845865472", side=Side.SELL,
                          ord_type="limit", sz=Decimal("0.001"), px=Decimal("31527.1"),
                          state="filled", c_time_ns=1654084334977 * MS,
                          u_time_ns=1654084353264 * MS)
    for k, v in kw.items():
        setattr(base, k, v)
    return base


def test_client_frames_decode_to_typed_requests() -> None:
    inst = btc_usdt()
    o = NewOrder("abc1", "okx", "BTC/USDT", Side.BUY, 300005, 200000, OrderType.LIMIT,
                 TimeInForce.POST_ONLY)
    req = srv.decode_ws_request(orders.build_order(o, inst, "42", exp_time_ms=5))
    assert req == srv.PlaceRequest("42", "order", (srv.PlaceArgs(
        1000000000, Side.BUY, "post_only", Decimal("0.002"), Decimal("30000.5"), "cash",
        "abc1"),), 5)
    batch = srv.decode_ws_request(orders.build_batch_orders([(o, inst)] * 3, "43"))
    assert isinstance(batch, srv.PlaceRequest) and len(batch.args) == 3
    assert isinstance(srv.decode_ws_request("ping"), srv.PingRequest)
    sub = srv.decode_ws_request(orders.build_orders_subscribe("7"))
    assert isinstance(sub, srv.ChannelRequest) and sub.args[0]["channel"] == "orders"


@pytest.mark.parametrize("frame,code,rid", [
    ("{", "60012", None),
    ('{"op":"order","args":[{}]}', "60012", None),                        # no id
    ('{"id":"1","op":"order","args":[]}', "60013", "1"),
    (('{"id":"1","op":"order","args":[{"side":"buy","instId":"BTC-USDT","tdMode":"cash",'
     '"ordType":"limit","px":"1","sz":"1"}]}'), "60013", "1"),             # instId, no code
    (('{"id":"1","op":"order","args":[{"side":"up","instIdCode":1,"tdMode":"cash",'
     '"ordType":"limit","px":"1","sz":"1"}]}'), "60013", "1"),
    (('{"id":"1","op":"order","args":[{"side":"buy","instIdCode":1,"tdMode":"cash",'
     '"ordType":"limit","sz":"1"}]}'), "60013", "1"),                      # limit without px
    (('{"id":"1","op":"order","args":[{"side":"buy","instIdCode":1,"tdMode":"cash",'
     '"ordType":"limit","px":"1","sz":"-1"}]}'), "60013", "1"),
    (('{"id":"1","op":"order","args":[{"side":"buy","instIdCode":true,"tdMode":"cash",'
     '"ordType":"market","sz":"1"}]}'), "60013", "1"),
    (('{"id":"1","op":"order","args":[{"side":"buy","instIdCode":1,"tdMode":"cash",'
     '"ordType":"market","sz":"1","clOrdId":"bad-id"}]}'), "60013", "1"),
    ('{"id":"1","op":"cancel-order","args":[{"instIdCode":1}]}', "60013", "1"),
    ('{"id":"1","op":"batch-cancel-orders","args":' + json.dumps(
        [{"instIdCode": 1, "ordId": str(i)} for i in range(21)]) + "}", "60013", "1"),
    ('{"id":"1","op":"order","args":[{}, {}]}', "60013", "1"),           # single op, 2 args
    ('{"id":"1","op":"amend-everything","args":[]}', "60012", "1"),
    ('{"op":"login","args":[{"apiKey":"k"}]}', "60012", None),
])
def test_bad_requests_carry_the_code_and_id_to_answer_with(frame: str, code: str,
                                                           rid: str | None) -> None:
    with pytest.raises(errors.RequestError) as exc:
        srv.decode_ws_request(frame)
    assert (exc.value.code, exc.value.req_id) == (code, rid)


def test_login_verification() -> None:
    ok = srv.decode_ws_request(orders.build_login(CREDS, 1000))
    assert isinstance(ok, srv.LoginRequest)
    assert srv.verify_login(ok, CREDS, 1010)
    assert not srv.verify_login(ok, CREDS, 1031)                      # expired after 30 s
    assert not srv.verify_login(ok, signing.Credentials("sim-key", "OTHER", "Pass#1"), 1000)
    assert not srv.verify_login(ok, signing.Credentials("sim-key", "SIMSECRET", "nope"), 1000)
    assert not srv.verify_login(ok, signing.Credentials("other", "SIMSECRET", "Pass#1"), 1000)
    bad_ts = srv.LoginRequest("sim-key", "Pass#1", "soon", ok.sign)
    assert not srv.verify_login(bad_ts, CREDS, 1000)
    assert "Pass#1" not in repr(ok) and ok.sign not in repr(ok)


def test_login_replies_match_the_doc() -> None:
    assert json.loads(srv.encode_login_ok("a4d3ae55")) == load("ws_login_ok")
    assert json.loads(srv.encode_login_error("a4d3ae55")) == load("ws_login_error")


def test_op_responses_reproduce_the_doc_examples() -> None:
    ok = srv.encode_op_response("1512", "order", [OpItem("", "12345689", "0", "", ts_event=
                                                         1695190491421 * MS)], IN_NS, OUT_NS)
    assert json.loads(ok) == load("ws_order_ok")
    fail = srv.encode_op_response("1512", "order", [OpItem(
        "", "", "51008", "Order failed. Insufficient USDT balance in account", "1000",
        ts_event=1695190491421 * MS)], IN_NS, OUT_NS)
    assert json.loads(fail) == load("ws_order_fail")
    err = srv.encode_op_error("1512", "order", "60013", "Invalid args", IN_NS, OUT_NS)
    assert json.loads(err) == load("ws_order_format_error")
    cancel = srv.encode_op_response("1514", "cancel-order", [OpItem(
        "", "2510789768709120", "0", "", ts_event=1695190491421 * MS)], IN_NS, OUT_NS)
    assert json.loads(cancel) == load("ws_cancel_ok")


def test_rest_op_responses_reproduce_the_doc_examples() -> None:
    place = srv.encode_rest_op_response([OpItem("oktswap6", "312269865356374016", "0", "",
                                                ts_event=1695190491421 * MS)], IN_NS, OUT_NS)
    assert place == load("rest_place_response")
    cancel = srv.encode_rest_op_response([OpItem("oktswap6", "12345689", "0", "",
                                                 ts_event=1695190491421 * MS)], IN_NS, OUT_NS,
                                         place=False)
    assert cancel == load("rest_cancel_response")


def test_batch_envelope_code_follows_the_items() -> None:
    ok, bad = OpItem("a", "1", "0", ""), OpItem("b", "", "51121", "lot")
    codes = [json.loads(srv.encode_op_response("1", "batch-orders", items, 0, 0))["code"]
             for items in ([ok, ok], [ok, bad], [bad, bad])]
    assert codes == ["0", "2", "1"]
    [r] = orders.parse_private(srv.encode_op_response("1", "batch-orders", [ok, bad], 0, 0),
                               0, {})
    assert [i.ok for i in r.items] == [True, False]
    with pytest.raises(errors.ProtocolError):
        srv.encode_op_response("1", "order", [], 0, 0)


def test_orders_push_has_exactly_the_documented_keys_and_types() -> None:
    doc = load("ws_orders_push")
    o = order(acc_fill_sz=Decimal("0.001"), avg_px=Decimal("31527.1"),
              fee_paid=Decimal("0.02522168"), fee_ccy="USDT", trade_id="242589207",
              fill_px=Decimal("31527.1"), fill_sz=Decimal("0.001"),
              fill_time_ns=1654084353263 * MS, fill_fee_paid=Decimal("0.02522168"),
              fill_fee_ccy="USDT", exec_type="M", last_px=Decimal("38892.2"), rebate_ccy="BTC")
    got = json.loads(srv.encode_orders_push([o], "614488474791936", "BTC-USDT"))
    assert got["arg"] == doc["arg"]
    item, ref = got["data"][0], doc["data"][0]
    assert set(item) == set(ref)
    assert {k: type(v) for k, v in item.items()} == {k: type(v) for k, v in ref.items()}
    for k in ("accFillSz", "avgPx", "fee", "feeCcy", "fillFee", "fillFeeCcy", "fillPx",
              "fillSz", "fillTime", "instId", "ordId", "ordType", "px", "side", "state", "sz",
              "tradeId", "execType", "cTime", "uTime", "tdMode", "lastPx", "tradeQuoteCcy"):
        assert item[k] == ref[k], k


def test_orders_push_round_trips_to_the_same_report_as_the_doc() -> None:
    insts = {"BTC-USDT": btc_usdt()}
    doc_report = orders.parse_private(json.dumps(load("ws_orders_push")), 0, insts)
    o = order(acc_fill_sz=Decimal("0.001"), avg_px=Decimal("31527.1"), trade_id="242589207",
              fill_px=Decimal("31527.1"), fill_sz=Decimal("0.001"),
              fill_time_ns=1654084353263 * MS, fill_fee_paid=Decimal("0.02522168"),
              fill_fee_ccy="USDT", exec_type="M")
    ours = orders.parse_private(srv.encode_orders_push([o], "614488474791936"), 0, insts)
    assert ours == doc_report


def test_orders_pending_has_exactly_the_documented_keys() -> None:
    ref = load("rest_orders_pending_item")
    o = order(ord_id="1752588852617379840", ord_type="post_only", px=Decimal("13013.5"),
              side=Side.BUY, state="live", fee_ccy="BTC", rebate_ccy="USDT",
              c_time_ns=1724733617998 * MS, u_time_ns=1724733617998 * MS)
    body = srv.encode_orders_pending([o])
    assert set(body) == {"code", "data", "msg"}
    item = body["data"][0]
    assert set(item) == set(ref)
    assert {k: type(v) for k, v in item.items()} == {k: type(v) for k, v in ref.items()}
    for k in ("accFillSz", "cTime", "fee", "feeCcy", "fillSz", "instId", "ordId", "ordType",
              "px", "side", "state", "stpMode", "sz", "tdMode", "uTime", "posSide", "rebate"):
        assert item[k] == ref[k], k
    [r] = orders.parse_orders_pending(body, {"BTC-USDT": btc_usdt()}, 0)
    assert r.exec_type is ExecType.STATUS and r.status is OrderStatus.NEW


def test_cancel_all_after_round_trip() -> None:
    body = srv.encode_cancel_all_after(1587971460 * MS, 1587971400 * MS, "mm1")
    r = orders.parse_cancel_all_after(body)
    assert (r.trigger_time_ns, r.tag, r.ts_event) == (1587971460 * MS, "mm1", 1587971400 * MS)
    assert orders.parse_cancel_all_after(srv.encode_cancel_all_after(0, 1)).trigger_time_ns == 0
