"""Binance orders for the gateway: signed WS API / REST requests out, responses and user-data
events in — plus, re-exported from `order_server`, the simulator's side of the same wire.

Client side (gateway process): `build_*` turn a `NewOrder` / `CancelOrder` + `Instrument` into
signed WS API frames (`order.place`, `order.cancel`, `openOrders.cancelAll`, `order.status`,
`openOrders.status`, `userDataStream.subscribe.signature`) or REST requests; keys, the clock
(`timestamp_ms`) and request ids are arguments. `parse_private` reads one frame from the WS API
connection: a response becomes a `WsApiResponse` (rate-limit usage included, errors classified
by code) and a user-data event becomes `ExecReport`s / balance records. `response_reports`
turns a successful response into `ExecReport`s given the method the gateway sent.

Exactness: prices and quantities leave as `Instrument`-formatted decimal strings and come back
as integer ticks/lots; fees are `Decimal`. Fills are reported only from `executionReport`
(with trade ids), never from an order.place FULL response, so a fill is never counted twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pipeline.errors import ProtocolError
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, OrderType, RejectReason, Side, TimeInForce

from . import constants as C
from ._wire import (
    VENUE,
    as_list,
    as_obj,
    dumps,
    err,
    field,
    get_bool,
    get_dec,
    get_int,
    get_side,
    get_str,
    loads,
    ms_to_ns,
    opt_str,
    side_str,
    to_int,
)
from .errors import classify_response
from .order_server import (  # noqa: F401  (re-exported: the simulator's half of this wire)
    AccountRequest,
    CancelAllRequest,
    CancelRequest,
    Fill,
    OpenOrdersRequest,
    PlaceRequest,
    PlainRequest,
    RateLimit,
    RequestError,
    StatusRequest,
    TradesRequest,
    UserStreamRequest,
    VenueOrder,
    WsRequest,
    decode_rest_request,
    decode_ws_request,
    encode_account,
    encode_account_position,
    encode_balance_update,
    encode_cancel_execution,
    encode_cancel_report,
    encode_execution_report,
    encode_my_trade,
    encode_open_order,
    encode_order_ack,
    encode_order_full,
    encode_order_result,
    encode_rate_limit,
    encode_stream_terminated,
    encode_subscribe_result,
    encode_user_event,
    encode_ws_error,
    encode_ws_response,
)
from .signing import rest_query, sign_rest, sign_ws

Instruments = Mapping[str, Instrument]  # keyed by venue symbol (BTCUSDT)


class InvalidOrder(ValueError):
    """An order this codec refuses to put on the wire; `reason` types the local reject."""

    def __init__(self, reason: RejectReason, what: str) -> None:
        super().__init__(what)
        self.reason = reason


def validate_client_id(client_id: str) -> str:
    """`newClientOrderId` rule: 1-36 chars of [A-Za-z0-9-_] (EXCHANGES.md §1.6.1)."""
    if not isinstance(client_id, str) or not C.CLIENT_ID_RE.match(client_id):
        raise InvalidOrder(RejectReason.OTHER, f"client order id {str(client_id)[:40]!r} is not "
                           f"1-{C.CLIENT_ID_MAX} chars of [A-Za-z0-9-_]")
    return client_id


# -- request params --------------------------------------------------------------------------
def order_params(order: NewOrder, inst: Instrument, resp_type: str | None = None
                 ) -> dict[str, Any]:
    """`order.place` / `POST /api/v3/order` params (unsigned), in the documented order.

    POST_ONLY -> `type=LIMIT_MAKER` (no timeInForce; the venue rejects a cross with -2010);
    GTC/IOC/FOK -> `type=LIMIT`; MARKET sends quantity only."""
    cid = validate_client_id(order.client_id)
    if order.lots <= 0:
        raise InvalidOrder(RejectReason.BAD_SIZE, "lots must be positive")
    p: dict[str, Any] = {"symbol": inst.venue_symbol, "side": side_str(order.side)}
    if order.order_type is OrderType.MARKET:
        if order.tif is TimeInForce.POST_ONLY:
            raise InvalidOrder(RejectReason.OTHER, "a MARKET order cannot be post-only")
        p["type"] = "MARKET"
    else:
        if order.price_ticks <= 0:
            raise InvalidOrder(RejectReason.BAD_PRICE, "price ticks must be positive")
        if order.tif is TimeInForce.POST_ONLY:
            p["type"] = "LIMIT_MAKER"
        else:
            p["type"] = "LIMIT"
            p["timeInForce"] = order.tif.name
        p["price"] = inst.format_price(order.price_ticks)
    p["quantity"] = inst.format_qty(order.lots)
    p["newClientOrderId"] = cid
    if resp_type is not None:
        if resp_type not in C.RESP_TYPES:
            raise InvalidOrder(RejectReason.OTHER, f"newOrderRespType {resp_type!r}")
        p["newOrderRespType"] = resp_type
    return p


def cancel_params(cancel: CancelOrder, inst: Instrument) -> dict[str, Any]:
    """By `orderId` when known (the venue's fastest lookup), else by `origClientOrderId`."""
    p: dict[str, Any] = {"symbol": inst.venue_symbol}
    if cancel.venue_order_id:
        if not cancel.venue_order_id.isdigit():
            raise InvalidOrder(RejectReason.UNKNOWN_ORDER, "venue order id is not numeric")
        p["orderId"] = int(cancel.venue_order_id)
    else:
        p["origClientOrderId"] = validate_client_id(cancel.client_id)
    return p


# -- WS API requests -------------------------------------------------------------------------
ReqId = int | str


def _signed(method: str, params: dict[str, Any], api_key: str, secret: str, timestamp_ms: int,
            req_id: ReqId, recv_window: int | None) -> str:
    p = dict(params)
    if recv_window is not None:
        p["recvWindow"] = recv_window
    p["apiKey"] = api_key
    p["timestamp"] = timestamp_ms
    p["signature"] = sign_ws(secret, p)
    return dumps({"id": req_id, "method": method, "params": p})


def build_order_place(order: NewOrder, inst: Instrument, api_key: str, secret: str,
                      timestamp_ms: int, req_id: ReqId, *, recv_window: int | None = None,
                      resp_type: str | None = "RESULT") -> str:
    """Signed `order.place` frame (RESULT responses by default: fills come as events)."""
    return _signed(C.WS_ORDER_PLACE, order_params(order, inst, resp_type), api_key, secret,
                   timestamp_ms, req_id, recv_window)


def build_order_cancel(cancel: CancelOrder, inst: Instrument, api_key: str, secret: str,
                       timestamp_ms: int, req_id: ReqId, *, recv_window: int | None = None
                       ) -> str:
    return _signed(C.WS_ORDER_CANCEL, cancel_params(cancel, inst), api_key, secret,
                   timestamp_ms, req_id, recv_window)


def build_cancel_all(venue_symbol: str, api_key: str, secret: str, timestamp_ms: int,
                     req_id: ReqId, *, recv_window: int | None = None) -> str:
    """`openOrders.cancelAll` for one symbol (Binance has no account-wide cancel-all)."""
    return _signed(C.WS_OPEN_ORDERS_CANCEL_ALL, {"symbol": venue_symbol}, api_key, secret,
                   timestamp_ms, req_id, recv_window)


def build_order_status(inst: Instrument, api_key: str, secret: str, timestamp_ms: int,
                       req_id: ReqId, *, client_id: str = "", venue_order_id: str = "",
                       recv_window: int | None = None) -> str:
    p: dict[str, Any] = {"symbol": inst.venue_symbol}
    if venue_order_id:
        if not venue_order_id.isdigit():
            raise InvalidOrder(RejectReason.UNKNOWN_ORDER, "venue order id is not numeric")
        p["orderId"] = int(venue_order_id)
    else:
        p["origClientOrderId"] = validate_client_id(client_id)
    return _signed(C.WS_ORDER_STATUS, p, api_key, secret, timestamp_ms, req_id, recv_window)


def build_open_orders_status(api_key: str, secret: str, timestamp_ms: int, req_id: ReqId, *,
                             venue_symbol: str = "", recv_window: int | None = None) -> str:
    p: dict[str, Any] = {"symbol": venue_symbol} if venue_symbol else {}
    return _signed(C.WS_OPEN_ORDERS_STATUS, p, api_key, secret, timestamp_ms, req_id,
                   recv_window)


def build_user_data_subscribe(api_key: str, secret: str, timestamp_ms: int, req_id: ReqId, *,
                              recv_window: int | None = None) -> str:
    """`userDataStream.subscribe.signature`: works with HMAC keys, no logon needed."""
    return _signed(C.WS_USER_DATA_SUBSCRIBE_SIGNATURE, {}, api_key, secret, timestamp_ms,
                   req_id, recv_window)


def build_user_data_unsubscribe(req_id: ReqId, subscription_id: int | None = None) -> str:
    frame: dict[str, Any] = {"id": req_id, "method": C.WS_USER_DATA_UNSUBSCRIBE}
    if subscription_id is not None:
        frame["params"] = {"subscriptionId": subscription_id}
    return dumps(frame)


def build_ping(req_id: ReqId) -> str:
    """`ping` (weight 1, unsigned, result `{}`): an application-level liveness check."""
    return dumps({"id": req_id, "method": C.WS_PING})


def build_session_logon(api_key: str, secret: str, timestamp_ms: int, req_id: ReqId) -> str:
    """`session.logon` (the live venue accepts Ed25519 keys only here; HMAC form for tests)."""
    return _signed(C.WS_SESSION_LOGON, {}, api_key, secret, timestamp_ms, req_id, None)


# -- REST requests ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RestRequest:
    """A signed REST call as data. `query` is exactly what was signed (signature last); send
    it verbatim — re-encoding `params` must give the same bytes, but need not be trusted."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    params: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:  # the API key header stays out of logs
        return f"RestRequest({self.method} {self.path}?{self.query[:60]}…)"


def _rest(method: str, path: str, params: dict[str, Any], api_key: str, secret: str,
          timestamp_ms: int, recv_window: int | None) -> RestRequest:
    items = list(params.items())
    if recv_window is not None:
        items.append(("recvWindow", recv_window))
    items.append(("timestamp", timestamp_ms))
    q = rest_query(items)
    sig = sign_rest(secret, q)
    pairs = tuple((k, v if isinstance(v, str) else str(v)) for k, v in items)
    return RestRequest(method, path, f"{q}&signature={sig}", {C.HEADER_API_KEY: api_key},
                       pairs + (("signature", sig),))


def build_rest_order(order: NewOrder, inst: Instrument, api_key: str, secret: str,
                     timestamp_ms: int, *, recv_window: int | None = None,
                     resp_type: str | None = "RESULT") -> RestRequest:
    return _rest("POST", C.PATH_ORDER, order_params(order, inst, resp_type), api_key, secret,
                 timestamp_ms, recv_window)


def build_rest_cancel(cancel: CancelOrder, inst: Instrument, api_key: str, secret: str,
                      timestamp_ms: int, *, recv_window: int | None = None) -> RestRequest:
    return _rest("DELETE", C.PATH_ORDER, cancel_params(cancel, inst), api_key, secret,
                 timestamp_ms, recv_window)


def build_rest_cancel_all(venue_symbol: str, api_key: str, secret: str, timestamp_ms: int, *,
                          recv_window: int | None = None) -> RestRequest:
    return _rest("DELETE", C.PATH_OPEN_ORDERS, {"symbol": venue_symbol}, api_key, secret,
                 timestamp_ms, recv_window)


def build_rest_open_orders(api_key: str, secret: str, timestamp_ms: int, *,
                           venue_symbol: str = "", recv_window: int | None = None
                           ) -> RestRequest:
    """`GET /api/v3/openOrders` (weight 6 with a symbol, 80 without)."""
    p = {"symbol": venue_symbol} if venue_symbol else {}
    return _rest("GET", C.PATH_OPEN_ORDERS, p, api_key, secret, timestamp_ms, recv_window)


def build_rest_my_trades(venue_symbol: str, api_key: str, secret: str, timestamp_ms: int, *,
                         start_time_ms: int | None = None, limit: int = 1000,
                         recv_window: int | None = None) -> RestRequest:
    """`GET /api/v3/myTrades` for one symbol (weight 20): our fills, for reconciliation."""
    p: dict[str, Any] = {"symbol": venue_symbol, "limit": limit}
    if start_time_ms is not None:
        p["startTime"] = start_time_ms
    return _rest("GET", C.PATH_MY_TRADES, p, api_key, secret, timestamp_ms, recv_window)


def parse_rest_my_trades(payload: Any, instruments: Instruments, ts_recv: int
                         ) -> list[ExecReport]:
    """`GET /api/v3/myTrades` body -> TRADE reports. A trade names its order by `orderId`
    only (no client id): the engine maps it to its order; the trade id makes it idempotent."""
    out: list[ExecReport] = []
    try:
        for t in as_list(payload, "myTrades"):
            t = as_obj(t, "trade")
            inst = _inst(instruments, get_str(t, "symbol"))
            if inst is None:
                continue
            lots = _nearest(get_dec(t, "qty"), inst.lot_size)
            px = _nearest(get_dec(t, "price"), inst.tick_size)
            out.append(ExecReport(
                venue=VENUE, symbol=inst.symbol, client_id="",
                venue_order_id=str(get_int(t, "orderId")), exec_type=ExecType.TRADE,
                status=OrderStatus.PARTIALLY_FILLED,
                side=Side.BUY if get_bool(t, "isBuyer") else Side.SELL,
                price_ticks=px, lots=0, filled_lots=0, last_lots=lots, last_price_ticks=px,
                fee=get_dec(t, "commission", signed=True),
                fee_asset=get_str(t, "commissionAsset"), trade_id=str(get_int(t, "id")),
                is_maker=get_bool(t, "isMaker"), ts_event=ms_to_ns(field(t, "time"), "'time'"),
                ts_recv=ts_recv))
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise err(f"malformed myTrades body ({type(exc).__name__})") from None
    return out


# -- parsed records --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WsApiResponse:
    """One WS API response. `reason` is the error's classification (NONE on success)."""

    id: int | str | None
    status: int
    result: Any = None
    error_code: int = 0
    error_msg: str = ""
    reason: RejectReason = RejectReason.NONE
    rate_limits: tuple[RateLimit, ...] = ()
    retry_after_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error_code == 0


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class AccountPosition:
    """`outboundAccountPosition`: the balances that changed, absolute."""

    ts_event: int
    last_update: int
    balances: tuple[Balance, ...]


@dataclass(frozen=True, slots=True)
class BalanceDelta:
    """`balanceUpdate`: a deposit, withdrawal or transfer."""

    asset: str
    delta: Decimal
    ts_event: int
    clear_time: int


PrivateRecord = ExecReport | WsApiResponse | AccountPosition | BalanceDelta | Control

_STATUS = {
    "NEW": OrderStatus.NEW, "PENDING_NEW": OrderStatus.PENDING_NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED, "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED, "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED, "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}
_EXEC = {
    "NEW": ExecType.NEW, "CANCELED": ExecType.CANCELED, "REPLACED": ExecType.NEW,
    "REJECTED": ExecType.REJECTED, "TRADE": ExecType.TRADE, "EXPIRED": ExecType.EXPIRED,
    "TRADE_PREVENTION": ExecType.EXPIRED,
}
_ER_REASON = {
    "NONE": RejectReason.NONE, "INSUFFICIENT_BALANCES": RejectReason.INSUFFICIENT_BALANCE,
    "WOULD_MATCH_IMMEDIATELY": RejectReason.POST_ONLY_WOULD_CROSS,
    "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY": RejectReason.OTHER,
    "OCO_BAD_PRICES": RejectReason.OTHER,
}


def _status(v: Any) -> OrderStatus:
    try:
        return _STATUS[v]
    except (KeyError, TypeError):
        raise err("unknown order status") from None


def _nearest(d: Decimal, step: Decimal) -> int:
    # The venue reports on-tick/on-lot values, so this is exact; nearest (not floor) keeps a
    # report usable if a filter was tightened after the order was placed.
    return int((d / step).to_integral_value(rounding=ROUND_HALF_EVEN))


def _inst(instruments: Instruments, venue_sym: str) -> Instrument | None:
    return instruments.get(venue_sym)


def _rate_limits(v: Any) -> tuple[RateLimit, ...]:
    if v is None:
        return ()
    out = []
    for item in as_list(v, "rateLimits"):
        o = as_obj(item, "rateLimit")
        out.append(RateLimit(get_str(o, "rateLimitType"), get_str(o, "interval"),
                             get_int(o, "intervalNum"), get_int(o, "limit"),
                             get_int(o, "count")))
    return tuple(out)


def _response(obj: dict[str, Any]) -> WsApiResponse:
    rid = obj.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (int, str))):
        raise err("'id' is not an int, string or null")
    status = get_int(obj, "status")
    limits = _rate_limits(obj.get("rateLimits"))
    if "error" in obj:
        e = as_obj(obj["error"], "error")
        code = get_int(e, "code")
        retry = 0
        data = e.get("data")
        if isinstance(data, dict) and "retryAfter" in data:
            retry = to_int(data["retryAfter"], "'retryAfter'")
        msg = opt_str(e, "msg")[:512]
        return WsApiResponse(rid, status, None, code, msg, classify_response(status, code, msg),
                             limits, retry)
    if status != 200:
        raise err(f"status {status} without an error object")
    return WsApiResponse(rid, status, field(obj, "result"), rate_limits=limits)


def _order_report(o: dict[str, Any], exec_type: ExecType | None, instruments: Instruments,
                  ts_recv: int) -> ExecReport | None:
    vs = get_str(o, "symbol")
    inst = _inst(instruments, vs)
    if inst is None:
        return None  # an order on a symbol we do not trade (manual trading): not ours
    status = _status(o.get("status"))
    if exec_type is None:
        exec_type = {OrderStatus.CANCELED: ExecType.CANCELED,
                     OrderStatus.REJECTED: ExecType.REJECTED,
                     OrderStatus.EXPIRED: ExecType.EXPIRED}.get(status, ExecType.NEW)
    # a cancel report's own `clientOrderId` is the cancel request's id; the order's is `orig`
    cid = opt_str(o, "origClientOrderId") or get_str(o, "clientOrderId")
    t = next((o[k] for k in ("transactTime", "updateTime", "time") if k in o), 0)
    return ExecReport(
        venue=VENUE, symbol=inst.symbol, client_id=cid, venue_order_id=str(get_int(o, "orderId")),
        exec_type=exec_type, status=status, side=get_side(o, "side"),
        price_ticks=_nearest(get_dec(o, "price"), inst.tick_size),
        lots=_nearest(get_dec(o, "origQty"), inst.lot_size),
        filled_lots=_nearest(get_dec(o, "executedQty"), inst.lot_size),
        ts_event=ms_to_ns(t, "order time"), ts_recv=ts_recv)


def _order_list(result: Any, exec_type: ExecType | None, instruments: Instruments,
                ts_recv: int) -> list[ExecReport]:
    out: list[ExecReport] = []
    for item in as_list(result, "result"):
        o = as_obj(item, "order")
        if "orderReports" in o:  # an order list inside a cancel-all answer: its legs
            out.extend(_order_list(o["orderReports"], exec_type, instruments, ts_recv))
            continue
        r = _order_report(o, exec_type, instruments, ts_recv)
        if r is not None:
            out.append(r)
    return out


@dataclass(frozen=True, slots=True)
class OrderAck:
    """What every place answer (ACK, RESULT or FULL) carries: the ids and the venue time."""

    client_id: str
    venue_order_id: str
    ts_event: int


def parse_order_ack(result: Any) -> OrderAck:
    o = as_obj(result, "result")
    return OrderAck(get_str(o, "clientOrderId"), str(get_int(o, "orderId")),
                    ms_to_ns(field(o, "transactTime"), "'transactTime'"))


def response_reports(resp: WsApiResponse, method: str, instruments: Instruments,
                     ts_recv: int) -> list[ExecReport]:
    """ExecReports carried by a successful response to `method` (the gateway remembers which
    method each id was). Errors carry none: the caller maps `resp.reason` to its reject."""
    if not resp.ok:
        return []
    try:
        if method == C.WS_ORDER_PLACE and "status" not in as_obj(resp.result, "result"):
            return []  # an ACK-type answer: the executionReport brings the details
        if method in (C.WS_ORDER_PLACE, C.WS_ORDER_CANCEL):
            r = _order_report(as_obj(resp.result, "result"),
                              ExecType.CANCELED if method == C.WS_ORDER_CANCEL else None,
                              instruments, ts_recv)
            return [r] if r is not None else []
        if method == C.WS_ORDER_STATUS:
            r = _order_report(as_obj(resp.result, "result"), ExecType.STATUS, instruments,
                              ts_recv)
            return [r] if r is not None else []
        if method == C.WS_OPEN_ORDERS_STATUS:
            return _order_list(resp.result, ExecType.STATUS, instruments, ts_recv)
        if method == C.WS_OPEN_ORDERS_CANCEL_ALL:
            return _order_list(resp.result, ExecType.CANCELED, instruments, ts_recv)
        return []
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise err(f"malformed {method} result ({type(exc).__name__})") from None


def parse_rest_open_orders(payload: Any, instruments: Instruments, ts_recv: int
                           ) -> list[ExecReport]:
    """`GET /api/v3/openOrders` body -> STATUS reports (reconciliation on connect)."""
    try:
        return _order_list(payload, ExecType.STATUS, instruments, ts_recv)
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise err(f"malformed openOrders body ({type(exc).__name__})") from None


def parse_rest_error(payload: Any, http_status: int) -> WsApiResponse:
    """A REST error body `{"code": -NNNN, "msg": ...}` in the same shape as a WS error."""
    e = as_obj(payload, "error body")
    code = get_int(e, "code")
    msg = opt_str(e, "msg")[:512]
    return WsApiResponse(None, http_status, None, code, msg,
                         classify_response(http_status, code, msg))


# -- user data events ------------------------------------------------------------------------
def _execution_report(ev: dict[str, Any], instruments: Instruments, ts_recv: int
                      ) -> ExecReport | Control:
    vs = get_str(ev, "s")
    inst = _inst(instruments, vs)
    if inst is None:
        return Control("notice", {"e": "executionReport", "s": vs[:32], "why": "unknown symbol"})
    try:
        exec_type = _EXEC[ev["x"]]
    except (KeyError, TypeError):
        raise err("unknown execution type 'x'") from None
    status = _status(ev.get("X"))
    r = field(ev, "r")
    reason = _ER_REASON.get(r, RejectReason.OTHER) if isinstance(r, str) else RejectReason.OTHER
    if ev["x"] == "TRADE_PREVENTION" or ev.get("X") == "EXPIRED_IN_MATCH":
        reason = RejectReason.SELF_TRADE
    fee_asset = ev.get("N")
    if fee_asset is not None and not isinstance(fee_asset, str):
        raise err("'N' is not a string or null")
    trade_id = get_int(ev, "t")
    return ExecReport(
        venue=VENUE, symbol=inst.symbol,
        client_id=opt_str(ev, "C") or get_str(ev, "c"),  # C = the cancelled order's own id
        venue_order_id=str(get_int(ev, "i")), exec_type=exec_type, status=status,
        side=get_side(ev, "S"),
        price_ticks=_nearest(get_dec(ev, "p"), inst.tick_size),
        lots=_nearest(get_dec(ev, "q"), inst.lot_size),
        filled_lots=_nearest(get_dec(ev, "z"), inst.lot_size),
        last_lots=_nearest(get_dec(ev, "l"), inst.lot_size),
        last_price_ticks=_nearest(get_dec(ev, "L"), inst.tick_size),
        fee=get_dec(ev, "n", signed=True), fee_asset=fee_asset or "",
        trade_id=str(trade_id) if trade_id >= 0 else "", is_maker=get_bool(ev, "m"),
        reason=reason, reason_text=r if isinstance(r, str) and r != "NONE" else "",
        ts_event=ms_to_ns(field(ev, "T"), "'T'"), ts_recv=ts_recv)


def _account_position(ev: dict[str, Any]) -> AccountPosition:
    bals = []
    for b in as_list(field(ev, "B"), "'B'"):
        bo = as_obj(b, "balance")
        bals.append(Balance(get_str(bo, "a"), get_dec(bo, "f"), get_dec(bo, "l")))
    return AccountPosition(ms_to_ns(field(ev, "E"), "'E'"), ms_to_ns(field(ev, "u"), "'u'"),
                           tuple(bals))


def _user_event(ev: dict[str, Any], sub_id: int | None, instruments: Instruments,
                ts_recv: int) -> PrivateRecord:
    e = field(ev, "e")
    if e == "executionReport":
        return _execution_report(ev, instruments, ts_recv)
    if e == "outboundAccountPosition":
        return _account_position(ev)
    if e == "balanceUpdate":
        return BalanceDelta(get_str(ev, "a"), get_dec(ev, "d", signed=True),
                            ms_to_ns(field(ev, "E"), "'E'"), ms_to_ns(field(ev, "T"), "'T'"))
    if e == "eventStreamTerminated":
        # the subscription is gone: the gateway must subscribe again (or reconnect)
        return Control("shutdown", {"e": e, "subscriptionId": sub_id})
    if not isinstance(e, str):
        raise err("'e' is not a string")
    return Control("other", {"e": e[:64], "subscriptionId": sub_id})


def parse_private(frame: str | bytes, ts_recv: int, instruments: Instruments
                  ) -> list[PrivateRecord]:
    """One frame from the WS API connection -> records; ProtocolError on anything malformed.
    `instruments` maps venue symbols to the instruments this gateway trades."""
    try:
        obj = as_obj(loads(frame), "frame")
        if "subscriptionId" in obj and "event" in obj:
            sub = obj["subscriptionId"]
            sub_id = None if sub is None else to_int(sub, "'subscriptionId'")
            return [_user_event(as_obj(obj["event"], "event"), sub_id, instruments, ts_recv)]
        if "status" in obj:
            return [_response(obj)]
        if "e" in obj:  # a bare event (legacy listenKey stream form)
            return [_user_event(obj, None, instruments, ts_recv)]
        raise err("unrecognized WS API frame")
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        raise err(f"malformed WS API frame ({type(exc).__name__})") from None

