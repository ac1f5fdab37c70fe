"""Error classification is by code only, for every code EXCHANGES.md §2.6.4 lists."""
from __future__ import annotations

import json

import pytest

from feeds.okx.protocol import errors
from pipeline.model import RejectReason as R

TABLE = [
    ("0", R.NONE), ("50011", R.RATE_LIMITED), ("50013", R.VENUE_UNAVAILABLE),
    ("50061", R.RATE_LIMITED), ("50102", R.AUTH), ("50105", R.AUTH), ("50111", R.AUTH),
    ("50112", R.AUTH), ("50113", R.AUTH), ("51000", R.OTHER), ("51001", R.BAD_SYMBOL),
    ("51006", R.BAD_PRICE), ("51008", R.INSUFFICIENT_BALANCE), ("51016", R.DUPLICATE_ID),
    ("51020", R.BAD_SIZE), ("51121", R.BAD_SIZE), ("51149", R.TIMEOUT_UNKNOWN),
    ("51400", R.UNKNOWN_ORDER), ("51503", R.UNKNOWN_ORDER), ("51603", R.UNKNOWN_ORDER),
    ("60009", R.AUTH), ("60012", R.OTHER), ("60013", R.OTHER), ("60014", R.RATE_LIMITED),
    ("64003", R.OTHER), ("51071", R.RATE_LIMITED),
]


@pytest.mark.parametrize("code,reason", TABLE)
def test_classify(code: str, reason: R) -> None:
    assert errors.classify(code) is reason


def test_subcode_suffix_ints_and_junk() -> None:
    assert errors.classify("51008_1000") is R.INSUFFICIENT_BALANCE
    assert errors.classify(51008) is R.INSUFFICIENT_BALANCE
    for junk in (None, True, 1.5, [], "", "99999", "abc"):
        assert errors.classify(junk) is R.OTHER


def test_envelope_codes_one_and_two_are_not_success() -> None:
    assert errors.classify("1") is R.OTHER and errors.classify("2") is R.OTHER


def test_cancel_sources() -> None:
    assert errors.classify_cancel_source("31") is R.POST_ONLY_WOULD_CROSS
    assert errors.classify_cancel_source("32") is R.SELF_TRADE
    assert errors.classify_cancel_source("1") is R.NONE


def test_code_for_round_trips_through_classify() -> None:
    for reason in (R.RATE_LIMITED, R.INSUFFICIENT_BALANCE, R.UNKNOWN_ORDER, R.BAD_PRICE,
                   R.BAD_SIZE, R.AUTH, R.DUPLICATE_ID, R.TIMEOUT_UNKNOWN, R.BAD_SYMBOL,
                   R.VENUE_UNAVAILABLE):
        assert errors.classify(errors.code_for(reason)) is reason


def test_http_status_and_rest_error_shape() -> None:
    assert errors.http_status("50113") == 401 and errors.http_status("51008") == 200
    assert errors.http_status("50013") == 429 and errors.http_status("51149") == 500
    assert errors.encode_rest_error("51000", "Parameter px error") == {
        "code": "51000", "msg": "Parameter px error", "data": []}


def test_venue_error_carries_the_classified_reason() -> None:
    e = errors.venue_error("50011", "Rate limit reached.")
    assert e.code == "50011" and e.reason is R.RATE_LIMITED


def test_ws_error_shape_with_and_without_id() -> None:
    assert json.loads(errors.encode_ws_error("60009", "Login failed.", "a4d3ae55")) == {
        "event": "error", "code": "60009", "msg": "Login failed.", "connId": "a4d3ae55"}
    assert list(json.loads(errors.encode_ws_error("60012", "m", "c", "9"))) == [
        "id", "event", "code", "msg", "connId"]
