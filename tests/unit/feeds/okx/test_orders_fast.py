"""The OKX gateway's fast paths agree with the strict codec: `OkxOrdersFast.parse` returns what
`parse_private` returns (or declines) on every frame, real or hostile, and the f-string
requests are the general builders' bytes."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.okx.protocol import orders as O
from feeds.okx.protocol.orders_fast import OkxOrdersFast
from feeds.okx.protocol.requests_fast import cancel_frame, op_frame, place_args
from pipeline.errors import ProtocolError
from pipeline.messages import CancelOrder, ExecReport, NewOrder
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from ..bbo_fast import SETTINGS, mutate_text, respellings
from ..orders_fast import agrees, compact, fixture_text, near_miss_doc, sim_frames, sim_requests


def _inst(code: int | None = 100001, tick: str = "0.1", lot: str = "0.00000001") -> Instrument:
    return Instrument("okx", "BTC/USDT", "BTC-USDT", "BTC", "USDT", Decimal(tick), Decimal(lot),
                      min_qty=Decimal("0.00001"), venue_code=code)


INSTRUMENTS = {"BTC-USDT": _inst()}
FAST = OkxOrdersFast()  # one memo across every example, as in a gateway


def fast(frame: Any) -> list[Any] | None:
    return FAST.parse(frame, 7, INSTRUMENTS)


def strict(frame: Any) -> list[Any]:
    return O.parse_private(frame, 7, INSTRUMENTS)


SIM = sim_frames("okx")
DOCS = [fixture_text("okx", n) for n in ("ws_order_ok", "ws_cancel_ok", "ws_order_fail",
                                         "ws_orders_push", "ws_order_format_error")]
CORPUS = SIM + DOCS


def test_every_frame_the_simulator_sends_takes_the_fast_path_and_agrees() -> None:
    assert len(SIM) >= 8
    for frame in SIM:
        assert agrees(fast, strict, frame), frame[:200]
    kinds = {type(r).__name__ for f in SIM for r in strict(f)}
    assert kinds == {"OpResponse", "ExecReport"}
    # the cycle holds fills (fees as Decimals), venue-side expiries and plain cancels
    reports = [r for f in SIM for r in strict(f) if isinstance(r, ExecReport)]
    assert {r.exec_type.name for r in reports} >= {"NEW", "CANCELED", "TRADE", "EXPIRED"}


def test_documented_examples_agree() -> None:
    for frame in DOCS:
        agrees(fast, strict, frame)
    assert agrees(fast, strict, fixture_text("okx", "ws_order_ok"))


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


def test_non_text_and_garbage_are_declined() -> None:
    for frame in (b"", "", "pong", "[]", "null", '{"op":', bytearray(b"{}"), memoryview(b"{}"),
                  123, None, '{"arg":{"channel":"orders"},"data":[1]}'):
        assert FAST.parse(frame, 1, INSTRUMENTS) is None  # type: ignore[arg-type]


def test_a_relisted_instrument_is_read_with_its_new_grid() -> None:
    f = OkxOrdersFast()
    frame = next(x for x in SIM if '"state":"live"' in x)
    old = f.parse(frame, 1, INSTRUMENTS)
    finer = {"BTC-USDT": _inst(tick="0.01")}
    new = f.parse(frame, 1, finer)
    assert old and new and new == O.parse_private(frame, 1, finer)
    assert new[0].price_ticks == old[0].price_ticks * 10


def test_an_off_grid_price_is_left_to_the_strict_parser() -> None:
    frame = next(x for x in SIM if '"state":"live"' in x).replace('"px":"32500"', '"px":"1.05"')
    assert fast(frame) is None
    with pytest.raises(ProtocolError):
        strict(frame)


# -- requests -----------------------------------------------------------------------------------
ids = st.one_of(st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True),
                st.text(max_size=34), st.sampled_from(["", "a-b", "x" * 33, "é", "1\n"]))
instruments = st.sampled_from([_inst(), _inst(None), _inst(True), _inst(2**64),  # type: ignore
                               _inst(tick="0.01", lot="0.001"), _inst(tick="5", lot="1")])


@SETTINGS
@given(cid=ids, side=st.sampled_from(Side), ticks=st.integers(-5, 10**12),
       lots=st.integers(-5, 10**12), tif=st.sampled_from(TimeInForce),
       otype=st.sampled_from(OrderType), inst=instruments, rid=ids)
def test_place_frames_are_the_builders_bytes(cid: str, side: Side, ticks: int, lots: int,
                                             tif: TimeInForce, otype: OrderType,
                                             inst: Instrument, rid: str) -> None:
    order = NewOrder(cid, "okx", "BTC/USDT", side, ticks, lots, otype, tif)
    args = place_args(order, inst)
    if args is None:
        return
    d = O.order_args(order, inst)  # the fast path only takes what the builder takes
    assert args == O.args_json(d)
    frame = op_frame(rid, "order", args)
    if frame is None:
        with pytest.raises(ProtocolError):
            O.build_op(rid, "order", [d])
    else:
        assert frame == O.build_op(rid, "order", [d]) == O.build_order(order, inst, rid)
        batch = op_frame("b" + rid[:31], "batch-orders", f"{args},{args}")
        assert batch == O.build_op("b" + rid[:31], "batch-orders", [d, d])


@SETTINGS
@given(cid=ids, vid=st.one_of(st.just(""), ids, st.from_regex(r"[0-9]{1,20}", fullmatch=True)),
       inst=instruments, rid=ids)
def test_cancel_frames_are_the_builders_bytes(cid: str, vid: str, inst: Instrument,
                                              rid: str) -> None:
    cancel = CancelOrder(cid, "okx", "BTC/USDT", vid)
    frame = cancel_frame(cancel, inst, rid)
    if frame is not None:
        assert frame == O.build_cancel(cancel, inst, rid)


def test_the_simulated_cycle_requests_are_rebuilt_byte_for_byte() -> None:
    """What the gateway sent in the captured cycle is what the f-strings write."""
    sent = sim_requests("okx")
    inst = replace(_inst(), tick_size=Decimal("0.1"))
    place = json.loads(next(f for f in sent if '"op":"batch-orders"' in f))
    for a in place["args"]:
        order = NewOrder(a["clOrdId"], "okx", "BTC/USDT", Side.BUY,
                         inst.price_to_ticks(a["px"]), inst.qty_to_lots(a["sz"]))
        assert place_args(order, inst) == json.dumps(a, separators=(",", ":"))
    cancel = next(f for f in sent if '"op":"cancel-order"' in f)
    c = json.loads(cancel)
    assert cancel_frame(CancelOrder(c["args"][0]["clOrdId"], "okx", "BTC/USDT"), inst,
                        c["id"]) == cancel
