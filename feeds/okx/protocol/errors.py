"""OKX error codes -> `RejectReason`, and the error shapes the simulated venue sends.

The gateway classifies every failure by OKX's numeric code — the top-level `code` of a REST or
WS envelope, or the per-order `sCode` inside `data` — never by the message text, which OKX
localises and rewords. The simulator uses the encoders here so its errors look exactly like the
real ones (EXCHANGES.md §2.6.4). Post-only crossing has no code at all: OKX accepts the order and
cancels it with `cancelSource` 31, which `classify_cancel_source` maps.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pipeline.errors import ProtocolError, VenueError
from pipeline.model import RejectReason

from . import constants as c
from ._wire import VENUE, dumps

R = RejectReason

REASONS: Mapping[str, RejectReason] = MappingProxyType({
    c.CODE_OK: R.NONE,
    c.CODE_FAILED: R.OTHER,      # envelope "all failed": look at each sCode
    c.CODE_PARTIAL: R.OTHER,     # envelope "partially succeeded": look at each sCode
    "50001": R.VENUE_UNAVAILABLE,  # service temporarily unavailable
    "50004": R.TIMEOUT_UNKNOWN,    # endpoint request timeout: result unknown
    c.CODE_RATE_LIMIT: R.RATE_LIMITED,
    c.CODE_BUSY: R.VENUE_UNAVAILABLE,
    c.CODE_SUB_ACCOUNT_RATE_LIMIT: R.RATE_LIMITED,
    c.CODE_TIMESTAMP_EXPIRED: R.AUTH,
    c.CODE_PASSPHRASE: R.AUTH,
    c.CODE_INVALID_KEY: R.AUTH,
    c.CODE_INVALID_TIMESTAMP: R.AUTH,
    c.CODE_INVALID_SIGN: R.AUTH,
    c.CODE_PARAM_ERROR: R.OTHER,   # "Parameter {param0} error": could be px, sz or anything
    c.CODE_NO_INSTRUMENT: R.BAD_SYMBOL,
    c.CODE_PRICE_LIMIT: R.BAD_PRICE,
    c.CODE_INSUFFICIENT_BALANCE: R.INSUFFICIENT_BALANCE,
    c.CODE_DUPLICATE_CL_ORD_ID: R.DUPLICATE_ID,
    c.CODE_BELOW_MIN_SIZE: R.BAD_SIZE,
    c.CODE_TAG_TIMERS: R.RATE_LIMITED,
    c.CODE_LOT_SIZE: R.BAD_SIZE,
    c.CODE_ORDER_TIMEOUT: R.TIMEOUT_UNKNOWN,
    c.CODE_CANCEL_FAILED: R.UNKNOWN_ORDER,
    "51401": R.UNKNOWN_ORDER,      # cancel failed: order already canceled
    "51402": R.UNKNOWN_ORDER,      # cancel failed: order already completed
    c.CODE_AMEND_FAILED: R.UNKNOWN_ORDER,
    c.CODE_ORDER_NOT_EXIST: R.UNKNOWN_ORDER,
    c.CODE_LOGIN_FAILED: R.AUTH,
    c.CODE_INVALID_REQUEST: R.OTHER,
    c.CODE_INVALID_ARGS: R.OTHER,
    c.CODE_TOO_FREQUENT: R.RATE_LIMITED,
    c.CODE_FEE_TIER: R.OTHER,      # channel needs VIP4+ (a market-data permission)
    c.CODE_CHANNEL_CONFLICT: R.OTHER,
    c.CODE_SERVICE_UPGRADE: R.VENUE_UNAVAILABLE,
    c.CODE_PARAM_EMPTY: R.OTHER,
    c.CODE_KEY_EMPTY: R.AUTH,
    c.CODE_PASSPHRASE_EMPTY: R.AUTH,
    c.CODE_SIGN_EMPTY: R.AUTH,
    c.CODE_TIMESTAMP_EMPTY: R.AUTH,
    c.CODE_WS_INVALID_TIMESTAMP: R.AUTH,
    c.CODE_WS_INVALID_KEY: R.AUTH,
    c.CODE_WS_TIMESTAMP_EXPIRED: R.AUTH,
    c.CODE_WS_INVALID_SIGN: R.AUTH,
    c.CODE_WS_NOT_LOGGED_IN: R.AUTH,
    c.CODE_WS_NO_CHANNEL: R.OTHER,
    c.CODE_WS_WRONG_PASSPHRASE: R.AUTH,
})

# HTTP status OKX pairs with each REST code (§2.6.4); everything else is 200.
HTTP_STATUS: Mapping[str, int] = MappingProxyType({
    c.CODE_BUSY: 429, c.CODE_TIMESTAMP_EXPIRED: 401, c.CODE_PASSPHRASE: 401,
    c.CODE_INVALID_KEY: 401, c.CODE_INVALID_TIMESTAMP: 401, c.CODE_INVALID_SIGN: 401,
    c.CODE_PARAM_ERROR: 400, c.CODE_ORDER_TIMEOUT: 500, c.CODE_PARAM_EMPTY: 400,
    c.CODE_KEY_EMPTY: 401, c.CODE_PASSPHRASE_EMPTY: 401, c.CODE_SIGN_EMPTY: 401,
    c.CODE_TIMESTAMP_EMPTY: 401,
})

CANCEL_SOURCE_REASONS: Mapping[str, RejectReason] = MappingProxyType({
    c.CANCEL_SOURCE_POST_ONLY: R.POST_ONLY_WOULD_CROSS,
    c.CANCEL_SOURCE_STP: R.SELF_TRADE,
})

# One representative code per reason, for the simulator's replies.
_CODE_FOR: Mapping[RejectReason, str] = MappingProxyType({
    R.NONE: c.CODE_OK, R.RATE_LIMITED: c.CODE_RATE_LIMIT,
    R.INSUFFICIENT_BALANCE: c.CODE_INSUFFICIENT_BALANCE, R.UNKNOWN_ORDER: c.CODE_CANCEL_FAILED,
    R.BAD_PRICE: c.CODE_PRICE_LIMIT, R.BAD_SIZE: c.CODE_LOT_SIZE, R.AUTH: c.CODE_INVALID_SIGN,
    R.DUPLICATE_ID: c.CODE_DUPLICATE_CL_ORD_ID, R.TIMEOUT_UNKNOWN: c.CODE_ORDER_TIMEOUT,
    R.VENUE_UNAVAILABLE: c.CODE_BUSY, R.BAD_SYMBOL: c.CODE_NO_INSTRUMENT,
})


def normalize_code(code: Any) -> str:
    """A code as OKX sends it ("51008", 51008, or the doc's `51008_1000` form) -> "51008"."""
    if isinstance(code, bool) or code is None:
        return ""
    if isinstance(code, int):
        return str(code)
    if isinstance(code, str):
        return code.split("_", 1)[0].strip()
    return ""


def classify(code: Any) -> RejectReason:
    """`code` / `sCode` -> RejectReason. Unknown or malformed codes are OTHER, never NONE."""
    key = normalize_code(code)
    reason = REASONS.get(key)
    if reason is not None:
        return reason
    return R.OTHER


def classify_cancel_source(cancel_source: Any) -> RejectReason:
    """The reason behind a venue-side cancel (`cancelSource` of an `orders` push)."""
    return CANCEL_SOURCE_REASONS.get(normalize_code(cancel_source), R.NONE)


def is_ok(code: Any) -> bool:
    return normalize_code(code) == c.CODE_OK


def venue_error(code: Any, message: str = "") -> VenueError:
    key = normalize_code(code)
    return VenueError(VENUE, key, classify(key), message[:200])


def code_for(reason: RejectReason) -> str:
    """A code OKX would send for `reason` (the simulator's replies)."""
    return _CODE_FOR.get(reason, c.CODE_PARAM_ERROR)


def http_status(code: str) -> int:
    return HTTP_STATUS.get(normalize_code(code), 200)


# -- server side ---------------------------------------------------------------------------------
def encode_rest_error(code: str, msg: str) -> dict[str, Any]:
    """REST failure body: `{"code": "...", "msg": "...", "data": []}`."""
    return {"code": code, "msg": msg, "data": []}


def encode_ws_error(code: str, msg: str, conn_id: str, req_id: str | None = None) -> str:
    """WS `event: error` frame (bad request, login failure, subscription refused)."""
    d: dict[str, Any] = {}
    if req_id is not None:
        d["id"] = req_id
    d.update({"event": c.EVENT_ERROR, "code": code, "msg": msg, "connId": conn_id})
    return dumps(d)


def encode_notice(code: str, msg: str, conn_id: str) -> str:
    """WS `event: notice` (e.g. 64008 service upgrade, 60 s before disconnect)."""
    return dumps({"event": c.EVENT_NOTICE, "code": code, "msg": msg, "connId": conn_id})


class RequestError(ProtocolError):
    """A client request the simulated venue cannot act on, with what it needs to answer.

    `req_id`/`op` are echoed in the error reply when they could be read; `code` is the OKX code
    to answer with (60012 invalid request, 60013 invalid args, 51000 parameter error).
    """

    def __init__(self, what: str, code: str, req_id: str | None = None, op: str = "") -> None:
        super().__init__(VENUE, what)
        self.code = code
        self.req_id = req_id
        self.op = op
