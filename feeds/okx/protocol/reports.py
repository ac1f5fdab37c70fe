"""OKX order records (`orders` channel pushes, `orders-pending`, `fills`) -> `ExecReport`s.

Called by `orders.parse_private` (the okx gateway's private connection) and the gateway's
reconciliation. Money stays exact: prices and sizes become integer ticks/lots of the order's
`Instrument` and a value off the tick/lot grid is a ProtocolError (it would mean the venue and
we disagree on the instrument). Fees flip sign: OKX `fillFee` is negative when charged, ours is
positive when paid. Venue-side cancels (post-only would take, IOC/FOK remainder, dead-man,
self-trade) are EXPIRED with the reason taken from `cancelSource` (EXCHANGES.md §2.7).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pipeline.messages import ExecReport, ExecType
from pipeline.model import TERMINAL_STATUSES, Instrument, OrderStatus, Side

from . import _wire as w
from . import constants as c
from .errors import classify_cancel_source

_STATUS = {
    "live": OrderStatus.NEW, "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}
# Cancels the venue did on its own: reported as EXPIRED, not as an answer to our cancel.
_VENUE_CANCELS = frozenset({c.CANCEL_SOURCE_IOC, c.CANCEL_SOURCE_FOK, c.CANCEL_SOURCE_POST_ONLY,
                            c.CANCEL_SOURCE_CANCEL_ALL_AFTER, c.CANCEL_SOURCE_STP})


def exact_ticks(inst: Instrument, price: Decimal, what: str = "px") -> int:
    q = price / inst.tick_size
    if q != q.to_integral_value():
        raise w.err(f"{what} {price} is not a multiple of tickSz {inst.tick_size}")
    return int(q)


def exact_lots(inst: Instrument, qty: Decimal, what: str = "sz") -> int:
    q = qty / inst.lot_size
    if q != q.to_integral_value():
        raise w.err(f"{what} {qty} is not a multiple of lotSz {inst.lot_size}")
    return int(q)


def lookup(instruments: Mapping[str, Instrument], d: dict[str, Any]) -> Instrument | None:
    """The instrument of a record by its `instId`; None for one we do not trade."""
    return instruments.get(w.get_str(d, "instId"))


def _state(d: dict[str, Any]) -> str:
    state = w.get_str(d, "state")
    if state not in _STATUS:
        raise w.err(f"unknown order state {state[:20]!r}")
    return state


def _quote_sized(d: dict[str, Any], side: Side) -> bool:
    """A spot market order sized in quote currency has no base-lot `sz`."""
    if w.opt_str(d, "ordType") != "market":
        return False
    tgt = w.opt_str(d, "tgtCcy")
    return tgt == c.TGT_CCY_QUOTE or (tgt == "" and side is Side.BUY)


def _base(d: dict[str, Any], inst: Instrument, ts_recv: int) -> dict[str, Any]:
    side = w.get_side(d)
    px = w.opt_dec(d, "px")
    sz = w.opt_dec(d, "sz")
    acc = w.opt_dec(d, "accFillSz")
    return {
        "venue": w.VENUE, "symbol": inst.symbol, "client_id": w.opt_str(d, "clOrdId"),
        "venue_order_id": w.get_str(d, "ordId"), "side": side,
        "price_ticks": exact_ticks(inst, px) if px is not None else 0,
        "lots": 0 if sz is None or _quote_sized(d, side) else exact_lots(inst, sz),
        "filled_lots": exact_lots(inst, acc, "accFillSz") if acc is not None else 0,
        "ts_event": w.ms_to_ns(d.get("uTime", ""), "uTime"), "ts_recv": ts_recv,
    }


def order_reports(d: Any, inst: Instrument, ts_recv: int) -> list[ExecReport]:
    """One `orders` push item -> a TRADE report (when it carries a fill) and/or a state report."""
    d = w.as_obj(d, "order")
    state = _state(d)
    base = _base(d, inst, ts_recv)
    out: list[ExecReport] = []
    trade_id = w.opt_str(d, "tradeId")
    fill_sz = w.opt_dec(d, "fillSz")
    if trade_id and fill_sz is not None and fill_sz > 0:
        fill_px = w.opt_dec(d, "fillPx")
        if fill_px is None:
            raise w.err("a fill without 'fillPx'")
        fee = w.opt_dec(d, "fillFee", signed=True)
        fill_ts = w.ms_to_ns(d.get("fillTime", ""), "fillTime")
        out.append(ExecReport(
            **{**base, "ts_event": fill_ts or base["ts_event"]}, exec_type=ExecType.TRADE,
            status=OrderStatus.FILLED if state == "filled" else OrderStatus.PARTIALLY_FILLED,
            last_lots=exact_lots(inst, fill_sz, "fillSz"),
            last_price_ticks=exact_ticks(inst, fill_px, "fillPx"),
            fee=-fee if fee is not None else Decimal(0),
            fee_asset=w.opt_str(d, "fillFeeCcy") or w.opt_str(d, "feeCcy"), trade_id=trade_id,
            is_maker=w.opt_str(d, "execType") == c.EXEC_TYPE_MAKER))
    if state in ("canceled", "mmp_canceled"):
        source = w.opt_str(d, "cancelSource")
        by_venue = source in _VENUE_CANCELS
        out.append(ExecReport(
            **base, exec_type=ExecType.EXPIRED if by_venue else ExecType.CANCELED,
            status=OrderStatus.EXPIRED if by_venue else OrderStatus.CANCELED,
            reason=classify_cancel_source(source),
            reason_text=f"cancelSource={source}" if source else ""))
    elif not out:
        if state == "live":
            out.append(ExecReport(**base, exec_type=ExecType.NEW, status=OrderStatus.NEW))
        else:  # partially_filled / filled without a fill in this push (amend, market close)
            out.append(ExecReport(**base, exec_type=ExecType.STATUS, status=_STATUS[state]))
    return out


def status_report(d: Any, inst: Instrument, ts_recv: int) -> ExecReport:
    """An `orders-pending` item -> STATUS report (reconciliation)."""
    d = w.as_obj(d, "order")
    return ExecReport(**_base(d, inst, ts_recv), exec_type=ExecType.STATUS,
                      status=_STATUS[_state(d)])


def fill_report(d: Any, inst: Instrument, ts_recv: int) -> ExecReport:
    """A `GET /api/v5/trade/fills` item -> TRADE report.

    The fills endpoint has no order state or cumulative size: `status` is PARTIALLY_FILLED
    and `filled_lots` 0 ("unknown"); reconcile by `trade_id`.
    """
    d = w.as_obj(d, "fill")
    fee = w.opt_dec(d, "fee", signed=True)
    return ExecReport(
        venue=w.VENUE, symbol=inst.symbol, client_id=w.opt_str(d, "clOrdId"),
        venue_order_id=w.get_str(d, "ordId"), exec_type=ExecType.TRADE,
        status=OrderStatus.PARTIALLY_FILLED, side=w.get_side(d),
        last_lots=exact_lots(inst, w.to_dec(w.field(d, "fillSz"), "'fillSz'"), "fillSz"),
        last_price_ticks=exact_ticks(inst, w.to_dec(w.field(d, "fillPx"), "'fillPx'"), "fillPx"),
        fee=-fee if fee is not None else Decimal(0), fee_asset=w.opt_str(d, "feeCcy"),
        trade_id=w.get_str(d, "tradeId"), is_maker=w.opt_str(d, "execType") == "M",
        ts_event=w.ms_to_ns(d.get("fillTime") or d.get("ts", ""), "fillTime"), ts_recv=ts_recv)


class PushDedup:
    """OKX's dedup rules for `orders` pushes (§2.7): each `tradeId` once per instId, and only
    the first terminal push per `ordId`. Pushes may repeat with a different `uTime`.

    Bounded LRU memory: ids older than `capacity` are forgotten (OKX repeats arrive close
    together, so a long memory buys nothing)."""

    __slots__ = ("_seen", "capacity")

    def __init__(self, capacity: int = 100_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.capacity = capacity

    def _first(self, key: tuple[str, str, str]) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def accept(self, report: ExecReport) -> bool:
        """True the first time a fill (by trade id) or a terminal state (by order id) is seen;
        non-terminal state reports always pass."""
        if report.exec_type is ExecType.TRADE and report.trade_id:
            first = self._first(("T", report.symbol, report.trade_id))
            if report.status in TERMINAL_STATUSES:
                self._first(("X", report.venue_order_id, ""))
            return first
        if report.status in TERMINAL_STATUSES:
            return self._first(("X", report.venue_order_id, ""))
        return True


__all__ = ["PushDedup", "exact_lots", "exact_ticks", "fill_report", "lookup",
           "order_reports", "status_report"]
