"""The feed's venue-agnostic middle: parsed records -> tick ring and book slots.

`feeds/runner.py` (asyncio) hands every frame here with its `ts_recv`; the venue adapter
parses it; this class keeps one book-sync state machine per symbol, publishes BBO and trade
events into the tick ring, writes the top-N levels into the symbol's book slot, and decides
which symbols need a REST snapshot. No sockets and no asyncio here, so the whole path from
frame to shared memory is unit-testable and replayable.

Integrity rules (the engine must never quote on a wrong book):
- a `SequenceGap` or a crossed book resyncs only that symbol: its slot goes BOOK_SYNCING, its
  sync state resets and it is queued for a snapshot;
- a symbol with no depth update for `stale_ns` goes BOOK_STALE and is resynced;
- a disconnect marks every symbol BOOK_SYNCING until it is rebuilt;
- a malformed frame, or a record with a value a ring field cannot hold (an id beyond int64),
  is counted (`parse_errors`) and dropped, logged rate-limited.

Hot path: best-bid/offer and trade frames, most of the traffic, are matched whole by the
venue's `parse_bbo_fast` / `parse_trade_fast` (`feeds/<venue>/protocol/market_fast.py`) and go
straight to the ring without a record object; every other frame, and any frame the fast paths
decline, takes the general path, and both publish byte-identical rows.

Whenever a symbol's top of book changes, a BBO row derived from the book is published too
(flags=FLAG_FROM_BOOK), so the engine wakes on depth-driven changes and not only on the
venue's own best-bid/offer stream.
"""
from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from feeds.adapter import BookSyncLike, FeedAdapter
from pipeline.errors import ProtocolError, SequenceGap
from pipeline.logging_setup import RateLimitedLog
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from shm.book import BOOK_CROSSED, BOOK_OK, BOOK_STALE, BOOK_SYNCING
from shm.layout import KIND_BBO, KIND_TRADE, VENUE_IDS

try:  # the compiled BBO hot path (feeds/_bbo_fast.pyx); optional: no compiler, pure Python
    from feeds import _bbo_fast  # type: ignore[attr-defined]  # (no stubs for the module)
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    _bbo_fast = None

log = logging.getLogger(__name__)

FLAG_FROM_BOOK = 1
_flat = chain.from_iterable
COUNTERS = ("messages", "bytes", "parse_errors", "gaps", "resyncs", "reconnects", "stale",
            "bbo", "trades", "depth", "unknown_symbol", "snapshots", "max_age_ms")


def _as_levels(levels: list[tuple[float, float]]) -> np.ndarray:
    """(price, size) pairs as the (k, 2) float64 array a book slot stores: `np.fromiter` over
    the flattened pairs costs about half of numpy's nested-sequence conversion, and the feed
    writes a slot after every applied depth update."""
    return np.fromiter(_flat(levels), np.float64, 2 * len(levels)).reshape(-1, 2)


@dataclass(slots=True)
class SymbolFeed:
    symbol_id: int
    venue_symbol: str
    sync: BookSyncLike
    last_depth_ns: int = 0        # ts_recv of the last applied depth update (0 = never)
    top: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    status: int = BOOK_SYNCING


@dataclass
class FeedCounters:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] += n


class FeedCore:
    def __init__(self, adapter: FeedAdapter, symbols: list[tuple[int, str]], ring: Any,
                 books: Any, depth: int = 20, stale_ns: int = 5_000_000_000,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.adapter = adapter
        self.venue = adapter.venue
        self.venue_id = VENUE_IDS[adapter.venue]
        self.ring = ring
        self.books = books
        self.depth = depth
        self.stale_ns = stale_ns
        self.clock = clock
        self.counters = FeedCounters()
        self.symbols: dict[str, SymbolFeed] = {
            vs: SymbolFeed(sid, vs, adapter.new_book_sync(vs)) for sid, vs in symbols}
        self.pending_snapshots: set[str] = set()
        self.replies: list[str] = []  # frames the driver must send back (pongs)
        self._log = RateLimitedLog(log, per_s=5.0)
        for s in self.symbols.values():
            books.set_status(s.symbol_id, BOOK_SYNCING)
        # `on_frame(data, ts_recv)`: one WebSocket frame in, records out to the ring/books;
        # replies owed (pongs) collect in `self.replies` for the caller
        self.bbo_path = "pure Python"  # which BBO hot path make_on_frame hands out (logged)
        self.on_frame: Callable[[str | bytes, int], None] = self.make_on_frame()
        log.info("%s: BBO hot path: %s", self.venue, self.bbo_path)

    # -- frames ------------------------------------------------------------------------------
    def make_on_frame(self, reply: Callable[[str], None] | None = None, compiled: bool = True
                      ) -> Callable[[str | bytes, int], None]:
        """A frame callback for one connection: `reply(frame)` gets the frames owed back to
        that connection (pongs) as soon as its frame is handled; without `reply` they collect
        in `self.replies`. The feed process gives each WebSocket client its own, so it needs no
        wrapper call per frame (`feeds.runner.frame_handler`).

        A closure: every name the per-frame path touches is a cell or a local, not an
        attribute lookup (the same trick as `RingWriter.publish`).

        Hot path: when the adapter has `parse_bbo_fast` / `parse_trade_fast` (whole-frame
        matches of the venue's best-bid/offer and trade shapes, see
        `feeds/<venue>/protocol/market_fast.py`) and the frame is one, its row goes straight
        into the ring — no record object, no dispatch. Any other frame (or one for a symbol we
        do not track) takes the general path: `adapter.parse` then `on_record`, where every
        integrity rule lives. Both publish identical rows.

        Compiled: when `feeds._bbo_fast` is built and the adapter declares its `bbo_shape`,
        the callback returned IS the compiled `BboFrameHandler`, which takes the BBO frames
        itself (same counters, same ring bytes) and hands every other frame to the closure
        below; `compiled=False` returns the closure alone (tests compare the two)."""
        c = self.counters.values
        parse = self.adapter.parse
        fast = getattr(self.adapter, "parse_bbo_fast", None)
        fast_trade = getattr(self.adapter, "parse_trade_fast", None)
        sid_of = {vs: s.symbol_id for vs, s in self.symbols.items()}  # fixed at construction
        ring = self.ring
        clock = self.clock
        venue_id = self.venue_id
        on_record = self.on_record
        dropped = self._dropped
        replies = self.replies  # appended to by on_record, never rebound

        def on_frame(data: str | bytes, ts_recv: int) -> None:
            c["messages"] += 1
            c["bytes"] += len(data)
            if fast is not None:
                row = fast(data)
                if row is not None:
                    sym, bid_px, bid_sz, ask_px, ask_sz, ts_event, update_id = row
                    sid = sid_of.get(sym)
                    if sid is not None:
                        c["bbo"] += 1
                        ring.publish((KIND_BBO, venue_id, 0, 0, sid, ts_event, ts_recv, clock(),
                                      bid_px, bid_sz, ask_px, ask_sz, 0.0, 0.0, update_id))
                        return
            if fast_trade is not None:
                trow = fast_trade(data)
                if trow is not None:
                    sym, price, size, side, ts_event, trade_id = trow
                    sid = sid_of.get(sym)
                    if sid is not None:
                        c["trades"] += 1
                        ring.publish((KIND_TRADE, venue_id, side, 0, sid, ts_event, ts_recv,
                                      clock(), 0.0, 0.0, 0.0, 0.0, price, size, trade_id))
                        return
            try:
                records = parse(data, ts_recv)
            except ProtocolError as exc:
                dropped(exc)
                return
            for rec in records:
                try:
                    on_record(rec, ts_recv)
                except (struct.error, OverflowError) as exc:
                    # a value the parser let through that a ring field cannot hold (an id
                    # or a time beyond int64): the record is dropped, never the process
                    dropped(exc)
            if replies and reply is not None:
                for r in replies:
                    reply(r)
                replies.clear()

        if not compiled or fast is None:
            return on_frame
        return self._compiled_bbo(on_frame, sid_of) or on_frame

    def _compiled_bbo(self, slow: Callable[[str | bytes, int], None], sid_of: dict[str, int]
                      ) -> Callable[[str | bytes, int], None] | None:
        """The compiled BBO path wrapped around `slow`, or None (and `bbo_path` says why) when
        it cannot stand in exactly: not built, no declared shape, or a ring that is not a
        real tick `RingWriter` (a test double)."""
        shape = getattr(self.adapter, "bbo_shape", None)
        if _bbo_fast is None:
            self.bbo_path = "pure Python (feeds._bbo_fast not built)"
            return None
        if shape is None:
            self.bbo_path = "pure Python (the adapter declares no bbo_shape)"
            return None
        try:
            handler: Callable[[str | bytes, int], None] = _bbo_fast.BboFrameHandler(
                shape, slow, self.counters.values, sid_of, self.ring, self.clock,
                self.venue_id, KIND_BBO)
        except (TypeError, ValueError) as exc:
            self.bbo_path = f"pure Python ({exc})"
            return None
        self.bbo_path = f"compiled (feeds._bbo_fast, {shape[0]})"
        return handler

    def _dropped(self, exc: Exception) -> None:
        self.counters.values["parse_errors"] += 1
        self._log.warning("%s: dropped malformed frame: %s", self.venue, exc)

    def on_record(self, rec: Any, ts_recv: int) -> None:
        if isinstance(rec, DepthUpdate):
            self._on_depth(rec, ts_recv)
        elif isinstance(rec, BBO):
            self._on_bbo(rec, ts_recv)
        elif isinstance(rec, Trade):
            self._on_trade(rec, ts_recv)
        elif isinstance(rec, BookSnapshot):
            self.on_snapshot(rec, ts_recv)
        elif isinstance(rec, Control):
            reply = self.adapter.control_reply(rec)
            if reply is not None:
                self.replies.append(reply)
            if rec.kind == "error":
                self._log.warning("%s: venue error %s", self.venue, rec.detail)

    def _symbol(self, venue_symbol: str) -> SymbolFeed | None:
        s = self.symbols.get(venue_symbol)
        if s is None:
            self.counters.add("unknown_symbol")
        return s

    def _on_bbo(self, b: BBO, ts_recv: int) -> None:
        s = self._symbol(b.venue_symbol)
        if s is None:
            return
        self.counters.values["bbo"] += 1
        self.ring.publish((KIND_BBO, self.venue_id, 0, 0, s.symbol_id, b.ts_event, ts_recv,
                           self.clock(), b.bid_px, b.bid_sz, b.ask_px, b.ask_sz, 0.0, 0.0,
                           b.update_id))

    def _on_trade(self, t: Trade, ts_recv: int) -> None:
        s = self._symbol(t.venue_symbol)
        if s is None:
            return
        self.counters.values["trades"] += 1
        self.ring.publish((KIND_TRADE, self.venue_id, int(t.side), 0, s.symbol_id, t.ts_event,
                           ts_recv, self.clock(), 0.0, 0.0, 0.0, 0.0, t.price, t.size,
                           t.trade_id))

    def _on_depth(self, u: DepthUpdate, ts_recv: int) -> None:
        s = self._symbol(u.venue_symbol)
        if s is None:
            return
        self.counters.values["depth"] += 1
        try:
            outcome = s.sync.on_update(u)
        except SequenceGap as exc:
            self.counters.add("gaps")
            self._log.warning("%s", exc)
            self._resync(s, BOOK_SYNCING)
            return
        if s.sync.needs_snapshot:
            self.pending_snapshots.add(s.venue_symbol)
        if outcome == "applied" and s.sync.synced:
            s.last_depth_ns = ts_recv
            self._publish_book(s, u.ts_event, ts_recv, u.last_id)

    def on_snapshot(self, snap: BookSnapshot, ts_recv: int) -> None:
        """A REST (or WS) snapshot for one symbol; completes its resync when it chains."""
        s = self._symbol(snap.venue_symbol)
        if s is None:
            return
        self.counters.add("snapshots")
        self.pending_snapshots.discard(s.venue_symbol)
        try:
            s.sync.on_snapshot(snap)
        except SequenceGap as exc:
            self.counters.add("gaps")
            self._log.warning("%s (after snapshot)", exc)
            self._resync(s, BOOK_SYNCING)
            return
        if s.sync.needs_snapshot:  # the snapshot was too old for the buffered diffs
            self.pending_snapshots.add(s.venue_symbol)
        if s.sync.synced:
            s.last_depth_ns = ts_recv
            self._publish_book(s, snap.ts_event, ts_recv, snap.last_id)

    def _publish_book(self, s: SymbolFeed, ts_event: int, ts_recv: int, update_id: int) -> None:
        book = s.sync.book
        if book.is_crossed():
            self.counters.add("gaps")
            self._log.warning("%s:%s crossed book: resync", self.venue, s.venue_symbol)
            self._resync(s, BOOK_CROSSED)
            return
        bids, asks = book.top_bids(self.depth), book.top_asks(self.depth)
        self.books.write(s.symbol_id, _as_levels(bids), _as_levels(asks), ts_event, ts_recv,
                         BOOK_OK, update_id)
        s.status = BOOK_OK
        top = (bids[0][0] if bids else 0.0, bids[0][1] if bids else 0.0,
               asks[0][0] if asks else 0.0, asks[0][1] if asks else 0.0)
        if top != s.top:
            s.top = top
            self.ring.publish((KIND_BBO, self.venue_id, 0, FLAG_FROM_BOOK, s.symbol_id, ts_event,
                               ts_recv, self.clock(), top[0], top[1], top[2], top[3], 0.0, 0.0,
                               update_id))

    # -- integrity ---------------------------------------------------------------------------
    def _resync(self, s: SymbolFeed, status: int) -> None:
        self.counters.add("resyncs")
        s.sync.reset()
        s.status = status
        s.top = (0.0, 0.0, 0.0, 0.0)
        self.books.set_status(s.symbol_id, status)
        self.pending_snapshots.add(s.venue_symbol)

    def check_stale(self, now_ns: int) -> list[str]:
        """Mark symbols with no depth for `stale_ns` stale and queue their resync."""
        stale = []
        worst = 0
        for s in self.symbols.values():
            if s.status != BOOK_OK or not s.last_depth_ns:
                continue
            age = now_ns - s.last_depth_ns
            worst = max(worst, age)
            if age > self.stale_ns:
                self.counters.add("stale")
                self._log.warning("%s:%s no depth for %.1fs: resync", self.venue,
                                  s.venue_symbol, age / 1e9)
                self._resync(s, BOOK_STALE)
                stale.append(s.venue_symbol)
        self.counters.values["max_age_ms"] = worst // 1_000_000
        return stale

    def on_disconnect(self) -> None:
        """The connection carrying depth went away: nothing is known to be in sync."""
        self.counters.add("reconnects")
        self.pending_snapshots.clear()
        for s in self.symbols.values():
            s.sync.reset()
            s.status = BOOK_SYNCING
            s.top = (0.0, 0.0, 0.0, 0.0)
            self.books.set_status(s.symbol_id, BOOK_SYNCING)
            # a quiet market may send no depth for a while after the reconnect: fetch the
            # snapshot now rather than waiting for the first diff to ask for it
            if s.sync.needs_snapshot:
                self.pending_snapshots.add(s.venue_symbol)

    def take_snapshot_requests(self) -> list[str]:
        """Symbols whose snapshot the driver should fetch now (each handed out once)."""
        out = sorted(self.pending_snapshots)
        self.pending_snapshots.clear()
        return out
