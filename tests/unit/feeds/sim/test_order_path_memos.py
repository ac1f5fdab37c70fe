"""Short cuts of the simulator's order path answer exactly what the plain code answers: the
memoised `check_wire` (equal values of any exponent, off-tick and off-step values, values the
filters refuse, a signalling NaN, the memo's bound, an instrument relisted with another
grid); the OKX op response encoded from plain rows (`encode_op_rows`) is byte for byte the
one encoded from `OpItem`s."""
from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.okx.protocol import order_server as osrv
from feeds.okx.protocol.ops import OpItem
from feeds.sim import venue_rules as vr
from pipeline.errors import ProtocolError
from tests.unit.feeds.sim.conftest import btc_usdt

PRICES = st.decimals(min_value=Decimal(-1), max_value=Decimal(200000), places=3,
                     allow_nan=False, allow_infinity=False)
QTYS = st.decimals(min_value=Decimal("-0.001"), max_value=Decimal(200), places=5,
                   allow_nan=False, allow_infinity=False)


def _plain(inst, price, qty):  # type: ignore[no-untyped-def]
    try:
        return vr._check_wire(inst, price, qty)
    except (ArithmeticError, TypeError) as exc:
        return type(exc)


def _memo(inst, price, qty):  # type: ignore[no-untyped-def]
    try:
        return vr.check_wire(inst, price, qty)
    except (ArithmeticError, TypeError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(price=st.one_of(st.none(), PRICES), qty=QTYS, pad=st.integers(0, 4))
def test_memoised_check_wire_equals_the_check(price: Decimal | None, qty: Decimal,
                                              pad: int) -> None:
    inst = btc_usdt()
    for _ in range(2):   # the second call is a memo hit
        assert _memo(inst, price, qty) == _plain(inst, price, qty)
    padded = Decimal(format(qty, "f") + ("" if "." in format(qty, "f") else ".") + "0" * pad)
    assert _memo(inst, price, padded) == _plain(inst, price, padded)


def test_nan_and_ints_take_the_plain_check() -> None:
    inst = btc_usdt()
    with pytest.raises(InvalidOperation):
        vr.check_wire(inst, Decimal("sNaN"), Decimal(1))
    with pytest.raises(InvalidOperation):
        vr.check_wire(inst, Decimal("NaN"), Decimal(1))
    assert vr.check_wire(inst, None, 1) == vr._check_wire(inst, None, 1)   # type: ignore[arg-type]


def test_the_memo_is_per_instrument_and_bounded() -> None:
    a = btc_usdt()
    coarse = dataclasses.replace(a, tick_size=Decimal(1))
    assert vr.check_wire(a, Decimal("10000.01"), Decimal("0.001")) == (1000001, 10)
    assert vr.check_wire(coarse, Decimal("10000.01"), Decimal("0.001")) is vr.Filter.PRICE_TICK
    for i in range(vr.WIRE_MEMO_MAX + 10):
        vr.check_wire(a, Decimal(i + 1), Decimal("0.001"))
    assert 0 < len(vr._WIRE_MEMO[id(a)][1]) <= vr.WIRE_MEMO_MAX


# -- OKX op responses from rows -----------------------------------------------------------------
TEXT = st.text(max_size=12)
ROWS = st.lists(st.tuples(TEXT, TEXT, st.sampled_from(["0", "0", "51000", "51400", "x"]), TEXT,
                          TEXT, st.integers(0, 2**62)), min_size=1, max_size=20)


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, op=st.sampled_from(["order", "batch-orders", "cancel-order",
                                      "batch-cancel-orders"]),
       t_in=st.integers(0, 2**62), t_out=st.integers(0, 2**62))
def test_op_rows_encode_as_the_op_items_do(rows: list[osrv.OpRow], op: str, t_in: int,
                                           t_out: int) -> None:
    items = [OpItem(cl, oid, code, msg, tag=tag, ts_event=ts)
             for cl, oid, code, msg, tag, ts in rows]
    assert osrv.encode_op_rows("r1", op, rows, t_in, t_out) == \
        osrv.encode_op_response("r1", op, items, t_in, t_out)


def test_op_rows_need_one_row() -> None:
    with pytest.raises(ProtocolError):
        osrv.encode_op_rows("r1", "order", [], 0, 0)


ALNUM = st.one_of(st.just(""), st.text(st.characters(categories=["Lu", "Ll", "Nd", "No", "Lo"]),
                                       max_size=10), st.sampled_from(["rt1", "a-b", 'q"', "é9"]))
MSGS = st.sampled_from(["", "Order placed", "Order timed out.", 'say "hi"', "back\\slash",
                        "\x00", "Parameter tdMode error"])


@settings(max_examples=500, deadline=None)
@given(row=st.tuples(ALNUM, ALNUM, st.sampled_from(["0", "51400", "5a", "", "x-y"]), MSGS, ALNUM,
                     st.integers(-2**62, 2**62)),
       rid=st.one_of(ALNUM, st.just("12")), op=st.sampled_from(["order", "cancel-order",
                                                                "batch-orders"]),
       t_in=st.integers(0, 2**62), t_out=st.integers(0, 2**62))
def test_one_order_replies_by_format_are_the_dict_encoders_bytes(
        row: osrv.OpRow, rid: str, op: str, t_in: int, t_out: int) -> None:
    cl, oid, code, msg, tag, ts = row
    item = OpItem(cl, oid, code, msg, tag=tag, ts_event=ts)
    for _ in range(2):   # the second time the message's JSON is memoised
        assert osrv.encode_op_rows(rid, op, [row], t_in, t_out) == \
            osrv.encode_op_response(rid, op, [item], t_in, t_out)
