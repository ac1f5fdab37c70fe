"""Gate market data: the doc's examples parse to exact records; encoders round-trip."""
from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from feeds.gate.protocol import market as m
from pipeline.errors import ProtocolError
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from .conftest import load


def test_book_ticker_example_parses_to_exact_bbo() -> None:
    [bbo] = m.parse_market(load("ws_book_ticker"), 1)
    assert bbo == BBO("BTC_USDT", 19177.79, 0.0003341504, 19179.38, 0.09,
                      ts_event=1606293275123 * 1_000_000, update_id=48733182)


def test_order_book_update_example_parses_with_u_and_deletes() -> None:
    [d] = m.parse_market(load("ws_order_book_update"), 1)
    assert d == DepthUpdate("BTC_USDT", bids=[(19137.74, 0.0001), (19088.37, 0.0)],
                            asks=[(19137.75, 0.6135)], ts_event=1606294781123 * 1_000_000,
                            first_id=48776301, last_id=48776306)
    assert not d.is_snapshot


def test_trades_example_uses_market_id_and_sub_ms_time() -> None:
    [t] = m.parse_market(load("ws_trades"), 1)
    assert t == Trade("GT_USDT", 0.4705, 16.47, Side.SELL, ts_event=1606292218213457800,
                      trade_id=2390902)


def test_trade_without_id_market_falls_back_to_id() -> None:
    d = orjson.loads(load("ws_trades"))
    del d["result"]["id_market"]
    [t] = m.parse_market(orjson.dumps(d), 1)
    assert t.trade_id == 309143071


def test_subscribe_ack_example_is_an_ack() -> None:
    [c] = m.parse_market(load("ws_subscribe_ack"), 1)
    assert c.kind == "ack" and c.detail["channel"] == "spot.orders"


def test_subscribe_error_is_an_error_with_code() -> None:
    frame = ('{"time":1606292218,"time_ms":1606292218231,"channel":"spot.trades",'
             '"event":"subscribe","error":{"code":2,"message":"unknown currency pair X"},'
             '"result":null}')
    [c] = m.parse_market(frame, 1)
    assert c.kind == "error" and c.detail["code"] == 2


def test_pong_example_is_a_pong() -> None:
    assert m.parse_market(load("ws_pong"), 1) == [
        Control("pong", {"channel": "spot.pong", "event": "", "id": None, "time": 1545404023})]


def test_unknown_channel_update_is_other() -> None:
    frame = '{"time":1,"channel":"spot.tickers","event":"update","result":{}}'
    assert m.parse_market(frame, 1)[0].kind == "other"


def test_rest_snapshot_example_keeps_id_and_order() -> None:
    snap = m.parse_rest_snapshot(orjson.loads(load("rest_order_book")), "BTC_USDT")
    assert snap == BookSnapshot("BTC_USDT", bids=[(1.17, 201.863), (1.16, 725.464)],
                                asks=[(1.52, 1.151), (1.53, 1.218)], last_id=123456,
                                ts_event=1623898993121 * 1_000_000)
    assert m.parse_rest_snapshot(load("rest_order_book")).last_id == 123456


def test_rest_snapshot_without_id_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="with_id"):
        m.parse_rest_snapshot({"bids": [], "asks": []})


def test_order_book_update_with_U_above_u_is_malformed() -> None:
    d = orjson.loads(load("ws_order_book_update"))
    d["result"]["U"] = d["result"]["u"] + 1
    with pytest.raises(ProtocolError):
        m.parse_market(orjson.dumps(d), 1)


@pytest.mark.parametrize("bad", ["nan", "inf", "1_0", " 1", "-1", "", "1e999"])
def test_non_decimal_prices_are_protocol_errors(bad: str) -> None:
    d = orjson.loads(load("ws_book_ticker"))
    d["result"]["b"] = bad
    with pytest.raises(ProtocolError):
        m.parse_market(orjson.dumps(d), 1)


def test_subscribe_builds_one_frame_per_channel_and_per_book_pair() -> None:
    frames = m.build_subscribe(["BTC_USDT", "ETH_USDT"],
                               ["spot.book_ticker", "spot.order_book_update", "spot.trades"],
                               req_id=10, time_s=1700000000)
    got = [orjson.loads(f) for f in frames]
    assert got == [
        {"time": 1700000000, "id": 10, "channel": "spot.book_ticker", "event": "subscribe",
         "payload": ["BTC_USDT", "ETH_USDT"]},
        {"time": 1700000000, "id": 11, "channel": "spot.order_book_update",
         "event": "subscribe", "payload": ["BTC_USDT", "100ms"]},
        {"time": 1700000000, "id": 12, "channel": "spot.order_book_update",
         "event": "subscribe", "payload": ["ETH_USDT", "100ms"]},
        {"time": 1700000000, "id": 13, "channel": "spot.trades", "event": "subscribe",
         "payload": ["BTC_USDT", "ETH_USDT"]},
    ]


def test_order_book_channel_payload_and_unsubscribe() -> None:
    [f] = m.build_unsubscribe(["BTC_USDT"], ["spot.order_book"], 1, 5, book_level=50,
                              book_interval="1000ms")
    assert orjson.loads(f) == {"time": 5, "id": 1, "channel": "spot.order_book",
                               "event": "unsubscribe", "payload": ["BTC_USDT", "50", "1000ms"]}
    with pytest.raises(ProtocolError):
        m.build_subscribe(["BTC_USDT"], ["spot.order_book"], 1, 5, book_level=7)


def test_ping_matches_doc_and_snapshot_request_asks_for_id() -> None:
    assert orjson.loads(m.build_ping(1545404023)) == orjson.loads(load("ws_ping_request"))
    r = m.build_snapshot_request("BTC_USDT")
    assert (r.method, r.path_query) == (
        "GET", "/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true")


# -- server side: exact keys and round trips ------------------------------------------------
NOW = 1606294781236_000_000
TS = 1606294781123_456_789


def _keys(frame: str) -> tuple[list[str], list[str]]:
    d = orjson.loads(frame)
    return sorted(d), sorted(d["result"])


def test_encode_bbo_has_doc_keys_and_round_trips() -> None:
    f = m.encode_bbo("BTC_USDT", "19177.79", Decimal("0.0003341504"), 19179.38, "0.09",
                     48733182, TS, NOW)
    doc = load("ws_book_ticker")
    assert _keys(f) == _keys(doc)
    assert m.parse_market(f, 0) == [BBO("BTC_USDT", 19177.79, 0.0003341504, 19179.38, 0.09,
                                        1606294781123_000_000, 48733182)]
    # every value has the doc's JSON type
    d, ref = orjson.loads(f), orjson.loads(doc)
    assert {k: type(v) for k, v in d["result"].items()} == {
        k: type(v) for k, v in ref["result"].items()}


def test_encode_order_book_update_has_doc_keys_and_round_trips() -> None:
    f = m.encode_order_book_update("BTC_USDT", 5, 9, [("19137.74", "0.0001"),
                                                      (Decimal("19088.37"), 0)],
                                   [(19137.75, "0.6135")], TS, NOW)
    doc = load("ws_order_book_update")
    assert _keys(f) == _keys(doc)
    d, ref = orjson.loads(f), orjson.loads(doc)
    assert {k: type(v) for k, v in d["result"].items()} == {
        k: type(v) for k, v in ref["result"].items()}
    assert d["result"]["b"][1] == ["19088.37", "0"]
    [u] = m.parse_market(f, 0)
    assert (u.first_id, u.last_id, u.bids, u.asks) == (
        5, 9, [(19137.74, 0.0001), (19088.37, 0.0)], [(19137.75, 0.6135)])


def test_encode_order_book_snapshot_round_trips_as_snapshot() -> None:
    f = m.encode_order_book("BTC_USDT", 48791820, [("1.17", "2")], [("1.52", "1")], TS, NOW)
    assert sorted(orjson.loads(f)["result"]) == sorted(
        ["t", "lastUpdateId", "s", "bids", "asks"])
    [u] = m.parse_market(f, 0)
    assert u.is_snapshot and u.last_id == 48791820 and u.bids == [(1.17, 2.0)]


def test_encode_trade_has_doc_keys_and_round_trips() -> None:
    f = m.encode_trade("GT_USDT", 2390902, "0.4705", "16.47", Side.SELL,
                       1606292218213457800, NOW, global_id=309143071)
    doc = load("ws_trades")
    assert _keys(f) == _keys(doc)
    d, ref = orjson.loads(f), orjson.loads(doc)
    assert {k: type(v) for k, v in d["result"].items()} == {
        k: type(v) for k, v in ref["result"].items()}
    assert d["result"]["create_time_ms"] == "1606292218213.4578"
    assert m.parse_market(f, 0) == m.parse_market(doc, 0)


def test_encode_rest_snapshot_has_doc_keys_and_round_trips() -> None:
    body = m.encode_rest_snapshot(123456, [("1.17", "201.863")], [("1.52", "1.151")],
                                  1623898993123_000_000, 1623898993121_000_000)
    assert sorted(body) == sorted(orjson.loads(load("rest_order_book")))
    snap = m.parse_rest_snapshot(body, "X_Y")
    assert (snap.last_id, snap.bids, snap.asks, snap.ts_event) == (
        123456, [(1.17, 201.863)], [(1.52, 1.151)], 1623898993121_000_000)


def test_encode_acks_errors_and_pong() -> None:
    ack = m.encode_subscribe_ack("spot.orders", "subscribe", 1611541000001_000_000)
    assert orjson.loads(ack) == orjson.loads(load("ws_subscribe_ack"))
    err = m.encode_subscribe_error("spot.trades", "subscribe", 2, "bad pair", NOW, req_id=7)
    [c] = m.parse_market(err, 0)
    assert c.kind == "error" and c.detail["code"] == 2 and c.detail["id"] == 7
    assert orjson.loads(m.encode_pong(1545404023)) == orjson.loads(load("ws_pong"))


def test_decode_channel_request_reads_subscribe_with_auth() -> None:
    req = m.decode_channel_request(orjson.loads(load("ws_subscribe_private_request")))
    assert isinstance(req, m.ChannelRequest)
    assert (req.time, req.id, req.channel, req.event, req.payload, req.auth_key,
            req.auth_sign) == (1611541000, 123456789, "spot.orders", "subscribe",
                               ("BTC_USDT", "GT_USDT"), "xxxx", "xxxx")
    assert isinstance(m.decode_channel_request(orjson.loads(load("ws_ping_request"))),
                      m.PingRequest)


def test_client_subscribe_frames_decode_on_the_server_side() -> None:
    for f in m.build_subscribe(["BTC_USDT"], ["spot.order_book", "spot.trades"], 3, 9):
        req = m.decode_channel_request(orjson.loads(f))
        assert isinstance(req, m.ChannelRequest) and req.payload[0] == "BTC_USDT"
