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
    def opposite(self) -> Side:
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
        return self in TERMINAL_STATUSES


# Hot paths (the gateway asks this of every report) test `status in TERMINAL_STATUSES`
# directly: the same answer as `status.is_terminal` without a property call.
TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


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


def _parts(d: Decimal) -> tuple[int, int] | None:
    """A positive finite Decimal as (coefficient, exponent): d == c * 10**e; else None."""
    if not d.is_finite() or d <= 0:
        return None
    _, digits, exp = d.as_tuple()
    return int("".join(map(str, digits))), int(exp)


def _ratio(d: Decimal, coef: int, exp: int, up: bool) -> int:
    """ceil (up) or floor of `d / (coef * 10**exp)`, exactly, for a finite Decimal `d`."""
    sign, digits, e = d.as_tuple()
    c = int("".join(map(str, digits))) * (-1 if sign else 1)
    shift = int(e) - exp
    num, den = (c * 10 ** shift, coef) if shift >= 0 else (c, coef * 10 ** -shift)
    return -(-num // den) if up else num // den


# Decimal's default context carries 28 significant digits: a product of coefficients below this
# is exact there, so integer math gives the very same answers
_EXACT = 10 ** 28


def _fixed(n: int, exp: int) -> str:
    """`decimal_str(Decimal(n).scaleb(exp))` for n > 0, by string slicing."""
    s = str(n)
    if exp >= 0:
        return s + "0" * exp
    k = -exp
    if len(s) <= k:
        s = "0" * (k - len(s) + 1) + s
    frac = s[-k:].rstrip("0")
    return f"{s[:-k]}.{frac}" if frac else s[:-k]


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
    # Integer forms of the filters (see `_integer_forms`); `_tick_c` 0 = none (Decimal path)
    _tick_c: int = field(default=0, init=False, repr=False, compare=False)
    _tick_e: int = field(default=0, init=False, repr=False, compare=False)
    _lot_c: int = field(default=0, init=False, repr=False, compare=False)
    _lot_e: int = field(default=0, init=False, repr=False, compare=False)
    _limits: tuple[int, int | None, int, int | None] = field(
        default=(0, None, 0, None), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.venue}:{self.symbol}: tick and lot must be positive")
        object.__setattr__(self, "_inv_tick", float(1 / self.tick_size))
        self._integer_forms()

    def _integer_forms(self) -> None:
        """Why: `check`, `format_price` and `format_qty` run for every order the gateway sends
        and cost ~1 us each in Decimal arithmetic. Tick and lot as `coefficient * 10**exp`
        and the filters as integer bounds on lots and on `lots * ticks` give the same answers
        with int math wherever Decimal's own arithmetic is exact (products below 10**28, which
        every real order is); anything larger takes the Decimal path."""
        limits = (self.min_qty, self.min_notional, self.max_qty, self.max_notional)
        if type(self.tick_size) is not Decimal or type(self.lot_size) is not Decimal or any(
                (type(q) is not Decimal or not q.is_finite()) for q in limits[:2]) or any(
                q is not None and (type(q) is not Decimal or not q.is_finite())
                for q in limits[2:]):
            return  # an odd instrument (built by hand): every answer the Decimal way
        t, lt = _parts(self.tick_size), _parts(self.lot_size)
        if t is None or lt is None or any(
                abs(int(q.as_tuple().exponent)) > 60 or q.adjusted() > 60 or q.adjusted() < -60
                for q in (self.tick_size, self.lot_size, *limits) if q is not None):
            return  # an absurd scale: integer powers of ten that large buy nothing
        (tc, te), (lc, le) = t, lt
        # qty < min_qty <=> lots < ceil(min_qty / lot) for integer lots; alike for the others
        min_lots = _ratio(self.min_qty, lc, le, up=True)
        max_lots = None if self.max_qty is None else _ratio(self.max_qty, lc, le, up=False)
        min_units = _ratio(self.min_notional, lc * tc, le + te, up=True)
        max_units = (None if self.max_notional is None
                     else _ratio(self.max_notional, lc * tc, le + te, up=False))
        for name, v in (("_tick_c", tc), ("_tick_e", te), ("_lot_c", lc), ("_lot_e", le),
                        ("_limits", (min_lots, max_lots, min_units, max_units))):
            object.__setattr__(self, name, v)

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
        """`ticks` as the exact decimal string sent to the venue (no exponent, no trailing
        zeros): `decimal_str(ticks_to_price(ticks))`, by integer formatting when exact."""
        c = self._tick_c
        if c and type(ticks) is int and 0 < ticks and ticks * c < _EXACT:
            return _fixed(ticks * c, self._tick_e)
        return decimal_str(self.ticks_to_price(ticks))

    # -- sizes -------------------------------------------------------------------------------
    def qty_to_lots(self, qty: Decimal | float | str) -> int:
        """Size as an integer number of lots, always rounded down (never trade more)."""
        d = qty if isinstance(qty, Decimal) else Decimal(str(qty))
        return int((d / self.lot_size).to_integral_value(rounding=ROUND_FLOOR))

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.lot_size * lots

    def format_qty(self, lots: int) -> str:
        """`lots` as the exact decimal string sent to the venue (see `format_price`)."""
        c = self._lot_c
        if c and type(lots) is int and 0 < lots and lots * c < _EXACT:
            return _fixed(lots * c, self._lot_e)
        return decimal_str(self.lots_to_qty(lots))

    # -- filters -----------------------------------------------------------------------------
    def is_on_tick(self, price: Decimal) -> bool:
        return price % self.tick_size == 0

    def is_on_lot(self, qty: Decimal) -> bool:
        return qty % self.lot_size == 0

    def check(self, price_ticks: int | None, lots: int) -> RejectReason:
        """Filter check of an order in ticks/lots; NONE when it passes. Integer bounds when
        Decimal's arithmetic would be exact (see `_integer_forms`), else `_check_decimal`."""
        lc = self._lot_c
        if lc and type(lots) is int and (price_ticks is None or type(price_ticks) is int) \
                and lots * lc < _EXACT:
            if lots <= 0:
                return RejectReason.BAD_SIZE
            min_lots, max_lots, min_units, max_units = self._limits
            if lots < min_lots or (max_lots is not None and lots > max_lots):
                return RejectReason.BAD_SIZE
            if price_ticks is None:
                return RejectReason.NONE
            if price_ticks <= 0:
                return RejectReason.BAD_PRICE
            units = lots * price_ticks
            if units * lc * self._tick_c < _EXACT:
                if units < min_units or (max_units is not None and units > max_units):
                    return RejectReason.BAD_SIZE
                return RejectReason.NONE
        return self._check_decimal(price_ticks, lots)

    def _check_decimal(self, price_ticks: int | None, lots: int) -> RejectReason:
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
