"""The `spot.book_ticker` fast path agrees with `parse_market` on every frame, well-formed or
not, and is taken for the frames Gate (and the simulator) actually send."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from feeds.gate.protocol import _wire
from feeds.gate.protocol import market as M
from feeds.gate.protocol.market_fast import levels, parse_bbo_fast, parse_trade_fast
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
from .conftest import FIXTURES

symbols = st.one_of(st.sampled_from(["GT_USDT", "btc_usdt", "", "A" * 41]), st.text(max_size=6))
ms = st.one_of(st.sampled_from([0, 9223372036854, 9223372036855, 10**13, 10**14, -1, "12",
                                "12.5"]),
               st.integers(0, 10**15), ids)
ENVELOPE = ("time", "time_ms", "channel", "event", "error")
GOOD = {"time": 1606293275, "time_ms": 1606293275723, "channel": "spot.book_ticker",
        "event": "update", "t": 1606293275123, "u": 48733182, "s": "BTC_USDT", "b": "19177.79",
        "B": "0.0003341504", "a": "19179.38", "A": "0.09"}
HOSTILE = {"time": ids, "time_ms": ids, "channel": st.sampled_from(["spot.trades", "spot.ping",
                                                                      "spot_book_ticker", 5]),
           "event": st.sampled_from(["subscribe", "all", None, ""]), "t": ms, "u": ids,
           "s": symbols, "b": nums, "B": nums, "a": nums, "A": nums}


def _frame(f: dict[str, Any], ascii_only: bool = True) -> str:
    env = {k: f[k] for k in ENVELOPE if k in f}
    result = obj(**{k: v for k, v in f.items() if k not in ENVELOPE})
    return compact(obj(**env, result=result), ascii_only)


@SETTINGS
@given(st.data())
def test_a_frame_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, GOOD, HOSTILE, extra_keys=("error", "x"))
    assert_agrees(parse_bbo_fast, M.parse_market, _frame(f, data.draw(st.booleans())))


@SETTINGS
@given(st.data(), st.integers(0, 8 * 10**12), good_ids, good_nums, good_nums, good_nums,
       good_nums)
def test_one_edit_of_a_good_frame_agrees_with_parse_market(data: st.DataObject, t: int, u: int,
                                                           b: str, bq: str, a: str,
                                                           aq: str) -> None:
    text = _frame({**GOOD, "t": t, "u": u, "b": b, "B": bq, "a": a, "A": aq})
    assert_agrees(parse_bbo_fast, M.parse_market, mutate_text(text, data))


@SETTINGS
@given(st.integers(0, 8 * 10**12), good_ids, st.from_regex(r"[A-Z0-9]{1,6}_[A-Z0-9]{1,6}",
                                                            fullmatch=True),
       good_nums, good_nums, good_nums, good_nums)
def test_well_formed_book_tickers_take_the_fast_path(t: int, u: int, s: str, b: str, bq: str,
                                                     a: str, aq: str) -> None:
    frame = _frame({**GOOD, "t": t, "u": u, "s": s, "b": b, "B": bq, "a": a, "A": aq})
    assert assert_agrees(parse_bbo_fast, M.parse_market, frame) is not None


def test_the_documented_example_and_the_simulators_frames_take_the_fast_path() -> None:
    doc = json.loads((FIXTURES / "ws_book_ticker.json").read_text())
    assert assert_agrees(parse_bbo_fast, M.parse_market, compact(doc)) == (
        "BTC_USDT", 19177.79, 0.0003341504, 19179.38, 0.09, 1606293275123 * 10**6, 48733182)
    sim = M.encode_bbo("BTC_USDT", "65000.1", "0.5", "65000.2", "1.25", 42,
                       1_700_000_000 * 10**9)
    assert assert_agrees(parse_bbo_fast, M.parse_market, sim) is not None


def test_other_frames_whitespace_and_bytes_are_declined() -> None:
    doc = json.loads((FIXTURES / "ws_book_ticker.json").read_text())
    for frame in (json.dumps(doc), compact(doc).encode(),
                  (FIXTURES / "ws_order_book_update.json").read_text(),
                  (FIXTURES / "ws_pong.json").read_text()):
        assert parse_bbo_fast(frame) is None
    assert M.parse_market(json.dumps(doc), 0)  # the general path still parses it


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
T_GOOD = {"time": 1606292218, "time_ms": 1606292218231, "channel": "spot.trades",
          "event": "update", "id": 309143071, "id_market": 2390902, "create_time": 1606292218,
          "create_time_ms": "1606292218213.4578", "side": "sell", "currency_pair": "GT_USDT",
          "amount": "16.4700000000", "price": "0.4705000000", "range": "2390902-2390902"}
ms_strings = st.one_of(st.from_regex(r"[0-9]{1,14}(\.[0-9]{0,12})?", fullmatch=True),
                       st.sampled_from(["9223372036854.775807", "9223372036855", ".5", "1e3",
                                        "1.99999999999999999999999",
                                        "1606292218213.99999999999999999999"]), ids)
T_HOSTILE = {"time": ids, "time_ms": ids, "channel": st.sampled_from(["spot.trades_v2", ""]),
             "event": st.sampled_from(["subscribe", None]), "id": ids, "id_market": ids,
             "create_time": ids, "create_time_ms": ms_strings,
             "side": st.sampled_from(["BUY", "", None]), "currency_pair": symbols,
             "amount": nums, "price": nums, "range": st.one_of(st.text(max_size=6), ids)}


def _trade_frame(f: dict[str, Any], ascii_only: bool = True) -> str:
    env = {k: f[k] for k in ENVELOPE if k in f}
    result = obj(**{k: v for k, v in f.items() if k not in ENVELOPE})
    return compact(obj(**env, result=result), ascii_only)


@SETTINGS
@given(st.data())
def test_a_trade_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, T_GOOD, T_HOSTILE, extra_keys=("error", "x"))
    assert_agrees(parse_trade_fast, M.parse_market, _trade_frame(f, data.draw(st.booleans())),
                  Trade)


@SETTINGS
@given(st.data(), good_ids, st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,12})?", fullmatch=True),
       good_nums, good_nums, st.sampled_from(["buy", "sell"]))
def test_one_edit_of_a_good_trade_agrees_with_parse_market(data: st.DataObject, tid: int,
                                                           ts: str, price: str, amount: str,
                                                           side: str) -> None:
    text = _trade_frame({**T_GOOD, "id_market": tid, "create_time_ms": ts, "price": price,
                         "amount": amount, "side": side})
    assert_agrees(parse_trade_fast, M.parse_market, mutate_text(text, data), Trade)


def test_every_trade_token_respelled_agrees_with_parse_market() -> None:
    for frame in respellings(_trade_frame(T_GOOD)):
        assert_agrees(parse_trade_fast, M.parse_market, frame, Trade)


def test_sub_millisecond_times_are_exact() -> None:
    for ms, ns in (("1606292218213.4578", 1606292218213457800), ("1.000000999", 1_000_000),
                   ("7", 7_000_000), ("0.1", 100_000), ("12.123456789", 12_123_456)):
        got = assert_agrees(parse_trade_fast, M.parse_market,
                            _trade_frame({**T_GOOD, "create_time_ms": ms}), Trade)
        assert got is not None and got[4] == ns
    # longer fractions: Decimal's 28 digits round where truncation would not (the fast path
    # declines those; whatever it does must agree with parse_market)
    for ms in ("1606292218213.99999999999999999999", "1606292218213.9999999999",
               "1.9999999999999999999999999999", "1606292218213.0000000000000000000001"):
        assert_agrees(parse_trade_fast, M.parse_market,
                      _trade_frame({**T_GOOD, "create_time_ms": ms}), Trade)


def test_the_documented_trade_and_the_simulators_take_the_fast_path() -> None:
    doc = json.loads((FIXTURES / "ws_trades.json").read_text())
    assert assert_agrees(parse_trade_fast, M.parse_market, compact(doc), Trade) == (
        "GT_USDT", 0.4705, 16.47, -1, 1606292218213457800, 2390902)
    sim = M.encode_trade("BTC_USDT", 99, "65000.1", "0.25", Side.BUY, 1_700_000_000_123_456_789)
    assert assert_agrees(parse_trade_fast, M.parse_market, sim, Trade)[3] == 1
