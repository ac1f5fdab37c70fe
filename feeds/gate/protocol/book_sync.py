"""Gate's local order book recipe for one pair, sans-I/O (EXCHANGES.md §3.3).

The gate feed owns one `BookSync` per pair: it feeds every `spot.order_book_update` diff to
`on_update`, fetches `GET /spot/order_book?with_id=true` whenever `needs_snapshot` is set and
hands the result to `on_snapshot`. On `SequenceGap` it resyncs that pair only.

The rules, with `baseID` the snapshot `id` and `localID` the book's last applied `u`:
1. Before a snapshot, diffs are buffered.
2. On the snapshot, buffered diffs with `u < baseID + 1` are dropped. If the first remaining
   one has `U > baseID + 1` the snapshot is too old: fetch again (diffs stay buffered).
3. Then, and for every later diff: `u < localID + 1` is stale (dropped); `U > localID + 1` is a
   gap (resync); otherwise apply (absolute amounts, 0 deletes) and set `localID := u`.
A book that is crossed after applying is treated as a gap too.

`spot.order_book` top-N snapshots (`DepthUpdate.is_snapshot`) carry `lastUpdateId` on the
same id line as the REST `id`, so they are accepted as snapshots when newer than the book.
"""
from __future__ import annotations

from collections import deque

from feeds.book import L2Book
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate

from .constants import VENUE

APPLIED = "applied"
BUFFERED = "buffered"
STALE = "stale"
SYNCED = "synced"


class BookSync:
    """Snapshot + diff sequencer over `L2Book` for one Gate pair."""

    __slots__ = ("_buffer", "book", "max_buffer", "snapshots_too_old", "synced", "venue_symbol")

    def __init__(self, venue_symbol: str, max_buffer: int = 10_000) -> None:
        self.venue_symbol = venue_symbol
        self.book = L2Book(venue_symbol)
        # Bounded: dropping the oldest diffs is safe, a later snapshot is newer than them, and
        # if it is not, rule 2 detects it ("too old") instead of applying a broken chain.
        self._buffer: deque[DepthUpdate] = deque(maxlen=max_buffer)
        self.max_buffer = max_buffer
        self.synced = False
        self.snapshots_too_old = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def needs_snapshot(self) -> bool:
        """True until a usable snapshot has been applied (again after every gap)."""
        return not self.synced

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def reset(self) -> None:
        self.book.clear()
        self._buffer.clear()
        self.synced = False

    # -- input ---------------------------------------------------------------------------------
    def on_update(self, upd: DepthUpdate) -> str:
        """One diff -> "applied" | "buffered" | "stale"; raises SequenceGap on a break."""
        if upd.is_snapshot:
            return self._on_push_snapshot(upd)
        if upd.first_id > upd.last_id:
            self._gap(upd, self.book.last_id + 1, upd.first_id)
        if not self.synced:
            self._buffer.append(upd)
            return BUFFERED
        return self._apply(upd)

    def on_snapshot(self, snap: BookSnapshot) -> str:
        """A REST snapshot -> "synced" (book live) or "stale" (too old or older than the book:
        `needs_snapshot` says whether to fetch again). Raises SequenceGap if the buffered
        diffs do not chain onto it or it yields a crossed book."""
        base = snap.last_id
        if self.synced and base <= self.book.last_id:
            return STALE  # a late answer to an earlier request; the live book is newer
        while self._buffer and self._buffer[0].last_id < base + 1:
            self._buffer.popleft()
        if self._buffer and self._buffer[0].first_id > base + 1:
            # The diffs we hold start after the snapshot: it is too old. Keep them, ask again.
            self.book.clear()
            self.synced = False
            self.snapshots_too_old += 1
            return STALE
        self.book.replace(snap.bids, snap.asks, base)
        self.book.ts_event = snap.ts_event
        if self.book.is_crossed():
            self._gap_snapshot(base)
        self.synced = True
        pending = list(self._buffer)
        self._buffer.clear()
        for i, upd in enumerate(pending):
            try:
                self._apply(upd)
            except SequenceGap:
                self._buffer.extend(pending[i + 1:])  # still useful against the next snapshot
                raise
        return SYNCED

    # -- internals -----------------------------------------------------------------------------
    def _apply(self, upd: DepthUpdate) -> str:
        local = self.book.last_id
        if upd.last_id < local + 1:
            return STALE
        if upd.first_id > local + 1:
            self._gap(upd, local + 1, upd.first_id)
        self.book.apply(upd.bids, upd.asks)
        self.book.last_id = upd.last_id
        self.book.ts_event = upd.ts_event
        if self.book.is_crossed():
            self._gap(None, local + 1, upd.last_id)
        return APPLIED

    def _on_push_snapshot(self, upd: DepthUpdate) -> str:
        if self.synced and upd.last_id <= self.book.last_id:
            return STALE
        result = self.on_snapshot(BookSnapshot(upd.venue_symbol, upd.bids, upd.asks,
                                               upd.last_id, upd.ts_event))
        return APPLIED if result == SYNCED else STALE

    def _gap(self, keep: DepthUpdate | None, expected: int, got: int) -> None:
        """Drop the book; keep the breaking diff buffered as the start of the next chain."""
        self.reset()
        if keep is not None and keep.first_id <= keep.last_id:
            self._buffer.append(keep)
        raise SequenceGap(VENUE, self.venue_symbol, expected, got)

    def _gap_snapshot(self, base: int) -> None:
        self.reset()
        raise SequenceGap(VENUE, self.venue_symbol, base, base)
