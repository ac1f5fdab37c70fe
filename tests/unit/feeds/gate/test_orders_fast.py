"""The Gate gateway's fast paths agree with the strict codec: `GateOrdersFast.parse` returns what
`parse_private` returns and `api_result_reports` what the strict one returns (or they decline)
on every frame, real or hostile, and the f-string requests are the general builders' bytes."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.gate.protocol import orders as O
from feeds.gate.protocol.orders_fast import GateOrdersFast
from feeds.gate.protocol.requests_fast import cancel_frame, place_frame
from pipeline.errors import ProtocolError
from pipeline.messages import CancelOrder, ExecReport, NewOrder
from pipeline.model import OrderType, Side, TimeInForce

from ..bbo_fast import SETTINGS, mutate_text, respellings
from ..orders_fast import agrees, compact, fixture_text, near_miss_doc, sim_frames, sim_requests
from .conftest import instrument

BTC = instrument("BTC_USDT", "0.1", "0.000001")
INSTRUMENTS = {"BTC_USDT": BTC, "GT_USDT": instrument("GT_USDT", "0.0001", "0.01")}
FAST = GateOrdersFast()  # one memo across every example, as in a gateway


def fast(frame: Any) -> list[Any] | None:
    """The frame through the fast paths as the adapter runs them (a declined result: the
    strict `api_result_reports`)."""
    recs = FAST.parse(frame, 7, INSTRUMENTS)
    if recs is None:
        return None
    out = []
    for r in recs:
        out.append(r)
        if isinstance(r, O.ApiResponse):
            reports = FAST.api_result_reports(r, INSTRUMENTS, 7)
            if reports is None:
                try:
                    reports = O.api_result_reports(r, INSTRUMENTS, 7)
                except ProtocolError:  # the strict parser refuses the frame: a drop either way
                    return None
            out += reports
    return out


def strict(frame: Any) -> list[Any]:
    out = []
    for r in O.parse_private(frame, 7, INSTRUMENTS):
        out.append(r)
        if isinstance(r, O.ApiResponse):
            out += O.api_result_reports(r, INSTRUMENTS, 7)
    return out


def fast_api(frame: Any) -> list[Any] | None:
    """`api_result_reports` alone, on an ApiResponse the strict parser made."""
    try:
        recs = O.parse_private(frame, 7, INSTRUMENTS)
    except ProtocolError:
        return None
    rs = [r for r in recs if isinstance(r, O.ApiResponse)]
    return FAST.api_result_reports(rs[0], INSTRUMENTS, 7) if rs else None


def strict_api(frame: Any) -> list[Any]:
    r = next(r for r in O.parse_private(frame, 7, INSTRUMENTS) if isinstance(r, O.ApiResponse))
    return O.api_result_reports(r, INSTRUMENTS, 7)


SIM = sim_frames("gate")
DOCS = [fixture_text("gate", n) for n in (
    "ws_api_order_place_ack", "ws_api_order_place_result", "ws_orders_push", "ws_api_error_429",
    "ws_api_login_response", "rest_order_create_response")]
CORPUS = SIM + DOCS


def test_every_frame_the_simulator_sends_takes_the_fast_path_and_agrees() -> None:
    assert len(SIM) >= 10
    orders_frames = [f for f in SIM if "spot.usertrades" not in f]
    for frame in orders_frames:
        assert agrees(fast, strict, frame), frame[:200]
    reports = [r for f in SIM for r in strict(f) if isinstance(r, ExecReport)]
    assert {r.exec_type.name for r in reports} >= {"NEW", "CANCELED", "TRADE", "EXPIRED"}


def test_documented_examples_agree() -> None:
    for frame in DOCS:
        agrees(fast, strict, frame)
        agrees(fast_api, strict_api, frame)
    assert agrees(fast, strict, fixture_text("gate", "ws_orders_push"))


@pytest.mark.parametrize("frame", CORPUS, ids=range(len(CORPUS)))
def test_every_token_respelled_agrees_or_declines(frame: str) -> None:
    for variant in respellings(frame):
        agrees(fast, strict, variant)
        agrees(fast_api, strict_api, variant)


@SETTINGS
@given(st.data())
def test_a_hostile_field_agrees_or_declines(data: st.DataObject) -> None:
    doc = json.loads(data.draw(st.sampled_from(CORPUS)))
    frame = compact(near_miss_doc(data, doc))
    agrees(fast, strict, frame)
    agrees(fast_api, strict_api, frame)


@SETTINGS
@given(st.data())
def test_an_edited_frame_agrees_or_declines(data: st.DataObject) -> None:
    frame = mutate_text(data.draw(st.sampled_from(CORPUS)), data)
    agrees(fast, strict, frame)
    agrees(fast, strict, frame.encode())


def test_a_relisted_instrument_is_read_with_its_new_grid() -> None:
    f = GateOrdersFast()
    frame = next(x for x in SIM if '"event":"put"' in x)
    old = f.parse(frame, 1, INSTRUMENTS)
    finer = {"BTC_USDT": instrument("BTC_USDT", "0.01", "0.000001")}
    new = f.parse(frame, 1, finer)
    assert old and new and new == O.parse_private(frame, 1, finer)
    assert new[0].price_ticks == old[0].price_ticks * 10


# -- requests -----------------------------------------------------------------------------------
ids = st.one_of(st.from_regex(r"[0-9A-Za-z_.-]{1,28}", fullmatch=True), st.text(max_size=30),
                st.sampled_from(["", "a b", "x" * 29, "é", "1\n", 'q"']))


@SETTINGS
@given(cid=ids, side=st.sampled_from(Side), ticks=st.integers(-5, 10**12),
       lots=st.integers(-5, 10**12), tif=st.sampled_from(TimeInForce),
       otype=st.sampled_from(OrderType), rid=ids, ts=st.integers(-1, 2**64))
def test_place_frames_are_the_builders_bytes(cid: str, side: Side, ticks: int, lots: int,
                                             tif: TimeInForce, otype: OrderType, rid: str,
                                             ts: int) -> None:
    order = NewOrder(cid, "gate", "BTC/USDT", side, ticks, lots, otype, tif)
    frame = place_frame(order, BTC, rid, ts)
    if frame is not None:
        assert frame == O.build_order_place(order, BTC, rid, ts)


@SETTINGS
@given(cid=ids, vid=st.one_of(st.just(""), ids), rid=ids, ts=st.integers(-1, 2**64))
def test_cancel_frames_are_the_builders_bytes(cid: str, vid: str, rid: str, ts: int) -> None:
    cancel = CancelOrder(cid, "gate", "BTC/USDT", vid)
    frame = cancel_frame(cancel, BTC, rid, ts)
    if frame is not None:
        assert frame == O.build_order_cancel(cancel, BTC, rid, ts)


def test_the_simulated_cycle_requests_are_rebuilt_byte_for_byte() -> None:
    seen = 0
    for frame in sim_requests("gate"):
        d = json.loads(frame)
        p, rid = d["payload"]["req_param"], d["payload"]["req_id"]
        if d["channel"] == "spot.order_place":
            tif = {"poc": TimeInForce.POST_ONLY, "ioc": TimeInForce.IOC}[p["time_in_force"]]
            order = NewOrder(p["text"][2:], "gate", "BTC/USDT", Side[p["side"].upper()],
                             BTC.price_to_ticks(p["price"]), BTC.qty_to_lots(p["amount"]),
                             tif=tif)
            assert place_frame(order, BTC, rid, d["time"]) == frame
            seen += 1
        elif d["channel"] == "spot.order_cancel":
            cancel = CancelOrder(p["order_id"][2:], "gate", "BTC/USDT")
            assert cancel_frame(cancel, BTC, rid, d["time"]) == frame
            seen += 1
    assert seen >= 5
