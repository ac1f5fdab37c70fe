"""Builders shared by the OMS / RMS / portfolio tests: instruments, an OMS, reports."""
from __future__ import annotations

from decimal import Decimal

from engine.client_ids import ClientIdFactory
from engine.oms import OMS
from pipeline.messages import ExecReport, ExecType, NewOrder
from pipeline.model import VENUES, Instrument, OrderStatus, RejectReason, Side

START_MS = 1_760_000_000_000
SYM = "BTC/USDT"


def instrument(venue: str = "binance", symbol: str = SYM, tick: str = "0.01",
               lot: str = "0.00001") -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(venue, symbol, base + quote, base, quote, Decimal(tick), Decimal(lot))


def instruments() -> dict[tuple[str, str], Instrument]:
    """BTC/USDT everywhere, with a coarser lot on gate to exercise the common unit."""
    return {("binance", SYM): instrument("binance"),
            ("okx", SYM): instrument("okx", lot="0.00000001"),
            ("gate", SYM): instrument("gate", lot="0.0001")}


def make_oms(**kw: int) -> OMS:
    return OMS({v: ClientIdFactory(v, START_MS) for v in VENUES}, **kw)


def report(o: NewOrder, exec_type: ExecType, status: OrderStatus, *, last_lots: int = 0,
           price: int | None = None, filled: int = 0, trade_id: str = "",
           fee: Decimal = Decimal(0), fee_asset: str = "USDT",
           reason: RejectReason = RejectReason.NONE, ts: int = 0,
           client_id: str | None = None) -> ExecReport:
    return ExecReport(o.venue, o.symbol, o.client_id if client_id is None else client_id,
                      "v-" + o.client_id, exec_type, status, o.side, o.price_ticks, o.lots,
                      filled, last_lots, o.price_ticks if price is None else price, fee,
                      fee_asset, trade_id, True, reason, "", ts, ts)


def check_books(oms: OMS) -> None:
    """The OMS's incremental indexes agree with a recomputation from its orders."""
    lots: dict[tuple[str, str, int], int] = {}
    count: dict[str, int] = {}
    prices: dict[tuple[str, str, int], dict[int, int]] = {}
    for o in oms.orders.values():
        in_book = o.client_id in oms.open_book(o.venue, o.symbol)
        assert in_book == o.is_open, o
        if o.is_open:
            k = (o.venue, o.symbol, o.side.value)
            lots[k] = lots.get(k, 0) + o.remaining_lots
            count[o.venue] = count.get(o.venue, 0) + 1
            px = prices.setdefault(k, {})
            px[o.price_ticks] = px.get(o.price_ticks, 0) + 1
    assert {k: v for k, v in oms.open_prices.items() if v} == prices
    assert {k: v for k, v in oms.open_lots.items() if v} == {k: v for k, v in lots.items() if v}
    assert {k: v for k, v in oms.open_count.items() if v} == count


def buy(oms: OMS, lots: int = 10, price: int = 6_000_000, venue: str = "binance",
        now: int = 1_000, side: Side = Side.BUY) -> NewOrder:
    from pipeline.model import TimeInForce
    return oms.create(venue, SYM, side, price, lots, TimeInForce.POST_ONLY, now, now - 10)
