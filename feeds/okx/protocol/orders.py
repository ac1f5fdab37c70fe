"""OKX order entry, client side: private WS requests, REST forms, responses and pushes.

Called by the okx gateway adapter. WS trading ops (`order`, `cancel-order`, `batch-orders`,
`batch-cancel-orders`) identify the instrument by the integer `instIdCode` since March 2026;
REST still uses `instId` (EXCHANGES.md §2.6). Orders arrive as `NewOrder`/`CancelOrder` in
ticks/lots and leave as exact decimal strings via `Instrument`. Responses are checked at both
levels — the envelope `code` and each item's `sCode` — and classified by code. `orders`
channel pushes become `ExecReport`s (see reports.py). Clocks, ids and credentials are
arguments. The server side (the simulated venue) lives in order_server.py and is re-exported
here so one import serves gateway and simulator alike.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, OrderType, Side, TimeInForce

from . import _wire as w
from . import constants as c
from .errors import classify, venue_error
from .market import parse_event
from .ops import OpItem, OpResponse
from .reports import PushDedup, fill_report, lookup, order_reports, status_report
from .rest import RestRequest, query_string
from .signing import Credentials, iso_timestamp, rest_headers, sign_ws_login

# -- ids, types, args ------------------------------------------------------------------------


def is_valid_client_id(client_id: object) -> bool:
    """OKX `clOrdId`: 1-32 case-sensitive ASCII letters/digits."""
    return w.is_alnum_id(client_id)


def check_client_id(client_id: str) -> str:
    if not is_valid_client_id(client_id):
        raise w.err("clOrdId must be 1-32 letters/digits")
    return client_id


def ord_type_of(order: NewOrder) -> str:
    if order.order_type is OrderType.MARKET:
        return "market"
    return {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok",
            TimeInForce.POST_ONLY: "post_only"}[order.tif]


def _instrument_key(inst: Instrument, ws: bool) -> dict[str, Any]:
    if not ws:
        return {"instId": inst.venue_symbol}
    if inst.venue_code is None:
        raise w.err(f"{inst.venue_symbol}: no instIdCode (required by WS order ops)")
    return {"instIdCode": inst.venue_code}


def order_args(order: NewOrder, inst: Instrument, *, ws: bool = True,
               tag: str | None = None) -> dict[str, Any]:
    """One place-order object. Market orders are sized in base (`tgtCcy: base_ccy`), the
    unit of our lots, because OKX's default for a spot market buy is quote currency."""
    if order.lots <= 0:
        raise w.err("order size must be positive")
    ord_type = ord_type_of(order)
    d = _instrument_key(inst, ws)
    d.update({"tdMode": c.TD_MODE_CASH, "clOrdId": check_client_id(order.client_id),
              "side": w.side_str(order.side), "ordType": ord_type})
    if ord_type != "market":
        if order.price_ticks <= 0:
            raise w.err("limit price must be positive")
        d["px"] = inst.format_price(order.price_ticks)
    d["sz"] = inst.format_qty(order.lots)
    if ord_type == "market":
        d["tgtCcy"] = c.TGT_CCY_BASE
    if tag:
        if not w.is_alnum_id(tag) or len(tag) > c.MAX_TAG_LEN:
            raise w.err("tag must be 1-16 letters/digits")
        d["tag"] = tag
    return d


def cancel_args(cancel: CancelOrder, inst: Instrument, *, ws: bool = True) -> dict[str, Any]:
    """One cancel object: `ordId` when known (it wins at OKX), else `clOrdId`."""
    d = _instrument_key(inst, ws)
    if cancel.venue_order_id:
        d["ordId"] = cancel.venue_order_id
    else:
        d["clOrdId"] = check_client_id(cancel.client_id)
    return d


# -- WS requests -----------------------------------------------------------------------------
def _op(req_id: str, op: str, args: list[dict[str, Any]], exp_time_ms: int | None) -> str:
    if not w.is_alnum_id(req_id):
        raise w.err("request id must be 1-32 letters/digits")
    d: dict[str, Any] = {"id": req_id, "op": op, "args": args}
    if exp_time_ms is not None:
        d["expTime"] = str(int(exp_time_ms))
    return w.dumps(d)


def args_json(args: dict[str, Any]) -> str:
    """One op's args object as JSON text (what `build_op` writes for it inside `args`)."""
    return w.dumps(args)


def args_from_json(text: str) -> dict[str, Any]:
    return w.as_obj(w.loads(text), "args")


def build_login(creds: Credentials, timestamp_s: int) -> str:
    """`login` for /ws/v5/private; valid for 30 s after `timestamp_s` (Unix seconds)."""
    ts = str(int(timestamp_s))
    return w.dumps({"op": c.OP_LOGIN, "args": [{
        "apiKey": creds.key, "passphrase": creds.passphrase, "timestamp": ts,
        "sign": sign_ws_login(creds.secret, ts)}]})


def build_op(req_id: str, op: str, args: list[dict[str, Any]]) -> str:
    """An op frame from already-built `order_args`/`cancel_args` (the gateway keeps each
    order's args so places sent back to back can go out as one `batch-orders`)."""
    if op in (c.OP_BATCH_ORDERS, c.OP_BATCH_CANCEL_ORDERS):
        _check_batch(len(args))
    return _op(req_id, op, args, None)


def build_order(order: NewOrder, inst: Instrument, req_id: str, *,
                exp_time_ms: int | None = None, tag: str | None = None) -> str:
    return _op(req_id, c.OP_ORDER, [order_args(order, inst, tag=tag)], exp_time_ms)


def build_cancel(cancel: CancelOrder, inst: Instrument, req_id: str, *,
                 exp_time_ms: int | None = None) -> str:
    return _op(req_id, c.OP_CANCEL_ORDER, [cancel_args(cancel, inst)], exp_time_ms)


def _check_batch(n: int) -> None:
    if not 1 <= n <= c.MAX_BATCH:
        raise w.err(f"a batch holds 1-{c.MAX_BATCH} orders")


def build_batch_orders(items: Sequence[tuple[NewOrder, Instrument]], req_id: str, *,
                       exp_time_ms: int | None = None) -> str:
    _check_batch(len(items))
    return _op(req_id, c.OP_BATCH_ORDERS, [order_args(o, i) for o, i in items], exp_time_ms)


def build_batch_cancel(items: Sequence[tuple[CancelOrder, Instrument]], req_id: str, *,
                       exp_time_ms: int | None = None) -> str:
    _check_batch(len(items))
    return _op(req_id, c.OP_BATCH_CANCEL_ORDERS, [cancel_args(x, i) for x, i in items],
               exp_time_ms)


def _orders_channel(op: str, req_id: str | None, inst_id: str | None) -> str:
    arg = {"channel": c.CH_ORDERS, "instType": c.INST_TYPE_SPOT}
    if inst_id:
        arg["instId"] = inst_id
    d: dict[str, Any] = {}
    if req_id is not None:
        if not w.is_alnum_id(req_id):
            raise w.err("request id must be 1-32 letters/digits")
        d["id"] = req_id
    d.update({"op": op, "args": [arg]})
    return w.dumps(d)


def build_orders_subscribe(req_id: str | None = None, inst_id: str | None = None) -> str:
    """Subscribe to spot `orders` pushes (after login); there is no initial push."""
    return _orders_channel(c.OP_SUBSCRIBE, req_id, inst_id)


def build_orders_unsubscribe(req_id: str | None = None, inst_id: str | None = None) -> str:
    return _orders_channel(c.OP_UNSUBSCRIBE, req_id, inst_id)


# -- REST requests ---------------------------------------------------------------------------
def _signed(creds: Credentials, now_ms: int, method: str, path: str,
            params: dict[str, str] | None = None, body: Any = None, demo: bool = False
            ) -> RestRequest:
    params = params or {}
    text = w.dumps(body) if body is not None else ""
    q = query_string(params)
    request_path = f"{path}?{q}" if q else path
    headers = rest_headers(creds, iso_timestamp(now_ms), method, request_path, text, demo=demo)
    return RestRequest(method, path, params, text, headers)


def rest_place_order(order: NewOrder, inst: Instrument, creds: Credentials, now_ms: int, *,
                     demo: bool = False) -> RestRequest:
    return _signed(creds, now_ms, "POST", c.PATH_ORDER,
                   body=order_args(order, inst, ws=False), demo=demo)


def rest_cancel_order(cancel: CancelOrder, inst: Instrument, creds: Credentials, now_ms: int, *,
                      demo: bool = False) -> RestRequest:
    return _signed(creds, now_ms, "POST", c.PATH_CANCEL_ORDER,
                   body=cancel_args(cancel, inst, ws=False), demo=demo)


def rest_cancel_batch(items: Sequence[tuple[CancelOrder, Instrument]], creds: Credentials,
                      now_ms: int, *, demo: bool = False) -> RestRequest:
    """`POST /api/v5/trade/cancel-batch-orders` (≤20): the cancel-all sweep for spot."""
    _check_batch(len(items))
    return _signed(creds, now_ms, "POST", c.PATH_CANCEL_BATCH_ORDERS,
                   body=[cancel_args(x, i, ws=False) for x, i in items], demo=demo)


def _page(inst_id: str | None, after: str | None, limit: int) -> dict[str, str]:
    params = {"instType": c.INST_TYPE_SPOT}
    if inst_id:
        params["instId"] = inst_id
    if after:
        params["after"] = after
    params["limit"] = str(max(1, min(int(limit), c.ORDERS_PENDING_MAX_LIMIT)))
    return params


def rest_orders_pending(creds: Credentials, now_ms: int, inst_id: str | None = None, *,
                        after: str | None = None, limit: int = c.ORDERS_PENDING_MAX_LIMIT,
                        demo: bool = False) -> RestRequest:
    """`GET /api/v5/trade/orders-pending`; page older orders with `after` = last ordId."""
    return _signed(creds, now_ms, "GET", c.PATH_ORDERS_PENDING, _page(inst_id, after, limit),
                   demo=demo)


def rest_order(creds: Credentials, now_ms: int, inst: Instrument, client_id: str, *,
               demo: bool = False) -> RestRequest:
    """`GET /api/v5/trade/order` by `clOrdId`: OKX's only order query (there is no WS
    form), used when an order's outcome is unknown (lost ack, rejected cancel)."""
    return _signed(creds, now_ms, "GET", c.PATH_ORDER,
                   {"instId": inst.venue_symbol, "clOrdId": check_client_id(client_id)},
                   demo=demo)


def rest_fills(creds: Credentials, now_ms: int, inst_id: str | None = None, *,
               after: str | None = None, limit: int = c.ORDERS_PENDING_MAX_LIMIT,
               demo: bool = False) -> RestRequest:
    """`GET /api/v5/trade/fills` (last 3 days); `after` is a billId cursor."""
    return _signed(creds, now_ms, "GET", c.PATH_FILLS, _page(inst_id, after, limit), demo=demo)


def rest_cancel_all_after(creds: Credentials, now_ms: int, timeout_s: int, *,
                          tag: str | None = None, demo: bool = False) -> RestRequest:
    """Dead-man switch: cancel everything `timeout_s` (10-120, 0 = off) after the last call."""
    t = int(timeout_s)
    if t != 0 and not c.CANCEL_ALL_AFTER_MIN_S <= t <= c.CANCEL_ALL_AFTER_MAX_S:
        raise w.err("cancel-all-after timeOut must be 0 or 10-120 s")
    body: dict[str, str] = {"timeOut": str(t)}
    if tag:
        body["tag"] = tag
    return _signed(creds, now_ms, "POST", c.PATH_CANCEL_ALL_AFTER, body=body, demo=demo)


# -- responses -------------------------------------------------------------------------------
def _op_item(d: Any) -> OpItem:
    d = w.as_obj(d, "op item")
    return OpItem(cl_ord_id=w.opt_str(d, "clOrdId"), ord_id=w.opt_str(d, "ordId"),
                  s_code=w.get_str(d, "sCode"), s_msg=w.opt_str(d, "sMsg"),
                  sub_code=w.opt_str(d, "subCode"), tag=w.opt_str(d, "tag"),
                  ts_event=w.ms_to_ns(d.get("ts", ""), "ts"))


def _opt_us(d: dict[str, Any], key: str) -> int:
    v = d.get(key, "")
    return 0 if v == "" else w.to_int(v, repr(key))


def parse_op_response(d: Any) -> OpResponse:
    """A parsed op response (WS) or REST order envelope -> OpResponse."""
    d = w.as_obj(d, "response")
    return OpResponse(
        req_id=w.opt_str(d, "id"), op=w.opt_str(d, "op"), code=w.get_str(d, "code"),
        msg=w.opt_str(d, "msg"),
        items=tuple(_op_item(x) for x in w.as_list(d.get("data", []), "data")),
        in_time_us=_opt_us(d, "inTime"), out_time_us=_opt_us(d, "outTime"))


def parse_rest_op_response(payload: Any) -> OpResponse:
    if isinstance(payload, (str, bytes, bytearray, memoryview)):
        payload = w.loads(payload)
    return parse_op_response(payload)


PrivateRecord = ExecReport | OpResponse | Control


def parse_orders_push(d: dict[str, Any], instruments: Mapping[str, Instrument],
                      ts_recv: int) -> list[ExecReport]:
    out: list[ExecReport] = []
    for item in w.as_list(w.field(d, "data"), "data"):
        item = w.as_obj(item, "order")
        inst = lookup(instruments, item)
        if inst is not None:  # orders on instruments we do not trade are not ours to track
            out.extend(order_reports(item, inst, ts_recv))
    return out


def parse_private(frame: str | bytes, ts_recv: int, instruments: Mapping[str, Instrument]
                  ) -> list[PrivateRecord]:
    """One /ws/v5/private frame -> ExecReports (orders pushes), an OpResponse (trading ops)
    or a Control (login, subscribe acks, errors, pong). ProtocolError on anything malformed.
    `instruments` is keyed by instId."""
    if frame == c.PONG or frame == c.PONG.encode():
        return [Control("pong", {})]
    d = w.as_obj(w.loads(frame), "frame")
    if "event" in d:
        return [parse_event(d)]
    if "op" in d:
        return [parse_op_response(d)]
    if "arg" in d:
        arg = w.as_obj(d["arg"], "arg")
        channel = w.get_str(arg, "channel")
        if channel == c.CH_ORDERS:
            return list(parse_orders_push(d, instruments, ts_recv))
        return [Control("other", {"channel": channel})]
    raise w.err("frame has neither 'event', 'op' nor 'arg'")


def _rest_data(payload: Any) -> list[Any]:
    if isinstance(payload, (str, bytes, bytearray, memoryview)):
        payload = w.loads(payload)
    env = w.as_obj(payload, "payload")
    code = w.field(env, "code")
    if code != c.CODE_OK:
        msg = env.get("msg")
        raise venue_error(code, msg if isinstance(msg, str) else "")
    return w.as_list(w.field(env, "data"), "data")


def parse_orders_pending(payload: Any, instruments: Mapping[str, Instrument], ts_recv: int
                         ) -> list[ExecReport]:
    """`orders-pending` body -> STATUS reports (VenueError when the envelope code is not 0)."""
    out = []
    for item in _rest_data(payload):
        item = w.as_obj(item, "order")
        inst = lookup(instruments, item)
        if inst is not None:
            out.append(status_report(item, inst, ts_recv))
    return out


def parse_order(payload: Any, instruments: Mapping[str, Instrument], ts_recv: int
                ) -> list[ExecReport]:
    """`GET /api/v5/trade/order` body -> one STATUS report (VenueError 51603 when OKX does
    not know the order)."""
    return parse_orders_pending(payload, instruments, ts_recv)


def parse_fills(payload: Any, instruments: Mapping[str, Instrument], ts_recv: int
                ) -> list[ExecReport]:
    out = []
    for item in _rest_data(payload):
        item = w.as_obj(item, "fill")
        inst = lookup(instruments, item)
        if inst is not None:
            out.append(fill_report(item, inst, ts_recv))
    return out


@dataclass(frozen=True, slots=True)
class CancelAllAfter:
    trigger_time_ns: int  # 0 = switch off
    tag: str
    ts_event: int


def parse_cancel_all_after(payload: Any) -> CancelAllAfter:
    data = _rest_data(payload)
    if len(data) != 1:
        raise w.err("cancel-all-after 'data' must hold one item")
    d = w.as_obj(data[0], "item")
    return CancelAllAfter(w.ms_to_ns(w.field(d, "triggerTime"), "triggerTime"),
                          w.opt_str(d, "tag"), w.ms_to_ns(w.field(d, "ts"), "ts"))


# -- local reports ---------------------------------------------------------------------------
def reject_report(order: NewOrder, code: str, msg: str, ts_recv: int, *,
                  ts_sent: int = 0) -> ExecReport:
    """A refused place (per-item sCode or request-level code) as a REJECTED ExecReport."""
    return ExecReport(
        venue=w.VENUE, symbol=order.symbol, client_id=order.client_id, venue_order_id="",
        exec_type=ExecType.REJECTED, status=OrderStatus.REJECTED, side=order.side,
        price_ticks=order.price_ticks, lots=order.lots, reason=classify(code),
        reason_text=f"{code}: {msg}"[:200], ts_recv=ts_recv, ts_sent=ts_sent,
        ts_tick_recv=order.ts_tick_recv, ts_decision=order.ts_decision)


def cancel_reject_report(cancel: CancelOrder, side: Side, code: str, msg: str, ts_recv: int
                         ) -> ExecReport:
    """A refused cancel (51400 & co.) as CANCEL_REJECTED; the order's state is unchanged."""
    return ExecReport(
        venue=w.VENUE, symbol=cancel.symbol, client_id=cancel.client_id,
        venue_order_id=cancel.venue_order_id, exec_type=ExecType.CANCEL_REJECTED,
        status=OrderStatus.PENDING_CANCEL, side=side, reason=classify(code),
        reason_text=f"{code}: {msg}"[:200], ts_recv=ts_recv, ts_decision=cancel.ts_decision)


# Server side, re-exported so gateway and simulator share one import (see order_server.py).
from .order_server import (
    CancelArgs,
    CancelRequest,
    ChannelRequest,
    LoginRequest,
    PingRequest,
    PlaceArgs,
    PlaceRequest,
    VenueBalance,
    VenueFill,
    VenueOrder,
    WsRequest,
    check_login,
    decode_cancel_all_after,
    decode_rest_cancel,
    decode_rest_place,
    decode_ws_request,
    encode_balance,
    encode_cancel_all_after,
    encode_fills,
    encode_login_error,
    encode_login_ok,
    encode_op_error,
    encode_op_response,
    encode_order_item,
    encode_orders_pending,
    encode_orders_push,
    encode_orders_push_items,
    encode_pending_item,
    encode_rest_op_response,
    verify_login,
)

__all__ = [
    "CancelAllAfter",
    "CancelArgs",
    "CancelRequest",
    "ChannelRequest",
    "Credentials",
    "LoginRequest",
    "OpItem",
    "OpResponse",
    "PingRequest",
    "PlaceArgs",
    "PlaceRequest",
    "PrivateRecord",
    "PushDedup",
    "VenueBalance",
    "VenueFill",
    "VenueOrder",
    "WsRequest",
    "args_from_json",
    "args_json",
    "build_batch_cancel",
    "build_batch_orders",
    "build_cancel",
    "build_login",
    "build_op",
    "build_order",
    "build_orders_subscribe",
    "build_orders_unsubscribe",
    "cancel_args",
    "cancel_reject_report",
    "check_client_id",
    "check_login",
    "decode_cancel_all_after",
    "decode_rest_cancel",
    "decode_rest_place",
    "decode_ws_request",
    "encode_balance",
    "encode_cancel_all_after",
    "encode_fills",
    "encode_login_error",
    "encode_login_ok",
    "encode_op_error",
    "encode_op_response",
    "encode_order_item",
    "encode_orders_pending",
    "encode_orders_push",
    "encode_orders_push_items",
    "encode_pending_item",
    "encode_rest_op_response",
    "is_valid_client_id",
    "ord_type_of",
    "order_args",
    "parse_cancel_all_after",
    "parse_fills",
    "parse_op_response",
    "parse_orders_pending",
    "parse_orders_push",
    "parse_private",
    "parse_rest_op_response",
    "reject_report",
    "rest_cancel_all_after",
    "rest_cancel_batch",
    "rest_cancel_order",
    "rest_fills",
    "rest_orders_pending",
    "rest_place_order",
    "verify_login",
]
