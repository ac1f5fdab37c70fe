"""The gate adapter: what it hands the feed and gateway drivers, from the doc's own frames."""
from __future__ import annotations

import orjson

from feeds.adapter import Ack, Failure, RateInfo
from feeds.gate.adapter import make_feed_adapter, make_gateway_adapter, to_http
from feeds.gate.protocol.constants import LIMITS
from feeds.gate.protocol.rest import RestRequest
from pipeline.marketdata import Control
from pipeline.messages import ExecReport, ExecType
from pipeline.model import OrderStatus, RejectReason
from pipeline.ratelimit import WINDOW_JITTER_S

from .conftest import instrument, load


def test_feed_plan_subscribes_bbo_depth_and_trades_for_every_pair_with_keepalive() -> None:
    a = make_feed_adapter(None)
    a.clock_s = lambda: 1_700_000_000
    plans = a.ws_plans("ws://h/ws/v4/", ["BTC_USDT", "ETH_USDT"])
    assert len(plans) == 1
    p = plans[0]
    subs = [orjson.loads(f) for f in p.on_open]
    assert {(s["channel"], tuple(s["payload"])) for s in subs} == {
        ("spot.book_ticker", ("BTC_USDT", "ETH_USDT")), ("spot.trades", ("BTC_USDT", "ETH_USDT")),
        ("spot.order_book_update", ("BTC_USDT", "100ms")),
        ("spot.order_book_update", ("ETH_USDT", "100ms"))}
    assert all(s["event"] == "subscribe" and s["time"] == 1_700_000_000 for s in subs)
    assert orjson.loads(p.app_ping) == {"time": 1_700_000_000, "channel": "spot.ping"}
    assert p.app_ping_after_idle_s == 5.0 and p.idle_timeout_s > p.app_ping_after_idle_s
    assert p.max_lifetime_s is not None
    assert a.control_reply(Control("pong", {})) is None


def test_snapshot_request_and_parse_use_the_with_id_book() -> None:
    a = make_feed_adapter(None)
    req = a.snapshot_request("BTC_USDT")
    assert (req.method, req.path) == ("GET", "/spot/order_book")
    assert req.params == {"currency_pair": "BTC_USDT", "limit": "100", "with_id": "true"}
    snap = a.parse_snapshot("BTC_USDT", orjson.loads(load("rest_order_book")))
    assert snap.venue_symbol == "BTC_USDT" and snap.last_id == 123456
    assert a.venue_symbol("ETH/USDT") == "ETH_USDT"


def test_to_http_keeps_the_signed_query_order_and_headers() -> None:
    r = RestRequest("DELETE", "/spot/orders", "currency_pair=BTC_USDT&side=buy", "",
                    {"SIGN": "s"})
    h = to_http(r)
    assert list(h.params.items()) == [("currency_pair", "BTC_USDT"), ("side", "buy")]
    assert h.headers == {"SIGN": "s"} and h.method == "DELETE"


def _gw():
    g = make_gateway_adapter(None, "key", "s3cr3t-value", "")
    gt = instrument("GT_USDT", "0.0001", "0.01")
    g.by_pair[gt.venue_symbol] = gt
    return g


def test_order_budget_stays_under_gates_places_per_second() -> None:
    """burst + rate * (1 s + jitter allowance) <= Gate's limit: no second of Gate's sees more
    (the bucket at the full rate plus a burst of 5 let 15 into one)."""
    g = _gw()
    assert 1 <= g.order_burst < LIMITS.ws_order_place_per_s
    assert g.order_burst + g.order_rate_per_s * (1.0 + WINDOW_JITTER_S) \
        <= LIMITS.ws_order_place_per_s + 1e-9


def test_session_is_ready_only_after_login_and_both_private_subscriptions() -> None:
    g = _gw()
    frames = [orjson.loads(f) for f in g.session_frames(1_681_984_544_000)]
    assert [f["channel"] for f in frames] == ["spot.login", "spot.orders", "spot.usertrades"]
    assert frames[1]["payload"] == ["!all"] and frames[1]["auth"]["KEY"] == "key"
    login_id = frames[0]["payload"]["req_id"]
    login_ok = load("ws_api_login_response").replace("request-1", login_id)
    recs = g.parse(login_ok, 0)
    assert recs == [Control("login", {"request_id": login_id})]
    assert not g.session_ready(recs[0])
    for ch in ("spot.orders", "spot.usertrades"):
        ack = orjson.dumps({"time": 1, "time_ms": 1, "channel": ch, "event": "subscribe",
                            "error": None, "result": {"status": "success"}})
        ready = [g.session_ready(r) for r in g.parse(ack, 0)]
    assert ready == [True]
    g.session_frames(1_681_984_545_000)  # a reconnect starts over
    assert not g.session_ready(Control("ack", {"channel": "spot.orders", "event": "subscribe"}))


def test_place_ack_is_rate_info_and_result_is_the_new_report() -> None:
    g = _gw()
    ack = g.parse(load("ws_api_order_place_ack"), 5)
    assert ack == [RateInfo("orders", 1, 10, 1.0)]
    res = g.parse(load("ws_api_order_place_result"), 5)
    reports = [r for r in res if isinstance(r, ExecReport)]
    assert len(reports) == 1 and not [r for r in res if isinstance(r, Ack)]
    r = reports[0]
    assert (r.exec_type, r.status, r.client_id, r.venue_order_id) == (
        ExecType.NEW, OrderStatus.NEW, "my-custom-id", "1700664330")


def test_errors_are_failures_classified_by_label() -> None:
    g = _gw()
    recs = g.parse(load("ws_api_error_429"), 0)
    fails = [r for r in recs if isinstance(r, Failure)]
    assert fails == [Failure("xxxx", RejectReason.RATE_LIMITED, "TOO_MANY_REQUESTS",
                             "Request Rate limit Exceeded (211)")]


def test_cancel_result_acks_the_request_and_reports_canceled() -> None:
    g = _gw()
    d = orjson.loads(load("ws_api_order_place_result"))
    d["request_id"] = "7"
    d["header"]["channel"] = "spot.order_cancel"
    d["data"]["result"].update(status="cancelled", finish_as="cancelled")
    recs = g.parse(orjson.dumps(d), 0)
    assert isinstance(recs[0], Ack) and recs[0].req_id == "7"
    assert recs[0].venue_order_id == "1700664330"
    assert recs[1].exec_type is ExecType.CANCELED


def test_rest_requests_are_signed_and_deadman_respects_the_minimum() -> None:
    g = _gw()
    oo = g.open_orders_request(1_700_000_000_000)
    assert (oo.method, oo.path) == ("GET", "/spot/open_orders")
    assert oo.headers["KEY"] == "key" and oo.headers["Timestamp"] == "1700000000"
    dm = g.deadman_request(1_700_000_000_000, 2)
    assert dm is not None and orjson.loads(dm.body) == {"timeout": LIMITS.countdown_min_timeout_s}
    ca = g.cancel_all_request(instrument("BTC_USDT", "0.1", "0.00001"), 1_700_000_000_000)
    assert ca is not None and ca.params == {"currency_pair": "BTC_USDT"}
    assert "s3cr3t" not in repr(g)
