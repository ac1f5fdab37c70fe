"""The strategy interface: what the engine feeds a strategy and what it asks back.

The engine's loop (engine/main.py) owns all I/O. It turns shared-memory book slots into
`BookView`s, ring trades into `on_trade`, OMS fills and portfolio positions into `on_fill` /
`on_position`, gateway status into `on_gateway`, and then asks `desired_quotes(now_ns)` for
the resting orders the strategy wants on every (venue, symbol). It diffs those against the
live orders (`engine.strategy.quotes.diff_quotes`) and sends only the changes through RMS and
OMS. A new strategy implements `Strategy` and nothing in the engine changes.

Strategies are pure: no clock, no I/O; time is the int-nanosecond `now_ns` argument. Prices
and sizes the strategy *reads* are float64 market data; what it *asks for* is exact integer
ticks and lots of the venue's `Instrument`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.model import Side, TimeInForce

VenueSymbol = tuple[str, str]  # (venue, internal BASE/QUOTE symbol)
_POST_ONLY = TimeInForce.POST_ONLY
_F64 = np.dtype(np.float64)

@dataclass(frozen=True, slots=True)
class BookView:
    """One venue's top-N book as the strategy sees it.

    Arrays are best first (bids descending, asks ascending) and must not be mutated after
    construction: the strategy keeps the view until the next one replaces it. `synced` is
    False while the feed resyncs the book (or it is crossed or one side is empty); `ts_ns` is
    when we last received an update for it (`ts_recv`), used for the staleness check.
    """

    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray
    synced: bool
    ts_ns: int

    @property
    def best_bid(self) -> float:
        return float(self.bid_px[0]) if len(self.bid_px) else 0.0

    @property
    def best_ask(self) -> float:
        return float(self.ask_px[0]) if len(self.ask_px) else 0.0

    @property
    def best_bid_size(self) -> float:
        return float(self.bid_sz[0]) if len(self.bid_sz) else 0.0

    @property
    def best_ask_size(self) -> float:
        return float(self.ask_sz[0]) if len(self.ask_sz) else 0.0

    @property
    def two_sided(self) -> bool:
        return len(self.bid_px) > 0 and len(self.ask_px) > 0

    @classmethod
    def from_levels(cls, bids: Any, asks: Any, synced: bool, ts_ns: int) -> BookView:
        """From (k, 2) [price, size] levels, best first (arrays or sequences of pairs)."""
        b = np.asarray(bids, dtype=np.float64).reshape(-1, 2)
        a = np.asarray(asks, dtype=np.float64).reshape(-1, 2)
        return cls(np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1]),
                   np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1]),
                   synced and len(b) > 0 and len(a) > 0, int(ts_ns))

    @classmethod
    def from_slot(cls, slot: Any) -> BookView:
        """From a `shm.book.BookView` copy read out of a book slot (status must be ok).

        The slot copy is already float64 (k, 2) and owned by the caller, so its columns are
        taken as views: no conversion or copy on the engine's per-update path."""
        b, a = slot.bids, slot.asks
        if type(b) is np.ndarray and type(a) is np.ndarray and b.ndim == 2 and \
                a.ndim == 2 and b.dtype == _F64 and a.dtype == _F64:
            return make_book_view(b[:, 0], b[:, 1], a[:, 0], a[:, 1],
                                  bool(slot.ok) and len(b) > 0 and len(a) > 0,
                                  int(slot.ts_recv))
        return cls.from_levels(b, a, bool(slot.ok), int(slot.ts_recv))


@dataclass(frozen=True, slots=True)
class Quote:
    """One resting order the strategy wants: exact ticks and lots. `layer` 0 is nearest the
    fair value; the (side, layer) pair identifies the quote when diffing against live orders."""

    side: Side
    price_ticks: int
    lots: int
    layer: int


@dataclass(frozen=True, slots=True)
class QuoteSet:
    """All quotes wanted on one (venue, symbol), best first per side.

    An empty set means "pull everything here". `max_bid_ticks` / `min_ask_ticks` are the
    most aggressive prices that would not cross the venue's book when the set was built
    (best ask - 1 tick, best bid + 1 tick; 0 when unknown): `diff_quotes` pulls a live order
    beyond them even if it is otherwise close enough to keep. Orders are post-only.
    """

    bids: tuple[Quote, ...] = ()
    asks: tuple[Quote, ...] = ()
    max_bid_ticks: int = 0
    min_ask_ticks: int = 0
    tif: TimeInForce = field(default=TimeInForce.POST_ONLY)

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return self.bids + self.asks

    @property
    def empty(self) -> bool:
        return not self.bids and not self.asks


EMPTY_QUOTES = QuoteSet()


def frozen_twin(cls: type) -> type:
    """A mutable class with `cls`'s exact slot layout, for `build_frozen`-style builders.

    Frozen slotted dataclasses are built through `object.__setattr__` per field (~0.15 us
    each on 3.11); the per-tick path builds many (quotes, quote sets, book views). Filling a
    twin with plain attribute stores and switching its `__class__` gives the same frozen
    object at a fraction of the cost (CPython allows the switch between identical layouts)."""
    return type(f"_{cls.__name__}Draft", (), {"__slots__": cls.__slots__})  # type: ignore


_new = object.__new__
_QuoteDraft = frozen_twin(Quote)
_QuoteSetDraft = frozen_twin(QuoteSet)
_BookViewDraft = frozen_twin(BookView)


def make_quote(side: Side, price_ticks: int, lots: int, layer: int) -> Quote:
    """`Quote(side, price_ticks, lots, layer)`, built fast (see `frozen_twin`)."""
    q: Any = _new(_QuoteDraft)
    q.side = side
    q.price_ticks = price_ticks
    q.lots = lots
    q.layer = layer
    q.__class__ = Quote
    return q  # type: ignore[no-any-return]


def make_quote_set(bids: tuple[Quote, ...], asks: tuple[Quote, ...], max_bid_ticks: int,
                   min_ask_ticks: int) -> QuoteSet:
    """`QuoteSet(bids, asks, max_bid_ticks, min_ask_ticks)` (post-only), built fast."""
    q: Any = _new(_QuoteSetDraft)
    q.bids = bids
    q.asks = asks
    q.max_bid_ticks = max_bid_ticks
    q.min_ask_ticks = min_ask_ticks
    q.tif = _POST_ONLY
    q.__class__ = QuoteSet
    return q  # type: ignore[no-any-return]


def make_book_view(bid_px: np.ndarray, bid_sz: np.ndarray, ask_px: np.ndarray,
                   ask_sz: np.ndarray, synced: bool, ts_ns: int) -> BookView:
    """`BookView(...)`, built fast: one per book update on the engine's tick path."""
    b: Any = _new(_BookViewDraft)
    b.bid_px = bid_px
    b.bid_sz = bid_sz
    b.ask_px = ask_px
    b.ask_sz = ask_sz
    b.synced = synced
    b.ts_ns = ts_ns
    b.__class__ = BookView
    return b  # type: ignore[no-any-return]


class Strategy(ABC):
    """What the engine calls. Event hooks update state; `desired_quotes` reads it.

    Positions are in lots of the venue's instrument. `on_fill` applies one of our fills to the
    strategy's own position; `on_position` sets it outright (start-up, reconciliation) — the
    engine reports a given fill through one or the other, never both.
    """

    @abstractmethod
    def on_book(self, venue: str, symbol: str, book: BookView, now_ns: int) -> None:
        """The venue's book for `symbol` changed (or its sync status did)."""

    @abstractmethod
    def on_trade(self, venue: str, symbol: str, price: float, size: float, side: Side,
                 now_ns: int) -> None:
        """A public trade; `side` is the aggressor's."""

    @abstractmethod
    def on_fill(self, venue: str, symbol: str, side: Side, price_ticks: int, lots: int,
                now_ns: int) -> None:
        """One of our orders filled `lots` at `price_ticks`."""

    @abstractmethod
    def on_position(self, venue: str, symbol: str, lots: int) -> None:
        """Authoritative position on `venue` in `symbol`, in lots (signed: long > 0)."""

    @abstractmethod
    def on_gateway(self, venue: str, up: bool) -> None:
        """The venue's order gateway went up (connected, reconciled) or down."""

    def on_timer(self, now_ns: int) -> None:
        """Periodic tick (refresh_interval_ms). Default: nothing; time-driven strategies
        override it. Staleness needs no timer: `desired_quotes` is given `now_ns`."""

    @abstractmethod
    def desired_quotes(self, now_ns: int) -> dict[VenueSymbol, QuoteSet]:
        """Every (venue, symbol) the strategy trades -> the quotes it wants resting now."""

    def desired_quotes_for(self, now_ns: int,
                           markets: Collection[VenueSymbol]) -> dict[VenueSymbol, QuoteSet]:
        """The engine's per-update call: quotes for `markets` (books that moved, markets
        whose orders changed) and any other market the strategy says needs them now; markets
        left out keep their orders until a later call or the engine's timer. Default: every
        market, filtered to `markets`; override to compute less."""
        return {k: q for k, q in self.desired_quotes(now_ns).items() if k in markets}
