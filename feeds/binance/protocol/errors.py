"""Binance error codes -> typed reject reasons, and the error bodies the simulator sends.

Binance errors are `{"code": -NNNN, "msg": "..."}` (REST body, or `error` in a WS API
response, EXCHANGES.md §1.6.4). The gateway classifies by code. Two codes are shared by
several rejects — -2010 NEW_ORDER_REJECTED (insufficient balance, a LIMIT_MAKER that would
cross, a duplicate id) and -1013 (every filter) — and only the engine's message tells them
apart, so for those two codes the documented messages, matched exactly, refine the reason;
any other text (Binance may reword) leaves the code's own reason. The simulator goes the
other way
(`error_for`) so a matching-engine reject reaches the client with Binance's exact code, HTTP
status and message.
"""
from __future__ import annotations

from typing import Any

from pipeline.errors import VenueError
from pipeline.model import RejectReason

from . import constants as C
from ._wire import VENUE

R = RejectReason

CODE_REASON: dict[int, RejectReason] = {
    C.E_UNKNOWN: R.VENUE_UNAVAILABLE,
    C.E_DISCONNECTED: R.VENUE_UNAVAILABLE,
    C.E_UNAUTHORIZED: R.AUTH,
    C.E_TOO_MANY_REQUESTS: R.RATE_LIMITED,
    # "execution status unknown": the order may or may not exist; query before retrying
    C.E_UNEXPECTED_RESP: R.TIMEOUT_UNKNOWN,
    C.E_TIMEOUT: R.TIMEOUT_UNKNOWN,
    C.E_SERVER_BUSY: R.VENUE_UNAVAILABLE,
    # A filter failure (PRICE_FILTER, LOT_SIZE, NOTIONAL, MIN_NOTIONAL, MAX_NUM_ORDERS): the
    # code does not say which filter; most of them are size/notional, and Instrument.check
    # reports those as BAD_SIZE too. Either way the instrument filters need a refresh.
    C.E_INVALID_MESSAGE: R.BAD_SIZE,
    C.E_TOO_MANY_NEW_ORDERS: R.RATE_LIMITED,
    # timestamp outside recvWindow: the signed-request security check failed (clock drift)
    C.E_INVALID_TIMESTAMP: R.AUTH,
    C.E_INVALID_SIGNATURE: R.AUTH,
    C.E_ILLEGAL_CHARS: R.OTHER,
    C.E_MANDATORY_PARAM: R.OTHER,
    C.E_UNKNOWN_PARAM: R.OTHER,
    C.E_PARAM_EMPTY: R.OTHER,
    C.E_PARAM_NOT_REQUIRED: R.OTHER,
    C.E_BAD_PRECISION: R.BAD_PRICE,  # more decimals than the asset allows (price, usually)
    C.E_INVALID_TIF: R.OTHER,
    C.E_INVALID_ORDER_TYPE: R.OTHER,
    C.E_INVALID_SIDE: R.OTHER,
    C.E_BAD_SYMBOL: R.BAD_SYMBOL,
    # -2010 covers insufficient balance, LIMIT_MAKER would cross and duplicate id alike:
    # OTHER unless its message is one of MESSAGE_REASON's (the text is kept as reason_text)
    C.E_NEW_ORDER_REJECTED: R.OTHER,
    C.E_CANCEL_REJECTED: R.UNKNOWN_ORDER,
    C.E_NO_SUCH_ORDER: R.UNKNOWN_ORDER,
    C.E_BAD_API_KEY_FMT: R.AUTH,
    C.E_REJECTED_MBX_KEY: R.AUTH,
}


MSG_INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
MSG_WOULD_MATCH = "Order would immediately match and take."
MSG_DUPLICATE = "Duplicate order sent."
MSG_PRICE_FILTER = "Filter failure: PRICE_FILTER"
MSG_LOT_SIZE = "Filter failure: LOT_SIZE"
MSG_NOTIONAL = "Filter failure: NOTIONAL"

# (shared code, documented message) -> the reject it names; exact matches only
MESSAGE_REASON: dict[tuple[int, str], RejectReason] = {
    (C.E_NEW_ORDER_REJECTED, MSG_INSUFFICIENT_BALANCE): R.INSUFFICIENT_BALANCE,
    (C.E_NEW_ORDER_REJECTED, MSG_WOULD_MATCH): R.POST_ONLY_WOULD_CROSS,
    (C.E_NEW_ORDER_REJECTED, MSG_DUPLICATE): R.DUPLICATE_ID,
    (C.E_INVALID_MESSAGE, MSG_PRICE_FILTER): R.BAD_PRICE,
    (C.E_INVALID_MESSAGE, MSG_LOT_SIZE): R.BAD_SIZE,
    (C.E_INVALID_MESSAGE, MSG_NOTIONAL): R.BAD_SIZE,
}


def classify(code: Any, msg: Any = "") -> RejectReason:
    """Binance error code (refined by its documented message where the code is shared) ->
    RejectReason; unknown or non-integer codes are OTHER."""
    if isinstance(code, bool) or not isinstance(code, int):
        return R.OTHER
    if isinstance(msg, str) and msg:
        refined = MESSAGE_REASON.get((code, msg))
        if refined is not None:
            return refined
    return CODE_REASON.get(code, R.OTHER)


def classify_response(status: int, code: Any, msg: Any = "") -> RejectReason:
    """HTTP / WS API status first (429/418 rate limit, 5xx status unknown), then the code."""
    if status in (C.HTTP_RATE_LIMITED, C.HTTP_IP_BANNED):
        return R.RATE_LIMITED
    if status >= 500:
        return R.TIMEOUT_UNKNOWN
    return classify(code, msg)


def venue_error(code: int, msg: str = "", status: int = 400) -> VenueError:
    return VenueError(VENUE, str(code), classify_response(status, code, msg), msg)


# -- server side -----------------------------------------------------------------------------
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_SUCH_ORDER = "Order does not exist."
MSG_BAD_SYMBOL = "Invalid symbol."
MSG_BAD_SIGNATURE = "Signature for this request is not valid."
MSG_BAD_KEY = "Invalid API-key, IP, or permissions for action."
MSG_TIMESTAMP = "Timestamp for this request is outside of the recvWindow."
MSG_TOO_MANY_REQUESTS = ("Too much request weight used; current limit is 6000 request weight "
                         "per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                         "polling the API.")
MSG_TOO_MANY_ORDERS = "Too many new orders; current limit is 50 orders per 10 SECOND."
MSG_TIMEOUT = ("Timeout waiting for response from backend server. Send status unknown; "
               "execution status unknown.")
MSG_UNKNOWN = "An unknown error occurred while processing the request."
MSG_UNAUTHORIZED = "You are not authorized to execute this request."
MSG_BAD_KEY_FORMAT = "API-key format invalid."
MSG_TOO_MANY_REQUESTS_WS = ("Too much request weight used; current limit is {limit} request "
                            "weight per 1 MINUTE. Please use WebSocket Streams for live updates "
                            "to avoid polling the API.")
# reason -> (HTTP/WS status, code, msg) the simulator answers with
_REASON_ERROR: dict[RejectReason, tuple[int, int, str]] = {
    R.INSUFFICIENT_BALANCE: (400, C.E_NEW_ORDER_REJECTED, MSG_INSUFFICIENT_BALANCE),
    R.POST_ONLY_WOULD_CROSS: (400, C.E_NEW_ORDER_REJECTED, MSG_WOULD_MATCH),
    R.DUPLICATE_ID: (400, C.E_NEW_ORDER_REJECTED, MSG_DUPLICATE),
    R.UNKNOWN_ORDER: (400, C.E_CANCEL_REJECTED, MSG_UNKNOWN_ORDER),
    R.BAD_PRICE: (400, C.E_INVALID_MESSAGE, MSG_PRICE_FILTER),
    R.BAD_SIZE: (400, C.E_INVALID_MESSAGE, MSG_LOT_SIZE),
    R.BAD_SYMBOL: (400, C.E_BAD_SYMBOL, MSG_BAD_SYMBOL),
    R.AUTH: (401, C.E_REJECTED_MBX_KEY, MSG_BAD_KEY),
    R.RATE_LIMITED: (429, C.E_TOO_MANY_REQUESTS, MSG_TOO_MANY_REQUESTS),
    R.TIMEOUT_UNKNOWN: (503, C.E_TIMEOUT, MSG_TIMEOUT),
    R.VENUE_UNAVAILABLE: (503, C.E_UNKNOWN, MSG_UNKNOWN),
}


def error_for(reason: RejectReason) -> tuple[int, int, str]:
    """A reject reason -> Binance's (status, code, msg) for it."""
    return _REASON_ERROR.get(reason, (400, C.E_NEW_ORDER_REJECTED, MSG_UNKNOWN))


def encode_error_body(code: int, msg: str) -> dict[str, Any]:
    """The REST error body, and the `error` object of a WS API response."""
    return {"code": code, "msg": msg}
