"""Gate spot order traffic, client side; re-exports the server side (`order_server`).

Called by the gate gateway: WS trading-API requests (`event: "api"`: `spot.login`,
`spot.order_place`, `spot.order_cancel`, `spot.order_cancel_cp`, `spot.order_status`),
private-channel subscriptions (`spot.orders`, `spot.usertrades`, `spot.balances`), the REST
forms it needs for reconciliation and the dead-man switch, and the parsers that turn Gate's
answers and pushes into `ExecReport`s (EXCHANGES.md §3.5–3.8).

Money is exact: prices and amounts are formatted from integer ticks/lots by `Instrument`.
Clocks, request ids and credentials are arguments. Per-request signing (the official SDK's
style, `sign_with=`) is optional because the doc only requires `spot.login`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN
from typing import Any

from pipeline.marketdata import Control
from pipeline.messages import CancelAll, CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument, OrderStatus, OrderType, RejectReason, Side, TimeInForce

from . import _wire as w
from .constants import (
    CH_BALANCES,
    CH_LOGIN,
    CH_ORDER_CANCEL,
    CH_ORDER_CANCEL_CP,
    CH_ORDER_PLACE,
    CH_ORDER_STATUS,
    CH_ORDERS,
    CH_ORDERS_V2,
    CH_USERTRADES,
    CH_USERTRADES_V2,
    EV_API,
    EV_SUBSCRIBE,
    EV_UNSUBSCRIBE,
    EV_UPDATE,
    LIMITS,
    PATH_COUNTDOWN_CANCEL_ALL,
    PATH_MY_TRADES,
    PATH_OPEN_ORDERS,
    PATH_ORDERS,
    PRIVATE_CHANNELS,
    TEXT_MAX_BYTES,
    TEXT_PREFIX,
    TIF_FOK,
    TIF_GTC,
    TIF_IOC,
    TIF_POC,
    VENUE,
)
from .errors import classify
from .market import parse_market
from .order_server import (  # noqa: F401  (re-exported: the simulator imports from here)
    ApiRequest,
    CancelIdsRequest,
    CancelPairRequest,
    CancelRequest,
    HeaderInfo,
    LoginRequest,
    PlaceParams,
    PlaceRequest,
    RateLimitInfo,
    StatusRequest,
    VenueFill,
    VenueOrder,
    decode_place_params,
    decode_ws_request,
    encode_api_ack,
    encode_api_error,
    encode_api_result,
    encode_cancel_ids_result,
    encode_countdown,
    encode_login_result,
    encode_my_trades,
    encode_open_orders,
    encode_order_push_item,
    encode_order_rest,
    encode_order_ws,
    encode_orders_push,
    encode_usertrade_item,
    encode_usertrades_push,
    verify_api_signature,
)
from .reports import client_id_of, fill_report, lookup, order_report
from .rest import RestRequest, signed_request
from .signing import Credentials, sign_ws_api, ws_channel_auth

_TEXT_CHARS = re.compile(r"^[0-9A-Za-z_.\-]+$")
_TIF = {TimeInForce.GTC: TIF_GTC, TimeInForce.IOC: TIF_IOC, TimeInForce.FOK: TIF_FOK,
        TimeInForce.POST_ONLY: TIF_POC}
_NS_PER_MS = 1_000_000


# ============================================================================ client order ids
def is_valid_client_id(client_id: str) -> bool:
    """Whether `t-` + client_id is an acceptable Gate `text` (<= 28 bytes, [0-9A-Za-z_.-])."""
    return (isinstance(client_id, str) and 0 < len(client_id.encode()) <= TEXT_MAX_BYTES
            and bool(_TEXT_CHARS.match(client_id)))


def to_text(client_id: str) -> str:
    """Our client id -> Gate `text` (always `t-` + id, so the mapping is one-to-one)."""
    if not is_valid_client_id(client_id):
        raise w.err(f"client id {client_id!r:.40} is not 1..{TEXT_MAX_BYTES} bytes of "
                    "[0-9A-Za-z_.-]")
    return TEXT_PREFIX + client_id


def from_text(text: str) -> str:
    """Gate `text` -> our client id; "" for orders not placed through `to_text`."""
    return client_id_of(text)


# ============================================================================ WS API requests
def _api_frame(channel: str, time_s: int, payload: dict[str, Any],
               sign_with: Credentials | None) -> str:
    if sign_with is None:
        return w.dumps({"time": int(time_s), "channel": channel, "event": EV_API,
                        "payload": payload})
    # The SDK signs json.dumps(req_param) with default separators and sends that same text,
    # so the whole frame is serialised that way to keep the signed bytes on the wire.
    param_text = json.dumps(payload["req_param"])
    payload = dict(payload, api_key=sign_with.key, timestamp=str(int(time_s)),
                   signature=sign_ws_api(sign_with.secret, channel, param_text, int(time_s)))
    return json.dumps({"time": int(time_s), "channel": channel, "event": EV_API,
                       "payload": payload})


def _payload(req_id: str, req_param: Any, exptime_ms: int | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"req_id": req_id, "req_param": req_param}
    if exptime_ms is not None:
        p["req_header"] = {"x-gate-exptime": str(int(exptime_ms))}
    return p


def build_login(creds: Credentials, req_id: str, time_s: int) -> str:
    """`spot.login`: signature over `api\\nspot.login\\n\\n<time>`."""
    ts = str(int(time_s))
    return w.dumps({"time": int(time_s), "channel": CH_LOGIN, "event": EV_API, "payload": {
        "api_key": creds.key, "signature": sign_ws_api(creds.secret, CH_LOGIN, "", ts),
        "timestamp": ts, "req_id": req_id}})


def order_params(order: NewOrder, inst: Instrument, *, account: str = "spot",
                 stp_act: str | None = None, action_mode: str | None = None) -> dict[str, Any]:
    """The Gate order object (`req_param` of `spot.order_place`, body of REST create)."""
    if order.lots <= 0:
        raise w.err(f"order {order.client_id!r:.40}: lots must be positive")
    p: dict[str, Any] = {"text": to_text(order.client_id), "currency_pair": inst.venue_symbol}
    if order.order_type is OrderType.MARKET:
        p["type"] = "market"
        p["account"] = account
        p["side"] = w.side_str(order.side)
        if order.side is Side.BUY:
            # Gate sizes a market buy in quote: lots x reference price, cut to the price scale
            if order.price_ticks <= 0:
                raise w.err("market buy needs a reference price to size in quote")
            quote = inst.lots_to_qty(order.lots) * inst.ticks_to_price(order.price_ticks)
            p["amount"] = w.num_str(quote.quantize(inst.tick_size, rounding=ROUND_DOWN))
        else:
            p["amount"] = inst.format_qty(order.lots)
        p["time_in_force"] = TIF_FOK if order.tif is TimeInForce.FOK else TIF_IOC
    else:
        if order.price_ticks <= 0:
            raise w.err(f"order {order.client_id!r:.40}: price must be positive")
        p["type"] = "limit"
        p["account"] = account
        p["side"] = w.side_str(order.side)
        p["amount"] = inst.format_qty(order.lots)
        p["price"] = inst.format_price(order.price_ticks)
        p["time_in_force"] = _TIF[order.tif]
    if stp_act is not None:
        p["stp_act"] = stp_act
    if action_mode is not None:
        p["action_mode"] = action_mode
    return p


def build_order_place(order: NewOrder, inst: Instrument, req_id: str, time_s: int, *,
                      account: str = "spot", exptime_ms: int | None = None,
                      stp_act: str | None = None, action_mode: str | None = None,
                      sign_with: Credentials | None = None) -> str:
    """`spot.order_place` for a limit (gtc/ioc/fok/poc) or market (ioc/fok) order."""
    params = order_params(order, inst, account=account, stp_act=stp_act,
                          action_mode=action_mode)
    return _api_frame(CH_ORDER_PLACE, time_s, _payload(req_id, params, exptime_ms), sign_with)


def _order_ref(cancel: CancelOrder) -> str:
    # the numeric id always works; `text` only while the order is open
    return cancel.venue_order_id or to_text(cancel.client_id)


def build_order_cancel(cancel: CancelOrder, inst: Instrument, req_id: str, time_s: int, *,
                       sign_with: Credentials | None = None) -> str:
    params = {"order_id": _order_ref(cancel), "currency_pair": inst.venue_symbol}
    return _api_frame(CH_ORDER_CANCEL, time_s, _payload(req_id, params), sign_with)


def build_order_cancel_cp(venue_symbol: str, req_id: str, time_s: int, *,
                          side: Side | None = None, sign_with: Credentials | None = None
                          ) -> str:
    """Cancel every open order in one pair (optionally one side)."""
    params: dict[str, Any] = {"currency_pair": venue_symbol}
    if side is not None:
        params["side"] = w.side_str(side)
    return _api_frame(CH_ORDER_CANCEL_CP, time_s, _payload(req_id, params), sign_with)


def build_order_status(venue_symbol: str, order_id: str, req_id: str, time_s: int, *,
                       sign_with: Credentials | None = None) -> str:
    """`order_id` is the numeric id or, while open, the `t-...` text."""
    params = {"order_id": order_id, "currency_pair": venue_symbol}
    return _api_frame(CH_ORDER_STATUS, time_s, _payload(req_id, params), sign_with)


def build_private_subscribe(channel: str, venue_symbols: Sequence[str], creds: Credentials,
                            req_id: int, time_s: int, *, event: str = EV_SUBSCRIBE) -> str:
    """`spot.orders` / `spot.usertrades` (pairs or `["!all"]`) / `spot.balances` (no pairs),
    with the channel `auth` object."""
    if channel not in PRIVATE_CHANNELS:
        raise w.err(f"{channel!r:.40} is not a private channel")
    if event not in (EV_SUBSCRIBE, EV_UNSUBSCRIBE):
        raise w.err(f"event {event!r:.20} is not subscribe/unsubscribe")
    d: dict[str, Any] = {"time": int(time_s), "id": req_id, "channel": channel, "event": event}
    if channel != CH_BALANCES:
        d["payload"] = list(venue_symbols)
    d["auth"] = ws_channel_auth(creds, channel, event, int(time_s))
    return w.dumps(d)


# ============================================================================ REST requests
def rest_place_order(order: NewOrder, inst: Instrument, creds: Credentials, time_s: int, *,
                     account: str = "spot") -> RestRequest:
    return signed_request(creds, time_s, "POST", PATH_ORDERS,
                          body=order_params(order, inst, account=account))


def rest_cancel_order(cancel: CancelOrder, inst: Instrument, creds: Credentials, time_s: int
                      ) -> RestRequest:
    return signed_request(creds, time_s, "DELETE", f"{PATH_ORDERS}/{_order_ref(cancel)}",
                          [("currency_pair", inst.venue_symbol)])


def rest_cancel_all(creds: Credentials, time_s: int, venue_symbol: str | None = None,
                    side: Side | None = None) -> RestRequest:
    """`DELETE /spot/orders?currency_pair=..[&side=..]`; no pair = every pair."""
    return signed_request(creds, time_s, "DELETE", PATH_ORDERS,
                          [("currency_pair", venue_symbol),
                           ("side", None if side is None else w.side_str(side))])


def rest_cancel_all_for(msg: CancelAll, creds: Credentials, time_s: int,
                        venue_symbol: str | None = None) -> RestRequest:
    """A `CancelAll` message (the caller maps its internal symbol, if any, to the pair)."""
    return rest_cancel_all(creds, time_s, venue_symbol if msg.symbol else None)


def rest_open_orders(creds: Credentials, time_s: int, venue_symbol: str | None = None, *,
                     page: int | None = None, limit: int | None = None) -> RestRequest:
    """All pairs: `GET /spot/open_orders`; one pair: `GET /spot/orders?..&status=open`."""
    if venue_symbol is None:
        return signed_request(creds, time_s, "GET", PATH_OPEN_ORDERS,
                              [("page", page), ("limit", limit)])
    return signed_request(creds, time_s, "GET", PATH_ORDERS,
                          [("currency_pair", venue_symbol), ("status", "open"),
                           ("page", page), ("limit", limit)])


def rest_my_trades(creds: Credentials, time_s: int, venue_symbol: str | None = None, *,
                   order_id: str | None = None, limit: int | None = None,
                   from_s: int | None = None, to_s: int | None = None) -> RestRequest:
    return signed_request(creds, time_s, "GET", PATH_MY_TRADES,
                          [("currency_pair", venue_symbol), ("limit", limit),
                           ("order_id", order_id), ("from", from_s), ("to", to_s)])


def rest_countdown_cancel_all(creds: Credentials, time_s: int, timeout_s: int,
                              venue_symbol: str | None = None) -> RestRequest:
    """Dead-man switch: cancel everything unless re-armed within `timeout_s` (0 disarms)."""
    if timeout_s != 0 and timeout_s < LIMITS.countdown_min_timeout_s:
        raise w.err(f"countdown timeout {timeout_s}s: must be 0 or >= "
                    f"{LIMITS.countdown_min_timeout_s}")
    body: dict[str, Any] = {"timeout": int(timeout_s)}
    if venue_symbol is not None:
        body["currency_pair"] = venue_symbol
    return signed_request(creds, time_s, "POST", PATH_COUNTDOWN_CANCEL_ALL, body=body)


# ============================================================================ parsing
@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One WS trading-API reply: the ack (`ack=True`), the result, or an error."""

    request_id: str
    channel: str
    status: int
    ack: bool
    result: Any
    err_label: str = ""
    err_message: str = ""
    response_time_ns: int = 0
    ratelimit_remain: int | None = None
    ratelimit_limit: int | None = None
    ratelimit_reset_ms: int | None = None

    @property
    def ok(self) -> bool:
        return not self.err_label and 200 <= self.status < 300

    @property
    def reason(self) -> RejectReason:
        return RejectReason.NONE if self.ok else classify(self.err_label)


def _opt_int(h: dict[str, Any], *keys: str) -> int | None:
    for k in keys:
        if h.get(k) is not None:
            return w.to_int(h[k], k)
    return None


def _api_response(d: dict[str, Any]) -> ApiResponse:
    h = w.as_obj(w.field(d, "header"), "header")
    data = d.get("data")
    data = {} if data is None else w.as_obj(data, "data")
    label = message = ""
    errs = data.get("errs")
    if errs is not None:
        e = w.as_obj(errs, "errs")
        label = w.get_str(e, "label")
        message = w.opt_str(e, "message")
    status = w.to_int(w.field(h, "status"), "status")
    if not label and not 200 <= status < 300:
        label = "UNKNOWN"  # a failure without a label: classified as OTHER
    rt = h.get("response_time")
    return ApiResponse(
        request_id=w.opt_str(d, "request_id"), channel=w.opt_str(h, "channel"),
        status=status, ack=d.get("ack") is True, result=data.get("result"),
        err_label=label, err_message=message,
        response_time_ns=0 if rt is None else w.to_ns_from_ms(rt, "response_time"),
        ratelimit_remain=_opt_int(h, "x_gate_ratelimit_requests_remain"),
        ratelimit_limit=_opt_int(h, "x_gate_ratelimit_limit"),
        # the doc spells this key two ways
        ratelimit_reset_ms=_opt_int(h, "x_gate_ratelimit_reset_timestamp",
                                    "x_gat_ratelimit_reset_timestamp"))


def parse_api_response(frame: str | bytes) -> ApiResponse:
    return _api_response(w.as_obj(w.loads(frame), "frame"))


PrivateRecord = ExecReport | ApiResponse | Control


def _orders_push(result: Any, instruments: Mapping[str, Instrument], ts_recv: int
                 ) -> list[PrivateRecord]:
    out: list[PrivateRecord] = []
    for item in w.as_list(result, "result"):
        inst = lookup(instruments, item)
        if inst is None:
            continue  # a pair we do not trade (e.g. a manual order): not ours to report
        out.append(order_report(item, inst, ts_recv,
                                push_event=w.opt_str(item, "event")))
    return out


def _trades_push(result: Any, instruments: Mapping[str, Instrument], ts_recv: int
                 ) -> list[PrivateRecord]:
    out: list[PrivateRecord] = []
    for item in w.as_list(result, "result"):
        inst = lookup(instruments, item)
        if inst is not None:
            out.append(fill_report(item, inst, ts_recv))
    return out


def parse_private(frame: str | bytes, ts_recv: int, instruments: Mapping[str, Instrument]
                  ) -> list[PrivateRecord]:
    """Any frame on the gateway's connection -> API replies, ExecReports (from `spot.orders`
    and `spot.usertrades`; `instruments` is keyed by currency pair) or Control frames
    (acks, errors, pongs; `spot.balances` pushes as `Control("notice")`)."""
    d = w.as_obj(w.loads(frame), "frame")
    if "header" in d or "request_id" in d:
        return [_api_response(d)]
    channel = d.get("channel")
    if d.get("event") == EV_UPDATE and d.get("error") is None:
        if channel in (CH_ORDERS, CH_ORDERS_V2):
            return _orders_push(w.field(d, "result"), instruments, ts_recv)
        if channel in (CH_USERTRADES, CH_USERTRADES_V2):
            return _trades_push(w.field(d, "result"), instruments, ts_recv)
        if channel == CH_BALANCES:
            return [Control("notice", {"channel": channel, "result": d.get("result")})]
    out: list[PrivateRecord] = []
    for rec in parse_market(frame, ts_recv):
        if isinstance(rec, Control):
            out.append(rec)
    return out


def api_result_reports(resp: ApiResponse, instruments: Mapping[str, Instrument], ts_recv: int
                       ) -> list[ExecReport]:
    """Order objects in a successful non-ack result (place/cancel/cancel_cp/status)."""
    if resp.ack or not resp.ok or resp.result is None:
        return []
    items = resp.result if isinstance(resp.result, list) else [resp.result]
    live = ExecType.NEW if resp.channel == CH_ORDER_PLACE else ExecType.STATUS
    out: list[ExecReport] = []
    for item in items:
        if resp.channel == CH_LOGIN:
            break
        inst = lookup(instruments, item)
        if inst is not None:
            out.append(order_report(item, inst, ts_recv, live_exec=live))
    return out


def reject_report(order: NewOrder, label: str, message: str, ts_recv: int,
                  ts_event: int = 0) -> ExecReport:
    """A refused `spot.order_place` (by label) as a REJECTED report for that order."""
    return ExecReport(venue=VENUE, symbol=order.symbol, client_id=order.client_id,
                      venue_order_id="", exec_type=ExecType.REJECTED,
                      status=OrderStatus.REJECTED, side=order.side,
                      price_ticks=order.price_ticks, lots=order.lots, reason=classify(label),
                      reason_text=label, ts_event=ts_event, ts_recv=ts_recv,
                      ts_tick_recv=order.ts_tick_recv, ts_decision=order.ts_decision)


def cancel_reject_report(cancel: CancelOrder, label: str, message: str, ts_recv: int, *,
                         side: Side = Side.BUY, ts_event: int = 0) -> ExecReport:
    """A refused cancel. `CancelOrder` carries no side: pass it if known (OMS matches by id)."""
    return ExecReport(venue=VENUE, symbol=cancel.symbol, client_id=cancel.client_id,
                      venue_order_id=cancel.venue_order_id,
                      exec_type=ExecType.CANCEL_REJECTED, status=OrderStatus.NEW, side=side,
                      reason=classify(label), reason_text=label, ts_event=ts_event,
                      ts_recv=ts_recv, ts_decision=cancel.ts_decision)


def parse_rest_error(payload: Any) -> tuple[str, str]:
    """Non-2xx REST body -> (label, message)."""
    if isinstance(payload, (str, bytes, bytearray)):
        payload = w.loads(payload)
    d = w.as_obj(payload, "error body")
    return w.get_str(d, "label"), w.opt_str(d, "message")


def parse_rest_order(payload: Any, inst: Instrument, ts_recv: int, *,
                     live_exec: ExecType = ExecType.STATUS) -> ExecReport:
    if isinstance(payload, (str, bytes, bytearray)):
        payload = w.loads(payload)
    return order_report(payload, inst, ts_recv, live_exec=live_exec)


def parse_open_orders(payload: Any, instruments: Mapping[str, Instrument], ts_recv: int
                      ) -> list[ExecReport]:
    """`/spot/open_orders` ([{currency_pair, total, orders}]) or `/spot/orders?status=open`
    ([Order]) -> STATUS reports for orders in known pairs."""
    if isinstance(payload, (str, bytes, bytearray)):
        payload = w.loads(payload)
    out: list[ExecReport] = []
    for entry in w.as_list(payload, "open orders"):
        e = w.as_obj(entry, "open orders entry")
        orders = e.get("orders", [e])
        for o in w.as_list(orders, "orders"):
            o = w.as_obj(o, "order")
            if "currency_pair" not in o and "currency_pair" in e:
                o = dict(o, currency_pair=e["currency_pair"])
            inst = lookup(instruments, o)
            if inst is not None:
                out.append(order_report(o, inst, ts_recv))
    return out


def parse_my_trades(payload: Any, instruments: Mapping[str, Instrument], ts_recv: int
                    ) -> list[ExecReport]:
    if isinstance(payload, (str, bytes, bytearray)):
        payload = w.loads(payload)
    out: list[ExecReport] = []
    for item in w.as_list(payload, "trades"):
        inst = lookup(instruments, item)
        if inst is not None:
            out.append(fill_report(item, inst, ts_recv))
    return out


def parse_countdown(payload: Any) -> int:
    """Countdown answer -> trigger time in ns (`triggerTime` per the doc example,
    `trigger_time` per the SDK model; both accepted)."""
    if isinstance(payload, (str, bytes, bytearray)):
        payload = w.loads(payload)
    d = w.as_obj(payload, "countdown")
    for key in ("triggerTime", "trigger_time"):
        if key in d:
            return w.to_ns_from_ms(d[key], key)
    raise w.err("countdown answer has no trigger time")
