"""The `@bookTicker` fast path agrees with `parse_market` on every frame, well-formed or not,
and is taken for the frames Binance (and the simulator) actually send."""
from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from feeds.binance.protocol import _wire
from feeds.binance.protocol import market as M
from feeds.binance.protocol.market_fast import levels, parse_bbo_fast, parse_trade_fast
from pipeline.marketdata import Trade
from pipeline.model import Side

from ..bbo_fast import (
    SETTINGS,
    assert_agrees,
    assert_levels_agree,
    compact,
    good_ids,
    good_nums,
    ids,
    level_lists,
    mutate_text,
    near_miss,
    nums,
    obj,
    respellings,
)
from .conftest import fixture_json

symbols = st.one_of(st.sampled_from(["BTCUSDT", "btcusdt", "1000SATSUSDT", "", "A" * 41]),
                    st.text(max_size=6))
streams = st.one_of(st.text(max_size=12), st.sampled_from(
    ["btcusdt@depth@100ms", "BTCUSDT@bookTicker", "@bookTicker", "btcusdt@bookTickerX"]))
GOOD = {"stream": "btcusdt@bookTicker", "u": 400900217, "s": "BTCUSDT", "b": "25.35190000",
        "B": "31.21000000", "a": "25.36520000", "A": "40.66000000"}
HOSTILE = {"stream": streams, "u": ids, "s": symbols, "b": nums, "B": nums, "a": nums, "A": nums}


def _frame(f: dict[str, Any], ascii_only: bool = True) -> str:
    inner = obj(**{k: v for k, v in f.items() if k != "stream"})
    return compact(obj(stream=f["stream"], data=inner), ascii_only)


@SETTINGS
@given(st.data())
def test_a_frame_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, GOOD, HOSTILE, extra_keys=("e", "lastUpdateId", "x"))
    assert_agrees(parse_bbo_fast, M.parse_market, _frame(f, data.draw(st.booleans())))


@SETTINGS
@given(st.data(), good_ids, good_nums, good_nums, good_nums, good_nums)
def test_one_edit_of_a_good_frame_agrees_with_parse_market(data: st.DataObject, u: int, b: str,
                                                           bq: str, a: str, aq: str) -> None:
    text = _frame({**GOOD, "u": u, "b": b, "B": bq, "a": a, "A": aq})
    assert_agrees(parse_bbo_fast, M.parse_market, mutate_text(text, data))


@SETTINGS
@given(good_ids, st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True), good_nums, good_nums,
       good_nums, good_nums)
def test_well_formed_book_tickers_take_the_fast_path(u: int, s: str, b: str, bq: str, a: str,
                                                     aq: str) -> None:
    frame = _frame({"stream": f"{s.lower()}@bookTicker", "u": u, "s": s, "b": b, "B": bq,
                    "a": a, "A": aq})
    assert assert_agrees(parse_bbo_fast, M.parse_market, frame) is not None


def test_the_documented_example_and_the_simulators_frames_take_the_fast_path() -> None:
    doc = {"stream": "bnbusdt@bookTicker", "data": fixture_json("ws_book_ticker.json")}
    assert assert_agrees(parse_bbo_fast, M.parse_market, compact(doc)) == (
        "BNBUSDT", 25.3519, 31.21, 25.3652, 40.66, 0, 400900217)
    sim = M.wrap_combined("btcusdt@bookTicker",
                          M.encode_bbo("BTCUSDT", "65000.1", "0.5", "65000.2", "1.25", 7))
    assert assert_agrees(parse_bbo_fast, M.parse_market, sim) is not None


def test_other_frames_whitespace_and_bytes_are_declined() -> None:
    pretty = '{"stream": "bnbusdt@bookTicker", "data": ' + \
        compact(fixture_json("ws_book_ticker.json")).replace(",", ", ") + "}"
    for frame in (pretty, pretty.encode(), compact(fixture_json("ws_depth_update.json")),
                  compact(fixture_json("ws_book_ticker.json")),  # raw stream: no envelope
                  compact({"stream": "x@trade", "data": fixture_json("ws_trade.json")})):
        assert parse_bbo_fast(frame) is None
    assert parse_bbo_fast(pretty) is None and M.parse_market(pretty, 0)  # general path parses


def test_every_token_respelled_agrees_with_parse_market() -> None:
    text = _frame(GOOD)
    for frame in respellings(text):
        assert_agrees(parse_bbo_fast, M.parse_market, frame)


@SETTINGS
@given(level_lists(2))
def test_depth_levels_parse_exactly_as_the_strict_reader(v: Any) -> None:
    assert_levels_agree(levels, _wire.levels, v)


def test_depth_levels_of_a_real_book_frame_take_the_fast_way() -> None:
    v = [[f"{65000 + k / 10:.1f}", "0.5", "0", "1"][:2] for k in range(20)]
    assert levels(v, "bids") == [(65000 + k / 10, 0.5) for k in range(20)]
    assert_levels_agree(levels, _wire.levels, v)


# -- trades ------------------------------------------------------------------------------------
T_GOOD = {"stream": "bnbbtc@trade", "e": "trade", "E": 1672515782136, "s": "BNBBTC", "t": 12345,
          "p": "0.001", "q": "100", "T": 1672515782136, "m": True, "M": True}
T_HOSTILE = {"stream": streams, "e": st.sampled_from(["aggTrade", "depthUpdate", "", 1]),
             "E": ids, "s": symbols, "t": ids, "p": nums, "q": nums, "T": ids,
             "m": st.sampled_from([1, 0, "true", None]), "M": st.sampled_from([1, "x", None])}


@SETTINGS
@given(st.data())
def test_a_trade_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, T_GOOD, T_HOSTILE, extra_keys=("b", "a", "x"))
    assert_agrees(parse_trade_fast, M.parse_market, _frame(f, data.draw(st.booleans())), Trade)


@SETTINGS
@given(st.data(), good_ids, good_nums, good_nums, st.integers(0, 8 * 10**12), st.booleans())
def test_one_edit_of_a_good_trade_agrees_with_parse_market(data: st.DataObject, t: int, p: str,
                                                           q: str, ts: int, m: bool) -> None:
    text = _frame({**T_GOOD, "t": t, "p": p, "q": q, "T": ts, "m": m})
    got = assert_agrees(parse_trade_fast, M.parse_market, mutate_text(text, data), Trade)
    if got is not None and data.draw(st.booleans()):
        assert parse_bbo_fast(text) is None  # one shape per fast path


def test_every_trade_token_respelled_agrees_with_parse_market() -> None:
    for frame in respellings(_frame(T_GOOD)):
        assert_agrees(parse_trade_fast, M.parse_market, frame, Trade)


def test_the_documented_trade_and_the_simulators_take_the_fast_path() -> None:
    doc = compact({"stream": "bnbbtc@trade", "data": fixture_json("ws_trade.json")})
    assert assert_agrees(parse_trade_fast, M.parse_market, doc, Trade) == (
        "BNBBTC", 0.001, 100.0, -1, 1672515782136 * 10**6, 12345)
    sim = M.wrap_combined("btcusdt@trade", M.encode_trade(
        "BTCUSDT", 77, "65000.1", "0.25", Side.BUY, 1_700_000_000_123 * 10**6,
        1_700_000_000_124 * 10**6))
    assert assert_agrees(parse_trade_fast, M.parse_market, sim, Trade)[3] == 1
