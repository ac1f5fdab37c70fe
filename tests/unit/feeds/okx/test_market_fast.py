"""The `bbo-tbt` fast path agrees with `parse_market` on every frame, well-formed or not, and
is taken for the frames OKX (and the simulator) actually send."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from feeds.okx.protocol import _wire
from feeds.okx.protocol import market as M
from feeds.okx.protocol.market_fast import levels, parse_bbo_fast, parse_trade_fast
from pipeline.marketdata import Trade
from pipeline.model import Side

from ..bbo_fast import (
    DROP,
    SETTINGS,
    assert_agrees,
    assert_levels_agree,
    compact,
    good_ids,
    good_nums,
    ids,
    json_scalars,
    level_lists,
    mutate_text,
    near_miss,
    nums,
    obj,
    respellings,
)
from ._helpers import FIXTURES

inst_ids = st.one_of(st.sampled_from(["BCH-USDT-SWAP", "btc-usdt", "", "A" * 41]),
                     st.text(max_size=6))
ms = st.one_of(st.sampled_from(["", "0", "9223372036854", "9223372036855", "10000000000000",
                                "-1", "1e3", "01"]),
               st.from_regex(r"-?[0-9]{1,15}", fullmatch=True), ids)
counts = st.one_of(st.from_regex(r"[0-9]{0,22}", fullmatch=True), json_scalars)
level_values = st.one_of(st.just([]), st.lists(st.lists(json_scalars, max_size=5), max_size=2))
GOOD = {"channel": "bbo-tbt", "instId": "BTC-USDT", "ask": "111.06", "ask_sz": "55154",
        "liq": "0", "n": "2", "bid": "111.05", "bid_sz": "57745", "ts": "1670324386802",
        "seqId": 363996337, "asks": None, "bids": None, "items": 1}
HOSTILE = {"channel": st.sampled_from(["books5", "tickers", "bbo-tbt ", ""]), "instId": inst_ids,
           "ask": nums, "ask_sz": nums, "liq": counts, "n": counts, "bid": nums,
           "bid_sz": nums, "ts": ms, "seqId": ids, "asks": level_values, "bids": level_values,
           "items": st.sampled_from([0, 2])}


def _frame(f: dict[str, Any], ascii_only: bool = True) -> str:
    def side(px: str, sz: str, given_levels: str) -> Any:
        if f[given_levels] is not None:
            return f[given_levels]
        return [[x for x in (f[px], f[sz], f["liq"], f["n"]) if x is not DROP]]
    item = obj(asks=side("ask", "ask_sz", "asks"), bids=side("bid", "bid_sz", "bids"),
               ts=f["ts"], seqId=f["seqId"], **({"x": f["x"]} if "x" in f else {}))
    arg = obj(channel=f["channel"], instId=f["instId"])
    return compact({"arg": arg, "data": [item] * f["items"]}, ascii_only)


@SETTINGS
@given(st.data())
def test_a_frame_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, GOOD, HOSTILE, extra_keys=("x",))
    if f["items"] is DROP:
        f["items"] = 1
    assert_agrees(parse_bbo_fast, M.parse_market, _frame(f, data.draw(st.booleans())))


@SETTINGS
@given(st.data(), good_nums, good_nums, good_nums, good_nums,
       st.from_regex(r"[0-9]{1,12}", fullmatch=True), good_ids)
def test_one_edit_of_a_good_frame_agrees_with_parse_market(data: st.DataObject, a: str, aq: str,
                                                           b: str, bq: str, ts: str,
                                                           seq: int) -> None:
    text = _frame({**GOOD, "ask": a, "ask_sz": aq, "bid": b, "bid_sz": bq, "ts": ts,
                   "seqId": seq})
    assert_agrees(parse_bbo_fast, M.parse_market, mutate_text(text, data))


@SETTINGS
@given(st.from_regex(r"[A-Z0-9]{1,6}-[A-Z0-9]{1,6}", fullmatch=True), good_nums, good_nums,
       good_nums, good_nums, st.from_regex(r"[0-9]{1,12}", fullmatch=True), good_ids)
def test_well_formed_bbo_pushes_take_the_fast_path(inst: str, a: str, aq: str, b: str, bq: str,
                                                   ts: str, seq: int) -> None:
    frame = _frame({**GOOD, "instId": inst, "ask": a, "ask_sz": aq, "bid": b, "bid_sz": bq,
                    "ts": ts, "seqId": seq})
    assert assert_agrees(parse_bbo_fast, M.parse_market, frame) is not None


def test_the_documented_example_and_the_simulators_frames_take_the_fast_path() -> None:
    doc = json.loads((FIXTURES / "ws_bbo_tbt.json").read_text())
    assert assert_agrees(parse_bbo_fast, M.parse_market, compact(doc)) == (
        "BCH-USDT-SWAP", 111.05, 57745.0, 111.06, 55154.0, 1670324386802 * 10**6, 363996337)
    sim = M.encode_bbo("BTC-USDT", ("65000.1", "0.5"), ("65000.2", "1.25"), 1_700_000_000 * 10**9,
                       42)
    assert assert_agrees(parse_bbo_fast, M.parse_market, sim) is not None


def test_other_frames_whitespace_and_bytes_are_declined() -> None:
    doc = json.loads((FIXTURES / "ws_bbo_tbt.json").read_text())
    empty = M.encode_bbo("BTC-USDT", ("65000.1", "0.5"), None, 1_700_000_000 * 10**9, 42)
    for frame in (json.dumps(doc), compact(doc).encode(), empty, "pong",
                  (FIXTURES / "ws_books_snapshot.json").read_text()):
        assert parse_bbo_fast(frame) is None
    assert M.parse_market(json.dumps(doc), 0) and M.parse_market(empty, 0)  # general path


def test_every_token_respelled_agrees_with_parse_market() -> None:
    text = _frame(GOOD)
    for frame in respellings(text):
        assert_agrees(parse_bbo_fast, M.parse_market, frame)


@SETTINGS
@given(level_lists(4))
def test_depth_levels_parse_exactly_as_the_strict_reader(v: Any) -> None:
    assert_levels_agree(levels, _wire.levels, v)


def test_depth_levels_of_a_real_book_frame_take_the_fast_way() -> None:
    v = [[f"{65000 + k / 10:.1f}", "0.5", "0", "1"][:4] for k in range(20)]
    assert levels(v, "bids") == [(65000 + k / 10, 0.5) for k in range(20)]
    assert_levels_agree(levels, _wire.levels, v)


# -- trades ------------------------------------------------------------------------------------
T_GOOD = {"channel": "trades", "argInstId": "BTC-USDT", "instId": "BTC-USDT",
          "tradeId": "130639474", "px": "42219.9", "sz": "0.12060306", "side": "buy",
          "ts": "1630048897897", "count": "3", "source": "0", "seqId": 1234}
T_HOSTILE = {"channel": st.sampled_from(["trades-all", "bbo-tbt", ""]), "argInstId": inst_ids,
             "instId": inst_ids, "tradeId": st.one_of(ids, counts), "px": nums, "sz": nums,
             "side": st.sampled_from(["BUY", "sell ", "", 1]), "ts": ms, "count": counts,
             "source": counts, "seqId": ids}


def _trade_frame(f: dict[str, Any], ascii_only: bool = True, items: int = 1) -> str:
    item = obj(**{k: v for k, v in f.items() if k not in ("channel", "argInstId")})
    arg = obj(channel=f["channel"], instId=f["argInstId"])
    return compact({"arg": arg, "data": [item] * items}, ascii_only)


@SETTINGS
@given(st.data())
def test_a_trade_with_one_hostile_field_agrees_with_parse_market(data: st.DataObject) -> None:
    f = near_miss(data, T_GOOD, T_HOSTILE, extra_keys=("x", "fillTime"))
    items = data.draw(st.sampled_from([1, 1, 1, 0, 2]))
    frame = _trade_frame(f, data.draw(st.booleans()), items)
    assert_agrees(parse_trade_fast, M.parse_market, frame, Trade)


@SETTINGS
@given(st.data(), good_ids, good_nums, good_nums, st.sampled_from(["buy", "sell"]),
       st.from_regex(r"[0-9]{1,12}", fullmatch=True))
def test_one_edit_of_a_good_trade_agrees_with_parse_market(data: st.DataObject, tid: int,
                                                           px: str, sz: str, side: str,
                                                           ts: str) -> None:
    text = _trade_frame({**T_GOOD, "tradeId": str(tid), "px": px, "sz": sz, "side": side,
                         "ts": ts})
    assert_agrees(parse_trade_fast, M.parse_market, mutate_text(text, data), Trade)


def test_every_trade_token_respelled_agrees_with_parse_market() -> None:
    for frame in respellings(_trade_frame(T_GOOD)):
        assert_agrees(parse_trade_fast, M.parse_market, frame, Trade)


def test_the_simulators_trades_take_the_fast_path() -> None:
    sim = M.encode_trade("BTC-USDT", 99, "65000.1", "0.25", Side.SELL, 1_700_000_000_123 * 10**6,
                         count=2, seq_id=5)
    assert assert_agrees(parse_trade_fast, M.parse_market, sim, Trade) == (
        "BTC-USDT", 65000.1, 0.25, -1, 1_700_000_000_123 * 10**6, 99)
    assert assert_agrees(parse_trade_fast, M.parse_market, _trade_frame(T_GOOD), Trade)
