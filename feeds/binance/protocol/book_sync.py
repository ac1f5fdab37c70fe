"""Binance's local order book recipe for one symbol, sans-I/O (EXCHANGES.md §1.3).

The binance feed owns one `BookSync` per symbol: it hands every `depthUpdate` diff to
`on_update`, fetches `GET /api/v3/depth` whenever `needs_snapshot` is set and hands the result
to `on_snapshot`. On `SequenceGap` it resyncs that symbol only (the state is already reset).

The documented rules, with `U`/`u` an event's first/last update id and `lastUpdateId` the
snapshot's id:
1. Until a snapshot is in, diffs are buffered.
2. A snapshot with `lastUpdateId` < the first buffered `U` is too old: fetch again.
3. Buffered diffs with `u <= lastUpdateId` are dropped; the first remaining one must have
   `lastUpdateId` within `[U; u]` — otherwise the snapshot is again too old (the buffer is kept
   and the next snapshot decides).
4. Book := snapshot, local id := `lastUpdateId`; then every buffered and live diff:
   `u` older than the book is ignored ("stale"), `U > local + 1` is a gap, otherwise every
   level is set to its absolute quantity (0 deletes) and local id := `u`.
A book that is crossed after applying is treated as a gap too. A diff whose `u` equals the
local id is also "stale": it holds nothing the book lacks (absolute quantities), so ignoring
it and re-applying it give the same book.

Partial-depth frames (`@depth<N>`, `DepthUpdate.is_snapshot`) share the REST id line and are
taken as (top-N) snapshots when newer than the book.
"""
from __future__ import annotations

from collections import deque

from feeds.book import L2Book
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate

from ._wire import VENUE

APPLIED = "applied"
BUFFERED = "buffered"
STALE = "stale"
SYNCED = "synced"


class BookSync:
    """Snapshot + diff sequencer over `L2Book` for one Binance symbol."""

    __slots__ = (
        "_buffer",
        "book",
        "gaps",
        "max_buffer",
        "snapshots_too_old",
        "synced",
        "venue_symbol",
    )

    def __init__(self, venue_symbol: str, max_buffer: int = 10_000) -> None:
        self.venue_symbol = venue_symbol
        self.book = L2Book(venue_symbol)
        # Bounded: dropping the oldest diffs is safe — rule 2 then calls any snapshot older
        # than the oldest kept diff "too old" instead of applying a broken chain.
        self._buffer: deque[DepthUpdate] = deque(maxlen=max_buffer)
        self.max_buffer = max_buffer
        self.synced = False
        self.snapshots_too_old = 0
        self.gaps = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def needs_snapshot(self) -> bool:
        """True until a usable snapshot has been applied (and again after every gap)."""
        return not self.synced

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def local_id(self) -> int:
        return self.book.last_id

    def reset(self) -> None:
        self.book.clear()
        self._buffer.clear()
        self.synced = False

    # -- input ---------------------------------------------------------------------------------
    def on_update(self, upd: DepthUpdate) -> str:
        """One diff -> "applied" | "buffered" | "stale"; raises SequenceGap on a break."""
        if upd.is_snapshot:
            return self._on_partial(upd)
        if upd.first_id > upd.last_id:  # an impossible range cannot chain onto anything
            self._gap(self.book.last_id + 1, upd.first_id)
        if not self.synced:
            self._buffer.append(upd)
            return BUFFERED
        return self._apply(upd)

    def on_snapshot(self, snap: BookSnapshot) -> str:
        """A REST snapshot -> "synced" (book live) or "stale" (too old, or not newer than a live
        book; `needs_snapshot` says whether to fetch again). Raises SequenceGap when the
        buffered diffs break their chain or leave a crossed book."""
        last = snap.last_id
        if self.synced:
            if last <= self.book.last_id:
                return STALE
            self._buffer.clear()
            self._install(snap)
            return SYNCED
        buf = self._buffer
        if buf and last < buf[0].first_id:  # rule 2
            self.snapshots_too_old += 1
            return STALE
        while buf and buf[0].last_id <= last:  # rule 3: drop what the snapshot already holds
            buf.popleft()
        if buf and not buf[0].first_id <= last <= buf[0].last_id:
            self.snapshots_too_old += 1
            return STALE
        self._install(snap)
        pending = list(buf)
        buf.clear()
        for upd in pending:
            self._apply(upd)
        return SYNCED

    # -- internals -----------------------------------------------------------------------------
    def _install(self, snap: BookSnapshot) -> None:
        self.book.replace(snap.bids, snap.asks, snap.last_id)
        self.book.ts_event = snap.ts_event
        self.synced = True
        if self.book.is_crossed():
            self._gap(snap.last_id, snap.last_id)

    def _apply(self, upd: DepthUpdate) -> str:
        local = self.book.last_id
        if upd.last_id <= local:
            return STALE
        if upd.first_id > local + 1:
            self._gap(local + 1, upd.first_id)
        self.book.apply(upd.bids, upd.asks)
        self.book.last_id = upd.last_id
        self.book.ts_event = upd.ts_event
        if self.book.is_crossed():
            self._gap(upd.last_id + 1, upd.last_id)
        return APPLIED

    def _on_partial(self, upd: DepthUpdate) -> str:
        snap = BookSnapshot(upd.venue_symbol, upd.bids, upd.asks, upd.last_id, upd.ts_event)
        return APPLIED if self.on_snapshot(snap) == SYNCED else STALE

    def _gap(self, expected: int, got: int) -> None:
        self.gaps += 1
        self.reset()
        raise SequenceGap(VENUE, self.venue_symbol, expected, got)
