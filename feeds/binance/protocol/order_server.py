"""The Binance WebSocket API and user-data stream as the simulated venue speaks them.

The simulator's Binance server calls `decode_ws_request` on every frame a client sends to
`/ws-api/v3`: it gets a typed request (`PlaceRequest`, `CancelRequest`, ...) or a
`RequestError` carrying the exact status, code and message Binance would answer with.
Signatures and timestamps are checked with `WsRequest.verify` / `timestamp_ok` (secrets and
clocks are arguments). Answers go out through the `encode_*` functions, which emit exactly the
documented shapes (EXCHANGES.md §1.6.2-1.7): order results, cancel reports, open orders,
`rateLimits` arrays, error bodies, and `executionReport` / `outboundAccountPosition` events in
the `{"subscriptionId": n, "event": {...}}` envelope.

The client half (`orders.py`) re-exports these names, so one module serves all three users.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from pipeline.errors import ProtocolError
from pipeline.model import Side

from . import constants as C
from ._wire import Num, dumps, fmt8, loads, side_str
from .errors import MSG_BAD_SYMBOL, encode_error_body
from .signing import wire_value

_MS = 1_000_000
_INTERVAL_S = {"SECOND": 1.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86400.0}


# -- shared shapes ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RateLimit:
    """One entry of a `rateLimits` array: usage `count` of `limit` per `interval_num` x
    `interval`."""

    rate_limit_type: str  # "REQUEST_WEIGHT" | "ORDERS" | "RAW_REQUESTS"
    interval: str         # "SECOND" | "MINUTE" | "HOUR" | "DAY"
    interval_num: int
    limit: int
    count: int

    @property
    def window_s(self) -> float:
        return _INTERVAL_S.get(self.interval, 0.0) * self.interval_num


def encode_rate_limit(rl: RateLimit) -> dict[str, Any]:
    return {"rateLimitType": rl.rate_limit_type, "interval": rl.interval,
            "intervalNum": rl.interval_num, "limit": rl.limit, "count": rl.count}


# -- requests --------------------------------------------------------------------------------
class RequestError(ProtocolError):
    """A request the venue refuses; `status`/`code`/`msg` are exactly what it answers."""

    def __init__(self, status: int, code: int, msg: str, req_id: int | str | None = None
                 ) -> None:
        super().__init__(C.VENUE, f"{code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.req_id = req_id

    def encode(self, rate_limits: Sequence[RateLimit] | None = None) -> str:
        return encode_ws_error(self.req_id, self.status, self.code, self.msg, rate_limits)


def _mandatory(name: str, rid: int | str | None) -> RequestError:
    return RequestError(400, C.E_MANDATORY_PARAM,
                        f"Mandatory parameter '{name}' was not sent, was empty/null, or "
                        "malformed.", rid)


def _illegal(name: str, rid: int | str | None) -> RequestError:
    return RequestError(400, C.E_ILLEGAL_CHARS,
                        f"Illegal characters found in parameter '{name}'; legal range is "
                        f"'{C.CLIENT_ID_RE.pattern}'.", rid)


_SCALARS = (str, int, bool, float)
_SCALAR_TYPES = frozenset(_SCALARS)


_KEYED: dict[bytes, Any] = {}   # secret -> HMAC-SHA256 keyed with it, never updated
KEYED_MAX = 64


_PLAIN_TYPES = frozenset({str, int})
# the keys of a params object in the order they arrived -> (their values in signing order,
# the payload as a format string): one client sends the same few layouts over and over
_LAYOUTS: dict[tuple[str, ...], tuple[Any, str] | None] = {}
LAYOUTS_MAX = 256


def _layout(keys: tuple[str, ...]) -> tuple[Any, str] | None:
    """The signing layout of a params object with `keys` (None: write it the general way, for
    fewer than two signed keys or a key holding a brace, which a format string cannot take)."""
    signed = sorted(k for k in keys if k != "signature")
    if len(signed) < 2 or any("{" in k or "}" in k for k in signed):
        return None
    return itemgetter(*signed), "&".join(f"{k}={{}}" for k in signed)


def _payload(params: Mapping[str, Any]) -> str:
    """`signing.ws_payload(params)`: str and int values (all a client's order request holds)
    written directly, anything else through `signing.wire_value` (bools, Decimals; it
    refuses floats and containers). Why the layout memo: sorting the keys and writing
    `k=v` pair by pair was most of the cost of checking a signature; for a known key layout
    whose values are all exact str or int, one `str.format` writes the same text."""
    keys = tuple(params)
    if keys in _LAYOUTS:
        lay = _LAYOUTS[keys]
    else:
        if len(_LAYOUTS) >= LAYOUTS_MAX:
            _LAYOUTS.clear()
        lay = _LAYOUTS[keys] = _layout(keys)
    if lay is not None:
        values = lay[0](params)
        if _PLAIN_TYPES.issuperset(map(type, values)):
            return lay[1].format(*values)
    parts = []
    for k in sorted(params):
        if k == "signature":
            continue
        v = params[k]
        t = type(v)
        parts.append(f"{k}={v}" if t is str or t is int else f"{k}={wire_value(v)}")
    return "&".join(parts)


def _keyed(secret: str | bytes) -> Any:
    """An HMAC-SHA256 object keyed with `secret`, to `copy()` per request (None for a secret
    that is neither str nor bytes). Why: every WS API request is signed, and keying (two
    SHA-256 blocks of the padded key plus the object set-up) was a large part of checking
    one; a copy of a keyed object gives the same digest for the same message."""
    if isinstance(secret, str):
        key = secret.encode()
    elif isinstance(secret, bytes):
        key = secret
    else:
        return None
    h = _KEYED.get(key)
    if h is None:
        if len(_KEYED) >= KEYED_MAX:
            _KEYED.clear()
        h = hmac.new(key, digestmod=hashlib.sha256)
        # the OpenSSL object under the wrapper when there is one: its copy/update/hexdigest
        # are single C calls (the wrapper's copy builds a Python object per request)
        h = _KEYED[key] = getattr(h, "_hmac", None) or h
    return h


# decimal request fields by their accepted spelling: a client sends the same few prices and
# sizes, and the checks and the conversion ran for each (a Decimal is immutable: sharing one
# is safe); bounded, cleared when full
_DEC_MEMO: dict[str, Decimal] = {}
DEC_MEMO_MAX = 4096


@dataclass(frozen=True, slots=True)
class WsRequest:
    """One decoded WS API request frame."""

    id: int | str | None
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def _s(self, key: str) -> str:
        v = self.params.get(key)
        return v if isinstance(v, str) else ""

    @property
    def api_key(self) -> str:
        return self._s("apiKey")

    @property
    def signature(self) -> str:
        return self._s("signature")

    @property
    def timestamp_ms(self) -> int | None:
        v = self.params.get("timestamp")
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    @property
    def recv_window_ms(self) -> Decimal:
        v = self.params.get("recvWindow")
        if v is None or isinstance(v, bool):
            return Decimal(C.RECV_WINDOW_DEFAULT_MS)
        try:
            return Decimal(v if isinstance(v, (int, str)) else repr(v))
        except InvalidOperation:
            return Decimal(-1)

    def verify(self, secret: str | bytes) -> bool:
        """HMAC signature over the sorted params (the caller picks the secret by apiKey):
        `signing.verify_ws`, with the HMAC keyed once per secret (see `_keyed`)."""
        sig = self.params.get("signature")
        if not isinstance(sig, str) or not sig:
            return False
        try:
            payload = _payload(self.params)
        except ProtocolError:  # an unsignable value (float, list) is simply a bad signature
            return False
        base = _keyed(secret)
        if base is None:
            return False
        h = base.copy()
        h.update(payload.encode())
        if sig.isascii():   # compare_digest takes ASCII str as is: the same comparison
            return hmac.compare_digest(h.hexdigest(), sig.lower())
        return hmac.compare_digest(h.hexdigest().encode(),
                                   sig.lower().encode("utf-8", "replace"))

    def timestamp_ok(self, server_ms: int) -> bool:
        """`timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`."""
        ts = self.timestamp_ms
        v = self.params.get("recvWindow")
        # an int window (or none, the default) compares as its Decimal would; other
        # spellings go through `recv_window_ms`
        window: int | Decimal = C.RECV_WINDOW_DEFAULT_MS if v is None else \
            v if type(v) is int else self.recv_window_ms
        if ts is None or not 0 <= window <= C.RECV_WINDOW_MAX_MS:
            return False
        return ts < server_ms + C.TIMESTAMP_AHEAD_MS and server_ms - ts <= window

    def str_param(self, key: str, required: bool = True, default: str = "") -> str:
        v = self.params.get(key)
        if type(v) is str and v:   # the usual case, answered before the checks below
            return v
        if v is None or v == "":
            if required:
                raise _mandatory(key, self.id)
            return default
        if not isinstance(v, str):
            raise _mandatory(key, self.id)
        return v

    def int_param(self, key: str) -> int | None:
        v = self.params.get(key)
        if v is None:
            return None
        if isinstance(v, str) and v.isdigit() and len(v) < 20:
            return int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise _mandatory(key, self.id)
        return v

    def dec_param(self, key: str, required: bool = True) -> Decimal | None:
        v = self.params.get(key)
        if type(v) is str:
            hit = _DEC_MEMO.get(v)
            if hit is not None:
                return hit
        d = self._dec_param(key, v, required)
        if type(v) is str and d is not None:   # only strings the checks accepted
            if len(_DEC_MEMO) >= DEC_MEMO_MAX:
                _DEC_MEMO.clear()
            _DEC_MEMO[v] = d
        return d

    def _dec_param(self, key: str, v: Any, required: bool) -> Decimal | None:
        if v is None:
            if required:
                raise _mandatory(key, self.id)
            return None
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise _mandatory(key, self.id)
        try:
            d = Decimal(v if not isinstance(v, float) else repr(v))
        except InvalidOperation:
            raise _mandatory(key, self.id) from None
        if not d.is_finite() or d < 0 or (isinstance(v, str) and len(v) > 40):
            raise _mandatory(key, self.id)
        return d


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    req: WsRequest
    symbol: str
    side: Side
    order_type: str           # LIMIT | LIMIT_MAKER | MARKET (others are refused)
    time_in_force: str        # "" for LIMIT_MAKER / MARKET
    price: Decimal | None
    quantity: Decimal
    client_id: str            # "" when the client sent none (the venue generates one)
    resp_type: str            # ACK | RESULT | FULL


@dataclass(frozen=True, slots=True)
class CancelRequest:
    req: WsRequest
    symbol: str
    order_id: int | None
    orig_client_id: str
    new_client_id: str


@dataclass(frozen=True, slots=True)
class CancelAllRequest:
    req: WsRequest
    symbol: str


@dataclass(frozen=True, slots=True)
class StatusRequest:
    req: WsRequest
    symbol: str
    order_id: int | None
    orig_client_id: str


@dataclass(frozen=True, slots=True)
class OpenOrdersRequest:
    req: WsRequest
    symbol: str  # "" = every symbol


@dataclass(frozen=True, slots=True)
class UserStreamRequest:
    """`userDataStream.subscribe(.signature)`, `.unsubscribe`, `session.logon` and friends."""

    req: WsRequest
    subscription_id: int | None = None


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """`GET /api/v3/account` / `account.status`."""

    req: WsRequest


@dataclass(frozen=True, slots=True)
class TradesRequest:
    """`GET /api/v3/myTrades` / `myTrades`: one symbol, newest `limit` trades."""

    req: WsRequest
    symbol: str
    limit: int
    order_id: int | None
    from_id: int | None


@dataclass(frozen=True, slots=True)
class PlainRequest:
    """An unsigned request without params of its own (`ping`, `time`)."""

    req: WsRequest


TypedRequest = (PlaceRequest | CancelRequest | CancelAllRequest | StatusRequest
                | OpenOrdersRequest | UserStreamRequest | AccountRequest | TradesRequest
                | PlainRequest)


def _envelope(frame: str | bytes) -> WsRequest:
    try:
        obj = loads(frame)
    except ProtocolError:
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Malformed request: invalid JSON.") from None
    if not isinstance(obj, dict):
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Malformed request: not an object.")
    rid = obj.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (int, str))
                            or (isinstance(rid, str) and not C.REQUEST_ID_STR_RE.match(rid))
                            or (isinstance(rid, int) and not -2**63 <= rid < 2**63)):
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Malformed request: bad 'id'.")
    method = obj.get("method")
    if not isinstance(method, str) or not method:
        raise _mandatory("method", rid)
    params = obj.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Malformed request: 'params' is not an "
                           "object.", rid)
    # JSON gives exact types: one set test over the value types, the loop only to name a bad one
    if not _SCALAR_TYPES.issuperset(map(type, params.values())):
        for k, v in params.items():
            if not isinstance(v, _SCALARS):
                raise RequestError(400, C.E_ILLEGAL_CHARS,
                                   f"Illegal value for parameter '{k[:40]}'.", rid)
    return WsRequest(rid, method, params)   # a fresh object of `loads`: no copy needed


def _side(req: WsRequest) -> Side:
    v = req.str_param("side")
    if v == "BUY":
        return Side.BUY
    if v == "SELL":
        return Side.SELL
    raise RequestError(400, C.E_INVALID_SIDE, "Invalid side.", req.id)


def _client_id(req: WsRequest, key: str) -> str:
    cid = req.str_param(key, required=False)
    if cid and not C.CLIENT_ID_RE.match(cid):
        raise _illegal(key, req.id)
    return cid


def _symbol(req: WsRequest, required: bool = True) -> str:
    s = req.str_param("symbol", required=required)
    if s and (len(s) > 20 or not s.isalnum()):
        raise RequestError(400, C.E_BAD_SYMBOL, MSG_BAD_SYMBOL, req.id)
    return s


def _place(req: WsRequest) -> PlaceRequest:
    symbol, side = _symbol(req), _side(req)
    otype = req.str_param("type")
    if otype not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
        raise RequestError(400, C.E_INVALID_ORDER_TYPE, "Invalid orderType.", req.id)
    tif = req.str_param("timeInForce", required=False)
    if otype == "LIMIT":
        if not tif:
            raise _mandatory("timeInForce", req.id)
        if tif not in C.TIME_IN_FORCE:
            raise RequestError(400, C.E_INVALID_TIF, "Invalid timeInForce.", req.id)
    elif tif:
        raise RequestError(400, C.E_PARAM_NOT_REQUIRED,
                           "Parameter 'timeInForce' sent when not required.", req.id)
    price = req.dec_param("price", required=otype != "MARKET")
    if otype == "MARKET" and price is not None:
        raise RequestError(400, C.E_PARAM_NOT_REQUIRED,
                           "Parameter 'price' sent when not required.", req.id)
    qty = req.dec_param("quantity")
    if qty is None:  # unreachable (required=True raises); keeps the type exact
        raise _mandatory("quantity", req.id)
    resp = req.str_param("newOrderRespType", required=False,
                         default="FULL" if otype in ("LIMIT", "MARKET") else "ACK")
    if resp not in C.RESP_TYPES:
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Invalid newOrderRespType.", req.id)
    return PlaceRequest(req, symbol, side, otype, tif, price, qty,
                        _client_id(req, "newClientOrderId"), resp)


def _order_ref(req: WsRequest) -> tuple[int | None, str]:
    oid, orig = req.int_param("orderId"), _client_id(req, "origClientOrderId")
    if oid is None and not orig:
        raise RequestError(400, C.E_MANDATORY_PARAM,
                           "Param 'origClientOrderId' or 'orderId' must be sent, but both "
                           "were empty/null!", req.id)
    return oid, orig


def decode_ws_request(frame: str | bytes) -> TypedRequest:
    """A client frame -> typed request; RequestError (a ProtocolError) says how to refuse it.
    Signature and timestamp are not checked here: call `req.verify` / `req.timestamp_ok`."""
    return _typed(_envelope(frame))


# REST params arrive as strings; these are integers in the WS API's JSON
_REST_INT_PARAMS = ("timestamp",)


def decode_rest_request(http_method: str, path: str, params: Mapping[str, str]
                        ) -> TypedRequest:
    """A REST call (query and form-body params merged, `signature` included) -> the typed
    request of the equivalent WS API method (`C.REST_METHODS`), so both APIs share one set of
    rules. The REST signature is checked by the caller with `signing.verify_rest` on the raw
    query and body; the timestamp with `req.timestamp_ok`."""
    method = C.REST_METHODS.get((http_method.upper(), path))
    if method is None:
        raise RequestError(400, C.E_ILLEGAL_CHARS, "Unknown method.")
    out: dict[str, Any] = {}
    for k, v in params.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise RequestError(400, C.E_ILLEGAL_CHARS, "Malformed request.")
        if len(k) > 64 or len(v) > 1024:
            raise RequestError(400, C.E_ILLEGAL_CHARS, f"Illegal value for parameter "
                               f"'{k[:40]}'.")
        if k in _REST_INT_PARAMS and v.isdigit() and len(v) < 20:
            out[k] = int(v)
        else:
            out[k] = v
    return _typed(WsRequest(None, method, out))


def _typed(req: WsRequest) -> TypedRequest:
    m = req.method
    if m in C.WS_SIGNED_METHODS and req.timestamp_ms is None:
        raise _mandatory("timestamp", req.id)
    if m in (C.WS_ORDER_PLACE, C.WS_ORDER_TEST):
        return _place(req)
    if m == C.WS_ORDER_CANCEL:
        oid, orig = _order_ref(req)
        return CancelRequest(req, _symbol(req), oid, orig, _client_id(req, "newClientOrderId"))
    if m == C.WS_OPEN_ORDERS_CANCEL_ALL:
        return CancelAllRequest(req, _symbol(req))
    if m == C.WS_ORDER_STATUS:
        oid, orig = _order_ref(req)
        return StatusRequest(req, _symbol(req), oid, orig)
    if m == C.WS_OPEN_ORDERS_STATUS:
        return OpenOrdersRequest(req, _symbol(req, required=False))
    if m == C.WS_ACCOUNT_STATUS:
        return AccountRequest(req)
    if m == C.WS_MY_TRADES:
        limit = req.int_param("limit")
        if limit is not None and not 1 <= limit <= 1000:
            raise RequestError(400, C.E_ILLEGAL_CHARS, "Illegal value for parameter 'limit'.",
                               req.id)
        return TradesRequest(req, _symbol(req), limit or 500, req.int_param("orderId"),
                             req.int_param("fromId"))
    if m == C.WS_USER_DATA_UNSUBSCRIBE:
        return UserStreamRequest(req, req.int_param("subscriptionId"))
    if m in (C.WS_USER_DATA_SUBSCRIBE, C.WS_USER_DATA_SUBSCRIBE_SIGNATURE, C.WS_SESSION_LOGON,
             C.WS_SESSION_STATUS, C.WS_SESSION_LOGOUT, C.WS_SESSION_SUBSCRIPTIONS):
        return UserStreamRequest(req)
    if m in (C.WS_PING, C.WS_TIME):
        return PlainRequest(req)
    raise RequestError(400, C.E_ILLEGAL_CHARS, "Unknown method.", req.id)


# -- responses -------------------------------------------------------------------------------
def encode_ws_response(req_id: int | str | None, result: Any,
                       rate_limits: Sequence[RateLimit] | None = None, status: int = 200) -> str:
    """Success: `{"id", "status", "result", "rateLimits"}` (rateLimits omitted when None,
    as with `returnRateLimits=false`)."""
    body: dict[str, Any] = {"id": req_id, "status": status, "result": result}
    if rate_limits is not None:
        body["rateLimits"] = [encode_rate_limit(r) for r in rate_limits]
    return dumps(body)


def rate_limit_item(rate_limit_type: str, interval: str, interval_num: int, limit: int,
                    count: int) -> dict[str, Any]:
    """`encode_rate_limit(RateLimit(...))` of the same fields, without the RateLimit: every
    WS API answer carries one to three of these."""
    return {"rateLimitType": rate_limit_type, "interval": interval,
            "intervalNum": interval_num, "limit": limit, "count": count}


def encode_ws_answer(req_id: int | str | None, result: Any,
                     rate_limits: list[dict[str, Any]] | None, status: int = 200) -> str:
    """`encode_ws_response` with the `rateLimits` items already encoded (`rate_limit_item`)."""
    if rate_limits is None:
        return dumps({"id": req_id, "status": status, "result": result})
    return dumps({"id": req_id, "status": status, "result": result, "rateLimits": rate_limits})


def encode_ws_refusal(req_id: int | str | None, status: int, code: int, msg: str,
                      rate_limits: list[dict[str, Any]] | None,
                      data: dict[str, Any] | None = None) -> str:
    """`encode_ws_error` with the `rateLimits` items already encoded (`rate_limit_item`)."""
    err_body: dict[str, Any] = encode_error_body(code, msg)
    if data is not None:
        err_body["data"] = data
    body: dict[str, Any] = {"id": req_id, "status": status, "error": err_body}
    if rate_limits is not None:
        body["rateLimits"] = rate_limits
    return dumps(body)


def encode_ws_error(req_id: int | str | None, status: int, code: int, msg: str,
                    rate_limits: Sequence[RateLimit] | None = None,
                    data: dict[str, Any] | None = None) -> str:
    """Failure: `{"id", "status", "error": {"code", "msg"[, "data"]}, "rateLimits"}`."""
    items = None if rate_limits is None else [encode_rate_limit(r) for r in rate_limits]
    return encode_ws_refusal(req_id, status, code, msg, items, data)


@dataclass(slots=True)
class VenueOrder:
    """The simulator's view of one order, in the venue's own terms (exact Decimals)."""

    symbol: str
    order_id: int
    client_id: str
    side: Side
    order_type: str            # LIMIT | LIMIT_MAKER | MARKET
    time_in_force: str         # GTC | IOC | FOK ("GTC" is what Binance prints otherwise)
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    status: str = "NEW"
    time_ns: int = 0           # creation
    update_ns: int = 0
    working_ns: int = 0
    stp_mode: str = "NONE"


@dataclass(frozen=True, slots=True)
class Fill:
    price: Num
    qty: Num
    commission: Num
    commission_asset: str
    trade_id: int


def _ms(ts_ns: int) -> int:
    return ts_ns // _MS


def encode_order_ack(o: VenueOrder, transact_ns: int) -> dict[str, Any]:
    """`newOrderRespType=ACK` result."""
    return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": o.client_id, "transactTime": _ms(transact_ns)}


def encode_order_result(o: VenueOrder, transact_ns: int) -> dict[str, Any]:
    """`newOrderRespType=RESULT` result (also the body of a FULL one, before `fills`)."""
    body = encode_order_ack(o, transact_ns)
    body.update({
        "price": fmt8(o.price), "origQty": fmt8(o.orig_qty), "executedQty": fmt8(o.executed_qty),
        "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": fmt8(o.cum_quote),
        "status": o.status, "timeInForce": o.time_in_force, "type": o.order_type,
        "side": side_str(o.side), "workingTime": _ms(o.working_ns) if o.working_ns else -1,
        "selfTradePreventionMode": o.stp_mode})
    return body


def encode_order_full(o: VenueOrder, transact_ns: int, fills: Iterable[Fill]) -> dict[str, Any]:
    body = encode_order_result(o, transact_ns)
    body["fills"] = encode_fills(fills)
    return body


def encode_fills(fills: Iterable[Fill]) -> list[dict[str, Any]]:
    """The `fills` of a FULL order result."""
    return [{"price": fmt8(f.price), "qty": fmt8(f.qty), "commission": fmt8(f.commission),
             "commissionAsset": f.commission_asset, "tradeId": f.trade_id} for f in fills]


# -- the same results from numbers already spelled -----------------------------------------
# The simulator spells an order's price and sizes once per value from its integer ticks and
# lots (`feeds/sim/spellings.py`); these take those strings instead of a `VenueOrder` of
# Decimals, and give the same objects as `encode_order_ack` / `encode_order_result` /
# `encode_cancel_report` (same keys, same order) for the same values.
def encode_order_ack_spelled(symbol: str, order_id: int, client_id: str, transact_ms: int
                             ) -> dict[str, Any]:
    return {"symbol": symbol, "orderId": order_id, "orderListId": -1,
            "clientOrderId": client_id, "transactTime": transact_ms}


def encode_order_result_spelled(symbol: str, order_id: int, client_id: str, transact_ms: int,
                                price: str, orig_qty: str, executed_qty: str, cum_quote: str,
                                status: str, time_in_force: str, order_type: str, side: str,
                                working_ms: int, stp_mode: str = "NONE") -> dict[str, Any]:
    """`working_ms` is -1 for an order that never worked, as `encode_order_result` writes."""
    return {"symbol": symbol, "orderId": order_id, "orderListId": -1,
            "clientOrderId": client_id, "transactTime": transact_ms, "price": price,
            "origQty": orig_qty, "executedQty": executed_qty, "origQuoteOrderQty": "0.000000",
            "cummulativeQuoteQty": cum_quote, "status": status, "timeInForce": time_in_force,
            "type": order_type, "side": side, "workingTime": working_ms,
            "selfTradePreventionMode": stp_mode}


def encode_cancel_report_spelled(symbol: str, orig_client_id: str, order_id: int,
                                 cancel_client_id: str, transact_ms: int, price: str,
                                 orig_qty: str, executed_qty: str, cum_quote: str, status: str,
                                 time_in_force: str, order_type: str, side: str,
                                 stp_mode: str = "NONE") -> dict[str, Any]:
    return {"symbol": symbol, "origClientOrderId": orig_client_id, "orderId": order_id,
            "orderListId": -1, "clientOrderId": cancel_client_id, "transactTime": transact_ms,
            "price": price, "origQty": orig_qty, "executedQty": executed_qty,
            "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": cum_quote,
            "status": status, "timeInForce": time_in_force, "type": order_type, "side": side,
            "selfTradePreventionMode": stp_mode}


def encode_cancel_report(o: VenueOrder, transact_ns: int, cancel_client_id: str
                         ) -> dict[str, Any]:
    """`DELETE /api/v3/order` / `order.cancel` result; `clientOrderId` is the cancel's own id
    and `origClientOrderId` the cancelled order's."""
    return {"symbol": o.symbol, "origClientOrderId": o.client_id, "orderId": o.order_id,
            "orderListId": -1, "clientOrderId": cancel_client_id,
            "transactTime": _ms(transact_ns), "price": fmt8(o.price),
            "origQty": fmt8(o.orig_qty), "executedQty": fmt8(o.executed_qty),
            "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": fmt8(o.cum_quote),
            "status": o.status, "timeInForce": o.time_in_force, "type": o.order_type,
            "side": side_str(o.side), "selfTradePreventionMode": o.stp_mode}


def encode_open_order(o: VenueOrder) -> dict[str, Any]:
    """One entry of `GET /api/v3/openOrders` / `openOrders.status`; also `order.status`."""
    return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": o.client_id, "price": fmt8(o.price), "origQty": fmt8(o.orig_qty),
            "executedQty": fmt8(o.executed_qty), "cummulativeQuoteQty": fmt8(o.cum_quote),
            "status": o.status, "timeInForce": o.time_in_force, "type": o.order_type,
            "side": side_str(o.side), "stopPrice": "0.00000000", "icebergQty": "0.00000000",
            "time": _ms(o.time_ns), "updateTime": _ms(o.update_ns or o.time_ns),
            "isWorking": o.status in ("NEW", "PARTIALLY_FILLED"),
            "origQuoteOrderQty": "0.000000",
            "workingTime": _ms(o.working_ns) if o.working_ns else -1,
            "selfTradePreventionMode": o.stp_mode}


_ZERO8 = "0.00000000"   # fmt8 of any unsigned zero


# -- user data stream ------------------------------------------------------------------------
def encode_execution_report(o: VenueOrder, exec_type: str, event_ns: int, transact_ns: int, *,
                            execution_id: int, last_qty: Num = 0, last_price: Num = 0,
                            commission: Num = 0, commission_asset: str | None = None,
                            trade_id: int = -1, is_maker: bool = False,
                            reject_reason: str = "NONE", orig_client_id: str = "",
                            prevented_match_id: int | None = None) -> dict[str, Any]:
    """An `executionReport` event body with every documented key (`v` only when a match was
    prevented). A fill is `exec_type="TRADE"` with `trade_id > 0` and the `last_*` fields;
    for a cancel use `encode_cancel_execution`, which fills `c`/`C` the venue's way."""
    on_book = o.status in ("NEW", "PARTIALLY_FILLED") and o.order_type != "MARKET"
    if prevented_match_id is None and type(last_qty) is int and type(last_price) is int \
            and last_qty == 0 and last_price == 0:
        # no fill (NEW, CANCELED, EXPIRED): what the general form below gives, without
        # spelling and multiplying the two zeros; one literal, as it runs for every update
        return {
            "e": "executionReport", "E": event_ns // _MS, "s": o.symbol, "c": o.client_id,
            "S": "BUY" if o.side is Side.BUY else "SELL", "o": o.order_type,
            "f": o.time_in_force, "q": fmt8(o.orig_qty), "p": fmt8(o.price),
            "P": _ZERO8, "F": _ZERO8, "g": -1, "C": orig_client_id, "x": exec_type,
            "X": o.status, "r": reject_reason, "i": o.order_id, "l": _ZERO8,
            "z": fmt8(o.executed_qty), "L": _ZERO8,
            "n": fmt8(commission) if commission_asset else "0", "N": commission_asset,
            "T": transact_ns // _MS, "t": trade_id, "I": execution_id, "w": on_book,
            "m": is_maker, "M": False, "O": o.time_ns // _MS, "Z": fmt8(o.cum_quote),
            "Y": _ZERO8, "Q": _ZERO8, "W": (o.working_ns or o.time_ns) // _MS,
            "V": o.stp_mode}
    last_quote = (Decimal(fmt8(last_qty)) * Decimal(fmt8(last_price)))
    ev: dict[str, Any] = {
        "e": "executionReport", "E": _ms(event_ns), "s": o.symbol, "c": o.client_id,
        "S": side_str(o.side), "o": o.order_type, "f": o.time_in_force,
        "q": fmt8(o.orig_qty), "p": fmt8(o.price), "P": "0.00000000", "F": "0.00000000",
        "g": -1, "C": orig_client_id, "x": exec_type, "X": o.status, "r": reject_reason,
        "i": o.order_id, "l": fmt8(last_qty), "z": fmt8(o.executed_qty), "L": fmt8(last_price),
        "n": fmt8(commission) if commission_asset else "0", "N": commission_asset,
        "T": _ms(transact_ns), "t": trade_id}
    if prevented_match_id is not None:
        ev["v"] = prevented_match_id
    ev.update({
        "I": execution_id, "w": on_book, "m": is_maker, "M": False, "O": _ms(o.time_ns),
        "Z": fmt8(o.cum_quote), "Y": fmt8(last_quote), "Q": "0.00000000",
        "W": _ms(o.working_ns or o.time_ns), "V": o.stp_mode})
    return ev


def execution_template(o: VenueOrder) -> dict[str, Any]:
    """The fields of `o`'s no-fill `executionReport`s (NEW, CANCELED, EXPIRED) that never change
    while it lives, every key in place: `encode_plain_execution` copies it and writes the rest.
    Why: the same thirty-odd keys were written and half of them spelled again for each of an
    order's reports; a dict copy keeps the key order, so the result is the same object."""
    return {
        "e": "executionReport", "E": 0, "s": o.symbol, "c": o.client_id,
        "S": "BUY" if o.side is Side.BUY else "SELL", "o": o.order_type,
        "f": o.time_in_force, "q": fmt8(o.orig_qty), "p": fmt8(o.price),
        "P": _ZERO8, "F": _ZERO8, "g": -1, "C": "", "x": "", "X": "", "r": "NONE",
        "i": o.order_id, "l": _ZERO8, "z": _ZERO8, "L": _ZERO8, "n": "0", "N": None,
        "T": 0, "t": -1, "I": 0, "w": False, "m": False, "M": False, "O": o.time_ns // _MS,
        "Z": _ZERO8, "Y": _ZERO8, "Q": _ZERO8, "W": (o.working_ns or o.time_ns) // _MS,
        "V": o.stp_mode}


def encode_plain_execution(template: dict[str, Any], o: VenueOrder, exec_type: str,
                           event_ns: int, transact_ns: int, execution_id: int,
                           client_id: str, orig_client_id: str = "") -> dict[str, Any]:
    """`encode_execution_report(o, exec_type, ...)` without a fill (so no commission, no
    prevented match), from `o`'s `execution_template`; `client_id` is `c` (the order's own
    id, or a cancel's), `orig_client_id` is `C`. `o` holds the order's state now."""
    ev = template.copy()
    status = o.status
    ev["E"] = event_ns // _MS
    ev["c"] = client_id
    ev["C"] = orig_client_id
    ev["x"] = exec_type
    ev["X"] = status
    ev["z"] = fmt8(o.executed_qty)
    ev["T"] = transact_ns // _MS
    ev["I"] = execution_id
    ev["w"] = status in ("NEW", "PARTIALLY_FILLED") and o.order_type != "MARKET"
    ev["Z"] = fmt8(o.cum_quote)
    return ev


def encode_cancel_execution(o: VenueOrder, event_ns: int, transact_ns: int, *,
                            execution_id: int, cancel_client_id: str) -> dict[str, Any]:
    """The `executionReport` for a cancel: `c` = the cancel request's id, `C` = the order's."""
    ev = encode_execution_report(o, "CANCELED", event_ns, transact_ns,
                                 execution_id=execution_id, orig_client_id=o.client_id)
    ev["c"] = cancel_client_id
    return ev


def encode_account_position(event_ns: int, update_ns: int,
                            balances: Iterable[tuple[str, Num, Num]]) -> dict[str, Any]:
    """An `outboundAccountPosition` event body: `B` = [{a: asset, f: free, l: locked}]."""
    return {"e": "outboundAccountPosition", "E": _ms(event_ns), "u": _ms(update_ns),
            "B": [{"a": a, "f": fmt8(f), "l": fmt8(lk)} for a, f, lk in balances]}


def encode_balance_update(event_ns: int, asset: str, delta: Num, clear_ns: int
                          ) -> dict[str, Any]:
    return {"e": "balanceUpdate", "E": _ms(event_ns), "a": asset, "d": fmt8(delta),
            "T": _ms(clear_ns)}


def encode_user_event(subscription_id: int, event: dict[str, Any]) -> str:
    """The WS API user-data envelope `{"subscriptionId": n, "event": {...}}`."""
    return dumps({"subscriptionId": subscription_id, "event": event})


def encode_user_event_json(subscription_id: int, event_json: str) -> str:
    """`encode_user_event(subscription_id, event)` for an event already encoded
    (`event_json = dumps(event)`): the envelope written around it, so one encoded event goes
    to every subscription. Compact JSON of an int id and an object is exactly this text."""
    if type(subscription_id) is not int:
        return dumps({"subscriptionId": subscription_id, "event": loads(event_json)})
    return f'{{"subscriptionId":{subscription_id},"event":{event_json}}}'


def encode_stream_terminated(subscription_id: int, event_ns: int) -> str:
    return encode_user_event(subscription_id, {"e": "eventStreamTerminated",
                                               "E": _ms(event_ns)})


def encode_subscribe_result(subscription_id: int) -> dict[str, Any]:
    """`result` of `userDataStream.subscribe(.signature)`."""
    return {"subscriptionId": subscription_id}


# -- account queries -------------------------------------------------------------------------
def encode_account(balances: Iterable[tuple[str, Num, Num]], update_ns: int, *,
                   maker_rate: Num = Decimal("0.001"), taker_rate: Num = Decimal("0.001"),
                   uid: int = 0) -> dict[str, Any]:
    """`GET /api/v3/account` body: `balances` = (asset, free, locked)."""
    return {
        "makerCommission": int(Decimal(str(maker_rate)) * 10000),
        "takerCommission": int(Decimal(str(taker_rate)) * 10000),
        "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": fmt8(maker_rate), "taker": fmt8(taker_rate),
                            "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False,
        "updateTime": _ms(update_ns), "accountType": "SPOT",
        "balances": [{"asset": a, "free": fmt8(f), "locked": fmt8(lk)} for a, f, lk in balances],
        "permissions": ["SPOT"], "uid": uid}


def encode_my_trade(symbol: str, trade_id: int, order_id: int, price: Num, qty: Num,
                    commission: Num, commission_asset: str, time_ns: int, is_buyer: bool,
                    is_maker: bool) -> dict[str, Any]:
    """One entry of `GET /api/v3/myTrades`."""
    quote = Decimal(fmt8(price)) * Decimal(fmt8(qty))
    return {"symbol": symbol, "id": trade_id, "orderId": order_id, "orderListId": -1,
            "price": fmt8(price), "qty": fmt8(qty), "quoteQty": fmt8(quote),
            "commission": fmt8(commission), "commissionAsset": commission_asset,
            "time": _ms(time_ns), "isBuyer": is_buyer, "isMaker": is_maker,
            "isBestMatch": True}
