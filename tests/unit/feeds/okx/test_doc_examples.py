"""Every example message of EXCHANGES.md §2 parses to the expected record, exact values."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from feeds.okx.protocol import market, orders, symbols
from feeds.okx.protocol.market import ChannelRequest
from feeds.okx.protocol.order_server import CancelRequest, LoginRequest, PlaceRequest
from feeds.okx.protocol.signing import Credentials
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.messages import CancelOrder, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, OrderType, RejectReason, Side, TimeInForce

from ._helpers import btc_usdt, load, text

MS = 1_000_000


def test_subscribe_ack_is_an_ack_control_with_id_and_arg() -> None:
    [rec] = market.parse_market(text("ws_subscribe_ack"), 1)
    assert rec == Control("ack", {"id": "1512", "event": "subscribe", "connId": "accb8e21",
                                  "arg": {"channel": "tickers", "instId": "BTC-USDT"}})


def test_subscribe_error_is_an_error_control_with_code() -> None:
    [rec] = market.parse_market(text("ws_subscribe_error"), 1)
    assert isinstance(rec, Control) and rec.kind == "error"
    assert rec.detail["code"] == "60012" and rec.detail["id"] == "1512"
    assert rec.detail["connId"] == "a4d3ae55"


def test_service_upgrade_notice_is_a_notice() -> None:
    [rec] = market.parse_market(text("ws_notice"), 1)
    assert rec.kind == "notice" and rec.detail["code"] == "64008"


def test_channel_conn_count_is_informational() -> None:
    [rec] = market.parse_market(text("ws_channel_conn_count"), 1)
    assert rec.kind == "other" and rec.detail["connCount"] == "2"


def test_pong_text() -> None:
    assert market.parse_market("pong", 1) == [Control("pong", {})]
    assert market.parse_market(b"pong", 1) == [Control("pong", {})]


def test_bbo_tbt_example() -> None:
    [rec] = market.parse_market(text("ws_bbo_tbt"), 1)
    assert rec == BBO("BCH-USDT-SWAP", 111.05, 57745.0, 111.06, 55154.0, 1670324386802 * MS,
                      363996337)


def test_tickers_example() -> None:
    [rec] = market.parse_market(text("ws_tickers"), 1)
    assert rec == BBO("BTC-USDT", 8888.88, 5.0, 9999.99, 11.0, 1597026383085 * MS, 0)


def test_books_snapshot_example() -> None:
    [rec] = market.parse_market(text("ws_books_snapshot"), 1)
    assert isinstance(rec, DepthUpdate)
    assert rec.is_snapshot and rec.prev_id == -1 and rec.last_id == 123456 and rec.checksum == 0
    assert rec.venue_symbol == "BTC-USDT" and rec.ts_event == 1597026383085 * MS
    assert rec.asks[:2] == [(8476.98, 415.0), (8477.0, 7.0)] and len(rec.asks) == 8
    assert rec.bids[0] == (8476.97, 256.0) and rec.bids[-1] == (8446.0, 95.0)


def test_books_update_form_described_by_the_doc() -> None:
    d = load("ws_books_snapshot")
    d["action"] = "update"
    d["data"][0].update({"prevSeqId": 123456, "seqId": 123457})
    [rec] = market.parse_market(market.w.dumps(d), 1)
    assert not rec.is_snapshot and (rec.prev_id, rec.last_id) == (123456, 123457)


def test_trades_example() -> None:
    [rec] = market.parse_market(text("ws_trades"), 1)
    assert rec == Trade("BTC-USDT", 42219.9, 0.12060306, Side.BUY, 1630048897897 * MS,
                        130639474)


def test_rest_books_example() -> None:
    snap = market.parse_rest_snapshot(load("rest_books"), "BTC-USDT")
    assert snap == BookSnapshot("BTC-USDT", [(41006.3, 0.30178218)], [(41006.8, 0.60038921)],
                                3235851742, 1629966436396 * MS)
    assert market.parse_rest_snapshot(text("rest_books"), "X").last_id == 3235851742


def test_login_replies() -> None:
    [ok] = market.parse_market(text("ws_login_ok"), 1)
    [bad] = orders.parse_private(text("ws_login_error"), 1, {})
    assert ok.kind == "ack" and ok.detail["event"] == "login"
    assert bad.kind == "error" and bad.detail["code"] == "60009"


def test_ws_order_success() -> None:
    [r] = orders.parse_private(text("ws_order_ok"), 1, {})
    assert isinstance(r, orders.OpResponse) and r.ok and r.req_id == "1512" and r.op == "order"
    assert r.items[0].ord_id == "12345689" and r.items[0].ts_event == 1695190491421 * MS
    assert (r.in_time_us, r.out_time_us) == (1695190491421339, 1695190491423240)


def test_ws_order_failure_is_classified_by_scode() -> None:
    [r] = orders.parse_private(text("ws_order_fail"), 1, {})
    assert not r.ok and r.code == "1" and r.reason is RejectReason.NONE
    item = r.items[0]
    assert (item.s_code, item.sub_code) == ("51008", "1000")
    assert item.reason is RejectReason.INSUFFICIENT_BALANCE


def test_ws_order_format_error_fails_the_request() -> None:
    [r] = orders.parse_private(text("ws_order_format_error"), 1, {})
    assert r.items == () and r.code == "60013" and not r.ok and r.reason is RejectReason.OTHER


def test_ws_cancel_success() -> None:
    [r] = orders.parse_private(text("ws_cancel_ok"), 1, {})
    assert r.ok and r.op == "cancel-order" and r.items[0].ord_id == "2510789768709120"


def test_rest_place_and_cancel_responses() -> None:
    place = orders.parse_rest_op_response(text("rest_place_response"))
    cancel = orders.parse_rest_op_response(load("rest_cancel_response"))
    assert place.ok and place.items[0].cl_ord_id == "oktswap6"
    assert place.items[0].ord_id == "312269865356374016"
    assert cancel.ok and cancel.items[0].ord_id == "12345689"


def test_orders_push_fill_example() -> None:
    inst = btc_usdt()
    [fill] = orders.parse_private(text("ws_orders_push"), 7, {"BTC-USDT": inst})
    assert fill.exec_type is ExecType.TRADE and fill.status is OrderStatus.FILLED
    assert fill.side is Side.SELL and fill.venue_order_id == "452197707845865472"
    assert fill.price_ticks == 315271 and fill.last_price_ticks == 315271
    assert fill.lots == 100000 and fill.filled_lots == 100000 and fill.last_lots == 100000
    assert fill.fee == Decimal("0.02522168") and fill.fee_asset == "USDT"  # paid: positive
    assert fill.trade_id == "242589207" and fill.is_maker
    assert fill.ts_event == 1654084353263 * MS and fill.ts_recv == 7
    assert fill.symbol == "BTC/USDT" and fill.venue == "okx"


def test_orders_pending_example_is_a_live_status() -> None:
    payload = {"code": "0", "data": [load("rest_orders_pending_item")], "msg": ""}
    [r] = orders.parse_orders_pending(payload, {"BTC-USDT": btc_usdt()}, 3)
    assert r.exec_type is ExecType.STATUS and r.status is OrderStatus.NEW
    assert r.price_ticks == 130135 and r.lots == 100000 and r.filled_lots == 0
    assert r.side is Side.BUY and r.venue_order_id == "1752588852617379840"


def test_requests_decode_on_the_server_side() -> None:
    place = orders.decode_ws_request(text("ws_order_request"))
    assert isinstance(place, PlaceRequest) and place.req_id == "1512"
    a = place.args[0]
    assert (a.inst_id_code, a.side, a.ord_type, a.sz, a.px) == (123456, Side.BUY, "market",
                                                                Decimal(100), None)
    cancel = orders.decode_ws_request(text("ws_cancel_request"))
    assert isinstance(cancel, CancelRequest)
    assert cancel.args[0].ord_id == "2510789768709120" and cancel.args[0].inst_id_code == 123456
    login = orders.decode_ws_request(text("ws_login_request"))
    assert isinstance(login, LoginRequest) and login.timestamp == "1538054050"
    sub = orders.decode_ws_request(text("ws_subscribe_request"))
    assert sub == ChannelRequest("subscribe", ({"channel": "tickers", "instId": "BTC-USDT"},),
                                 "1512")
    priv = orders.decode_ws_request(text("ws_orders_subscribe"))
    assert isinstance(priv, ChannelRequest) and priv.args[0]["instType"] == "SPOT"


def test_rest_place_example_equals_our_rest_order_args() -> None:
    inst = replace(btc_usdt(), tick_size=Decimal("0.01"), lot_size=Decimal(1))
    o = NewOrder("b15", "okx", "BTC/USDT", Side.BUY, 215, 2, OrderType.LIMIT, TimeInForce.GTC)
    assert orders.order_args(o, inst, ws=False) == load("rest_place_request")


def test_rest_cancel_example_has_our_cancel_keys() -> None:
    cx = CancelOrder("x", "okx", "BTC/USDT", "590908157585625111")
    doc = load("rest_cancel_request")
    assert set(orders.cancel_args(cx, btc_usdt(), ws=False)) == set(doc)


def test_rest_batch_cancel_example_equals_our_body() -> None:
    doc = load("rest_batch_cancel_request")
    req = orders.rest_cancel_batch(
        [(CancelOrder("a", "okx", "BTC/USDT", d["ordId"]), btc_usdt()) for d in doc],
        Credentials("k", "s", "p"), 0)
    assert json.loads(req.body) == doc


def test_cancel_all_after_example_equals_our_body() -> None:
    req = orders.rest_cancel_all_after(Credentials("k", "s", "p"), 0, 60)
    assert json.loads(req.body) == load("rest_cancel_all_after_request")


def test_instrument_fields_from_the_doc() -> None:
    item = {"instType": "SPOT", "instId": "BTC-USDT", "instIdCode": 1000000000,
            "baseCcy": "BTC", "quoteCcy": "USDT", "tickSz": "0.1", "lotSz": "0.00000001",
            "minSz": "0.00001", "maxLmtSz": "9999999999", "maxMktSz": "",
            "maxLmtAmt": "1000000", "maxMktAmt": "1000000", "state": "live",
            "upcChg": [{"param": "tickSz", "newValue": "0.0001", "effTime": "1704876947000"}]}
    [inst] = symbols.parse_instruments({"code": "0", "msg": "", "data": [item]})
    assert inst == Instrument(
        venue="okx", symbol="BTC/USDT", venue_symbol="BTC-USDT", base="BTC", quote="USDT",
        tick_size=Decimal("0.1"), lot_size=Decimal("0.00000001"), min_qty=Decimal("0.00001"),
        max_qty=Decimal(9999999999), max_notional=Decimal(1000000), venue_code=1000000000,
        tradable=True)
