"""Gate error labels classify by label (never text) into typed reject reasons."""
from __future__ import annotations

import pytest

from feeds.gate.protocol import errors as e
from feeds.gate.protocol.constants import ERROR_LABELS
from pipeline.model import RejectReason as R

TABLE = {
    "BALANCE_NOT_ENOUGH": R.INSUFFICIENT_BALANCE,
    "POC_FILL_IMMEDIATELY": R.POST_ONLY_WOULD_CROSS,
    "ORDER_NOT_FOUND": R.UNKNOWN_ORDER, "ORDER_CLOSED": R.UNKNOWN_ORDER,
    "ORDER_CANCELLED": R.UNKNOWN_ORDER, "CANCEL_FAIL": R.OTHER,
    "INVALID_PRECISION": R.BAD_PRICE, "INVALID_CURRENCY_PAIR": R.BAD_SYMBOL,
    "AMOUNT_TOO_LITTLE": R.BAD_SIZE, "AMOUNT_TOO_MUCH": R.BAD_SIZE,
    "QUANTITY_NOT_ENOUGH": R.BAD_SIZE,
    "TOO_MANY_ORDERS": R.OTHER, "TOO_MANY_CURRENCY_PAIRS": R.OTHER,
    "MIXED_ACCOUNT_TYPE": R.OTHER, "FOK_NOT_FILL": R.OTHER,
    "INVALID_SIGNATURE": R.AUTH, "INVALID_KEY": R.AUTH, "REQUEST_EXPIRED": R.AUTH,
    "IP_FORBIDDEN": R.AUTH, "READ_ONLY": R.AUTH, "MISSING_REQUIRED_HEADER": R.AUTH,
    "FORBIDDEN": R.AUTH,
    "INVALID_PARAM_VALUE": R.OTHER, "INVALID_ARGUMENT": R.OTHER,
    "MISSING_REQUIRED_PARAM": R.OTHER, "INVALID_REQUEST_BODY": R.OTHER,
    "TOO_MANY_REQUESTS": R.RATE_LIMITED,
    "INTERNAL": R.VENUE_UNAVAILABLE, "SERVER_ERROR": R.VENUE_UNAVAILABLE,
    "TOO_BUSY": R.VENUE_UNAVAILABLE,
}


def test_table_covers_every_documented_label() -> None:
    assert set(TABLE) == set(ERROR_LABELS) == set(e.LABEL_REASON)


@pytest.mark.parametrize("label,reason", sorted(TABLE.items()))
def test_classify(label: str, reason: R) -> None:
    assert e.classify(label) is reason


@pytest.mark.parametrize("label", ["", "balance_not_enough", "Insufficient balance", None, 3])
def test_unknown_or_free_text_is_other(label: object) -> None:
    assert e.classify(label) is R.OTHER


def test_ws_codes_and_http_statuses() -> None:
    assert e.classify_ws_code(4) is R.AUTH and e.classify_ws_code(3) is R.VENUE_UNAVAILABLE
    assert e.classify_ws_code(True) is R.OTHER and e.classify_ws_code(99) is R.OTHER
    assert e.http_status("TOO_MANY_REQUESTS") == 429 and e.http_status("INVALID_KEY") == 401
    assert e.http_status("BALANCE_NOT_ENOUGH") == 400


def test_simulator_labels_classify_back_to_their_reason() -> None:
    for reason in R:
        label = e.label_for(reason)
        assert label in ERROR_LABELS
        if reason in (R.INSUFFICIENT_BALANCE, R.POST_ONLY_WOULD_CROSS, R.UNKNOWN_ORDER,
                      R.BAD_PRICE, R.BAD_SIZE, R.BAD_SYMBOL, R.AUTH, R.RATE_LIMITED,
                      R.VENUE_UNAVAILABLE):
            assert e.classify(label) is reason


def test_error_bodies_and_venue_error() -> None:
    assert e.encode_rest_error("INVALID_KEY", "Invalid key provided") == {
        "label": "INVALID_KEY", "message": "Invalid key provided"}
    assert e.encode_ws_error(2, "x") == {"code": 2, "message": "x"}
    ve = e.venue_error("BALANCE_NOT_ENOUGH", "no money")
    assert ve.reason is R.INSUFFICIENT_BALANCE and ve.code == "BALANCE_NOT_ENOUGH"
