"""Gate order and fill objects -> `ExecReport`, exact in ticks and lots.

One Gate `Order` object shape comes back from the WS trading API, REST and the `spot.orders`
push; one trade shape from `spot.usertrades` and REST `my_trades`. The gate gateway turns each
into an `ExecReport` here. What each report means:

* Order objects give status and *cumulative* fill (`filled_lots`), never a single fill: a
  `put` push or a place result is `NEW`; an `update` push or a status answer is `STATUS`;
  finished orders are `STATUS`+`FILLED`, `CANCELED`, or `EXPIRED` (ioc/fok/poc/stp...) with
  the reason (`finish_as: "poc"` -> POST_ONLY_WOULD_CROSS).
* Trade objects are the fills: `TRADE` with `last_lots`, `last_price_ticks`, the fee, the trade
  id and the maker flag. Gate's trade push has no cumulative fill, so these carry
  `filled_lots=0` and `status=PARTIALLY_FILLED`; the order push gives the cumulative state.

Client ids: Gate's `text` is `t-` + our client id (see `orders.to_text`); texts of orders not
placed by us (`apiv4`, `apiv4-ws`, ...) map to an empty client id.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pipeline.messages import ExecReport, ExecType
from pipeline.model import Instrument, OrderStatus, RejectReason, Side

from . import _wire as w
from .constants import TEXT_PREFIX, VENUE

_FINISH_EXPIRED_REASON: dict[str, RejectReason] = {
    "ioc": RejectReason.NONE,
    "fok": RejectReason.NONE,
    "poc": RejectReason.POST_ONLY_WOULD_CROSS,
    "stp": RejectReason.SELF_TRADE,
    "small": RejectReason.BAD_SIZE,
    "depth_not_enough": RejectReason.NONE,
    "trader_not_enough": RejectReason.NONE,
}
_FINISH_CANCELED = ("cancelled", "liquidate_cancelled")


def client_id_of(text: str) -> str:
    return text[len(TEXT_PREFIX):] if text.startswith(TEXT_PREFIX) else ""


def exact_ticks(inst: Instrument, price: Decimal, what: str = "price") -> int:
    ticks = inst.price_to_ticks(price)
    if inst.ticks_to_price(ticks) != price:
        raise w.err(f"{what} {price} is not on {inst.venue_symbol} tick {inst.tick_size}")
    return ticks


def exact_lots(inst: Instrument, qty: Decimal, what: str = "amount") -> int:
    lots = inst.qty_to_lots(qty)
    if inst.lots_to_qty(lots) != qty:
        raise w.err(f"{what} {qty} is not on {inst.venue_symbol} lot {inst.lot_size}")
    return lots


def _id_str(d: dict[str, Any], key: str) -> str:
    v = w.field(d, key)
    return str(w.to_int(v, repr(key)))


def _event_ns(d: dict[str, Any]) -> int:
    if d.get("update_time_ms") is not None:
        return w.to_ns_from_ms(d["update_time_ms"], "update_time_ms")
    if d.get("update_time") is not None:
        return w.to_ns_from_s(d["update_time"], "update_time")
    if d.get("create_time_ms") is not None:
        return w.to_ns_from_ms(d["create_time_ms"], "create_time_ms")
    return 0


def _filled_lots(d: dict[str, Any], inst: Instrument, side: Side, is_market: bool) -> int:
    if d.get("filled_amount") is not None:
        return exact_lots(inst, w.get_dec(d, "filled_amount"), "filled_amount")
    if is_market and side is Side.BUY:
        # market buys are sized in quote: base filled = quote filled / average price
        avg = w.to_dec(d["avg_deal_price"], "avg_deal_price") if d.get("avg_deal_price") else \
            Decimal(0)
        total = w.get_dec(d, "filled_total")
        if avg == 0:
            return 0
        return int((total / avg / inst.lot_size).to_integral_value(rounding=ROUND_HALF_EVEN))
    filled = w.get_dec(d, "amount") - w.get_dec(d, "left")
    if filled < 0:
        raise w.err("left exceeds amount")
    return exact_lots(inst, filled, "filled amount")


def order_report(d: Any, inst: Instrument, ts_recv: int, *,
                 live_exec: ExecType = ExecType.STATUS, push_event: str = "") -> ExecReport:
    """A Gate Order object -> ExecReport. `live_exec` is the exec type for an order that is
    still open (NEW for a place result, STATUS for a status answer); `push_event` is the
    `spot.orders` item's `event` (put/update/finish) when it came from that push."""
    d = w.as_obj(d, "order")
    side = w.get_side(d)
    otype = w.opt_str(d, "type", "limit")
    is_market = otype == "market"
    status_s = w.get_str(d, "status") if "status" in d else (
        "open" if push_event in ("put", "update") else "")
    finish_as = w.opt_str(d, "finish_as")
    price = w.get_dec(d, "price") if d.get("price") not in (None, "") else Decimal(0)
    price_ticks = exact_ticks(inst, price) if price else 0
    lots = 0 if (is_market and side is Side.BUY) else exact_lots(inst, w.get_dec(d, "amount"))
    filled = _filled_lots(d, inst, side, is_market)
    reason = RejectReason.NONE
    if push_event == "put":
        exec_type = ExecType.NEW
    else:
        exec_type = live_exec
    finished = push_event == "finish" or status_s in ("closed", "cancelled") or (
        finish_as not in ("", "open") and push_event != "put")
    if not finished:
        if status_s not in ("open", ""):
            raise w.err(f"unknown order status {status_s!r:.20}")
        status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
    elif finish_as == "filled" or (finish_as in ("", "unknown") and status_s == "closed"):
        exec_type, status = ExecType.STATUS, OrderStatus.FILLED
    elif finish_as in _FINISH_CANCELED or (finish_as in ("", "unknown")
                                           and status_s == "cancelled"):
        exec_type, status = ExecType.CANCELED, OrderStatus.CANCELED
    elif finish_as in _FINISH_EXPIRED_REASON:
        exec_type, status = ExecType.EXPIRED, OrderStatus.EXPIRED
        reason = _FINISH_EXPIRED_REASON[finish_as]
    else:
        raise w.err(f"unknown finish_as {finish_as!r:.20} / status {status_s!r:.20}")
    return ExecReport(
        venue=VENUE, symbol=inst.symbol, client_id=client_id_of(w.opt_str(d, "text")),
        venue_order_id=_id_str(d, "id"), exec_type=exec_type, status=status, side=side,
        price_ticks=price_ticks, lots=lots, filled_lots=filled,
        fee_asset=w.opt_str(d, "fee_currency"), reason=reason,
        reason_text=finish_as if reason is not RejectReason.NONE else "",
        ts_event=_event_ns(d), ts_recv=ts_recv)


def _fee(d: dict[str, Any], inst: Instrument, side: Side) -> tuple[Decimal, str]:
    fee = w.get_dec(d, "fee") if d.get("fee") is not None else Decimal(0)
    if fee:
        # fee_currency is in the field table but absent from the doc's example: a spot fee
        # is charged in what was received (base on a buy, quote on a sell)
        default = inst.base if side is Side.BUY else inst.quote
        return fee, w.opt_str(d, "fee_currency") or default
    for key, asset in (("gt_fee", "GT"), ("point_fee", "POINT")):
        if d.get(key) is not None:
            v = w.get_dec(d, key)
            if v:
                return v, asset
    return Decimal(0), w.opt_str(d, "fee_currency")


def fill_report(d: Any, inst: Instrument, ts_recv: int) -> ExecReport:
    """A `spot.usertrades` item or REST `my_trades` item -> TRADE ExecReport."""
    d = w.as_obj(d, "trade")
    side = w.get_side(d)
    role = w.get_str(d, "role")
    if role not in ("maker", "taker"):
        raise w.err(f"role {role!r:.10} is not maker/taker")
    fee, fee_asset = _fee(d, inst, side)
    if "create_time_ms" in d:
        ts = w.to_ns_from_ms(d["create_time_ms"], "create_time_ms")
    else:
        ts = w.to_ns_from_s(w.field(d, "create_time"), "create_time")
    return ExecReport(
        venue=VENUE, symbol=inst.symbol, client_id=client_id_of(w.opt_str(d, "text")),
        venue_order_id=_id_str(d, "order_id"), exec_type=ExecType.TRADE,
        status=OrderStatus.PARTIALLY_FILLED, side=side,
        last_lots=exact_lots(inst, w.get_dec(d, "amount")),
        last_price_ticks=exact_ticks(inst, w.get_dec(d, "price")),
        fee=fee, fee_asset=fee_asset, trade_id=_id_str(d, "id"), is_maker=role == "maker",
        ts_event=ts, ts_recv=ts_recv)


def lookup(instruments: Mapping[str, Instrument], d: Any) -> Instrument | None:
    """The instrument of an order/trade object, by `currency_pair`; None if not ours."""
    pair = w.get_str(w.as_obj(d, "item"), "currency_pair")
    return instruments.get(pair)


class RepeatFilter:
    """Gate answers each step of an order twice: the trading API's result (a place -> the
    order object, a cancel -> the cancelled order) and the `spot.orders` push (`put`,
    `finish`). Both become the same report. The second one is dropped here: for an order
    (by venue order id), a state report that repeats the last one passed, equal in kind,
    status, cumulative fill and reason. The OMS would ignore it, but it still cost the
    gateway an encode and two queue puts, and the engine and the writer a decode each (the
    writer stored every order event twice). Fills always pass (the OMS keeps each trade id
    once); a report that says anything new passes. Bounded: orders beyond `capacity` are
    forgotten, oldest first (the two answers arrive milliseconds apart)."""

    __slots__ = ("_last", "capacity")

    def __init__(self, capacity: int = 100_000) -> None:
        self._last: OrderedDict[str, tuple[ExecType, OrderStatus, int, RejectReason]] = \
            OrderedDict()
        self.capacity = capacity

    def accept(self, r: ExecReport) -> bool:
        if r.exec_type is ExecType.TRADE or not r.venue_order_id:
            return True
        key = (r.exec_type, r.status, r.filled_lots, r.reason)
        last = self._last
        if last.get(r.venue_order_id) == key:
            return False
        last[r.venue_order_id] = key
        last.move_to_end(r.venue_order_id)
        if len(last) > self.capacity:
            last.popitem(last=False)
        return True
