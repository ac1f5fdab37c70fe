"""Gate error labels -> typed reject reasons, and the error bodies the simulator sends.

Gate errors carry a stable `label` and a free-text `message` (EXCHANGES.md §3.6.4); the
gateway classifies by label only, never by message text. Subscribe errors on the WS use small
integer codes instead (§3.2). The simulator goes the other way (`label_for`, `encode_*`) so a
matching-engine reject reaches the client exactly as Gate would send it.
"""
from __future__ import annotations

from typing import Any

from pipeline.errors import VenueError
from pipeline.model import RejectReason

from .constants import (
    VENUE,
    WS_ERR_AUTH,
    WS_ERR_INVALID_ARGUMENT,
    WS_ERR_INVALID_BODY,
    WS_ERR_SERVER,
)

R = RejectReason

LABEL_REASON: dict[str, RejectReason] = {
    "BALANCE_NOT_ENOUGH": R.INSUFFICIENT_BALANCE,
    "POC_FILL_IMMEDIATELY": R.POST_ONLY_WOULD_CROSS,
    "ORDER_NOT_FOUND": R.UNKNOWN_ORDER,
    "ORDER_CLOSED": R.UNKNOWN_ORDER,      # already filled: nothing left to cancel
    "ORDER_CANCELLED": R.UNKNOWN_ORDER,   # already cancelled
    "CANCEL_FAIL": R.OTHER,
    "INVALID_PRECISION": R.BAD_PRICE,     # price or amount scale; price is the usual culprit
    "INVALID_CURRENCY_PAIR": R.BAD_SYMBOL,
    "AMOUNT_TOO_LITTLE": R.BAD_SIZE,
    "AMOUNT_TOO_MUCH": R.BAD_SIZE,
    "QUANTITY_NOT_ENOUGH": R.BAD_SIZE,
    "TOO_MANY_ORDERS": R.OTHER,
    "TOO_MANY_CURRENCY_PAIRS": R.OTHER,
    "MIXED_ACCOUNT_TYPE": R.OTHER,
    "FOK_NOT_FILL": R.OTHER,
    "INVALID_SIGNATURE": R.AUTH,
    "INVALID_KEY": R.AUTH,
    "REQUEST_EXPIRED": R.AUTH,
    "IP_FORBIDDEN": R.AUTH,
    "READ_ONLY": R.AUTH,
    "MISSING_REQUIRED_HEADER": R.AUTH,
    "FORBIDDEN": R.AUTH,
    "INVALID_PARAM_VALUE": R.OTHER,
    "INVALID_ARGUMENT": R.OTHER,
    "MISSING_REQUIRED_PARAM": R.OTHER,
    "INVALID_REQUEST_BODY": R.OTHER,
    "TOO_MANY_REQUESTS": R.RATE_LIMITED,
    "INTERNAL": R.VENUE_UNAVAILABLE,
    "SERVER_ERROR": R.VENUE_UNAVAILABLE,
    "TOO_BUSY": R.VENUE_UNAVAILABLE,
}

WS_CODE_REASON: dict[int, RejectReason] = {
    WS_ERR_INVALID_BODY: R.OTHER,
    WS_ERR_INVALID_ARGUMENT: R.OTHER,
    WS_ERR_SERVER: R.VENUE_UNAVAILABLE,
    WS_ERR_AUTH: R.AUTH,
}

# HTTP status the simulator answers each label with (the WS API repeats it in header.status)
LABEL_HTTP_STATUS: dict[str, int] = {
    **{label: 400 for label in LABEL_REASON},
    "INVALID_SIGNATURE": 401, "INVALID_KEY": 401, "REQUEST_EXPIRED": 401,
    "MISSING_REQUIRED_HEADER": 401,
    "IP_FORBIDDEN": 403, "READ_ONLY": 403, "FORBIDDEN": 403,
    "ORDER_NOT_FOUND": 404,
    "TOO_MANY_REQUESTS": 429,
    "INTERNAL": 500, "SERVER_ERROR": 500, "TOO_BUSY": 503,
}

# reason -> the label the simulator sends for it
_REASON_LABEL: dict[RejectReason, str] = {
    R.INSUFFICIENT_BALANCE: "BALANCE_NOT_ENOUGH",
    R.POST_ONLY_WOULD_CROSS: "POC_FILL_IMMEDIATELY",
    R.UNKNOWN_ORDER: "ORDER_NOT_FOUND",
    R.BAD_PRICE: "INVALID_PRECISION",
    R.BAD_SIZE: "AMOUNT_TOO_LITTLE",
    R.BAD_SYMBOL: "INVALID_CURRENCY_PAIR",
    R.AUTH: "INVALID_KEY",
    R.RATE_LIMITED: "TOO_MANY_REQUESTS",
    R.VENUE_UNAVAILABLE: "SERVER_ERROR",
}


def classify(label: Any) -> RejectReason:
    """Error label -> RejectReason; unknown or non-string labels are OTHER."""
    if not isinstance(label, str):
        return R.OTHER
    return LABEL_REASON.get(label, R.OTHER)


def classify_ws_code(code: Any) -> RejectReason:
    if isinstance(code, bool) or not isinstance(code, int):
        return R.OTHER
    return WS_CODE_REASON.get(code, R.OTHER)


def venue_error(label: str, message: str = "") -> VenueError:
    return VenueError(VENUE, label, classify(label), message)


def label_for(reason: RejectReason) -> str:
    return _REASON_LABEL.get(reason, "INVALID_PARAM_VALUE")


def http_status(label: str) -> int:
    return LABEL_HTTP_STATUS.get(label, 400)


def encode_rest_error(label: str, message: str) -> dict[str, str]:
    """Body of any non-2xx REST answer."""
    return {"label": label, "message": message}


def encode_ws_error(code: int, message: str) -> dict[str, Any]:
    """The `error` object of a failed subscribe."""
    return {"code": code, "message": message}
