"""The Binance gateway's fast paths agree with the strict codec: `BinanceOrdersFast.parse`
returns what `parse_private` returns (or declines) on every frame, real or hostile, and the
pre-keyed signer writes the general builders' bytes and signatures (signing vectors too)."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.binance.protocol import orders as O
from feeds.binance.protocol.orders_fast import BinanceOrdersFast
from feeds.binance.protocol.requests_fast import BinanceSigner
from feeds.sim.endpoints import SIM_CREDENTIALS
from pipeline.messages import CancelOrder, ExecReport, NewOrder
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from ..bbo_fast import SETTINGS, mutate_text, respellings
from ..orders_fast import agrees, compact, fixture_text, near_miss_doc, sim_frames, sim_requests
from .conftest import VECTORS, inst

BTC = inst("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", min_qty=Decimal("0.00001"))
ETH = inst("ETHBTC", "ETH", "BTC", "0.00000001", "0.001")
INSTRUMENTS = {"BTCUSDT": BTC, "ETHBTC": ETH}
FAST = BinanceOrdersFast()  # one memo across every example, as in a gateway


def fast(frame: Any) -> list[Any] | None:
    return FAST.parse(frame, 7, INSTRUMENTS)


def strict(frame: Any) -> list[Any]:
    return O.parse_private(frame, 7, INSTRUMENTS)


SIM = sim_frames("binance")
DOCS = [fixture_text("binance", n) for n in (
    "ws_user_execution_report", "ws_api_order_place_response", "ws_api_order_place_error",
    "ws_api_user_data_subscribe_response", "ws_user_stream_terminated")]
CORPUS = SIM + DOCS


def test_every_frame_the_simulator_sends_takes_the_fast_path_and_agrees() -> None:
    assert len(SIM) >= 12
    for frame in SIM:
        assert agrees(fast, strict, frame), frame[:200]
    kinds = {type(r).__name__ for f in SIM for r in strict(f)}
    assert kinds == {"WsApiResponse", "ExecReport", "AccountPosition"}
    reports = [r for f in SIM for r in strict(f) if isinstance(r, ExecReport)]
    assert {r.exec_type.name for r in reports} >= {"NEW", "CANCELED", "TRADE", "EXPIRED"}
    assert any(r.fee != 0 for r in reports)


def test_documented_examples_agree() -> None:
    for frame in DOCS:
        agrees(fast, strict, frame)
    assert agrees(fast, strict, fixture_text("binance", "ws_user_execution_report"))


@pytest.mark.parametrize("frame", CORPUS, ids=range(len(CORPUS)))
def test_every_token_respelled_agrees_or_declines(frame: str) -> None:
    for variant in respellings(frame):
        agrees(fast, strict, variant)


@SETTINGS
@given(st.data())
def test_a_hostile_field_agrees_or_declines(data: st.DataObject) -> None:
    doc = json.loads(data.draw(st.sampled_from(CORPUS)))
    agrees(fast, strict, compact(near_miss_doc(data, doc)))


@SETTINGS
@given(st.data())
def test_an_edited_frame_agrees_or_declines(data: st.DataObject) -> None:
    frame = mutate_text(data.draw(st.sampled_from(CORPUS)), data)
    agrees(fast, strict, frame)
    agrees(fast, strict, frame.encode())


def test_a_relisted_instrument_is_read_with_its_new_grid() -> None:
    f = BinanceOrdersFast()
    frame = next(x for x in SIM if '"x":"NEW"' in x)
    old = f.parse(frame, 1, INSTRUMENTS)
    finer = {"BTCUSDT": inst("BTCUSDT", "BTC", "USDT", "0.001", "0.00001")}
    new = f.parse(frame, 1, finer)
    assert old and new and new == O.parse_private(frame, 1, finer)
    assert new[0].price_ticks == old[0].price_ticks * 10


# -- requests -----------------------------------------------------------------------------------
KEY, SECRET, _ = SIM_CREDENTIALS["binance"]
ids = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True), st.text(max_size=38),
                st.sampled_from(["", "a b", "x" * 37, "é", "1\n", 'q"']))
windows = st.sampled_from([None, 5000, 0, True, 2**64])
keys = st.sampled_from([KEY, 'k"ey\\', "ключ"])


@SETTINGS
@given(cid=ids, side=st.sampled_from(Side), ticks=st.integers(-5, 10**12),
       lots=st.integers(-5, 10**12), tif=st.sampled_from(TimeInForce),
       otype=st.sampled_from(OrderType), rid=ids, ts=st.integers(-1, 2**64), rw=windows,
       key=keys)
def test_place_frames_are_the_builders_bytes(cid: str, side: Side, ticks: int, lots: int,
                                             tif: TimeInForce, otype: OrderType, rid: str,
                                             ts: int, rw: Any, key: str) -> None:
    order = NewOrder(cid, "binance", "BTC/USDT", side, ticks, lots, otype, tif)
    frame = BinanceSigner(key, SECRET, rw).place(order, BTC, ts, rid)
    if frame is not None:
        assert frame == O.build_order_place(order, BTC, key, SECRET, ts, rid, recv_window=rw)


@SETTINGS
@given(cid=ids, vid=st.one_of(st.just(""), ids, st.from_regex(r"[0-9]{1,21}", fullmatch=True)),
       rid=ids, ts=st.integers(-1, 2**64), rw=windows, key=keys)
def test_cancel_frames_are_the_builders_bytes(cid: str, vid: str, rid: str, ts: int, rw: Any,
                                              key: str) -> None:
    cancel = CancelOrder(cid, "binance", "BTC/USDT", vid)
    frame = BinanceSigner(key, SECRET, rw).cancel(cancel, BTC, ts, rid)
    if frame is not None:
        assert frame == O.build_order_cancel(cancel, BTC, key, SECRET, ts, rid, recv_window=rw)


def test_the_simulated_cycle_requests_are_rebuilt_byte_for_byte() -> None:
    """Every place and cancel the gateway sent in the captured cycle (the simulator checked
    their signatures) comes out of the signer byte for byte, signature included."""
    signer, seen = BinanceSigner(KEY, SECRET, None), 0
    for frame in sim_requests("binance"):
        d = json.loads(frame)
        p = d["params"]
        if d["method"] == "order.place":
            tif = TimeInForce.POST_ONLY if p["type"] == "LIMIT_MAKER" else \
                TimeInForce[p["timeInForce"]]
            order = NewOrder(p["newClientOrderId"], "binance", "BTC/USDT",
                             Side[p["side"]], BTC.price_to_ticks(p["price"]),
                             BTC.qty_to_lots(p["quantity"]), tif=tif)
            assert signer.place(order, BTC, p["timestamp"], d["id"]) == frame
            seen += 1
        elif d["method"] == "order.cancel":
            cancel = CancelOrder(p["origClientOrderId"], "binance", "BTC/USDT")
            assert signer.cancel(cancel, BTC, p["timestamp"], d["id"]) == frame
            seen += 1
    assert seen >= 5


def test_the_prekeyed_hmac_passes_the_ws_signing_vectors() -> None:
    vectors = [v for v in json.loads(VECTORS.read_text())
               if v["exchange"] == "binance" and "params" in v["inputs"]]
    assert vectors
    for v in vectors:
        signer = BinanceSigner(v["key"], v["secret"], None)
        assert signer._sign(v["string_to_sign"]) == v["expected_signature"]
    cancel = next(v for v in vectors if v["kind"] == "ws_api_order_cancel")
    p = cancel["inputs"]["params"]
    frame = BinanceSigner(p["apiKey"], cancel["secret"], None).cancel(
        CancelOrder(p["origClientOrderId"], "binance", "BTC/USDT"),
        Instrument("binance", "BTC/USDT", p["symbol"], "BTC", "USDT", Decimal("0.01"),
                   Decimal("0.00001")), p["timestamp"], "1")
    assert frame is not None
    assert json.loads(frame)["params"]["signature"] == cancel["expected_signature"]
