"""The hot path of the OKX gateway's private connection: the frames every order brings (the
`order` / `batch-orders` / `cancel-order` op responses and `orders` channel pushes) -> the very
records `orders.parse_private` makes of them, or None.

Why it exists: each order placed and cancelled brings two or three of these frames, and the
strict parser reads each field through a validating helper (a regex per number, a Decimal
division per price and size, a frozen-dataclass `__init__` per record): ~600 Python calls and
most of the gateway's CPU per order. Here the fields are read by direct dict access with exact
type checks, and the number conversions (string -> ticks/lots of the order's instrument) are
memoised per instrument: the cached value is what the strict conversion returned for that very
string, so it cannot differ, and a market maker's orders come back with the few prices and
sizes it sent. Records are built by slot stores into mutable twins (see
`pipeline.messages.build_exec_report`).

The contract, as for the feed's `market_fast.py`: for any frame this returns either None (the
caller then runs `parse_private`, which applies every rule and raises `ProtocolError` on a
malformed frame) or a list equal, record for record and field for field, to what
`parse_private` returns — it declines anything it does not fully check (other frame kinds, a
value of an unexpected type, a number not seen before that the strict conversion refuses) and
it never raises. `tests/unit/feeds/okx/test_orders_fast.py` checks that on fuzzed frames.

Called by `OkxGatewayAdapter.parse` before `parse_private`.
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
from . import constants as c
from .errors import classify_cancel_source
from .ops import OpItem, OpResponse
from .reports import _STATUS, _VENUE_CANCELS, exact_lots, exact_ticks

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_new = object.__new__
_NS_PER_MS = w.NS_PER_MS
_MAX_INT64 = 1 << 63
_VENUE = w.VENUE
_NEW, _TRADE, _CANCELED, _EXPIRED, _STATUS_X = (ExecType.NEW, ExecType.TRADE, ExecType.CANCELED,
                                                ExecType.EXPIRED, ExecType.STATUS)
_ST_NEW, _ST_CANCELED, _ST_EXPIRED = OrderStatus.NEW, OrderStatus.CANCELED, OrderStatus.EXPIRED
_ST_FILLED, _ST_PARTIAL = OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED
_R_NONE = RejectReason.NONE
_BUY, _SELL = Side.BUY, Side.SELL
_CANCELED_STATES = ("canceled", "mmp_canceled")
# The fields a push item without a fill is read from, fetched in one C call; when all are
# strings (as OKX sends them) `_order_plain` reads them, else the general `_order` does.
_PLAIN_FIELDS = itemgetter("state", "side", "px", "sz", "accFillSz", "clOrdId", "ordId",
                           "ordType", "uTime", "tradeId", "fillSz", "cancelSource")
_ALL_STR = (str,) * 12
# An op result item's fields (all strings as OKX sends them), fetched in one C call
_ITEM_FIELDS = itemgetter("clOrdId", "ordId", "sCode", "sMsg", "ts")
_FIVE_STR = (str,) * 5


class _Decline(Exception):
    """This frame is not one the fast path fully checks: the strict parser decides."""


_DECLINE = _Decline()


class _OpItemDraft:
    """Mutable twin of `OpItem` (same slots): stores, then a `__class__` switch."""

    __slots__ = OpItem.__slots__  # type: ignore[attr-defined]


class _OpResponseDraft:
    """Mutable twin of `OpResponse` (same slots)."""

    __slots__ = OpResponse.__slots__  # type: ignore[attr-defined]




def _ticks(g: _Grid, v: Any) -> int:
    """`opt_dec` + `exact_ticks` of a price field: 0 when absent or ""."""
    if v is None or v == "":
        return 0
    t = g.ticks.get(v) if type(v) is str else None
    if t is None:
        try:
            t = exact_ticks(g.inst, w.to_dec(v, "px"))
        except ProtocolError:
            raise _DECLINE from None
        remember(g.ticks, v, t)
    return t


def _lots(g: _Grid, v: Any) -> int | None:
    """`opt_dec` + `exact_lots` of a size field: None when absent or ""."""
    if v is None or v == "":
        return None
    n = g.lots.get(v) if type(v) is str else None
    if n is None:
        try:
            n = exact_lots(g.inst, w.to_dec(v, "sz"))
        except ProtocolError:
            raise _DECLINE from None
        remember(g.lots, v, n)
    return n


def _ms(v: Any) -> int:
    """`_wire.ms_to_ns` for the values it accepts without a doubt; anything else declines."""
    if type(v) is str:
        if v == "":
            return 0
        if v.isdigit() and v.isascii() and len(v) <= 30:
            return int(v) * _NS_PER_MS
    elif type(v) is int and 0 <= v < _MAX_INT64:
        return v * _NS_PER_MS
    raise _DECLINE


def _us(v: Any) -> int:
    """`orders._opt_us` (inTime/outTime) for plain values; anything else declines."""
    if type(v) is str:
        if v == "":
            return 0
        if v.isdigit() and v.isascii() and len(v) <= 30:
            return int(v)
    elif type(v) is int and 0 <= v < _MAX_INT64:
        return v
    raise _DECLINE


def _opt(d: dict[str, Any], key: str) -> str:
    """`_wire.opt_str`: absent or null is ""; a non-string declines."""
    v = d.get(key)
    if type(v) is str:
        return v
    if v is None:
        return ""
    raise _DECLINE


class OkxOrdersFast:
    """The fast path with its per-instrument memo (one per gateway adapter)."""

    __slots__ = ("_grids",)

    def __init__(self) -> None:
        self._grids: dict[str, _Grid] = {}

    def _grid(self, inst_id: str, inst: Instrument) -> _Grid:
        return memo_for(self._grids, inst_id, inst)

    def parse(self, frame: str | bytes, ts_recv: int, instruments: Mapping[str, Instrument]
              ) -> list[Any] | None:
        """`orders.parse_private(frame, ts_recv, instruments)` for op responses and `orders`
        pushes; None for every other frame or anything this does not fully check."""
        if type(frame) is not str and type(frame) is not bytes:
            return None
        try:
            d = _loads(frame)
            if type(d) is not dict or "event" in d:
                return None
            if "op" in d:
                return [self._op_response(d)]
            arg = d.get("arg")
            if type(arg) is not dict or arg.get("channel") != c.CH_ORDERS:
                return None
            data = d.get("data")
            if type(data) is not list:
                return None
            out: list[Any] = []
            for item in data:
                if type(item) is not dict:
                    return None
                inst_id = item.get("instId")
                if type(inst_id) is not str:
                    return None
                inst = instruments.get(inst_id)
                if inst is not None:
                    g = self._grid(inst_id, inst)
                    if not _order_plain(item, g, ts_recv, out):
                        self._order(item, g, ts_recv, out)
            return out
        except Exception:  # noqa: BLE001  (_Decline, bad JSON, anything unforeseen: strict decides)
            return None

    # -- op responses ------------------------------------------------------------------------
    @staticmethod
    def _op_response(d: dict[str, Any]) -> OpResponse:
        code = d.get("code")
        if type(code) is not str:
            raise _DECLINE
        data = d.get("data", [])
        if type(data) is not list:
            raise _DECLINE
        items = []
        for x in data:
            if type(x) is not dict:
                raise _DECLINE
            try:
                f = _ITEM_FIELDS(x)
            except KeyError:
                f = None
            if f is not None and tuple(map(type, f)) == _FIVE_STR:
                cl, oid, s_code, s_msg, ts = f
                sub, tag = x.get("subCode", ""), x.get("tag", "")
                if type(sub) is str and type(tag) is str and ts.isdigit() and ts.isascii() \
                        and len(ts) <= 30:
                    m: Any = _new(_OpItemDraft)
                    m.cl_ord_id, m.ord_id, m.s_code, m.s_msg, m.sub_code, m.tag = (
                        cl, oid, s_code, s_msg, sub, tag)
                    m.ts_event = int(ts) * _NS_PER_MS
                    m.__class__ = OpItem
                    items.append(m)
                    continue
            s_code = x.get("sCode")
            if type(s_code) is not str:
                raise _DECLINE
            m = _new(_OpItemDraft)
            m.cl_ord_id = _opt(x, "clOrdId")
            m.ord_id = _opt(x, "ordId")
            m.s_code = s_code
            m.s_msg = _opt(x, "sMsg")
            m.sub_code = _opt(x, "subCode")
            m.tag = _opt(x, "tag")
            m.ts_event = _ms(x.get("ts", ""))
            m.__class__ = OpItem
            items.append(m)
        r: Any = _new(_OpResponseDraft)
        r.req_id = _opt(d, "id")
        r.op = _opt(d, "op")
        r.code = code
        r.msg = _opt(d, "msg")
        r.items = tuple(items)
        r.in_time_us = _us(d.get("inTime", ""))
        r.out_time_us = _us(d.get("outTime", ""))
        r.__class__ = OpResponse
        return r  # type: ignore[no-any-return]

    # -- orders pushes -----------------------------------------------------------------------
    @staticmethod
    def _order(d: dict[str, Any], g: _Grid, ts_recv: int, out: list[Any]) -> None:
        """`reports.order_reports(d, inst, ts_recv)`, appended to `out`. The common fields
        are read inline (a call per field is most of the cost of a push item)."""
        get = d.get
        state = get("state")
        if type(state) is not str or state not in _STATUS:
            raise _DECLINE
        side_s = get("side")
        if side_s == "buy":
            side = _BUY
        elif side_s == "sell":
            side = _SELL
        else:
            raise _DECLINE
        v = get("px")
        price_ticks = g.ticks.get(v) if type(v) is str else None
        if price_ticks is None:
            price_ticks = _ticks(g, v)
        v = get("sz")
        sz = g.lots.get(v) if type(v) is str else None
        if sz is None:
            sz = _lots(g, v)
        v = get("accFillSz")
        filled = g.lots.get(v) if type(v) is str else None
        if filled is None:
            filled = _lots(g, v) or 0
        client_id = get("clOrdId")
        if type(client_id) is not str:
            client_id = _opt(d, "clOrdId")
        order_id = get("ordId")
        ord_type = get("ordType")
        if type(order_id) is not str or type(ord_type) is not str:
            raise _DECLINE
        if sz is None:
            lots = 0
        elif ord_type == "market":
            tgt = _opt(d, "tgtCcy")
            quote_sized = tgt == c.TGT_CCY_QUOTE or (tgt == "" and side is _BUY)
            lots = 0 if quote_sized else sz
        else:
            lots = sz
        v = get("uTime", "")
        if type(v) is str and v.isdigit() and v.isascii() and len(v) <= 30:
            ts_event = int(v) * _NS_PER_MS
        else:
            ts_event = _ms(v)
        symbol = g.inst.symbol
        trade_id = get("tradeId")
        if type(trade_id) is not str:
            trade_id = _opt(d, "tradeId")
        v = get("fillSz")
        fill_lots = g.lots.get(v) if type(v) is str else None
        if fill_lots is None:
            fill_lots = _lots(g, v)
        traded = bool(trade_id) and fill_lots is not None and fill_lots > 0
        if traded:
            out.append(_fill(d, g, state, symbol, client_id, order_id, side, price_ticks, lots,
                             filled, ts_event, ts_recv, trade_id, fill_lots))  # type: ignore
        if state in _CANCELED_STATES:
            source = _opt(d, "cancelSource")
            by_venue = source in _VENUE_CANCELS
            out.append(build_exec_report(
                _VENUE, symbol, client_id, order_id, _EXPIRED if by_venue else _CANCELED,
                _ST_EXPIRED if by_venue else _ST_CANCELED, side, price_ticks, lots, filled, 0, 0,
                ZERO_FEE, "", "", False, classify_cancel_source(source),
                f"cancelSource={source}" if source else "", ts_event, ts_recv, 0, 0, 0))
        elif not traded:
            if state == "live":
                exec_type, status = _NEW, _ST_NEW
            else:  # partially_filled / filled without a fill in this push
                exec_type, status = _STATUS_X, _STATUS[state]
            out.append(build_exec_report(
                _VENUE, symbol, client_id, order_id, exec_type, status, side, price_ticks, lots,
                filled, 0, 0, ZERO_FEE, "", "", False, _R_NONE, "", ts_event, ts_recv, 0, 0, 0))


def _order_plain(d: dict[str, Any], g: _Grid, ts_recv: int, out: list[Any]) -> bool:
    """`OkxOrdersFast._order` for the commonest item: every field a string, a limit order, no
    fill in this push. False (nothing appended) for any other item."""
    try:
        f = _PLAIN_FIELDS(d)
    except KeyError:
        return False
    if tuple(map(type, f)) != _ALL_STR:
        return False
    state, side_s, px, sz, acc, cid, oid, ord_type, u_time, trade_id, fill_sz, source = f
    if state not in _STATUS or trade_id or ord_type == "market":
        return False
    if side_s == "buy":
        side = _BUY
    elif side_s == "sell":
        side = _SELL
    else:
        return False
    lots_of = g.lots
    if fill_sz != "" and fill_sz not in lots_of:
        return False  # a size not seen yet: the general reader checks it
    price_ticks = 0 if px == "" else g.ticks.get(px)
    lots = 0 if sz == "" else lots_of.get(sz)
    filled = 0 if acc == "" else lots_of.get(acc)
    if price_ticks is None or lots is None or filled is None:
        return False
    if u_time == "":
        ts_event = 0
    elif u_time.isdigit() and u_time.isascii() and len(u_time) <= 30:
        ts_event = int(u_time) * _NS_PER_MS
    else:
        return False
    if state in _CANCELED_STATES:
        by_venue = source in _VENUE_CANCELS
        out.append(build_exec_report(
            _VENUE, g.inst.symbol, cid, oid, _EXPIRED if by_venue else _CANCELED,
            _ST_EXPIRED if by_venue else _ST_CANCELED, side, price_ticks, lots, filled, 0, 0,
            ZERO_FEE, "", "", False, classify_cancel_source(source),
            f"cancelSource={source}" if source else "", ts_event, ts_recv, 0, 0, 0))
    else:
        if state == "live":
            exec_type, status = _NEW, _ST_NEW
        else:  # partially_filled / filled without a fill in this push
            exec_type, status = _STATUS_X, _STATUS[state]
        out.append(build_exec_report(
            _VENUE, g.inst.symbol, cid, oid, exec_type, status, side, price_ticks, lots, filled,
            0, 0, ZERO_FEE, "", "", False, _R_NONE, "", ts_event, ts_recv, 0, 0, 0))
    return True


def _fill(d: dict[str, Any], g: _Grid, state: str, symbol: str, client_id: str, order_id: str,
          side: Side, price_ticks: int, lots: int, filled: int, ts_event: int, ts_recv: int,
          trade_id: str, fill_lots: int) -> ExecReport:
    """The TRADE report of a push that carries a fill (rarer than acks and cancels: the fee
    is read by the strict helper itself)."""
    fill_px = d.get("fillPx")
    if fill_px is None or fill_px == "":
        raise _DECLINE  # the strict parser's "a fill without 'fillPx'"
    last_px = _ticks(g, fill_px)
    try:
        fee = w.opt_dec(d, "fillFee", signed=True)
    except ProtocolError:
        raise _DECLINE from None
    fill_ts = _ms(d.get("fillTime", ""))
    fee_asset = _opt(d, "fillFeeCcy") or _opt(d, "feeCcy")
    return build_exec_report(
        _VENUE, symbol, client_id, order_id, _TRADE,
        _ST_FILLED if state == "filled" else _ST_PARTIAL, side, price_ticks, lots, filled,
        fill_lots, last_px, -fee if fee is not None else ZERO_FEE, fee_asset, trade_id,
        _opt(d, "execType") == c.EXEC_TYPE_MAKER, _R_NONE, "", fill_ts or ts_event, ts_recv,
        0, 0, 0)


__all__ = ["OkxOrdersFast"]
