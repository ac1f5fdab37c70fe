"""Binance market data: doc examples parse exactly; encoders round-trip and emit exactly the
documented keys; subscribe frames; stream control requests on the server side."""
from __future__ import annotations

import json
from decimal import Decimal

import orjson
import pytest

from feeds.binance.protocol import market as M
from pipeline.errors import ProtocolError
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from .conftest import fixture_json, fixture_text

MS = 1_000_000

# Keys of each documented payload (EXCHANGES.md §1.2-1.3), written out from the doc.
KEYS_BOOK_TICKER = {"u", "s", "b", "B", "a", "A"}
KEYS_DEPTH = {"e", "E", "s", "U", "u", "b", "a"}
KEYS_TRADE = {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
KEYS_PARTIAL = {"lastUpdateId", "bids", "asks"}


# -- doc examples ------------------------------------------------------------------------------
def test_book_ticker_example_parses_to_exact_bbo() -> None:
    [r] = M.parse_market(fixture_text("ws_book_ticker.json"), 5)
    assert r == BBO("BNBUSDT", 25.3519, 31.21, 25.3652, 40.66, ts_event=0, update_id=400900217)


def test_depth_update_example_parses_with_u_and_U() -> None:
    [r] = M.parse_market(fixture_text("ws_depth_update.json"), 5)
    assert r == DepthUpdate("BNBBTC", [(0.0024, 10.0)], [(0.0026, 100.0)],
                            ts_event=1672515782136 * MS, first_id=157, last_id=160)


def test_trade_example_buyer_maker_means_taker_sold() -> None:
    [r] = M.parse_market(fixture_text("ws_trade.json"), 5)
    assert r == Trade("BNBBTC", 0.001, 100.0, Side.SELL, 1672515782136 * MS, 12345)


def test_rest_depth_example_parses_to_snapshot() -> None:
    snap = M.parse_rest_snapshot(fixture_json("rest_depth.json"), "bnbbtc")
    assert snap == BookSnapshot("BNBBTC", [(4.0, 431.0)], [(4.000002, 12.0)], 1027024)


def test_subscribe_ack_and_control_error_examples() -> None:
    assert M.parse_market(fixture_text("ws_subscribe_ack.json"), 0) == [
        Control("ack", {"id": 1, "result": None})]
    assert M.parse_market(fixture_text("ws_control_error.json"), 0) == [
        Control("error", {"id": None, "code": 2, "msg": "Invalid request: ..."})]


def test_server_shutdown_raw_and_combined() -> None:
    raw = fixture_text("ws_server_shutdown.json")
    expect = [Control("shutdown", {"e": "serverShutdown", "E": 1770123456789 * MS})]
    assert M.parse_market(raw, 0) == expect
    assert M.parse_market(M.wrap_combined("!serverShutdown", raw.strip()), 0) == expect


def test_subscribe_request_example_is_what_build_subscribe_makes() -> None:
    frames = M.build_subscribe(["BTCUSDT"], ["aggTrade", "depth"], 1)
    assert [orjson.loads(f) for f in frames] == [fixture_json("ws_subscribe_request.json")]


def test_combined_envelope_unwraps_every_payload() -> None:
    raw = fixture_text("ws_depth_update.json")
    [r] = M.parse_market(M.wrap_combined("bnbbtc@depth@100ms", raw), 0)
    assert isinstance(r, DepthUpdate) and r.first_id == 157


def test_partial_depth_takes_symbol_from_stream_or_argument() -> None:
    payload = M.encode_partial_depth(160, [("0.0024", "10")], [("0.0026", "100")])
    [r] = M.parse_market(M.wrap_combined("bnbbtc@depth20@100ms", payload), 0)
    assert r == DepthUpdate("BNBBTC", [(0.0024, 10.0)], [(0.0026, 100.0)], 0, last_id=160,
                            is_snapshot=True)
    [r2] = M.parse_market(payload, 0, symbol="bnbbtc")
    assert isinstance(r2, DepthUpdate) and r2.venue_symbol == "BNBBTC"
    with pytest.raises(ProtocolError):
        M.parse_market(payload, 0)  # raw stream and no symbol given: cannot attribute it


def test_microsecond_time_unit() -> None:
    [r] = M.parse_market(fixture_text("ws_trade.json"), 0, time_unit_ns=M.US)
    assert isinstance(r, Trade) and r.ts_event == 1672515782136 * 1000


def test_agg_trade_uses_aggregate_id() -> None:
    frame = json.dumps({"e": "aggTrade", "E": 1, "s": "BNBBTC", "a": 7, "p": "0.001",
                        "q": "100", "f": 100, "l": 105, "T": 2, "m": False, "M": True})
    [r] = M.parse_market(frame, 0)
    assert r == Trade("BNBBTC", 0.001, 100.0, Side.BUY, 2 * MS, 7)


def test_unknown_event_is_a_control_not_an_error() -> None:
    [r] = M.parse_market('{"e":"24hrTicker","E":1,"s":"BTCUSDT"}', 0)
    assert isinstance(r, Control) and r.kind == "other"


@pytest.mark.parametrize("frame", [
    "", "{", "[]", "null", '"x"', "{}", '{"u":1}',
    '{"u":1,"s":"X","b":"1","B":"1","a":"1"}',                   # missing A
    '{"u":1,"s":"X","b":1.5,"B":"1","a":"1","A":"1"}',            # number, not a string
    '{"u":-1,"s":"X","b":"1","B":"1","a":"1","A":"1"}',           # negative id
    '{"u":true,"s":"X","b":"1","B":"1","a":"1","A":"1"}',         # bool posing as int
    '{"u":1,"s":"X","b":"NaN","B":"1","a":"1","A":"1"}',
    '{"u":1,"s":"X","b":"1e5","B":"1","a":"1","A":"1"}',
    '{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[["1"]],"a":[]}',
    '{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":{},"a":[]}',
    '{"e":"trade","E":1,"s":"X","t":1,"p":"1","q":"1","T":1,"m":"yes","M":true}',
    '{"stream":"x@trade","data":[]}', '{"stream":1,"data":{}}', '{"result":null,"id":1.5}',
    '{"code":"2","msg":"x"}',
])
def test_malformed_frames_raise_protocol_error(frame: str) -> None:
    with pytest.raises(ProtocolError):
        M.parse_market(frame, 0)


# -- encoders: exact keys and round trips ------------------------------------------------------
def test_encode_bbo_round_trip_and_keys() -> None:
    f = M.encode_bbo("BNBUSDT", Decimal("25.3519"), "31.21", 25.3652, 40.66, 400900217)
    assert set(orjson.loads(f)) == KEYS_BOOK_TICKER
    assert orjson.loads(f) == fixture_json("ws_book_ticker.json")  # the doc's frame exactly
    [r] = M.parse_market(f, 0)
    assert r == BBO("BNBUSDT", 25.3519, 31.21, 25.3652, 40.66, 0, 400900217)


def test_encode_depth_update_round_trip_and_keys() -> None:
    f = M.encode_depth_update("BNBBTC", 157, 160, [("0.0024", "10")], [("0.0026", "100")],
                              1672515782136 * MS + 999)
    d = orjson.loads(f)
    assert set(d) == KEYS_DEPTH and isinstance(d["E"], int) and isinstance(d["U"], int)
    [r] = M.parse_market(f, 0)
    assert r == M.parse_market(fixture_text("ws_depth_update.json"), 0)[0]


def test_encode_trade_round_trip_and_keys() -> None:
    f = M.encode_trade("BNBBTC", 12345, "0.001", "100", Side.SELL, 1672515782136 * MS,
                       1672515782136 * MS)
    d = orjson.loads(f)
    assert set(d) == KEYS_TRADE and d["m"] is True and d["M"] is True
    assert M.parse_market(f, 0) == M.parse_market(fixture_text("ws_trade.json"), 0)
    [buy] = M.parse_market(M.encode_trade("BNBBTC", 1, 1, 1, Side.BUY, 0, 0), 0)
    assert isinstance(buy, Trade) and buy.side is Side.BUY


def test_encode_partial_depth_and_rest_snapshot_keys() -> None:
    assert set(orjson.loads(M.encode_partial_depth(1, [], []))) == KEYS_PARTIAL
    body = M.encode_rest_snapshot(1027024, [("4", "431")], [("4.000002", "12")])
    assert body == fixture_json("rest_depth.json")
    assert M.parse_rest_snapshot(orjson.loads(orjson.dumps(body)), "X").last_id == 1027024


def test_encode_prints_binance_eight_decimals_and_finer_when_needed() -> None:
    d = orjson.loads(M.encode_bbo("X", "1", "0.5", "0.000000001", "2", 1))
    assert (d["b"], d["B"], d["a"]) == ("1.00000000", "0.50000000", "0.000000001")


def test_subscribe_ack_and_error_encoders_parse_back() -> None:
    assert M.parse_market(M.encode_subscribe_ack(7), 0) == [Control("ack", {"id": 7,
                                                                            "result": None})]
    [e] = M.parse_market(M.encode_stream_error(2, "Invalid request: x", 8), 0)
    assert e == Control("error", {"id": 8, "code": 2, "msg": "Invalid request: x"})
    assert set(orjson.loads(M.encode_stream_error(2, "x", 8))) == {"code", "msg", "id"}


# -- client control frames ---------------------------------------------------------------------
def test_build_subscribe_splits_frames_and_numbers_ids() -> None:
    frames = M.build_subscribe(["BTCUSDT", "ETHBTC"], ["bookTicker", "depth@100ms"], 10,
                               max_per_frame=3)
    bodies = [orjson.loads(f) for f in frames]
    assert [b["id"] for b in bodies] == [10, 11]
    assert bodies[0]["params"] == ["btcusdt@bookTicker", "btcusdt@depth@100ms",
                                   "ethbtc@bookTicker"]
    assert bodies[1] == {"method": "SUBSCRIBE",
                         "params": ["ethbtc@depth@100ms"], "id": 11}
    [u] = M.build_unsubscribe(["BTCUSDT"], ["trade"], 3)
    assert orjson.loads(u) == {"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 3}


def test_build_subscribe_refuses_more_streams_than_a_connection_holds() -> None:
    with pytest.raises(ValueError):
        M.build_subscribe([f"S{i}" for i in range(1025)], ["trade"], 1)


def test_depth_request_and_weights() -> None:
    assert M.build_depth_request("bnbbtc", 5000) == ("GET", "/api/v3/depth",
                                                     {"symbol": "BNBBTC", "limit": "5000"})
    assert [M.depth_weight(n) for n in (1, 100, 101, 500, 1000, 5000)] == [5, 5, 25, 25, 50, 250]
    with pytest.raises(ValueError):
        M.build_depth_request("X", 5001)


def test_stream_names_and_url() -> None:
    assert M.stream_name("BTCUSDT", M.partial_depth_channel(20)) == "btcusdt@depth20@100ms"
    assert M.symbol_of_stream("btcusdt@depth20@100ms") == "BTCUSDT"
    assert M.stream_url("wss://h:9443/", ["a@trade", "b@trade"], micros=True) == (
        "wss://h:9443/stream?streams=a@trade/b@trade&timeUnit=MICROSECOND")


# -- server: stream control requests -----------------------------------------------------------
def test_decode_stream_request_accepts_doc_example() -> None:
    req = M.decode_stream_request(fixture_text("ws_subscribe_request.json"))
    assert req == M.StreamRequest("SUBSCRIBE", ("btcusdt@aggTrade", "btcusdt@depth"), 1)
    assert M.parse_subscribe_params(req.params) == [("BTCUSDT", "aggTrade"), ("BTCUSDT", "depth")]


@pytest.mark.parametrize(("frame", "code"), [
    ("{nope", 3),
    ('{"method":"SUBSCRIBE","params":"x","id":1}', 1),
    ('{"method":"FROB","params":[],"id":1}', 2),
    ('{"method":"SUBSCRIBE","params":["nostream"],"id":1}', 2),
    ('{"method":"SUBSCRIBE","params":[],"id":"has space"}', 2),
])
def test_decode_stream_request_errors_carry_binance_codes(frame: str, code: int) -> None:
    with pytest.raises(M.StreamRequestError) as ei:
        M.decode_stream_request(frame)
    assert ei.value.code == code
    assert isinstance(ei.value, ProtocolError)
