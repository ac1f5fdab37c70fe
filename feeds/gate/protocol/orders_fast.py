"""The hot path of the Gate gateway's connection: the frames every order brings (trading-API
replies and `spot.orders` pushes) and the Order objects in them -> the very records the strict
parsers (`orders.parse_private`, `orders.api_result_reports`) make of them, or None.

Why it exists: one order placed and cancelled brings five frames here (the place ack, the place
result, the `put` push, the cancel result, the `finish` push), four of them carrying a Gate
Order object, and the strict reader converts each object's numbers through a regex and a
Decimal each and `Instrument.price_to_ticks` / `qty_to_lots` (Decimal divisions), then builds
a frozen dataclass field by field: most of the gateway's CPU per order. Here the fields are read
by direct dict access with exact type checks, and the number conversions are memoised per
instrument (string -> ticks / lots as the strict conversion gave them, so they cannot differ);
records are built by slot stores into mutable twins (`pipeline.messages.build_exec_report`).

The contract, as for the feed's `market_fast.py`: for any input these return either None (the
caller then runs the strict parser, which applies every rule and raises `ProtocolError` on
anything malformed) or exactly what the strict parser returns; they decline anything they do
not fully check and never raise. `tests/unit/feeds/gate/test_orders_fast.py` checks that on
fuzzed frames.

Called by `GateGatewayAdapter.parse` / `_api` before the strict parsers.
"""
from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import orjson

from feeds.fast_paths import InstrumentMemo as _Grid
from feeds.fast_paths import memo_for, remember
from pipeline.errors import ProtocolError
from pipeline.messages import ZERO_FEE, ExecReport, ExecType, build_exec_report
from pipeline.model import Instrument, OrderStatus, RejectReason, Side

from . import _wire as w
from .constants import CH_LOGIN, CH_ORDER_PLACE, CH_ORDERS, CH_ORDERS_V2, EV_UPDATE, TEXT_PREFIX
from .orders import ApiResponse
from .reports import _FINISH_CANCELED, _FINISH_EXPIRED_REASON, exact_lots, exact_ticks

_loads = orjson.loads
_new = object.__new__
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000
_VENUE = w.VENUE
_BUY, _SELL = Side.BUY, Side.SELL
_R_NONE = RejectReason.NONE
_NEW, _STATUS, _CANCELED, _EXPIRED = (ExecType.NEW, ExecType.STATUS, ExecType.CANCELED,
                                      ExecType.EXPIRED)
_ORDER_CHANNELS = (CH_ORDERS, CH_ORDERS_V2)
_PREFIX_LEN = len(TEXT_PREFIX)


# The fields every Gate Order object carries (WS result, push and REST alike), fetched in one
# C call; `_order` reads them from the tuple when they are all strings and their numbers were
# seen before, else field by field.
_ORDER_FIELDS = itemgetter("side", "type", "finish_as", "price", "amount", "left", "text", "id",
                           "fee_currency")
_ALL_STR = (str,) * 9


class _Decline(Exception):
    """Not a frame the fast path fully checks: the strict parser decides."""


_DECLINE = _Decline()


class _ApiResponseDraft:
    __slots__ = ApiResponse.__slots__  # type: ignore[attr-defined]


def _plain_int(v: Any) -> int:
    """`_wire.to_int` for a JSON int or a plain digit string; anything else declines."""
    if type(v) is int:
        return v
    if type(v) is str and v.isdigit() and v.isascii() and len(v) <= 30:
        return int(v)
    raise _DECLINE


def _ms(v: Any) -> int:
    """`_wire.to_ns_from_ms` (ints and digit strings here; other spellings by the strict
    function itself)."""
    if type(v) is int:
        if v >= 0:
            return v * _NS_PER_MS
    elif type(v) is str and v.isdigit() and v.isascii() and len(v) <= 21:
        # (the strict `int(Decimal(v) * 10**6)` is exact below 28 digits)
        return int(v) * _NS_PER_MS
    try:
        return w.to_ns_from_ms(v, "ms")
    except ProtocolError:
        raise _DECLINE from None


def _opt(d: dict[str, Any], key: str, default: str = "") -> str:
    """`_wire.opt_str`."""
    v = d.get(key)
    if type(v) is str:
        return v
    if v is None:
        return default
    raise _DECLINE


def _event_ns(d: dict[str, Any]) -> int:
    """`reports._event_ns`."""
    v = d.get("update_time_ms")
    if v is not None:
        return _ms(v)
    v = d.get("update_time")
    if v is not None:
        s = _plain_int(v)
        if s < 0:
            raise _DECLINE
        return s * _NS_PER_S
    v = d.get("create_time_ms")
    if v is not None:
        return _ms(v)
    return 0






def _ticks(g: _Grid, v: Any) -> int:
    """`exact_ticks(inst, get_dec(price)) if price else 0` for a price given as a string."""
    t = g.ticks.get(v) if type(v) is str else None
    if t is None:
        try:
            price = w.to_dec(v, "price")
            t = exact_ticks(g.inst, price) if price else 0
        except (ProtocolError, ArithmeticError, ValueError):
            raise _DECLINE from None
        remember(g.ticks, v, t)
    return t


def _lots(g: _Grid, v: Any) -> int:
    """`exact_lots(inst, get_dec(v))`."""
    n = g.lots.get(v) if type(v) is str else None
    if n is None:
        try:
            n = exact_lots(g.inst, w.to_dec(v, "amount"))
        except (ProtocolError, ArithmeticError, ValueError):
            raise _DECLINE from None
        remember(g.lots, v, n)
    return n


def _filled(g: _Grid, amount: Any, left: Any) -> int:
    """`exact_lots(inst, get_dec(amount) - get_dec(left))`, refused when negative."""
    if type(amount) is not str or type(left) is not str:
        raise _DECLINE
    key = (amount, left)
    n = g.filled.get(key)
    if n is None:
        try:
            filled = w.to_dec(amount, "amount") - w.to_dec(left, "left")
            if filled < 0:
                raise _DECLINE
            n = exact_lots(g.inst, filled, "filled amount")
        except (ProtocolError, ArithmeticError, ValueError):
            raise _DECLINE from None
        remember(g.filled, key, n)
    return n


class GateOrdersFast:
    """The fast path with its per-instrument memo (one per gateway adapter)."""

    __slots__ = ("_grids",)

    def __init__(self) -> None:
        self._grids: dict[str, _Grid] = {}

    def _grid(self, pair: str, inst: Instrument) -> _Grid:
        return memo_for(self._grids, pair, inst)

    # -- frames ------------------------------------------------------------------------------
    def parse(self, frame: str | bytes, ts_recv: int, instruments: Mapping[str, Instrument]
              ) -> list[Any] | None:
        """`orders.parse_private(frame, ts_recv, instruments)` for trading-API replies and
        `spot.orders` pushes; None for every other frame or anything not fully checked."""
        if type(frame) is not str and type(frame) is not bytes:
            return None
        try:
            d = _loads(frame)
            if type(d) is not dict:
                return None
            if "header" in d or "request_id" in d:
                return [self._api_response(d)]
            if d.get("event") != EV_UPDATE or d.get("error") is not None \
                    or d.get("channel") not in _ORDER_CHANNELS:
                return None
            result = d.get("result")
            if type(result) is not list:
                return None
            out: list[Any] = []
            for item in result:
                if type(item) is not dict:
                    return None
                pair = item.get("currency_pair")
                if type(pair) is not str:
                    return None
                inst = instruments.get(pair)
                if inst is not None:
                    out.append(self._order(item, self._grid(pair, inst), ts_recv, _STATUS,
                                           _opt(item, "event")))
            return out
        except Exception:  # noqa: BLE001  (_Decline, bad JSON, anything unforeseen: strict decides)
            return None

    def api_result_reports(self, resp: ApiResponse, instruments: Mapping[str, Instrument],
                           ts_recv: int) -> list[ExecReport] | None:
        """`orders.api_result_reports(resp, instruments, ts_recv)` for a result holding one
        Order object; None for anything else (the strict function decides)."""
        item = resp.result
        if resp.ack or not resp.ok or type(item) is not dict or resp.channel == CH_LOGIN:
            return None
        try:
            pair = item.get("currency_pair")
            if type(pair) is not str:
                return None
            inst = instruments.get(pair)
            if inst is None:
                return []
            live = _NEW if resp.channel == CH_ORDER_PLACE else _STATUS
            return [self._order(item, self._grid(pair, inst), ts_recv, live, "")]
        except Exception:  # noqa: BLE001  (as in `parse`: the strict function decides)
            return None

    @staticmethod
    def _api_response(d: dict[str, Any]) -> ApiResponse:
        h = d.get("header")
        if type(h) is not dict:
            raise _DECLINE
        data = d.get("data")
        if data is None:
            data = {}
        elif type(data) is not dict:
            raise _DECLINE
        label = message = ""
        errs = data.get("errs")
        if errs is not None:
            if type(errs) is not dict or type(errs.get("label")) is not str:
                raise _DECLINE
            label = errs["label"]
            message = _opt(errs, "message")
        status = _plain_int(h.get("status"))
        if not label and not 200 <= status < 300:
            label = "UNKNOWN"
        rt = h.get("response_time")
        r: Any = _new(_ApiResponseDraft)
        r.request_id = _opt(d, "request_id")
        r.channel = _opt(h, "channel")
        r.status = status
        r.ack = d.get("ack") is True
        r.result = data.get("result")
        r.err_label = label
        r.err_message = message
        r.response_time_ns = 0 if rt is None else _ms(rt)
        v = h.get("x_gate_ratelimit_requests_remain")
        r.ratelimit_remain = None if v is None else _plain_int(v)
        v = h.get("x_gate_ratelimit_limit")
        r.ratelimit_limit = None if v is None else _plain_int(v)
        v = h.get("x_gate_ratelimit_reset_timestamp")
        if v is None:
            v = h.get("x_gat_ratelimit_reset_timestamp")
        r.ratelimit_reset_ms = None if v is None else _plain_int(v)
        r.__class__ = ApiResponse
        return r  # type: ignore[no-any-return]

    # -- Order objects -----------------------------------------------------------------------
    @staticmethod
    def _order(d: dict[str, Any], g: _Grid, ts_recv: int, live_exec: ExecType,
               push_event: str) -> ExecReport:
        """`reports.order_report(d, inst, ts_recv, live_exec=.., push_event=..)` for a limit
        order or a market sell (a market buy, sized in quote, declines)."""
        get = d.get
        try:
            f = _ORDER_FIELDS(d)
        except KeyError:
            f = None
        if f is not None and tuple(map(type, f)) == _ALL_STR and get("filled_amount") is None:
            r = _order_plain(d, f, g, ts_recv, live_exec, push_event)
            if r is not None:
                return r
        side_s = get("side")
        if side_s == "buy":
            side = _BUY
        elif side_s == "sell":
            side = _SELL
        else:
            raise _DECLINE
        otype = _opt(d, "type", "limit")
        is_market = otype == "market"
        if is_market and side is _BUY:
            raise _DECLINE
        if "status" in d:
            status_s = get("status")
            if type(status_s) is not str:
                raise _DECLINE
        else:
            status_s = "open" if push_event in ("put", "update") else ""
        finish_as = _opt(d, "finish_as")
        price = get("price")
        price_ticks = 0 if price is None or price == "" else _ticks(g, price)
        amount = get("amount")
        lots = _lots(g, amount)
        fa = get("filled_amount")
        filled = _lots(g, fa) if fa is not None else _filled(g, amount, get("left"))
        reason = _R_NONE
        exec_type = _NEW if push_event == "put" else live_exec
        finished = push_event == "finish" or status_s in ("closed", "cancelled") or (
            finish_as not in ("", "open") and push_event != "put")
        if not finished:
            if status_s not in ("open", ""):
                raise _DECLINE
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
        elif finish_as == "filled" or (finish_as in ("", "unknown") and status_s == "closed"):
            exec_type, status = _STATUS, OrderStatus.FILLED
        elif finish_as in _FINISH_CANCELED or (finish_as in ("", "unknown")
                                               and status_s == "cancelled"):
            exec_type, status = _CANCELED, OrderStatus.CANCELED
        elif finish_as in _FINISH_EXPIRED_REASON:
            exec_type, status = _EXPIRED, OrderStatus.EXPIRED
            reason = _FINISH_EXPIRED_REASON[finish_as]
        else:
            raise _DECLINE
        text = _opt(d, "text")
        oid = get("id")
        if oid is None:
            raise _DECLINE
        return build_exec_report(
            _VENUE, g.inst.symbol, text[_PREFIX_LEN:] if text.startswith(TEXT_PREFIX) else "",
            str(_plain_int(oid)), exec_type, status, side, price_ticks, lots, filled, 0, 0,
            ZERO_FEE, _opt(d, "fee_currency"), "", False, reason,
            finish_as if reason is not _R_NONE else "", _event_ns(d), ts_recv, 0, 0, 0)


def _order_plain(d: dict[str, Any], f: tuple[str, ...], g: _Grid, ts_recv: int,
                 live_exec: ExecType, push_event: str) -> ExecReport | None:
    """`GateOrdersFast._order` from the fields fetched at once, for a limit order or market
    sell whose numbers are in the memo; None (not taken) for anything else."""
    side_s, otype, finish_as, price, amount, left, text, oid, fee_asset = f
    if side_s == "buy":
        if otype == "market":
            return None
        side = _BUY
    elif side_s == "sell":
        side = _SELL
    else:
        return None
    if "status" in d:
        status_s = d["status"]
        if type(status_s) is not str:
            return None
    else:
        status_s = "open" if push_event in ("put", "update") else ""
    price_ticks = 0 if price == "" else g.ticks.get(price)
    lots = g.lots.get(amount)
    filled = g.filled.get((amount, left))
    if price_ticks is None or lots is None or filled is None \
            or not (oid.isdigit() and oid.isascii() and len(oid) <= 30):
        return None
    reason = _R_NONE
    exec_type = _NEW if push_event == "put" else live_exec
    finished = push_event == "finish" or status_s in ("closed", "cancelled") or (
        finish_as not in ("", "open") and push_event != "put")
    if not finished:
        if status_s not in ("open", ""):
            return None
        status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
    elif finish_as == "filled" or (finish_as in ("", "unknown") and status_s == "closed"):
        exec_type, status = _STATUS, OrderStatus.FILLED
    elif finish_as in _FINISH_CANCELED or (finish_as in ("", "unknown")
                                           and status_s == "cancelled"):
        exec_type, status = _CANCELED, OrderStatus.CANCELED
    elif finish_as in _FINISH_EXPIRED_REASON:
        exec_type, status = _EXPIRED, OrderStatus.EXPIRED
        reason = _FINISH_EXPIRED_REASON[finish_as]
    else:
        return None
    return build_exec_report(
        _VENUE, g.inst.symbol, text[_PREFIX_LEN:] if text.startswith(TEXT_PREFIX) else "",
        str(int(oid)), exec_type, status, side, price_ticks, lots, filled, 0, 0, ZERO_FEE,
        fee_asset, "", False, reason, finish_as if reason is not _R_NONE else "", _event_ns(d),
        ts_recv, 0, 0, 0)


__all__ = ["GateOrdersFast"]
