"""Binance error codes -> RejectReason (by code; the documented messages of the shared
-2010 and -1013 codes refine it), and the simulator's error bodies."""
from __future__ import annotations

import orjson
import pytest

from feeds.binance.protocol import errors as E
from feeds.binance.protocol.orders import WsApiResponse, parse_private
from pipeline.model import RejectReason as R

from .conftest import INSTRUMENTS, fixture_text

TABLE = [
    (-1003, R.RATE_LIMITED), (-1015, R.RATE_LIMITED), (-1007, R.TIMEOUT_UNKNOWN),
    (-1006, R.TIMEOUT_UNKNOWN), (-1013, R.BAD_SIZE), (-1021, R.AUTH), (-1022, R.AUTH),
    (-1100, R.OTHER), (-1102, R.OTHER), (-1121, R.BAD_SYMBOL), (-2010, R.OTHER),
    (-2011, R.UNKNOWN_ORDER), (-2013, R.UNKNOWN_ORDER), (-2014, R.AUTH), (-2015, R.AUTH),
    (-1000, R.VENUE_UNAVAILABLE), (-1001, R.VENUE_UNAVAILABLE), (-1008, R.VENUE_UNAVAILABLE),
    (-1111, R.BAD_PRICE), (-9999, R.OTHER),
]


@pytest.mark.parametrize(("code", "reason"), TABLE)
def test_classify_by_code(code: int, reason: R) -> None:
    assert E.classify(code) is reason


@pytest.mark.parametrize("code", ["-2010", None, True, -1003.0, [-1003]])
def test_non_integer_codes_are_other(code: object) -> None:
    assert E.classify(code) is R.OTHER


def test_status_wins_for_rate_limit_and_unknown_execution() -> None:
    assert E.classify_response(429, -1003) is R.RATE_LIMITED
    assert E.classify_response(418, -1003) is R.RATE_LIMITED
    assert E.classify_response(503, -1000) is R.TIMEOUT_UNKNOWN  # 5xx: status unknown
    assert E.classify_response(400, -2011) is R.UNKNOWN_ORDER


@pytest.mark.parametrize(("msg", "reason"), [
    (E.MSG_WOULD_MATCH, R.POST_ONLY_WOULD_CROSS), (E.MSG_INSUFFICIENT_BALANCE,
                                                  R.INSUFFICIENT_BALANCE),
    (E.MSG_DUPLICATE, R.DUPLICATE_ID), ("Some new wording.", R.OTHER),
    ("order would immediately match and take.", R.OTHER), ("", R.OTHER)])
def test_2010_documented_messages_refine_the_reason_exactly(msg: str, reason: R) -> None:
    frame = orjson.dumps({"id": 1, "status": 400, "error": {"code": -2010, "msg": msg}})
    [r] = parse_private(frame, 0, INSTRUMENTS)
    assert isinstance(r, WsApiResponse) and r.reason is reason and r.error_msg == msg


def test_a_message_refines_only_the_code_it_belongs_to() -> None:
    assert E.classify(-2011, E.MSG_WOULD_MATCH) is R.UNKNOWN_ORDER
    assert E.classify(-1013, E.MSG_PRICE_FILTER) is R.BAD_PRICE
    assert E.classify(-1013, "Filter failure: MAX_NUM_ORDERS") is R.BAD_SIZE
    assert E.classify(-2010, 42) is R.OTHER
    assert E.classify_response(429, -2010, E.MSG_INSUFFICIENT_BALANCE) is R.RATE_LIMITED


def test_doc_insufficient_balance_response() -> None:
    [r] = parse_private(fixture_text("ws_api_order_place_error.json"), 0, INSTRUMENTS)
    assert isinstance(r, WsApiResponse) and not r.ok
    assert (r.status, r.error_code, r.reason) == (400, -2010, R.INSUFFICIENT_BALANCE)


@pytest.mark.parametrize("reason", [R.INSUFFICIENT_BALANCE, R.POST_ONLY_WOULD_CROSS,
                                    R.DUPLICATE_ID, R.UNKNOWN_ORDER, R.BAD_PRICE, R.BAD_SIZE,
                                    R.BAD_SYMBOL, R.AUTH, R.RATE_LIMITED, R.TIMEOUT_UNKNOWN,
                                    R.VENUE_UNAVAILABLE])
def test_simulator_errors_classify_back_consistently(reason: R) -> None:
    status, code, msg = E.error_for(reason)
    back = E.classify_response(status, code, msg)
    # any 5xx means "execution status unknown" to the client
    expect = {R.VENUE_UNAVAILABLE: R.TIMEOUT_UNKNOWN}.get(reason, reason)
    assert back is expect and msg and E.encode_error_body(code, msg) == {"code": code,
                                                                           "msg": msg}


def test_venue_error_carries_code_and_reason() -> None:
    e = E.venue_error(-2011, "Unknown order sent.")
    assert (e.code, e.reason, e.venue) == ("-2011", R.UNKNOWN_ORDER, "binance")
