"""Positions and PnL from fills, exact.

The engine applies every `FillApplied` the OMS returns here; the RMS reads positions from it
for pre-trade limits and equity for the drawdown / daily-loss state machine; the writer and
the run summary take `snapshot()`.

Exactness: per (venue, symbol) the traded position is an int of that instrument's lots and
its cost basis an int of ticks*lots (one tick*lot is `tick_size * lot_size` quote). Reducing
a position releases cost pro rata with floor division; the sub-unit remainder stays in the
basis until the position is flat, so realized + unrealized always equals cash flows + position
at the mark exactly, and realized is exact to one tick*lot (1e-7 USDT for BTC/USDT). Quote
amounts leave as `Decimal`.

Fees: a fee in the quote asset is added to fees. A fee in the base asset is taken out of the
holding (`position_qty` = traded lots - base fees, as the venue's balance shows it) and
counted in fees at the fill price; it is not revalued afterwards. Any other fee asset (BNB,
GT, OKB) is recorded by asset, outside quote PnL. Negative fees are rebates.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pipeline.model import Instrument, Side, decimal_str

_ZERO = Decimal(0)


class Position:
    """One (venue, symbol): traded lots (signed), cost basis and running totals."""

    __slots__ = (
        "_unit",
        "cost",
        "fee_base_qty",
        "fees",
        "instrument",
        "lots",
        "realized",
        "trades",
        "volume",
        "volume_lots",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.lots = 0                # signed, in the instrument's lots
        self.cost = 0                # signed ticks*lots of the open position
        self.realized = 0            # ticks*lots
        self.fees = _ZERO            # quote, incl. base fees valued at their fill price
        self.fee_base_qty = _ZERO    # base asset paid as fees
        self.volume = 0              # ticks*lots traded (unsigned)
        self.volume_lots = 0
        self.trades = 0
        self._unit = instrument.tick_size * instrument.lot_size

    def apply(self, side: Side, price_ticks: int, lots: int) -> None:
        s = 1 if side > 0 else -1   # not `side.value`: an enum property, ~0.3 us on 3.11
        pos = self.lots
        signed = s * lots
        if pos == 0 or (pos > 0) == (s > 0):
            self.cost += signed * price_ticks
        else:
            close = min(lots, abs(pos))
            # cost released by the closed part: floor, the remainder stays with the position
            released = self.cost * close // abs(pos)
            self.realized += -s * close * price_ticks - released
            self.cost -= released
            opened = lots - close
            if opened:
                # crossed through zero: all the old basis was released, start a new one
                self.cost = s * opened * price_ticks
        self.lots = pos + signed
        if self.lots == 0:
            self.realized -= self.cost   # flat: no basis left behind (only a remainder)
            self.cost = 0
        self.volume += price_ticks * lots
        self.volume_lots += lots
        self.trades += 1

    # -- derived, in quote ---------------------------------------------------------------------
    @property
    def realized_quote(self) -> Decimal:
        return self.realized * self._unit

    def unrealized_quote(self, mark: Decimal | None) -> Decimal:
        if mark is None or self.lots == 0:
            return _ZERO
        return self.lots * self.instrument.lot_size * mark - self.cost * self._unit

    @property
    def position_qty(self) -> Decimal:
        return self.lots * self.instrument.lot_size - self.fee_base_qty

    @property
    def avg_price(self) -> Decimal:
        if self.lots == 0:
            return _ZERO
        return self.instrument.tick_size * Decimal(self.cost) / Decimal(self.lots)


class Portfolio:
    """Positions per (venue, symbol), aggregates per symbol, and marks for unrealized PnL."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Position] = {}
        self.marks: dict[tuple[str, str], Decimal] = {}
        self.fees_other: dict[tuple[str, str], Decimal] = {}   # (venue, asset) -> amount

    def _pos(self, venue: str, instrument: Instrument) -> Position:
        key = (venue, instrument.symbol)
        p = self.positions.get(key)
        if p is None:
            p = self.positions[key] = Position(instrument)
        return p

    def apply_fill(self, venue: str, instrument: Instrument, side: Side, price_ticks: int,
                   lots: int, fee: Decimal = _ZERO, fee_asset: str = "") -> Position:
        p = self._pos(venue, instrument)
        p.apply(side, price_ticks, lots)
        if fee:
            if fee_asset == instrument.quote or not fee_asset:
                p.fees += fee
            elif fee_asset == instrument.base:
                p.fee_base_qty += fee
                p.fees += fee * instrument.ticks_to_price(price_ticks)
            else:
                k = (venue, fee_asset)
                self.fees_other[k] = self.fees_other.get(k, _ZERO) + fee
        return p

    def set_mark(self, venue: str, symbol: str, price: Decimal) -> None:
        self.marks[(venue, symbol)] = price

    # -- reads for RMS -------------------------------------------------------------------------
    def position_lots(self, venue: str, symbol: str) -> int:
        p = self.positions.get((venue, symbol))
        return 0 if p is None else p.lots

    def position_qty(self, venue: str, symbol: str) -> Decimal:
        p = self.positions.get((venue, symbol))
        return _ZERO if p is None else p.position_qty

    def symbol_qty(self, symbol: str) -> Decimal:
        """Aggregate holding change of `symbol` across venues (net of base fees)."""
        return sum((p.position_qty for (_, s), p in self.positions.items() if s == symbol),
                   _ZERO)

    def realized(self) -> Decimal:
        return sum((p.realized_quote for p in self.positions.values()), _ZERO)

    def fees(self) -> Decimal:
        return sum((p.fees for p in self.positions.values()), _ZERO)

    def unrealized(self, marks: Mapping[tuple[str, str], Decimal] | None = None) -> Decimal:
        m = self.marks if marks is None else marks
        return sum((p.unrealized_quote(m.get(k)) for k, p in self.positions.items()), _ZERO)

    def equity(self, marks: Mapping[tuple[str, str], Decimal] | None = None) -> Decimal:
        """PnL since start in quote: realized + unrealized - fees (what the RMS watches).
        Assumes one quote asset across symbols (USDT); positions without a mark count 0
        unrealized."""
        return self.realized() + self.unrealized(marks) - self.fees()

    # -- reporting -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state (exact decimal strings) for the writer and the run summary."""
        per: list[dict[str, Any]] = []
        by_sym: dict[str, dict[str, Decimal]] = {}
        for (venue, symbol), p in sorted(self.positions.items()):
            mark = self.marks.get((venue, symbol))
            unreal = p.unrealized_quote(mark)
            per.append({
                "venue": venue, "symbol": symbol, "position_lots": p.lots,
                "position": decimal_str(p.position_qty), "avg_price": decimal_str(p.avg_price),
                "mark": decimal_str(mark) if mark is not None else None,
                "realized": decimal_str(p.realized_quote), "unrealized": decimal_str(unreal),
                "fees": decimal_str(p.fees), "fee_base": decimal_str(p.fee_base_qty),
                "volume_quote": decimal_str(p.volume * p._unit),
                "volume": decimal_str(p.volume_lots * p.instrument.lot_size),
                "trades": p.trades,
            })
            agg = by_sym.setdefault(symbol, {"position": _ZERO, "realized": _ZERO,
                                             "unrealized": _ZERO, "fees": _ZERO,
                                             "volume_quote": _ZERO})
            agg["position"] += p.position_qty
            agg["realized"] += p.realized_quote
            agg["unrealized"] += unreal
            agg["fees"] += p.fees
            agg["volume_quote"] += p.volume * p._unit
        realized = sum((a["realized"] for a in by_sym.values()), _ZERO)
        unrealized = sum((a["unrealized"] for a in by_sym.values()), _ZERO)
        fees = sum((a["fees"] for a in by_sym.values()), _ZERO)
        return {
            "positions": per,
            "symbols": {s: {k: decimal_str(v) for k, v in a.items()} for s, a in by_sym.items()},
            "fees_other": {f"{v}:{a}": decimal_str(x) for (v, a), x in self.fees_other.items()},
            "realized": decimal_str(realized), "unrealized": decimal_str(unrealized),
            "fees": decimal_str(fees), "pnl": decimal_str(realized + unrealized - fees),
            "volume_quote": decimal_str(sum((a["volume_quote"] for a in by_sym.values()),
                                            _ZERO)),
        }
