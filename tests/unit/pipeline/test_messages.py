"""The order-path message encoding: every type round-trips exactly, the wire form is the
documented `[tag, field, ...]` JSON, and the gateway's stamp helper equals a field replace."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
import pytest

from pipeline.messages import (
    _FIELDS,
    _TAG_OF,
    _TYPES,
    CancelAll,
    CancelOrder,
    Command,
    ExecReport,
    ExecType,
    GatewayStatus,
    Heartbeat,
    InstrumentInfo,
    NewOrder,
    Record,
    decode,
    encode,
    with_order_stamps,
)
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce

REPORT = ExecReport("okx", "BTC/USDT", "c1", "V9", ExecType.TRADE, OrderStatus.PARTIALLY_FILLED,
                    Side.SELL, 6_500_012, 30, 10, 4, 6_500_013, Decimal("-0.00012345"), "USDT",
                    "T77", True, RejectReason.NONE, "", 11, 22, 33, 44, 55)

SAMPLES = [
    NewOrder("abc-1", "binance", "ETH/USDT", Side.BUY, 250_001, 7, OrderType.LIMIT,
             TimeInForce.GTC, 101, 202),
    CancelOrder("t-9", "gate", "BTC/USDT", "V3", 303),
    CancelAll("okx", "", "kill"),
    Heartbeat(12345),
    REPORT,
    GatewayStatus("gate", "rate_limited", "429", 9),
    Command("status", "BTC/USDT|c1", 5),
    Record("risk_events", {"k": [1, "x"]}),
    InstrumentInfo("okx", "BTC/USDT", "BTC-USDT", "BTC", "USDT", Decimal("0.1"),
                   Decimal("0.00000001"), Decimal("0.00001"), Decimal(1), Decimal(0), 17),
]


def test_samples_cover_every_message_type() -> None:
    assert {type(m) for m in SAMPLES} == set(_TYPES)


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip_is_exact(msg: object) -> None:
    back = decode(encode(msg))  # type: ignore[arg-type]
    assert back == msg
    assert type(back) is type(msg)


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_wire_form_is_tag_then_fields_in_order(msg: object) -> None:
    t = type(msg)
    expected = [_TAG_OF[t]] + [getattr(msg, n) for n in _FIELDS[t]]
    assert orjson.loads(encode(msg)) == orjson.loads(  # type: ignore[arg-type]
        orjson.dumps(expected, default=str))


def test_decimal_fee_travels_as_an_exact_string() -> None:
    row = orjson.loads(encode(REPORT))
    assert row[1 + _FIELDS[ExecReport].index("fee")] == "-0.00012345"


def test_with_order_stamps_equals_a_field_replace() -> None:
    stamped = with_order_stamps(REPORT, 7, 8, 9)
    assert stamped == dataclasses.replace(REPORT, ts_sent=7, ts_tick_recv=8, ts_decision=9)
    assert (REPORT.ts_sent, REPORT.ts_decision) == (33, 55)  # the original is left as it was


def test_malformed_payloads_are_value_errors() -> None:
    for bad in (b"", b"[", b"[99]", b'"x"', orjson.dumps([_TAG_OF[Heartbeat]]),
                orjson.dumps([_TAG_OF[Heartbeat], 1, 2])):
        with pytest.raises(ValueError):
            decode(bad)


def test_build_exec_report_equals_the_constructor() -> None:
    from pipeline.messages import ZERO_FEE, build_exec_report
    fields_ = [getattr(REPORT, n) for n in _FIELDS[ExecReport]]
    built = build_exec_report(*fields_)
    assert type(built) is ExecReport and built == REPORT and repr(built) == repr(REPORT)
    assert hash(built) == hash(REPORT) and decode(encode(built)) == REPORT
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.lots = 1  # type: ignore[misc]
    assert ZERO_FEE == Decimal(0) and ExecReport("v", "s", "c", "", ExecType.NEW,
                                                 OrderStatus.NEW, Side.BUY).fee is ZERO_FEE


def test_with_order_stamps_builds_a_frozen_report() -> None:
    stamped = with_order_stamps(REPORT, 7, 8, 9)
    assert type(stamped) is ExecReport and stamped is not REPORT
    with pytest.raises(dataclasses.FrozenInstanceError):
        stamped.ts_sent = 1  # type: ignore[misc]


def _row(msg: object) -> list:
    return orjson.loads(encode(msg))  # type: ignore[arg-type, no-any-return]


def test_a_bad_field_value_is_a_value_error_not_a_crash() -> None:
    """Unknown enum values, a fee that is no decimal, a negative or unknown tag: each is
    a malformed message (the queue counts and skips it), never an exception of another
    kind that would take a consumer down."""
    side = 1 + _FIELDS[ExecReport].index("side")
    fee = 1 + _FIELDS[ExecReport].index("fee")
    bad_rows = []
    for i, value in ((side, 9), (side, "BUY"), (side, None), (fee, "abc"), (fee, [1]),
                     (0, -1), (0, len(_TYPES)), (0, "x")):
        row = _row(REPORT)
        row[i] = value
        bad_rows.append(row)
    bad_rows.append(_row(REPORT)[:-1])                  # a field short
    bad_rows.append(_row(REPORT) + [0])                 # a field too many
    for row in bad_rows:
        with pytest.raises(ValueError, match="undecodable"):
            decode(orjson.dumps(row))


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_decoded_messages_are_ordinary_frozen_instances(msg: object) -> None:
    back = decode(encode(msg))  # type: ignore[arg-type]
    assert back == msg and repr(back) == repr(msg)
    if type(msg) is not Record:   # a Record holds a dict: unhashable, as constructed
        assert hash(back) == hash(msg)
    first = dataclasses.fields(back)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(back, first, None)
    for f in dataclasses.fields(back):  # type: ignore[arg-type]
        assert type(getattr(back, f.name)) is type(getattr(msg, f.name)), f.name
