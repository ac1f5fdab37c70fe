"""Domain model shared by every process: enums, `Instrument` and exact money.

Market data travels as float64 in the rings (fast numpy math); everything that is money —
order prices and sizes, fills, positions, PnL — is exact: integer ticks and lots, converted
to `Decimal` and formatted as exact decimal strings only at the wire edge. `Instrument` is
the one place that knows a symbol's tick and lot, so every venue codec, the OMS, the RMS and
the simulator quantize the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import IntEnum

VENUES: tuple[str, ...] = ("binance", "okx", "gate")


class Side(IntEnum):
    """Order / trade side. The integer value is the position sign of a fill."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(IntEnum):
    LIMIT = 1
    MARKET = 2


class TimeInForce(IntEnum):
    """GTC / IOC / FOK, and POST_ONLY (Binance LIMIT_MAKER, OKX post_only, Gate poc)."""

    GTC = 1
    IOC = 2
    FOK = 3
    POST_ONLY = 4


class OrderStatus(IntEnum):
    PENDING_NEW = 1
    NEW = 2
    PARTIALLY_FILLED = 3
    FILLED = 4
    PENDING_CANCEL = 5
    CANCELED = 6
    REJECTED = 7
    EXPIRED = 8

    @property
    def is_terminal(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                        OrderStatus.EXPIRED)


class RejectReason(IntEnum):
    """Typed reject reasons. Venue errors are classified into these by code, never by text."""

    NONE = 0
    RATE_LIMITED = 1
    INSUFFICIENT_BALANCE = 2
    POST_ONLY_WOULD_CROSS = 3
    UNKNOWN_ORDER = 4
    BAD_PRICE = 5
    BAD_SIZE = 6
    AUTH = 7
    DUPLICATE_ID = 8
    RISK = 9
    TIMEOUT_UNKNOWN = 10
    VENUE_UNAVAILABLE = 11
    BAD_SYMBOL = 12
    SELF_TRADE = 13
    OTHER = 99


def decimal_str(value: Decimal) -> str:
    """Plain exact decimal string: no exponent, no trailing zeros ("0.00100" -> "0.001")."""
    if value == 0:
        return "0"
    s = format(value, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable spot symbol on one venue, with its filters.

    `symbol` is our internal name `BASE/QUOTE`; `venue_symbol` is the venue's spelling
    (`BTCUSDT`, `BTC-USDT`, `BTC_USDT`); `venue_code` is OKX's integer `instIdCode`, which
    its WebSocket order operations require.
    """

    venue: str
    symbol: str
    venue_symbol: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    max_qty: Decimal | None = None
    max_notional: Decimal | None = None
    venue_code: int | None = None
    tradable: bool = True
    _inv_tick: float = field(default=0.0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.venue}:{self.symbol}: tick and lot must be positive")
        object.__setattr__(self, "_inv_tick", float(1 / self.tick_size))

    # -- prices ------------------------------------------------------------------------------
    def price_to_ticks(self, price: Decimal | float | str, side: Side | None = None) -> int:
        """Price as an integer number of ticks.

        Direction-aware when `side` is given: a bid rounds down and an ask rounds up, so a
        quote is never made more aggressive by quantization. Without a side: nearest tick.

        Floats (strategy math on market data) take a fast path: the quotient is snapped to
        the nearest integer when it is within float noise of it (relative 1e-11), else
        floored / ceiled. Same answers as the Decimal path for every price a tick grid can
        produce, at a fraction of the cost — this runs a dozen times per quote cycle.
        """
        if type(price) is float:
            q = price * self._inv_tick
            r = round(q)
            if abs(q - r) <= 1e-11 * max(1.0, abs(q)):
                return int(r)
            if side is Side.BUY:
                return math.floor(q)
            if side is Side.SELL:
                return math.ceil(q)
            return int(r)
        d = price if isinstance(price, Decimal) else Decimal(str(price))
        dq = d / self.tick_size
        if side is Side.BUY:
            return int(dq.to_integral_value(rounding=ROUND_FLOOR))
        if side is Side.SELL:
            return int(dq.to_integral_value(rounding=ROUND_CEILING))
        return int(dq.to_integral_value(rounding=ROUND_HALF_EVEN))

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def format_price(self, ticks: int) -> str:
        return decimal_str(self.ticks_to_price(ticks))

    # -- sizes -------------------------------------------------------------------------------
    def qty_to_lots(self, qty: Decimal | float | str) -> int:
        """Size as an integer number of lots, always rounded down (never trade more)."""
        d = qty if isinstance(qty, Decimal) else Decimal(str(qty))
        return int((d / self.lot_size).to_integral_value(rounding=ROUND_FLOOR))

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.lot_size * lots

    def format_qty(self, lots: int) -> str:
        return decimal_str(self.lots_to_qty(lots))

    # -- filters -----------------------------------------------------------------------------
    def is_on_tick(self, price: Decimal) -> bool:
        return price % self.tick_size == 0

    def is_on_lot(self, qty: Decimal) -> bool:
        return qty % self.lot_size == 0

    def check(self, price_ticks: int | None, lots: int) -> RejectReason:
        """Filter check of an order in ticks/lots; NONE when it passes."""
        qty = self.lots_to_qty(lots)
        if lots <= 0 or qty < self.min_qty or (self.max_qty is not None and qty > self.max_qty):
            return RejectReason.BAD_SIZE
        if price_ticks is not None:
            if price_ticks <= 0:
                return RejectReason.BAD_PRICE
            notional = qty * self.ticks_to_price(price_ticks)
            if notional < self.min_notional:
                return RejectReason.BAD_SIZE
            if self.max_notional is not None and notional > self.max_notional:
                return RejectReason.BAD_SIZE
        return RejectReason.NONE


def internal_symbol(base: str, quote: str) -> str:
    return f"{base.upper()}/{quote.upper()}"


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTC/USDT` -> (`BTC`, `USDT`); a malformed name is a ValueError naming it."""
    parts = symbol.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(f"symbol {symbol!r} is not of the form BASE/QUOTE")
    return parts[0].upper(), parts[1].upper()
