"""The simulated venues' plain data: the requests the matching engine takes, the events it and
the background market give, order snapshots, and the market model's per-symbol parameters.

Frozen slotted dataclasses, never compiled: the pure-Python engine and market
(`feeds/sim/matching_core.py`, `market_core.py`) and their compiled twins (same sources, see
`feeds/sim/fast.py`) all build these classes, so the front-ends' `isinstance` checks and
event equality hold whichever path runs.
`feeds.sim.matching` and `feeds.sim.market` re-export every name, where callers import them.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from feeds.sim.venue_rules import CancelCause
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class SimOrder:
    """A new order in ticks/lots. `quote_qty` (market buys only) spends a quote amount instead
    of buying `lots` (Binance quoteOrderQty, OKX tgtCcy=quote_ccy, Gate market buy amount)."""

    account: str
    client_id: str
    side: Side
    price_ticks: int | None
    lots: int
    type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    quote_qty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    symbol: str
    account: str
    order_id: int
    client_id: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price_ticks: int | None
    lots: int
    quote_qty: Decimal | None
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A refused new order or cancel; `order_id` is set for a cancel of a known id."""

    symbol: str
    account: str
    client_id: str
    reason: RejectReason
    venue_code: str
    message: str
    ts_ns: int
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """Public trade print; `taker_side` is the aggressor (Binance m = taker_side is SELL)."""

    symbol: str
    trade_id: int
    price_ticks: int
    lots: int
    taker_side: Side
    maker_order_id: int
    taker_order_id: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of a trade, for that side's account."""

    symbol: str
    account: str
    order_id: int
    client_id: str
    side: Side
    trade_id: int
    price_ticks: int
    lots: int
    fee: Decimal
    fee_asset: str
    is_maker: bool
    leaves_lots: int
    cum_lots: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderDone:
    """An order that ended without (fully) filling; `venue_code` is the venue's word for why."""

    symbol: str
    account: str
    order_id: int
    client_id: str
    side: Side
    cause: CancelCause
    venue_code: str
    leaves_lots: int
    cum_lots: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Canceled(OrderDone):
    pass


@dataclass(frozen=True, slots=True)
class Expired(OrderDone):
    """Reported instead of `Canceled` for the causes in `VenueRules.expire_causes`."""


Event = Accepted | Rejected | Trade | Fill | Canceled | Expired


@dataclass(frozen=True, slots=True)
class OrderView:
    """A snapshot of one order for queries (open-orders lists, order status)."""

    symbol: str
    account: str
    order_id: int
    client_id: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price_ticks: int | None
    lots: int
    filled_lots: int
    leaves_lots: int
    status: OrderStatus
    cum_quote: Decimal
    cum_fee: Decimal
    quote_qty: Decimal | None
    created_ns: int
    updated_ns: int


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """The top of one symbol's book after an arrival changed it, for venues whose BBO stream
    is pushed on every change (`VenueRules.bbo_every_change`); `seq` is the engine's book
    sequence then."""

    symbol: str
    seq: int
    bid: tuple[int, int] | None
    ask: tuple[int, int] | None
    ts_ns: int


@dataclass(frozen=True, slots=True)
class SymbolParams:
    """Market model of one symbol. Volatility and drift are per second, in basis points."""

    mid: Decimal
    vol_bps: float = 1.0            # stdev of log-mid per sqrt(second)
    drift_bps: float = 0.0          # per second
    jump_rate_hz: float = 0.02
    jump_bps: float = 15.0          # stdev of a jump
    size_lots: int | None = None    # typical order size; default 5x the venue minimum
    depth_ticks: float | None = None  # mean distance of a new limit order behind the best;
    #                                   default max(2, 0.3 bp of the mid)
    min_levels: int = 25            # topped up after every arrival, per side
    target_orders: int = 120        # resting background orders per side the flow tends to
    market_share: float = 0.08      # share of arrivals that are market orders
