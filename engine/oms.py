"""Order management: every order's state, driven by a transition table and exec reports.

Called by the engine loop (engine/main.py) on the order path: `create` after the strategy
decides (the returned `NewOrder` goes to RMS and then to the gateway queue), `request_cancel`
/ `request_cancel_all` for pulls and the kill switch, `on_report` for every `ExecReport` the
gateways send back, and `in_flight_timeouts` on a timer so orders whose ack or cancel never
came are *queried* at the venue instead of guessed.

Rules the table and `on_report` encode:
  * Venues report out of order across channels (WS API response vs user stream): a fill may
    arrive before the ack, after our cancel request, or after the cancel confirmation. Money
    that moved at the venue is always applied (a trade id seen for the first time is a
    `FillApplied`), whatever the state; the state only follows the table.
  * Duplicates (same venue/symbol/trade id/client id) are ignored and counted.
  * A late ack (an `ExecType.NEW` report for an order already FILLED, CANCELED or EXPIRED) is
    stale, not a transition: a venue acks an order before it ends it, and the ack only
    arrives last because it came on a slower channel. Ignored and counted (`late_acks`).
    The one exception is an order we closed EXPIRED/UNKNOWN_ORDER because the venue said it
    did not know it: an ack then contradicts that and is illegal.
  * An illegal transition is counted, logged (rate-limited) and returned as
    `IllegalTransition`, never raised: one odd report must not take the engine down; the
    state stays where it was.
  * Reports for orders we do not know (an earlier run, or purged) come back as
    `UnknownOrder` so the engine can cancel orphans; their fills are still `FillApplied`.
  * A reconciliation `STATUS` report sets the venue's state; a cumulative fill larger than
    ours means trades we have not seen: `FillGap` tells the engine to fetch them (fills are
    never invented from a status answer, which carries no trade price or fee).
Invariant after every transition: a working order is NEW with nothing filled and
PARTIALLY_FILLED once anything filled.

Hot path: plain slotted classes, dict lookups, no Decimal on ack/fill bookkeeping.
"""
from __future__ import annotations

import logging
from collections import defaultdict, deque
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from importlib.util import find_spec

from engine.client_ids import ClientIdFactory
from pipeline.hot_path import PURE_ENV, log_once, pure_requested
from pipeline.logging_setup import RateLimitedLog
from pipeline.messages import (
    CancelAll,
    CancelOrder,
    ExecReport,
    ExecType,
    NewOrder,
    build_new_order,
)
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce

log = logging.getLogger(__name__)

S = OrderStatus


class OrderEvent(IntEnum):
    ACK = 1
    PARTIAL_FILL = 2
    FILL = 3
    CANCEL_REQUEST = 4
    CANCELED = 5
    CANCEL_REJECT = 6
    REJECTED = 7
    EXPIRED = 8


E = OrderEvent
_new = object.__new__

# (state, event) -> next state. Anything absent is illegal: counted, state unchanged.
TABLE: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    # awaiting the venue's ack
    (S.PENDING_NEW, E.ACK): S.NEW,
    (S.PENDING_NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,   # fill before ack
    (S.PENDING_NEW, E.FILL): S.FILLED,
    (S.PENDING_NEW, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PENDING_NEW, E.CANCELED): S.CANCELED,               # e.g. OKX post-only cancelled
    (S.PENDING_NEW, E.REJECTED): S.REJECTED,
    (S.PENDING_NEW, E.EXPIRED): S.EXPIRED,
    # resting
    (S.NEW, E.ACK): S.NEW,                                 # duplicate ack
    (S.NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.NEW, E.FILL): S.FILLED,
    (S.NEW, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.NEW, E.CANCELED): S.CANCELED,                       # venue-side cancel (dead-man, STP)
    (S.NEW, E.EXPIRED): S.EXPIRED,
    (S.NEW, E.CANCEL_REJECT): S.NEW,                       # repeated reject of a retried cancel
    (S.PARTIALLY_FILLED, E.ACK): S.PARTIALLY_FILLED,       # ack after an early fill
    (S.PARTIALLY_FILLED, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, E.CANCELED): S.CANCELED,
    (S.PARTIALLY_FILLED, E.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, E.CANCEL_REJECT): S.PARTIALLY_FILLED,
    # cancel in flight: fills still land, a reject puts it back to work
    (S.PENDING_CANCEL, E.ACK): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.FILL): S.FILLED,
    (S.PENDING_CANCEL, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.CANCELED): S.CANCELED,
    (S.PENDING_CANCEL, E.CANCEL_REJECT): S.NEW,            # -> PARTIALLY_FILLED if filled
    (S.PENDING_CANCEL, E.REJECTED): S.REJECTED,            # the new order itself was refused
    (S.PENDING_CANCEL, E.EXPIRED): S.EXPIRED,
    # terminal: late reports that are consistent with the end state
    (S.FILLED, E.ACK): S.FILLED,
    (S.FILLED, E.FILL): S.FILLED,
    (S.FILLED, E.CANCEL_REJECT): S.FILLED,                 # cancel raced the last fill
    (S.CANCELED, E.CANCELED): S.CANCELED,
    (S.CANCELED, E.CANCEL_REJECT): S.CANCELED,
    (S.CANCELED, E.PARTIAL_FILL): S.CANCELED,              # fill reported after the cancel
    (S.EXPIRED, E.EXPIRED): S.EXPIRED,
    (S.EXPIRED, E.PARTIAL_FILL): S.EXPIRED,                # IOC remainder expired first
    (S.EXPIRED, E.CANCEL_REJECT): S.EXPIRED,               # cancel raced the expiry
    (S.REJECTED, E.REJECTED): S.REJECTED,
    (S.REJECTED, E.CANCEL_REJECT): S.REJECTED,             # cancel of a refused order
}

_OPEN = frozenset((S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.PENDING_CANCEL))
_TERMINAL = frozenset((S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED))
_PENDING = (S.PENDING_NEW, S.PENDING_CANCEL)
# hot-path aliases (a module global is one lookup; `S.X` is two)
_PENDING_NEW, _NEW, _PARTIALLY_FILLED, _FILLED, _PENDING_CANCEL = (
    S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL)
_ET_TRADE, _ET_STATUS, _ET_NEW = ExecType.TRADE, ExecType.STATUS, ExecType.NEW
_E_ACK, _E_FILL, _E_PARTIAL = E.ACK, E.FILL, E.PARTIAL_FILL
_E_REJECTED, _E_CANCEL_REJECT = E.REJECTED, E.CANCEL_REJECT
_NO_REASON = RejectReason.NONE
_BUY, _SELL = Side.BUY, Side.SELL
_EXPIRED = S.EXPIRED
_UNKNOWN_ORDER = RejectReason.UNKNOWN_ORDER
# States an ack can only reach late: the venue ended the order (filled, cancelled, expired)
# after acking it, so an ack arriving now was sent before the end we already applied. Not
# REJECTED: a refused order was never accepted, so an ack after it is a contradiction.
_LATE_ACK_STATES = frozenset((S.FILLED, S.CANCELED, S.EXPIRED))
_LIMIT = OrderType.LIMIT

# What a STATUS answer means as an event (the venue's word on the order's state).
_STATUS_EVENT: dict[OrderStatus, OrderEvent] = {
    S.NEW: E.ACK, S.PARTIALLY_FILLED: E.ACK, S.FILLED: E.FILL, S.CANCELED: E.CANCELED,
    S.REJECTED: E.REJECTED, S.EXPIRED: E.EXPIRED,
}
_EXEC_EVENT: dict[ExecType, OrderEvent] = {
    ExecType.NEW: E.ACK, ExecType.CANCELED: E.CANCELED, ExecType.REJECTED: E.REJECTED,
    ExecType.EXPIRED: E.EXPIRED, ExecType.CANCEL_REJECTED: E.CANCEL_REJECT,
}
# A cancel refused for one of these leaves the outcome unknown (the venue no longer has the
# order open: filled or cancelled?) -> stay PENDING_CANCEL and query.
_CANCEL_REJECT_UNKNOWN = frozenset((RejectReason.UNKNOWN_ORDER, RejectReason.TIMEOUT_UNKNOWN))
# The table split per event ({state: next}) for the hot paths: one dict lookup on the state
# instead of building and hashing a (state, event) tuple. Derived, so TABLE stays the rule.
_NEXT: dict[OrderEvent, dict[OrderStatus, OrderStatus]] = {
    ev: {st: nxt for (st, e), nxt in TABLE.items() if e is ev} for ev in OrderEvent}
_ACK_NEXT, _FILL_NEXT, _PARTIAL_NEXT = _NEXT[E.ACK], _NEXT[E.FILL], _NEXT[E.PARTIAL_FILL]


_EMPTY: dict[str, Order] = {}   # read-only stand-in for "no book"


class Order:
    """One order's mutable state. `filled_notional` is sum(price_ticks * lots) over fills, so
    the average fill price is exactly filled_notional / filled_lots ticks. `layer` is the
    caller's label (the engine's quote layer), kept here so its requote path needs no side
    table; `book`, `lots_key` and `prices` are this order's open-order index entries (set by
    `OMS`: its (venue, symbol) book, its open-lots key and its side's own-price counts).
    `reject_reason` is why the order was refused (REJECTED) or ended EXPIRED (the report's
    reason: e.g. POST_ONLY_WOULD_CROSS, or UNKNOWN_ORDER when the venue did not know it)."""

    __slots__ = (
        "book",
        "client_id",
        "filled_lots",
        "filled_notional",
        "layer",
        "lots",
        "lots_key",
        "order_type",
        "price_ticks",
        "prices",
        "queries",
        "reject_reason",
        "side",
        "status",
        "symbol",
        "tif",
        "ts_acked",
        "ts_cancel_requested",
        "ts_created",
        "ts_pending",
        "ts_sent",
        "ts_tick_recv",
        "ts_updated",
        "venue",
        "venue_order_id",
    )

    def __init__(self, client_id: str, venue: str, symbol: str, side: Side, price_ticks: int,
                 lots: int, tif: TimeInForce, order_type: OrderType, ts_created: int,
                 ts_tick_recv: int, layer: int = 0) -> None:
        # enum members come from module aliases: `S.X` is a class attribute lookup that
        # costs ~0.2 us apiece on 3.11, and this runs once per order
        self.client_id = client_id
        self.venue_order_id = ""
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.price_ticks = price_ticks
        self.lots = lots
        self.filled_lots = 0
        self.filled_notional = 0
        self.status = _PENDING_NEW
        self.tif = tif
        self.order_type = order_type
        self.ts_created = ts_created
        self.ts_sent = 0
        self.ts_acked = 0
        self.ts_tick_recv = ts_tick_recv
        self.ts_updated = ts_created
        self.ts_cancel_requested = 0
        self.ts_pending = ts_created  # engine clock: start of the current wait for the venue
        self.reject_reason = _NO_REASON
        self.queries = 0
        self.layer = layer
        self.book: dict[str, Order] = _EMPTY
        self.lots_key = (venue, symbol, side)
        self.prices: dict[int, int] | None = None

    @property
    def remaining_lots(self) -> int:
        return max(0, self.lots - self.filled_lots)

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN

    @property
    def avg_price_ticks(self) -> Decimal:
        """Exact average fill price in ticks (0 before any fill)."""
        if not self.filled_lots:
            return Decimal(0)
        return Decimal(self.filled_notional) / Decimal(self.filled_lots)

    def __repr__(self) -> str:
        return (f"Order({self.client_id} {self.venue}:{self.symbol} {self.side.name} "
                f"{self.filled_lots}/{self.lots}@{self.price_ticks} {self.status.name})")


# The pure-Python record, whatever `Order` ends up being (the compiled one when built: see the
# end of this module); the pure `OMS.create` always makes these.
PureOrder = Order


# -- events returned by on_report ------------------------------------------------------------
@dataclass(slots=True)
class OrderUpdated:
    order: Order
    old: OrderStatus
    new: OrderStatus
    report: ExecReport


@dataclass(slots=True)
class FillApplied:
    """A trade seen for the first time: apply it to the portfolio. `order` is None when the
    order is unknown to this OMS (its money still moved)."""

    venue: str
    symbol: str
    client_id: str
    side: Side
    price_ticks: int
    lots: int
    fee: Decimal
    fee_asset: str
    trade_id: str
    is_maker: bool
    ts_event: int
    ts_recv: int
    order: Order | None


@dataclass(slots=True)
class UnknownOrder:
    report: ExecReport


@dataclass(slots=True)
class IllegalTransition:
    order: Order
    state: OrderStatus
    event: OrderEvent
    report: ExecReport | None


@dataclass(slots=True)
class FillGap:
    """The venue says more is filled than the trades we applied: fetch its trades."""

    order: Order
    missing_lots: int


@dataclass(slots=True)
class NeedsQuery:
    """The order's outcome is unknown (cancel refused as unknown, timeout): query the venue."""

    order: Order
    reason: str


OmsEvent = OrderUpdated | FillApplied | UnknownOrder | IllegalTransition | FillGap | NeedsQuery


class _Market:
    """One (venue, symbol)'s open-order indexes, made once: its book (client_id -> Order)
    and, per side, the open-lots key and the own-price counts, the same objects that
    `OMS.open_by_vs`, `OMS.open_lots` and `OMS.open_prices` hold. `create` hands them to
    the order, so neither it nor the order's close builds or hashes a key tuple of its own."""

    __slots__ = ("book", "buy_key", "buy_prices", "sell_key", "sell_prices")

    def __init__(self, book: dict[str, Order], buy_key: tuple[str, str, int],
                 buy_prices: dict[int, int], sell_key: tuple[str, str, int],
                 sell_prices: dict[int, int]) -> None:
        self.book = book
        self.buy_key = buy_key
        self.buy_prices = buy_prices
        self.sell_key = sell_key
        self.sell_prices = sell_prices


class OMS:
    """All orders of this engine run. `id_factories` maps venue -> `ClientIdFactory`.

    `retain_terminal` bounds memory: the oldest terminal orders beyond it are forgotten (late
    reports for them then come back as `UnknownOrder`); `retain_trade_ids` bounds the
    duplicate-fill memory the same way.

    Hot path (create, ack, fill): each order carries its own open-book dict, open-lots key
    and own-price counts (one `_Market` per venue and symbol hands them out), so neither
    creating nor closing it builds a tuple; the per-order counters are plain attributes
    (`counters` assembles the dict on demand); the common transitions use the per-event
    tables, and the events they return are built by slot stores, without a call."""

    def __init__(self, id_factories: dict[str, ClientIdFactory], retain_terminal: int = 100_000,
                 retain_trade_ids: int = 1_000_000) -> None:
        log_hot_path()   # the engine makes its OMS at start: say which order path runs
        self.ids = id_factories
        self._next_id = {v: f.next_id for v, f in id_factories.items()}
        self.orders: dict[str, Order] = {}
        # open orders per (venue, symbol): client_id -> Order (insertion = creation order)
        self.open_by_vs: dict[tuple[str, str], dict[str, Order]] = {}
        self._markets: dict[str, dict[str, _Market]] = {}   # venue -> symbol -> indexes
        # remaining lots of open orders per (venue, symbol, side) for worst-case risk
        self.open_lots: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.open_count: defaultdict[str, int] = defaultdict(int)
        # price -> number of open orders there, per (venue, symbol, side): the RMS's
        # self-trade check reads our best own bid/ask from it in O(distinct prices), not by
        # scanning every open order (a market can hold thousands)
        self.open_prices: dict[tuple[str, str, int], dict[int, int]] = {}
        self._terminal: deque[str] = deque()
        self._retain_terminal = retain_terminal
        # seen trade keys in two generations: a full young set becomes the old one and the
        # old one is dropped, so memory is bounded with O(1) work per fill
        self._trades_young: set[tuple[str, str, str, int]] = set()
        self._trades_old: set[tuple[str, str, str, int]] = set()
        self._trades_gen = max(1, retain_trade_ids // 2)
        self.n_created = self.n_reports = self.n_fills = 0   # the hot counters
        self._counters: dict[str, int] = {
            "duplicate_fills": 0, "unknown_reports": 0,
            "unknown_fills": 0, "illegal_transitions": 0, "fill_before_ack": 0,
            "fill_after_cancel_request": 0, "late_fills": 0, "overfills": 0, "fill_gaps": 0,
            "cancel_requests": 0, "cancel_rejects": 0, "rejects": 0, "local_rejects": 0,
            "timeouts": 0, "unknown_outcomes": 0, "status_reports": 0, "cancels_lost": 0,
            "purged": 0, "late_acks": 0,
        }
        # an illegal transition is a real inconsistency between the venue's word and ours:
        # always counted, and logged so it can be traced to the report that caused it
        self._illegal_log = RateLimitedLog(log, per_s=5.0)

    @property
    def counters(self) -> dict[str, int]:
        """Every counter by name (a fresh dict: read it, do not write it)."""
        return {"created": self.n_created, "reports": self.n_reports, "fills": self.n_fills,
                **self._counters}

    def _market(self, venue: str, symbol: str) -> _Market:
        by_sym = self._markets.get(venue)
        if by_sym is None:
            by_sym = self._markets[venue] = {}
        keys = [(venue, symbol, side) for side in (_BUY, _SELL)]
        prices = [self.open_prices.setdefault(k, {}) for k in keys]
        m = by_sym[symbol] = _Market(self.open_by_vs.setdefault((venue, symbol), {}),
                                     keys[0], prices[0], keys[1], prices[1])
        return m

    # -- outgoing ------------------------------------------------------------------------------
    def create(self, venue: str, symbol: str, side: Side, price_ticks: int, lots: int,
               tif: TimeInForce, now_ns: int, ts_tick_recv: int = 0,
               order_type: OrderType = _LIMIT, layer: int = 0) -> NewOrder:
        """Register a new order (PENDING_NEW) and return the message for the gateway."""
        cid = self._next_id[venue]()
        try:
            m = self._markets[venue][symbol]
        except KeyError:
            m = self._market(venue, symbol)
        if side > 0:
            key = m.buy_key
            px = m.buy_prices
        else:
            key = m.sell_key
            px = m.sell_prices
        book = m.book
        # Order(...) with its fields stored here: no type call per order. The same values
        # as Order.__init__ (tests/unit/engine/test_oms.py checks every slot against it).
        o = _new(PureOrder)
        o.client_id = cid
        o.venue_order_id = ""
        o.venue = venue
        o.symbol = symbol
        o.side = side
        o.price_ticks = price_ticks
        o.lots = lots
        o.filled_lots = 0
        o.filled_notional = 0
        o.status = _PENDING_NEW
        o.tif = tif
        o.order_type = order_type
        o.ts_created = now_ns
        o.ts_sent = 0
        o.ts_acked = 0
        o.ts_tick_recv = ts_tick_recv
        o.ts_updated = now_ns
        o.ts_cancel_requested = 0
        o.ts_pending = now_ns
        o.reject_reason = _NO_REASON
        o.queries = 0
        o.layer = layer
        o.book = book
        o.lots_key = key
        o.prices = px
        self.orders[cid] = o
        book[cid] = o
        self.open_lots[key] += lots
        px[price_ticks] = px.get(price_ticks, 0) + 1
        self.open_count[venue] += 1
        self.n_created += 1
        return build_new_order(cid, venue, symbol, side, price_ticks, lots, order_type, tif,
                               ts_tick_recv, now_ns)

    def mark_sent(self, client_id: str, ts_sent: int) -> None:
        o = self.orders.get(client_id)
        if o is not None:
            o.ts_sent = ts_sent

    def reject_local(self, client_id: str, now_ns: int,
                     reason: RejectReason = RejectReason.RISK) -> Order | None:
        """An order created but never sent (RMS denial, queue full): REJECTED locally."""
        o = self.orders.get(client_id)
        if o is None or o.status is not S.PENDING_NEW:
            return None
        o.reject_reason = reason
        self._transition(o, E.REJECTED, None, now_ns)
        self._counters["local_rejects"] += 1
        return o

    def request_cancel(self, client_id: str, now_ns: int) -> CancelOrder | None:
        """PENDING_CANCEL and the message to send; None if unknown or already terminal.
        Asking again while a cancel is in flight re-sends it (venues treat it idempotently)."""
        o = self.orders.get(client_id)
        if o is None or o.status in _TERMINAL:
            return None
        self._request_cancel(o, now_ns)
        return CancelOrder(client_id, o.venue, o.symbol, o.venue_order_id, now_ns)

    def request_cancel_all(self, venue: str, now_ns: int, symbol: str = "",
                           reason: str = "") -> CancelAll:
        """Mark every open order on `venue` (one symbol, or all) PENDING_CANCEL and return the
        venue-wide cancel for the gateway."""
        for (v, s), book in self.open_by_vs.items():
            if v == venue and (not symbol or s == symbol):
                for o in list(book.values()):
                    self._request_cancel(o, now_ns)
        return CancelAll(venue, symbol, reason)

    def _request_cancel(self, o: Order, now_ns: int) -> None:
        self._counters["cancel_requests"] += 1
        if o.status is not _PENDING_CANCEL:
            o.ts_cancel_requested = now_ns
        o.ts_pending = now_ns
        self._transition(o, E.CANCEL_REQUEST, None, now_ns)

    # -- incoming ------------------------------------------------------------------------------
    def on_report(self, r: ExecReport) -> list[OmsEvent]:
        """Apply one execution report; return what happened, in order."""
        self.n_reports += 1
        o = self.orders.get(r.client_id)
        if o is None:
            return self._on_unknown(r)
        if not o.venue_order_id and r.venue_order_id:
            o.venue_order_id = r.venue_order_id
        et = r.exec_type
        if et is _ET_TRADE:   # a fill: the commonest report (handled here, one call less)
            lots = r.last_lots
            if lots <= 0:
                return self._on_status(o, r)
            if r.trade_id:
                # _first_trade, inlined: this runs once per fill
                key = (r.venue, r.symbol, r.trade_id, r.side > 0)
                young = self._trades_young
                if key in young or key in self._trades_old:
                    self._counters["duplicate_fills"] += 1
                    return []
                young.add(key)
                if len(young) >= self._trades_gen:
                    self._trades_old = young
                    self._trades_young = set()
            elif r.filled_lots and r.filled_lots <= o.filled_lots:
                # no trade id on this venue path: the cumulative size is the dedupe key
                self._counters["duplicate_fills"] += 1
                return []
            st = o.status
            if st is not _NEW and st is not _PARTIALLY_FILLED:
                c = self._counters
                if st is _PENDING_NEW:
                    c["fill_before_ack"] += 1
                elif st is _PENDING_CANCEL:
                    c["fill_after_cancel_request"] += 1
                else:
                    c["late_fills"] += 1
            self.n_fills += 1
            before = o.filled_lots
            o.filled_lots = filled = before + lots
            price = r.last_price_ticks
            o.filled_notional += price * lots
            total = o.lots
            if filled > total:
                self._counters["overfills"] += 1
            if st in _OPEN:  # a terminal order's lots already left the open book
                rem = total - before
                if rem > 0:
                    self.open_lots[o.lots_key] -= min(lots, rem)
            # FillApplied(...) with its fields stored here: one call frame less per fill
            fill = _new(FillApplied)
            fill.venue = o.venue
            fill.symbol = o.symbol
            fill.client_id = o.client_id
            fill.side = o.side
            fill.price_ticks = price
            fill.lots = lots
            fill.fee = r.fee
            fill.fee_asset = r.fee_asset
            fill.trade_id = r.trade_id
            fill.is_maker = r.is_maker
            fill.ts_event = r.ts_event
            fill.ts_recv = ts = r.ts_recv
            fill.order = o
            if filled >= total or r.status is _FILLED:
                new = _FILL_NEXT.get(st)
                if new is None or not ts or new is st or filled < total:
                    out = self._transition(o, _E_FILL, r, ts)   # the general path
                    if filled < total:
                        self._counters["fill_gaps"] += 1
                        out.append(FillGap(o, total - filled))
                    out.insert(0, fill)
                    return out
                # a working order filled in full: FILLED and out of the open book (`_close`,
                # inlined; nothing remains open, so its open lots are already settled above).
                # Its price leaves the own-price index too: left there, the RMS self-trade
                # check would keep seeing a bid/ask we no longer have.
                o.ts_updated = ts
                o.status = new
                if o.book.pop(o.client_id, None) is not None:
                    px = o.prices
                    if px is not None:
                        own = o.price_ticks
                        n = px.get(own, 0) - 1
                        if n > 0:
                            px[own] = n
                        else:
                            px.pop(own, None)
                self.open_count[o.venue] -= 1
                t = self._terminal
                t.append(o.client_id)
                if len(t) > self._retain_terminal:
                    self.orders.pop(t.popleft(), None)
                    self._counters["purged"] += 1
                u = _new(OrderUpdated)   # OrderUpdated(o, st, new, r), stored here
                u.order = o
                u.old = st
                u.new = new
                u.report = r
                return [fill, u]
            out = self._transition(o, _E_PARTIAL, r, ts)
            out.insert(0, fill)
            return out
        if et is _ET_NEW:  # the ack
            if not o.ts_acked:
                o.ts_acked = r.ts_recv or r.ts_event
                if r.ts_sent and not o.ts_sent:
                    o.ts_sent = r.ts_sent
            old = o.status
            new = _ACK_NEXT.get(old)
            if new is None or (new is _NEW and o.filled_lots) or r.ts_recv == 0:
                if old in _LATE_ACK_STATES:
                    return self._late_ack(o, r)
                return self._transition(o, _E_ACK, r, r.ts_recv)   # the general path
            if new is old:
                if old is _FILLED:
                    return self._late_ack(o, r)
                o.ts_updated = r.ts_recv
                return []
            o.ts_updated = r.ts_recv
            o.status = new
            u = _new(OrderUpdated)   # OrderUpdated(o, old, new, r), stored here
            u.order = o
            u.old = old
            u.new = new
            u.report = r
            return [u]
        if et is _ET_STATUS:
            return self._on_status(o, r)
        ev = _EXEC_EVENT[et]
        c = self._counters
        if ev is _E_REJECTED:
            o.reject_reason = r.reason
            c["rejects"] += 1
        elif ev is _E_CANCEL_REJECT:
            c["cancel_rejects"] += 1
            if o.status is _PENDING_CANCEL and r.reason in _CANCEL_REJECT_UNKNOWN:
                # gone at the venue but we saw neither its last fill nor its cancel: ask
                c["unknown_outcomes"] += 1
                o.queries += 1
                return [NeedsQuery(o, "cancel rejected: order unknown at venue")]
        return self._transition(o, ev, r, r.ts_recv)

    def _late_ack(self, o: Order, r: ExecReport) -> list[OmsEvent]:
        """An ack for an order that already ended (`_LATE_ACK_STATES`). A venue acks an order
        before it fills, cancels or expires it, so this ack predates the end already applied;
        it arrives last because it came on another channel. Seen on Gate: the WS API answer
        to a post-only place that would cross already says `finish_as: "poc"` (EXPIRED), and
        the `spot.orders` `put` push (NEW) and `finish` push (EXPIRED) follow it. Nothing
        about the order changes, so it is counted as `late_acks`, not as illegal.

        The exception: an order closed EXPIRED with UNKNOWN_ORDER is one the venue said it
        did not know (the gateway's status query found nothing), i.e. our conclusion that it
        never arrived. An ack now says it did, and may still be working at the venue: that
        is a real inconsistency, so it stays illegal (counted and logged)."""
        if o.status is _EXPIRED and o.reject_reason is _UNKNOWN_ORDER:
            return self._transition(o, _E_ACK, r, r.ts_recv)
        self._counters["late_acks"] += 1
        return []

    def _on_unknown(self, r: ExecReport) -> list[OmsEvent]:
        c = self._counters
        c["unknown_reports"] += 1
        out: list[OmsEvent] = [UnknownOrder(r)]
        if r.exec_type is _ET_TRADE and r.last_lots > 0 and self._first_trade(r):
            c["unknown_fills"] += 1
            out.append(FillApplied(r.venue, r.symbol, r.client_id, r.side, r.last_price_ticks,
                                   r.last_lots, r.fee, r.fee_asset, r.trade_id, r.is_maker,
                                   r.ts_event, r.ts_recv, None))
        return out

    def _on_status(self, o: Order, r: ExecReport) -> list[OmsEvent]:
        """The venue's answer to a query (or a fill-less trade report): its state wins."""
        c = self._counters
        c["status_reports"] += 1
        ev = _STATUS_EVENT.get(r.status)
        out: list[OmsEvent] = []
        if ev is E.ACK and o.status is S.PENDING_CANCEL:
            # still working at the venue long after our cancel: the cancel was lost; back to
            # work so the engine cancels again if it still wants it gone
            c["cancels_lost"] += 1
            ev = E.CANCEL_REJECT
        if ev is not None:
            out = self._transition(o, ev, r, r.ts_recv)
        if r.filled_lots > o.filled_lots:
            c["fill_gaps"] += 1
            out.append(FillGap(o, r.filled_lots - o.filled_lots))
        return out

    def _transition(self, o: Order, ev: OrderEvent, r: ExecReport | None,
                    now_ns: int) -> list[OmsEvent]:
        old = o.status
        new = _NEXT[ev].get(old)
        if new is None:
            self._counters["illegal_transitions"] += 1
            if r is None:
                self._illegal_log.warning("OMS %s %s: illegal %s in state %s (local): state "
                                          "kept", o.venue, o.client_id, ev.name, old.name)
            else:
                self._illegal_log.warning(
                    "OMS %s %s: illegal %s in state %s from a %s report (venue status %s, "
                    "filled %d, reason %s %s): state kept", o.venue, o.client_id, ev.name,
                    old.name, r.exec_type.name, r.status.name, r.filled_lots, r.reason.name,
                    r.reason_text)
            return [IllegalTransition(o, old, ev, r)]
        if new is _NEW and o.filled_lots:
            new = _PARTIALLY_FILLED
        if now_ns:
            o.ts_updated = now_ns
        if new is old:
            return []
        o.status = new
        if new in _TERMINAL:
            if new is _EXPIRED and r is not None:
                # kept so a later ack can tell a venue-reported expiry (post-only would
                # cross, IOC remainder) from "the venue did not know it" (UNKNOWN_ORDER)
                o.reject_reason = r.reason
            self._close(o)
        return [] if r is None else [OrderUpdated(o, old, new, r)]

    def _close(self, o: Order) -> None:
        book = o.book
        px = o.prices
        if book is _EMPTY:   # an order that never went through `create` (tests)
            book = self.open_by_vs.get((o.venue, o.symbol), _EMPTY)
            px = self.open_prices.get(o.lots_key)
        if book.pop(o.client_id, None) is not None:
            if px is not None:
                n = px.get(o.price_ticks, 0) - 1
                if n > 0:
                    px[o.price_ticks] = n
                else:
                    px.pop(o.price_ticks, None)
        rem = o.lots - o.filled_lots
        if rem > 0:
            self.open_lots[o.lots_key] -= rem
        self.open_count[o.venue] -= 1
        t = self._terminal
        t.append(o.client_id)
        if len(t) > self._retain_terminal:
            self.orders.pop(t.popleft(), None)
            self._counters["purged"] += 1

    def _first_trade(self, r: ExecReport) -> bool:
        """A venue trade id names one trade: at most one buy fill and one sell fill of ours
        (both, in a self-trade). The key is the side, not the client id: a trade replayed by
        reconciliation may not carry the client id (Binance myTrades names the order by its
        venue id only), and must still be recognised as the fill already applied. The side
        enters as `side > 0` (a bool, as in `on_report`'s inlined copy): an atomic key part, so
        the collector stops tracking the key tuple after one pass, as with `int(side)`."""
        key = (r.venue, r.symbol, r.trade_id, r.side > 0)
        young = self._trades_young
        if key in young or key in self._trades_old:
            return False
        young.add(key)
        if len(young) >= self._trades_gen:
            self._trades_old = young
            self._trades_young = set()
        return True

    # -- timers and reconciliation ---------------------------------------------------------------
    def in_flight_timeouts(self, now_ns: int, timeout_ns: int) -> list[str]:
        """Orders stuck PENDING_NEW / PENDING_CANCEL for `timeout_ns`: the engine queries the
        venue for each (the answer is a STATUS report). Each order is reported again only
        after another full timeout, so a slow venue is not flooded with queries."""
        out = []
        for book in self.open_by_vs.values():
            for o in book.values():
                if o.status in _PENDING and now_ns - o.ts_pending >= timeout_ns:
                    o.ts_pending = now_ns
                    o.queries += 1
                    out.append(o.client_id)
        self._counters["timeouts"] += len(out)
        return out

    def mark_unknown_outcome(self, client_id: str, now_ns: int) -> Order | None:
        """The gateway could not tell whether a send reached the venue (socket died mid-send):
        keep the order open and pending, and due for a query at the next timeout check."""
        o = self.orders.get(client_id)
        if o is None or o.status in _TERMINAL:
            return None
        self._counters["unknown_outcomes"] += 1
        o.ts_pending = now_ns - (1 << 62)  # overdue at once
        return o

    # -- views ---------------------------------------------------------------------------------
    def get(self, client_id: str) -> Order | None:
        return self.orders.get(client_id)

    def open_orders(self, venue: str | None = None, symbol: str | None = None) -> list[Order]:
        out: list[Order] = []
        for (v, s), book in self.open_by_vs.items():
            if (venue is None or v == venue) and (symbol is None or s == symbol):
                out.extend(book.values())
        return out

    def open_book(self, venue: str, symbol: str) -> dict[str, Order]:
        """Live dict of the open orders on (venue, symbol); read-only for callers."""
        return self.open_by_vs.get((venue, symbol), _EMPTY)

    def best_own_price(self, venue: str, symbol: str, side: Side) -> int | None:
        """Our highest open bid (side BUY) or lowest open ask (side SELL), in ticks."""
        px = self.open_prices.get((venue, symbol, side))
        if not px:
            return None
        return max(px) if side > 0 else min(px)

    def open_lots_of(self, venue: str, symbol: str, side: Side) -> int:
        return self.open_lots.get((venue, symbol, side), 0)

    def n_open(self, venue: str | None = None) -> int:
        if venue is None:
            return sum(self.open_count.values())
        return self.open_count.get(venue, 0)



# -- the compiled order path -------------------------------------------------------------------
# `engine/_oms_fast.pyx` (Cython, optional: setup.py COMPILED) holds `Order` as a C struct and
# compiled ports of `OMS.create`, `OMS.on_report` and `OMS._market`; every other method is the
# pure code above, run on the compiled class's typed fields. `PureOMS` / `PureOrder` stay the
# pure-Python classes either way (the tests and bench/oms.py run both side by side). Setting
# HFT_PURE_PYTHON=1 in the environment keeps the pure path even when the extension is built.
PureOMS = OMS
HOT_PATH = "pure Python (engine._oms_fast not built)"
if pure_requested():
    HOT_PATH = f"pure Python ({PURE_ENV} set)"
elif find_spec("engine._oms_fast") is not None:
    try:
        from engine import _oms_fast  # type: ignore[attr-defined]  # (no stubs)
    except ImportError as e:  # a record layout it does not know: refused at its import
        HOT_PATH = f"pure Python (engine._oms_fast refused: {e})"
        log.warning("OMS: %s", HOT_PATH)
    else:
        Order = _oms_fast.Order  # type: ignore[misc]

        class OMS(_oms_fast.OmsCore, PureOMS):  # type: ignore[no-redef]
            __doc__ = PureOMS.__doc__

        HOT_PATH = "compiled (engine._oms_fast)"


def log_hot_path() -> str:
    """Log (once per process) and return which order path runs: the engine calls it at start."""
    return log_once(log, "OMS order path", HOT_PATH)
