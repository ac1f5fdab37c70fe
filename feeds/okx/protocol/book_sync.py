"""OKX's local order book rules for one instrument, sans-I/O (EXCHANGES.md §2.3).

The okx feed owns one `BookSync` per instId: it passes every `books` (or `books-l2-tbt`,
`books50-l2-tbt`) record to `on_update`, fetches `GET /api/v5/market/books` whenever
`needs_snapshot` is set and hands the result to `on_snapshot`. On `SequenceGap` it resyncs
that instrument only.

Rules (OKX's, with `local` the seqId of the last applied message):
* A WS snapshot (`prevSeqId` -1) replaces the book whenever it arrives; buffered updates that
  chain onto it are replayed.
* Without one (OKX is removing it), updates are buffered and the REST book bootstraps: buffered
  updates with `seqId <= snapshot seqId` are dropped; if the first kept one has
  `prevSeqId > snapshot seqId` the snapshot is too old ("stale": fetch again); the first kept
  update may straddle the snapshot (`prevSeqId <= snapshot < seqId`, the REST cache refreshes
  every 50 ms while `books` aggregates 100 ms), every later one must chain exactly.
* Chaining: `prevSeqId == local`. That one rule also covers the idle heartbeat
  (`prevSeqId == seqId`, no levels) and a maintenance reset (`seqId < prevSeqId`).
* An update wholly at or before `local` (`prevSeqId < seqId <= local`), or a repeat of the
  last applied message, is stale and dropped; anything else is a gap.
* A crossed book after applying, or a non-zero `checksum` that does not match the local
  top 25, is a gap as well.
"""
from __future__ import annotations

from collections import deque

from feeds.book import L2Book
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate

from .checksum import checksum_of_floats
from .constants import CHECKSUM_LEVELS, VENUE

APPLIED = "applied"
BUFFERED = "buffered"
STALE = "stale"
SYNCED = "synced"


class BookSync:
    """seqId/prevSeqId sequencer over `L2Book` for one OKX instrument."""

    __slots__ = ("_bridge", "_buffer", "_last_prev", "book", "checksum_failures",
                 "max_buffer", "snapshots_too_old", "synced", "venue_symbol", "verify_checksum")

    def __init__(self, venue_symbol: str, max_buffer: int = 10_000,
                 verify_checksum: bool = True) -> None:
        self.venue_symbol = venue_symbol
        self.book = L2Book(venue_symbol)
        # Bounded: losing the oldest buffered diffs is safe — a snapshot newer than them makes
        # them useless anyway, and an older one is detected as "too old", never mis-applied.
        self._buffer: deque[DepthUpdate] = deque(maxlen=max_buffer)
        self.max_buffer = max_buffer
        self.verify_checksum = verify_checksum
        self.synced = False
        self._bridge = False    # the next update may straddle a REST snapshot's seqId
        self._last_prev = -2    # prevSeqId of the last applied message (to spot repeats)
        self.snapshots_too_old = 0
        self.checksum_failures = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def needs_snapshot(self) -> bool:
        """True until a book is in sync (a WS snapshot, when OKX still sends one, also does)."""
        return not self.synced

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def last_seq_id(self) -> int:
        return self.book.last_id

    def reset(self) -> None:
        self.book.clear()
        self._buffer.clear()
        self.synced = False
        self._bridge = False
        self._last_prev = -2

    # -- input ---------------------------------------------------------------------------------
    def on_update(self, upd: DepthUpdate) -> str:
        """One `books` record -> "applied" | "buffered" | "stale"; SequenceGap on a break."""
        if upd.is_snapshot:
            return self._on_ws_snapshot(upd)
        if not self.synced:
            self._buffer.append(upd)
            return BUFFERED
        return self._apply(upd)

    def on_snapshot(self, snap: BookSnapshot) -> str:
        """A REST book -> "synced", or "stale" (too old for the buffered updates — fetch again —
        or older than the live book). SequenceGap if the buffered updates do not chain."""
        base = snap.last_id
        if self.synced and base <= self.book.last_id:
            return STALE  # a late answer to an earlier request; the live book is newer
        # (A newer REST book while in sync, e.g. a periodic refresh, is adopted.)
        while self._buffer and self._buffer[0].last_id <= base:
            self._buffer.popleft()
        if self._buffer and self._buffer[0].prev_id > base:
            self.book.clear()
            self.synced = False
            self.snapshots_too_old += 1
            return STALE
        self._load(snap.bids, snap.asks, base, snap.ts_event, bridge=True)
        self._replay()
        return SYNCED

    # -- internals -----------------------------------------------------------------------------
    def _load(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]], seq: int,
              ts_event: int, bridge: bool) -> None:
        self.book.replace(bids, asks, seq)
        self.book.ts_event = ts_event
        self.synced = True
        self._bridge = bridge
        self._last_prev = -1
        if self.book.is_crossed():
            self._gap(seq, seq)

    def _replay(self) -> None:
        pending = list(self._buffer)
        self._buffer.clear()
        for upd in pending:
            self._apply(upd)

    def _on_ws_snapshot(self, upd: DepthUpdate) -> str:
        self._load(upd.bids, upd.asks, upd.last_id, upd.ts_event, bridge=False)
        self._check_sum(upd)
        while self._buffer and self._buffer[0].last_id <= upd.last_id:
            self._buffer.popleft()
        self._replay()
        return APPLIED

    def _apply(self, upd: DepthUpdate) -> str:
        local = self.book.last_id
        prev, seq = upd.prev_id, upd.last_id
        chains = prev == local or (self._bridge and prev < local < seq)
        if not chains:
            if (prev < seq <= local) or (prev == self._last_prev and seq == local):
                return STALE
            self._gap(local, prev)
        self.book.apply(upd.bids, upd.asks)
        self.book.last_id = seq
        self.book.ts_event = upd.ts_event
        self._bridge = False
        self._last_prev = prev
        if self.book.is_crossed():
            self._gap(local, prev)
        self._check_sum(upd)
        return APPLIED

    def _check_sum(self, upd: DepthUpdate) -> None:
        if not self.verify_checksum or upd.checksum == 0:
            return  # production sends 0 since 2026-06-23: nothing to check
        got = checksum_of_floats(self.book.top_bids(CHECKSUM_LEVELS),
                                 self.book.top_asks(CHECKSUM_LEVELS))
        if got != upd.checksum:
            self.checksum_failures += 1
            self._gap(upd.checksum, got)

    def _gap(self, expected: int, got: int) -> None:
        self.reset()
        raise SequenceGap(VENUE, self.venue_symbol, expected, got)
