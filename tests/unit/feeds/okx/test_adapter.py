"""The okx adapters against OKX's own documented frames (tests/fixtures/okx)."""
from __future__ import annotations

import json

import orjson

from feeds.adapter import Ack, Failure
from feeds.okx.adapter import OkxGatewayAdapter, make_feed_adapter, make_gateway_adapter
from feeds.okx.protocol import constants as c
from feeds.okx.protocol.signing import verify_rest, verify_ws_login
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import RejectReason, Side, TimeInForce
from pipeline.ratelimit import WINDOW_JITTER_S

from ._helpers import btc_usdt, text

KEY, SECRET, PASS = "key0", "22582BD0CFF14C41EDBF1AB98506286D", "pp"


def gateway() -> OkxGatewayAdapter:
    a = make_gateway_adapter(None, KEY, SECRET, PASS)
    a.by_inst_id["BTC-USDT"] = btc_usdt()
    return a


def with_id(name: str, rid: str) -> str:
    d = json.loads(text(name))
    d["id"] = rid
    return json.dumps(d)


def test_feed_plan_subscribes_bbo_books_trades_with_text_ping():
    a = make_feed_adapter(None)
    [plan] = a.ws_plans("ws://x/ws/v5/public", ["BTC-USDT", "ETH-USDT"])
    args = [x for f in plan.on_open for x in orjson.loads(f)["args"]]
    assert {(x["channel"], x["instId"]) for x in args} == {
        (ch, s) for ch in ("bbo-tbt", "books", "trades") for s in ("BTC-USDT", "ETH-USDT")}
    assert plan.app_ping == "ping" and plan.app_ping_after_idle_s < 30
    assert plan.max_lifetime_s is None and plan.idle_timeout_s <= c.IDLE_CLOSE_S
    assert len(a.ws_plans("u", [f"A{i}-USDT" for i in range(60)])) == 3  # < 30 books each


def test_feed_parses_books_snapshot_and_rest_bootstrap_request():
    a = make_feed_adapter(None)
    [u] = a.parse(text("ws_books_snapshot"), 0)
    assert u.is_snapshot and u.last_id == 123456 and u.prev_id == -1
    req = a.snapshot_request("BTC-USDT")
    assert req.params == {} and req.path == "/api/v5/market/books?instId=BTC-USDT&sz=400"
    snap = a.parse_snapshot("BTC-USDT", json.loads(text("rest_books")))
    assert snap.venue_symbol == "BTC-USDT" and snap.bids and snap.asks
    assert a.control_reply(Control("pong", {})) is None


def test_session_is_login_plus_orders_subscription_and_ready_after_both_acks():
    a = gateway()
    login, sub = a.session_frames(1538054050_000)
    d = orjson.loads(login)["args"][0]
    assert (d["apiKey"], d["passphrase"], d["timestamp"]) == (KEY, PASS, "1538054050")
    assert verify_ws_login(SECRET, "1538054050", d["sign"])
    assert orjson.loads(sub)["args"] == [{"channel": "orders", "instType": "SPOT"}]
    [ok] = a.parse(text("ws_login_ok"), 0)
    assert not a.session_ready(ok)
    ack = a.parse('{"id":"sub1","event":"subscribe","arg":{"channel":"orders",'
                  '"instType":"SPOT"},"connId":"a"}', 0)[0]
    assert a.session_ready(ack)
    a.session_frames(0)  # a reconnect starts over
    assert not a.session_ready(Control("pong", {}))
    [err] = a.parse(text("ws_login_error"), 0)
    assert err.kind == "error" and not a.session_ready(err)


def test_place_is_keyed_by_inst_id_code_and_reports_new_once():
    a = gateway()
    inst = btc_usdt()
    frame = a.encode_place(NewOrder("cid1", "okx", "BTC/USDT", Side.BUY, 312, 100_000,
                                    tif=TimeInForce.POST_ONLY), inst, "7", 0)
    d = orjson.loads(frame)
    assert d["id"] == "7" and d["op"] == "order"
    assert d["args"][0]["instIdCode"] == 1000000000 and "instId" not in d["args"][0]
    assert (d["args"][0]["px"], d["args"][0]["sz"], d["args"][0]["ordType"]) == \
        ("31.2", "0.001", "post_only")
    [ack] = a.parse(with_id("ws_order_ok", "7"), 0)
    assert ack == Ack("7", "12345689", 1695190491421_000_000)
    push = json.loads(text("ws_orders_push"))
    push["data"][0].update(state="live", tradeId="", fillSz="0", fillPx="", accFillSz="0",
                           clOrdId="cid1")
    assert a.parse(json.dumps(push), 0) == []  # NEW already reported through the Ack


def test_failures_are_classified_by_code():
    a = gateway()
    a.encode_place(NewOrder("c2", "okx", "BTC/USDT", Side.BUY, 1, 100_000), btc_usdt(), "1512",
                   0)
    [f] = a.parse(text("ws_order_fail"), 0)
    assert f == Failure("1512", RejectReason.INSUFFICIENT_BALANCE, "51008",
                        "Order failed. Insufficient USDT balance in account")
    [f] = a.parse(text("ws_order_format_error"), 0)
    assert f.code == "60013" and f.reason is RejectReason.OTHER
    [ack] = a.parse(text("ws_cancel_ok"), 0)
    assert ack == Ack("1514", "2510789768709120", 1695190491421_000_000)


def test_fill_push_is_a_trade_report_once():
    a = gateway()
    recs = a.parse(text("ws_orders_push"), 5)
    trades = [r for r in recs if isinstance(r, ExecReport) and r.exec_type is ExecType.TRADE]
    assert len(trades) == 1 and trades[0].trade_id == "242589207"
    assert a.parse(text("ws_orders_push"), 6) == []  # a repeated push (OKX may resend)


def test_refused_requests_are_answered_in_band_at_the_next_pong():
    a = gateway()
    bad = a.encode_place(NewOrder("has-dash", "okx", "BTC/USDT", Side.BUY, 1, 100_000),
                         btc_usdt(), "3", 0)
    status = a.encode_status("x", btc_usdt(), "4", 0)
    nocode = a.encode_cancel(CancelOrder("c", "okx", "BTC/USDT"), btc_usdt(code=None), "5", 0)
    assert bad == status == nocode == "ping"
    first = a.parse("pong", 0)
    assert isinstance(first[0], Failure) and first[0].req_id == "3"
    assert first[0].reason is RejectReason.OTHER
    assert a.parse("pong", 0)[0].reason is RejectReason.TIMEOUT_UNKNOWN
    assert a.parse("pong", 0)[0].reason is RejectReason.BAD_SYMBOL
    assert a.parse("pong", 0) == [Control("pong", {})]


def test_rest_requests_carry_the_signed_path_and_clamp_the_deadman():
    a = gateway()
    req = a.open_orders_request(1607418537715)
    assert req.params == {} and req.path.startswith("/api/v5/trade/orders-pending?")
    assert verify_rest(SECRET, req.headers["OK-ACCESS-TIMESTAMP"], "GET", req.path, "",
                       req.headers["OK-ACCESS-SIGN"])
    assert orjson.loads(a.deadman_request(0, 5).body) == {"timeOut": "10"}
    assert orjson.loads(a.deadman_request(0, 600).body) == {"timeOut": "120"}
    assert orjson.loads(a.deadman_request(0, 0).body) == {"timeOut": "0"}
    assert a.cancel_all_request(btc_usdt(), 0) is None
    pending = {"code": "0", "msg": "", "data": [json.loads(text("rest_orders_pending_item"))]}
    [st] = a.parse_open_orders(pending, 0)
    assert st.exec_type is ExecType.STATUS
    req = a.cancel_all_request(btc_usdt(), 0)
    assert req is not None and req.path == "/api/v5/trade/cancel-batch-orders"
    assert orjson.loads(req.body) == [{"instId": "BTC-USDT", "ordId": "1752588852617379840"}]


def test_order_budget_never_exceeds_okx_window():
    a = gateway()
    lim = c.PLACE_LIMIT
    assert a.order_burst + a.order_rate_per_s * (lim.window_s + WINDOW_JITTER_S) \
        <= lim.count + 1e-9
