"""Server-side market encoders: exactly the documented keys and JSON types, and every frame
parses back through the client parser to the values that went in."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from feeds.okx.protocol import checksum, errors, market
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from ._helpers import load

MS = 1_000_000
T = 1_700_000_000_123 * MS


def _keys(frame: str) -> tuple[set[str], set[str], set[str]]:
    d = json.loads(frame)
    return set(d), set(d["arg"]), set(d["data"][0])


def _types(d: dict) -> dict[str, type]:
    return {k: type(v) for k, v in d.items()}


def test_bbo_has_the_documented_shape_and_round_trips() -> None:
    frame = market.encode_bbo("BTC-USDT", ("111.05", "57745", 2), ("111.06", "55154", 2), T, 7)
    doc = load("ws_bbo_tbt")
    top, arg, data = _keys(frame)
    assert top == set(doc) and arg == set(doc["arg"]) and data == set(doc["data"][0])
    assert _types(json.loads(frame)["data"][0]) == _types(doc["data"][0])
    assert json.loads(frame)["data"][0]["asks"] == [["111.06", "55154", "0", "2"]]
    assert market.parse_market(frame, 0) == [BBO("BTC-USDT", 111.05, 57745.0, 111.06, 55154.0,
                                                 1_700_000_000_123 * MS, 7)]


def test_bbo_with_an_empty_side_reads_zero() -> None:
    [b] = market.parse_market(market.encode_bbo("BTC-USDT", None, ("2", "1"), T, 1), 0)
    assert (b.bid_px, b.bid_sz, b.ask_px) == (0.0, 0.0, 2.0)


def test_ticker_has_the_documented_shape_and_round_trips() -> None:
    frame = market.encode_ticker(
        "BTC-USDT", last="9999.99", last_sz="0.1", bid_px="8888.88", bid_sz="5",
        ask_px="9999.99", ask_sz="11", open_24h="9000", high_24h="10000", low_24h="8888.88",
        vol_ccy_24h="2222", vol_24h="2222", sod_utc0="2222", sod_utc8="2222",
        ts_ns=1597026383085 * MS)
    assert json.loads(frame) == load("ws_tickers")
    [b] = market.parse_market(frame, 0)
    assert (b.bid_px, b.ask_px, b.ts_event) == (8888.88, 9999.99, 1597026383085 * MS)


def test_books_snapshot_reproduces_the_doc_example_exactly() -> None:
    doc = load("ws_books_snapshot")
    d = doc["data"][0]
    levels = lambda side: [(p, s, int(n)) for p, s, _, n in d[side]]
    frame = market.encode_books("snapshot", "BTC-USDT", levels("bids"), levels("asks"),
                                1597026383085 * MS, 123456, -1)
    assert json.loads(frame) == doc


def test_books_update_round_trips_with_sequence_and_checksum() -> None:
    frame = market.encode_books("update", "BTC-USDT", [("100.5", "0")], [("101", "2.5")],
                                T, 11, 10, checksum=-5)
    top, _, data = _keys(frame)
    assert top == {"arg", "action", "data"}
    assert data == {"asks", "bids", "ts", "checksum", "prevSeqId", "seqId"}
    [u] = market.parse_market(frame, 0)
    assert u == DepthUpdate("BTC-USDT", [(100.5, 0.0)], [(101.0, 2.5)], 1_700_000_000_123 * MS,
                            prev_id=10, last_id=11, is_snapshot=False, checksum=-5)


def test_books_encoder_refuses_inconsistent_frames() -> None:
    with pytest.raises(errors.ProtocolError):
        market.encode_books("snapshot", "BTC-USDT", [], [], T, 5, 4)
    with pytest.raises(errors.ProtocolError):
        market.encode_books("delta", "BTC-USDT", [], [], T, 5, 4)
    with pytest.raises(errors.ProtocolError):
        market.encode_books("update", "BTC-USDT", [], [], T, 5, 4, channel="trades")


def test_books5_shape_and_round_trip_as_a_snapshot() -> None:
    bids = [(str(100 - i), "1") for i in range(7)]
    frame = market.encode_books5("BTC-USDT", bids, [("101", "3")], T, 42)
    _, _, data = _keys(frame)
    assert data == {"asks", "bids", "instId", "ts", "seqId"}
    [u] = market.parse_market(frame, 0)
    assert u.is_snapshot and u.last_id == 42 and len(u.bids) == 5 and u.asks == [(101.0, 3.0)]


def test_trade_has_the_documented_shape_and_round_trips() -> None:
    frame = market.encode_trade("BTC-USDT", 130639474, "42219.9", "0.12060306", Side.BUY,
                                1630048897897 * MS, count=3, seq_id=1234)
    assert json.loads(frame) == load("ws_trades")
    assert market.parse_market(frame, 0) == [Trade("BTC-USDT", 42219.9, 0.12060306, Side.BUY,
                                                   1630048897897 * MS, 130639474)]


def test_rest_snapshot_reproduces_the_doc_example_and_round_trips() -> None:
    body = market.encode_rest_snapshot([("41006.3", "0.30178218", 2)],
                                       [("41006.8", "0.60038921", 1)], 1629966436396 * MS,
                                       3235851742)
    assert body == load("rest_books")
    assert market.parse_rest_snapshot(body, "BTC-USDT") == BookSnapshot(
        "BTC-USDT", [(41006.3, 0.30178218)], [(41006.8, 0.60038921)], 3235851742,
        1629966436396 * MS)


def test_decimal_and_float_inputs_become_plain_strings() -> None:
    frame = market.encode_trade("BTC-USDT", 1, Decimal("1E+2"), 0.00000001, Side.SELL, T)
    item = json.loads(frame)["data"][0]
    assert (item["px"], item["sz"], item["side"]) == ("100", "0.00000001", "sell")


def test_event_encoders_match_the_doc_examples() -> None:
    assert json.loads(market.encode_subscribe_ack(
        {"channel": "tickers", "instId": "BTC-USDT"}, "accb8e21", "1512")) == load(
        "ws_subscribe_ack")
    msg = load("ws_subscribe_error")["msg"]
    assert json.loads(errors.encode_ws_error("60012", msg, "a4d3ae55", "1512")) == load(
        "ws_subscribe_error")
    assert json.loads(errors.encode_notice("64008", load("ws_notice")["msg"], "a4d3ae55")) == \
        load("ws_notice")
    assert json.loads(market.encode_conn_count("orders", 2, "abcd1234")) == load(
        "ws_channel_conn_count")
    assert market.encode_pong() == "pong"
    assert market.parse_market(market.encode_pong(), 0) == [Control("pong", {})]


def test_subscribe_builder_and_server_decoder_agree() -> None:
    [frame] = market.build_subscribe(["BTC-USDT", "ETH-USDT"], ["books", "trades"], "7")
    req = market.decode_public_request(frame)
    assert isinstance(req, market.ChannelRequest) and req.op == "subscribe" and req.req_id == "7"
    assert req.args == ({"channel": "books", "instId": "BTC-USDT"},
                        {"channel": "trades", "instId": "BTC-USDT"},
                        {"channel": "books", "instId": "ETH-USDT"},
                        {"channel": "trades", "instId": "ETH-USDT"})
    assert json.loads(market.build_unsubscribe(["BTC-USDT"], ["books"])[0]) == {
        "op": "unsubscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
    assert isinstance(market.decode_public_request("ping"), market.PingRequest)


def test_subscribe_request_matches_the_doc_example() -> None:
    [frame] = market.build_subscribe(["BTC-USDT"], ["tickers"], "1512")
    assert json.loads(frame) == load("ws_subscribe_request")


def test_subscribe_splits_frames_at_64kb_of_args() -> None:
    syms = [f"COIN{i}-USDT" for i in range(3000)]
    frames = market.build_subscribe(syms, ["books"])
    assert len(frames) > 1
    assert all(len(json.dumps(json.loads(f)["args"], separators=(",", ":"))) <= 64 * 1024
               for f in frames)
    assert sum(len(json.loads(f)["args"]) for f in frames) == 3000


def test_bad_request_ids_are_refused() -> None:
    with pytest.raises(errors.ProtocolError):
        market.build_subscribe(["BTC-USDT"], ["books"], "has space")
    with pytest.raises(errors.ProtocolError):
        market.build_subscribe(["BTC-USDT"], ["books"], "x" * 33)


@pytest.mark.parametrize("frame,code", [
    ("not json", "60012"), ("[1]", "60012"), ('{"op":"subscribe"}', "60012"),
    ('{"op":"subscribe","args":[{"channel":1}]}', "60013"), ('{"op":"jump","args":[]}', "60012"),
    ('{"id":"bad id","op":"subscribe","args":[{"channel":"books"}]}', "60012"),
])
def test_server_rejects_bad_public_requests_with_the_okx_code(frame: str, code: str) -> None:
    with pytest.raises(errors.RequestError) as exc:
        market.decode_public_request(frame)
    assert exc.value.code == code


def test_snapshot_request_is_the_books_endpoint() -> None:
    req = market.snapshot_request("BTC-USDT")
    assert (req.method, req.request_path) == ("GET", "/api/v5/market/books?instId=BTC-USDT&sz=400")


def test_checksum_doc_worked_examples() -> None:
    bids, asks = [["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]]
    assert checksum.checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert checksum.checksum_of(bids, asks) == -1881014294
    bids2, asks2 = [["3366.1", "7"]], [["3366.8", "9"], ["3368", "8"], ["3372", "8"]]
    assert checksum.checksum_string(bids2, asks2) == "3366.1:7:3366.8:9:3368:8:3372:8"
    assert checksum.checksum_of(bids2, asks2) == 831078360


def test_checksum_uses_25_levels_and_float_books_match_normalised_strings() -> None:
    bids = [[str(1000 - i), "1.5"] for i in range(30)]
    asks = [[str(1001 + i), "0.00000001"] for i in range(30)]
    s = checksum.checksum_string(bids, asks)
    assert s.count(":") == 4 * 25 - 1 and "975" not in s.split(":")[::2]
    fb = [(float(p), float(q)) for p, q in bids]
    fa = [(float(p), float(q)) for p, q in asks]
    assert checksum.checksum_of_floats(fb, fa) == checksum.checksum_of(bids, asks)
