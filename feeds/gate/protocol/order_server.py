"""Gate spot order traffic, server side: what the simulated venue decodes and sends.

`decode_ws_request` turns any client frame on `/ws/v4/` into a typed request (trading-API
calls, (un)subscribes, pings); `encode_*` produce the WS trading-API ack/result/error frames,
the `spot.orders` / `spot.usertrades` pushes and the REST bodies, with exactly the keys and
JSON types of the official examples (EXCHANGES.md §3.6–3.8). The simulator keeps its orders as
`VenueOrder` / `VenueFill` (exact Decimals) and hands them here to be rendered.

Header quirks kept on purpose: the login reply says `clientId` where other replies say
`client_id`; an error header carries no `x_gate_ratelimit_requests_remain`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.model import Side, decimal_str

from . import _wire as w
from .constants import (
    CH_LOGIN,
    CH_ORDER_CANCEL,
    CH_ORDER_CANCEL_CP,
    CH_ORDER_CANCEL_IDS,
    CH_ORDER_PLACE,
    CH_ORDER_STATUS,
    CH_ORDERS,
    CH_USERTRADES,
    EV_API,
    EV_UPDATE,
    TIF_GTC,
)
from .errors import http_status
from .market import ChannelRequest, PingRequest, decode_channel_request
from .signing import verify_ws_api

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000
_NS_PER_US = 1_000


# ============================================================================ requests
@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRequest:
    """An `event: "api"` request. `req_param` is kept raw for echoing and signature checks.
    Channels without a typed form (`spot.order_amend`, `spot.order_list`) decode to this."""

    time: int
    channel: str
    req_id: str
    req_param: Any = None
    req_header: dict[str, Any] | None = None
    api_key: str = ""
    timestamp: str = ""
    signature: str = ""

    @property
    def exptime_ms(self) -> int | None:
        v = (self.req_header or {}).get("x-gate-exptime")
        return None if v is None else w.to_int(v, "x-gate-exptime")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginRequest(ApiRequest):
    pass


@dataclass(frozen=True, slots=True)
class PlaceParams:
    """One order of `spot.order_place`, validated to Gate's enums; amounts exact."""

    text: str
    currency_pair: str
    type: str
    account: str
    side: Side
    amount: Decimal
    price: Decimal | None
    time_in_force: str
    iceberg: Decimal = Decimal(0)
    stp_act: str = ""
    action_mode: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceRequest(ApiRequest):
    orders: tuple[PlaceParams, ...]
    batch: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest(ApiRequest):
    order_id: str
    currency_pair: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRequest(ApiRequest):
    order_id: str
    currency_pair: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPairRequest(ApiRequest):
    currency_pair: str
    side: Side | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelIdsRequest(ApiRequest):
    items: tuple[tuple[str, str], ...]  # (currency_pair, id)


WsRequest = ApiRequest | ChannelRequest | PingRequest


MEMO_MAX = 4096            # entries per memo below (each is cleared when full)
_DEC_MEMO: dict[str, Decimal] = {}


def _get_dec(d: dict[str, Any], key: str) -> Decimal:
    """`w.get_dec(d, key)`, with the strings it accepted memoized (bounded): a client sends
    the same few prices and amounts, and checking and converting each was a fifth of decoding
    an order. Only accepted strings are stored, so a hit is exactly what the check returns."""
    raw = d.get(key)
    if type(raw) is str:
        hit = _DEC_MEMO.get(raw)
        if hit is not None:
            return hit
    v = w.get_dec(d, key)
    if type(raw) is str:
        if len(_DEC_MEMO) >= MEMO_MAX:
            _DEC_MEMO.clear()
        _DEC_MEMO[raw] = v
    return v


def _place_params(p: Any) -> PlaceParams:
    if type(p) is dict:
        fast = _plain_place_params(p)
        if fast is not None:
            return fast
    return _checked_place_params(p)


def _plain_place_params(d: dict[str, Any]) -> PlaceParams | None:
    """`_checked_place_params(d)` for the usual order (every field absent or of its plain
    type, a limit or market order with an allowed time in force, no iceberg), read with
    inline type tests instead of a helper call per field; None for anything else, which the
    checked path then answers (or refuses, with its own message). The decimal fields go
    through `_get_dec` in the same order as there, so a bad one raises the same error."""
    get = d.get
    otype = get("type", "limit")
    if otype not in ("limit", "market") or type(otype) is not str:
        return None
    tif = get("time_in_force", TIF_GTC)
    if type(tif) is not str or tif not in (
            ("ioc", "fok") if otype == "market" else ("gtc", "ioc", "poc", "fok")):
        return None
    text, pair, account = get("text", ""), get("currency_pair"), get("account", "spot")
    stp_act, action_mode = get("stp_act", ""), get("action_mode", "")
    if type(text) is not str or type(pair) is not str or type(account) is not str \
            or type(stp_act) is not str or type(action_mode) is not str \
            or get("iceberg") is not None:
        return None
    side = get("side")
    if side == "buy":
        side = Side.BUY
    elif side == "sell":
        side = Side.SELL
    else:
        return None
    price = _get_dec(d, "price") if otype == "limit" else (
        _get_dec(d, "price") if get("price") not in (None, "") else None)
    return PlaceParams(text, pair, otype, account, side, _get_dec(d, "amount"), price, tif,
                       Decimal(0), stp_act, action_mode)


def _checked_place_params(p: Any) -> PlaceParams:
    d = w.as_obj(p, "req_param")
    otype = w.opt_str(d, "type", "limit")
    if otype not in ("limit", "market"):
        raise w.err(f"type {otype!r:.20} is not limit/market")
    tif = w.opt_str(d, "time_in_force", TIF_GTC)
    allowed = ("ioc", "fok") if otype == "market" else ("gtc", "ioc", "poc", "fok")
    if tif not in allowed:
        raise w.err(f"time_in_force {tif!r:.10} not allowed for {otype}")
    price = _get_dec(d, "price") if otype == "limit" else (
        _get_dec(d, "price") if d.get("price") not in (None, "") else None)
    return PlaceParams(
        text=w.opt_str(d, "text"), currency_pair=w.get_str(d, "currency_pair"), type=otype,
        account=w.opt_str(d, "account", "spot"), side=w.get_side(d),
        amount=_get_dec(d, "amount"), price=price, time_in_force=tif,
        iceberg=w.get_dec(d, "iceberg") if d.get("iceberg") is not None else Decimal(0),
        stp_act=w.opt_str(d, "stp_act"), action_mode=w.opt_str(d, "action_mode"))


def decode_place_params(p: Any) -> PlaceParams:
    """A REST create-order body (or one `spot.order_place` item) -> PlaceParams."""
    return _place_params(p)


def _ref(d: Any, key: str) -> str:
    v = w.field(w.as_obj(d, "req_param"), key)
    if isinstance(v, bool) or not isinstance(v, (str, int)) or v == "":
        raise w.err(f"{key!r} is not an id")
    return str(v)


def _plain_api_base(d: dict[str, Any]) -> dict[str, Any] | None:
    """The common fields of an `event: "api"` frame as `_checked_api_base` reads them, for
    the usual frame (each field absent or of its plain JSON type, no `req_header`), read with
    inline type tests; None for anything else, which the checked reads then answer."""
    channel, p, t = d.get("channel"), d.get("payload"), d.get("time")
    if type(channel) is not str or type(p) is not dict or type(t) is not int:
        return None
    get = p.get
    rid, key, ts, sig = get("req_id", ""), get("api_key", ""), get("timestamp", ""), \
        get("signature", "")
    if type(rid) is not str or type(key) is not str or type(ts) is not str \
            or type(sig) is not str or get("req_header") is not None:
        return None
    return {"time": t, "channel": channel, "req_id": rid, "req_param": get("req_param"),
            "req_header": None, "api_key": key, "timestamp": ts, "signature": sig}


def _checked_api_base(d: dict[str, Any]) -> dict[str, Any]:
    channel = w.get_str(d, "channel")
    p = w.as_obj(w.field(d, "payload"), "payload")
    hdr = p.get("req_header")
    base: dict[str, Any] = {
        "time": w.get_int(d, "time"), "channel": channel, "req_id": w.opt_str(p, "req_id"),
        "req_param": p.get("req_param"),
        "req_header": None if hdr is None else w.as_obj(hdr, "req_header"),
        "api_key": w.opt_str(p, "api_key"), "timestamp": w.opt_str(p, "timestamp"),
        "signature": w.opt_str(p, "signature")}
    if base["req_header"] is not None and base["req_header"].get("x-gate-exptime") is not None:
        w.to_int(base["req_header"]["x-gate-exptime"], "x-gate-exptime")
    return base


def _decode_api(d: dict[str, Any]) -> ApiRequest:
    base = _plain_api_base(d)
    if base is None:
        base = _checked_api_base(d)
    channel: str = base["channel"]
    rp = base["req_param"]
    if channel == CH_LOGIN:
        if not base["api_key"] or not base["signature"] or not base["timestamp"]:
            raise w.err("spot.login needs api_key, signature and timestamp")
        return LoginRequest(**base)
    if channel == CH_ORDER_PLACE:
        if isinstance(rp, list):
            if not rp:
                raise w.err("empty batch")
            return PlaceRequest(**base, orders=tuple(_place_params(x) for x in rp), batch=True)
        return PlaceRequest(**base, orders=(_place_params(rp),))
    if channel == CH_ORDER_CANCEL:
        return CancelRequest(**base, order_id=_ref(rp, "order_id"),
                             currency_pair=w.get_str(w.as_obj(rp, "req_param"), "currency_pair"))
    if channel == CH_ORDER_STATUS:
        return StatusRequest(**base, order_id=_ref(rp, "order_id"),
                             currency_pair=w.get_str(w.as_obj(rp, "req_param"), "currency_pair"))
    if channel == CH_ORDER_CANCEL_CP:
        rpd = w.as_obj(rp, "req_param")
        side = w.get_side(rpd) if rpd.get("side") not in (None, "") else None
        return CancelPairRequest(**base, currency_pair=w.get_str(rpd, "currency_pair"),
                                 side=side)
    if channel == CH_ORDER_CANCEL_IDS:
        items = tuple((w.get_str(w.as_obj(x, "item"), "currency_pair"), _ref(x, "id"))
                      for x in w.as_list(rp, "req_param"))
        return CancelIdsRequest(**base, items=items)
    return ApiRequest(**base)


def decode_ws_request(frame: str | bytes) -> WsRequest:
    """Any client frame -> a typed request; ProtocolError when it is not one."""
    d = w.as_obj(w.loads(frame), "frame")
    if d.get("event") == EV_API:
        return _decode_api(d)
    return decode_channel_request(d)


def verify_api_signature(req: ApiRequest, secret: str | bytes) -> bool:
    """Check a login (or an SDK-style signed request). For `spot.login` the signed param is
    empty; otherwise `req_param` is re-serialised as the SDK does (json.dumps defaults) and,
    failing that, compactly."""
    if not req.signature or not req.timestamp:
        return False
    if isinstance(req, LoginRequest):
        return verify_ws_api(secret, req.channel, "", req.timestamp, req.signature)
    for text in (json.dumps(req.req_param), json.dumps(req.req_param, separators=(",", ":"))):
        if verify_ws_api(secret, req.channel, text, req.timestamp, req.signature):
            return True
    return False


# ============================================================================ API replies
@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """Connection identifiers the simulator assigns (no randomness here)."""

    client_id: str = ""
    conn_id: str = ""
    conn_trace_id: str = ""
    trace_id: str = ""


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    limit: int
    reset_ms: int
    remain: int | None = None


def _header(channel: str, status: int, now_ns: int, info: HeaderInfo,
            rate: RateLimitInfo | None, *, login: bool = False) -> dict[str, Any]:
    us = now_ns // _NS_PER_US
    h: dict[str, Any] = {"response_time": str(now_ns // _NS_PER_MS), "status": str(status),
                         "channel": channel, "event": EV_API,
                         "clientId" if login else "client_id": info.client_id,
                         "x_in_time": us, "x_out_time": us, "conn_id": info.conn_id,
                         "conn_trace_id": info.conn_trace_id, "trace_id": info.trace_id}
    if rate is not None:
        if rate.remain is not None:
            h["x_gate_ratelimit_requests_remain"] = rate.remain
        h["x_gate_ratelimit_limit"] = rate.limit
        h["x_gate_ratelimit_reset_timestamp"] = rate.reset_ms
    return h


def encode_api_ack(req: ApiRequest, now_ns: int, *, info: HeaderInfo = HeaderInfo(),
                   rate: RateLimitInfo | None = None) -> str:
    """First reply to `spot.order_place`: `ack: true`, the request echoed in `data.result`."""
    return w.dumps({"request_id": req.req_id, "ack": True,
                    "header": _header(req.channel, 200, now_ns, info, rate),
                    "data": {"result": {"req_id": req.req_id, "req_header": req.req_header,
                                        "req_param": req.req_param, "api_key": req.api_key,
                                        "timestamp": req.timestamp,
                                        "signature": req.signature}}})


def encode_api_result(req_id: str, channel: str, result: Any, now_ns: int, *,
                      info: HeaderInfo = HeaderInfo(), rate: RateLimitInfo | None = None) -> str:
    """Final reply: `data.result` is an Order (see `encode_order_ws`), a list, or as given."""
    return w.dumps({"request_id": req_id, "header": _header(channel, 200, now_ns, info, rate),
                    "data": {"result": result}})


def encode_api_error(req_id: str, channel: str, label: str, message: str, now_ns: int, *,
                     status: int | None = None, info: HeaderInfo = HeaderInfo(),
                     rate: RateLimitInfo | None = None) -> str:
    """Error reply: `data.errs = {label, message}`, HTTP-like status in the header."""
    st = http_status(label) if status is None else status
    return w.dumps({"request_id": req_id, "header": _header(channel, st, now_ns, info, rate),
                    "data": {"errs": {"label": label, "message": message}}})


def encode_login_result(req_id: str, api_key: str, uid: str, now_ns: int, *,
                        info: HeaderInfo = HeaderInfo()) -> str:
    return w.dumps({"request_id": req_id,
                    "header": _header(CH_LOGIN, 200, now_ns, info, None, login=True),
                    "data": {"result": {"api_key": api_key, "uid": uid}}})


def encode_cancel_ids_result(items: Iterable[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    """`spot.order_cancel_ids` result items from (currency_pair, id, succeeded)."""
    return [{"currency_pair": p, "id": i, "succeeded": ok} for p, i, ok in items]


# ============================================================================ orders and fills
@dataclass(slots=True)
class VenueOrder:
    """The simulator's view of one Gate order (exact). `amount` is quote for market buys."""

    id: str
    text: str
    currency_pair: str
    side: Side
    amount: Decimal
    price: Decimal
    create_ns: int
    update_ns: int
    type: str = "limit"
    time_in_force: str = TIF_GTC
    account: str = "spot"
    left: Decimal | None = None      # None = amount (nothing filled)
    filled_amount: Decimal = Decimal(0)  # base filled
    filled_total: Decimal = Decimal(0)   # quote filled
    fee: Decimal = Decimal(0)        # cumulative
    fee_currency: str = ""
    point_fee: Decimal = Decimal(0)
    gt_fee: Decimal = Decimal(0)
    rebated_fee: Decimal = Decimal(0)
    rebated_fee_currency: str = ""
    status: str = "open"
    finish_as: str = "open"
    iceberg: Decimal = Decimal(0)
    amend_text: str = "-"
    stp_id: int = 0
    stp_act: str = "-"
    user: int = 0
    gt_maker_fee: Decimal = Decimal(0)
    gt_taker_fee: Decimal = Decimal(0)
    gt_discount: bool = False

    @property
    def left_amount(self) -> Decimal:
        return self.amount if self.left is None else self.left

    @property
    def avg_deal_price(self) -> Decimal:
        if self.filled_amount == 0:
            return Decimal(0)
        return self.filled_total / self.filled_amount


_D_MEMO: dict[Decimal, str] = {}


def _d(v: Decimal) -> str:
    """`decimal_str(v)`, memoized by value for finite Decimals. Why: an order object carries a
    dozen amounts (most of them 0 or the order's own price and size) and formatting each was
    a fifth of encoding one. The string depends only on the value (1.0 and 1.00 both give
    "1"), so the memo is exact; it is bounded (cleared when full)."""
    if type(v) is not Decimal or not v.is_finite():
        return decimal_str(v)
    if not v:
        return "0"   # any zero (0, 0E-8, -0): most amounts of an unfilled order
    s = _D_MEMO.get(v)
    if s is None:
        s = decimal_str(v)
        if len(_D_MEMO) >= MEMO_MAX:
            _D_MEMO.clear()
        _D_MEMO[v] = s
    return s


def _common(o: VenueOrder) -> dict[str, Any]:
    return {"currency_pair": o.currency_pair, "type": o.type, "account": o.account,
            "side": w.side_str(o.side), "amount": _d(o.amount), "price": _d(o.price),
            "time_in_force": o.time_in_force}


def encode_order_ws(o: VenueOrder) -> dict[str, Any]:
    """Order object as in the WS trading-API result example. Written as one literal (the keys
    of `_common` inline, in the same order): it runs for every order answered over WS."""
    left = o.left
    return {"id": o.id, "text": o.text, "amend_text": o.amend_text,
            "create_time": str(o.create_ns // _NS_PER_S),
            "update_time": str(o.update_ns // _NS_PER_S),
            "create_time_ms": o.create_ns // _NS_PER_MS,
            "update_time_ms": o.update_ns // _NS_PER_MS, "status": o.status,
            "currency_pair": o.currency_pair, "type": o.type, "account": o.account,
            "side": "buy" if o.side is Side.BUY else "sell", "amount": _d(o.amount),
            "price": _d(o.price), "time_in_force": o.time_in_force,
            "iceberg": _d(o.iceberg), "left": _d(o.amount if left is None else left),
            "fill_price": _d(o.filled_total), "filled_total": _d(o.filled_total),
            "fee": _d(o.fee), "fee_currency": o.fee_currency, "point_fee": _d(o.point_fee),
            "gt_fee": _d(o.gt_fee), "gt_maker_fee": _d(o.gt_maker_fee),
            "gt_taker_fee": _d(o.gt_taker_fee), "gt_discount": o.gt_discount,
            "rebated_fee": _d(o.rebated_fee), "rebated_fee_currency": o.rebated_fee_currency,
            "stp_id": o.stp_id, "stp_act": o.stp_act, "finish_as": o.finish_as}


def encode_order_rest(o: VenueOrder) -> dict[str, Any]:
    """Order object as in the REST create (FULL) response example."""
    d: dict[str, Any] = {"id": o.id, "text": o.text, "amend_text": o.amend_text,
                         "create_time": str(o.create_ns // _NS_PER_S),
                         "update_time": str(o.update_ns // _NS_PER_S),
                         "create_time_ms": o.create_ns // _NS_PER_MS,
                         "update_time_ms": o.update_ns // _NS_PER_MS, "status": o.status}
    d.update(_common(o))
    d.update({"iceberg": _d(o.iceberg), "left": _d(o.left_amount),
              "filled_amount": _d(o.filled_amount), "fill_price": _d(o.filled_total),
              "filled_total": _d(o.filled_total), "avg_deal_price": _d(o.avg_deal_price),
              "fee": _d(o.fee), "fee_currency": o.fee_currency, "point_fee": _d(o.point_fee),
              "gt_fee": _d(o.gt_fee), "gt_maker_fee": _d(o.gt_maker_fee),
              "gt_taker_fee": _d(o.gt_taker_fee), "gt_discount": o.gt_discount,
              "rebated_fee": _d(o.rebated_fee), "rebated_fee_currency": o.rebated_fee_currency,
              "finish_as": o.finish_as})
    return d


_PUSH_EVENTS = frozenset({"put", "update", "finish"})


def encode_order_push_item(o: VenueOrder, event: str) -> dict[str, Any]:
    """One `spot.orders` item; `event` is put / update / finish. One literal, like
    `encode_order_ws`: it runs for every order update pushed."""
    if event not in _PUSH_EVENTS:
        raise w.err(f"order push event {event!r:.10}")
    left, filled = o.left, o.filled_amount
    return {"id": o.id, "text": o.text,
            "create_time": str(o.create_ns // _NS_PER_S),
            "update_time": str(o.update_ns // _NS_PER_S),
            "currency_pair": o.currency_pair, "type": o.type, "account": o.account,
            "side": "buy" if o.side is Side.BUY else "sell", "amount": _d(o.amount),
            "price": _d(o.price), "time_in_force": o.time_in_force,
            "left": _d(o.amount if left is None else left),
            "filled_total": _d(o.filled_total),
            "avg_deal_price": _d(o.filled_total / filled) if filled else "0",
            "fee": _d(o.fee), "fee_currency": o.fee_currency, "point_fee": _d(o.point_fee),
            "gt_fee": _d(o.gt_fee), "rebated_fee": _d(o.rebated_fee),
            "rebated_fee_currency": o.rebated_fee_currency,
            "create_time_ms": str(o.create_ns // _NS_PER_MS),
            "update_time_ms": str(o.update_ns // _NS_PER_MS), "user": o.user,
            "event": event, "stp_id": o.stp_id, "stp_act": o.stp_act,
            "finish_as": o.finish_as, "biz_info": "-", "amend_text": o.amend_text}


# -- the same objects from a per-order template ----------------------------------------------
# An order is answered and pushed several times (ack result, `put`, cancel result, `finish`);
# most of its thirty fields are fixed when it is made. The simulator keeps, per order, the
# object `encode_order_ws` / `encode_order_push_item` gave the first time as a template, and
# these copy it (a dict copy keeps the key order) and write the fields that can change while
# an order lives: state, fills, fees, update time. Valid for an order whose other fields are
# never changed after its template was made (the simulator's desk changes none of them).
def encode_order_ws_from(template: dict[str, Any], o: VenueOrder) -> dict[str, Any]:
    """`encode_order_ws(o)`, with `template = encode_order_ws(o)` of an earlier state of `o`."""
    d = template.copy()
    left = o.left
    total = _d(o.filled_total)
    d["update_time"] = str(o.update_ns // _NS_PER_S)
    d["update_time_ms"] = o.update_ns // _NS_PER_MS
    d["status"] = o.status
    d["left"] = _d(o.amount if left is None else left)
    d["fill_price"] = total
    d["filled_total"] = total
    d["fee"] = _d(o.fee)
    d["fee_currency"] = o.fee_currency
    d["finish_as"] = o.finish_as
    return d


def encode_order_push_item_from(template: dict[str, Any], o: VenueOrder, event: str
                                ) -> dict[str, Any]:
    """`encode_order_push_item(o, event)`, with `template = encode_order_push_item(o, ...)` of
    an earlier state of `o`."""
    if event not in _PUSH_EVENTS:
        raise w.err(f"order push event {event!r:.10}")
    d = template.copy()
    left, filled = o.left, o.filled_amount
    d["update_time"] = str(o.update_ns // _NS_PER_S)
    d["left"] = _d(o.amount if left is None else left)
    d["filled_total"] = _d(o.filled_total)
    d["avg_deal_price"] = _d(o.filled_total / filled) if filled else "0"
    d["fee"] = _d(o.fee)
    d["fee_currency"] = o.fee_currency
    d["update_time_ms"] = str(o.update_ns // _NS_PER_MS)
    d["event"] = event
    d["finish_as"] = o.finish_as
    return d


def encode_orders_push_items(items: list[dict[str, Any]], now_ns: int) -> str:
    """A `spot.orders` push of items already encoded (`encode_order_push_item[_from]`)."""
    return _push(CH_ORDERS, items, now_ns)


def _push(channel: str, result: list[dict[str, Any]], now_ns: int) -> str:
    return w.dumps({"time": now_ns // _NS_PER_S, "time_ms": now_ns // _NS_PER_MS,
                    "channel": channel, "event": EV_UPDATE, "result": result})


def encode_orders_push(items: Sequence[tuple[VenueOrder, str]], now_ns: int) -> str:
    return _push(CH_ORDERS, [encode_order_push_item(o, ev) for o, ev in items], now_ns)


@dataclass(slots=True)
class VenueFill:
    """One own fill (exact)."""

    id: int
    order_id: str
    currency_pair: str
    side: Side
    amount: Decimal
    price: Decimal
    role: str  # maker | taker
    fee: Decimal
    fee_currency: str
    ts_ns: int
    text: str = ""
    user_id: int = 0
    point_fee: Decimal = Decimal(0)
    gt_fee: Decimal = Decimal(0)
    id_market: int | None = None


def encode_usertrade_item(f: VenueFill) -> dict[str, Any]:
    """One `spot.usertrades` item: the doc example's keys plus `fee_currency` (in its field
    table, so clients need not guess the asset)."""
    return {"id": f.id, "user_id": f.user_id, "order_id": f.order_id,
            "currency_pair": f.currency_pair, "create_time": f.ts_ns // _NS_PER_S,
            "create_time_ms": w.ms_str(f.ts_ns), "side": w.side_str(f.side),
            "amount": _d(f.amount), "role": f.role, "price": _d(f.price), "fee": _d(f.fee),
            "fee_currency": f.fee_currency, "point_fee": _d(f.point_fee),
            "gt_fee": _d(f.gt_fee), "text": f.text,
            "id_market": f.id if f.id_market is None else f.id_market}


def encode_usertrades_push(fills: Sequence[VenueFill], now_ns: int) -> str:
    return _push(CH_USERTRADES, [encode_usertrade_item(f) for f in fills], now_ns)


def encode_my_trades(fills: Sequence[VenueFill]) -> list[dict[str, Any]]:
    """REST `my_trades` items (same field names as the push; `create_time` as a string)."""
    out = []
    for f in fills:
        d = encode_usertrade_item(f)
        del d["user_id"]
        d["create_time"] = str(d["create_time"])
        out.append(d)
    return out


def encode_open_orders(orders: Sequence[VenueOrder]) -> list[dict[str, Any]]:
    """`GET /spot/open_orders`: [{currency_pair, total, orders: [Order]}] grouped by pair."""
    by_pair: dict[str, list[dict[str, Any]]] = {}
    for o in orders:
        by_pair.setdefault(o.currency_pair, []).append(encode_order_rest(o))
    return [{"currency_pair": p, "total": len(v), "orders": v} for p, v in by_pair.items()]


def encode_countdown(trigger_ns: int) -> dict[str, str]:
    """`countdown_cancel_all` answer, as the doc example spells it."""
    return {"triggerTime": str(trigger_ns // _NS_PER_MS)}
