"""Book slots: each symbol's latest top-N L2 book in shared memory, under a seqlock.

Written by a venue's feed process (one writer per segment), read by the engine (and `hft top`).
The supervisor creates the segment (`BookSlots.create`) and unlinks it; others `attach`.

Books are conflated state, not events: the engine wants the *latest consistent* book, not every
intermediate one, so each symbol has one slot the feed overwrites. A slot's `version` is odd
while the feed writes it; a reader copies the slot and accepts the copy only if the version was
even and unchanged around the copy, retrying a bounded number of times (`MAX_READ_RETRIES`,
yielding the CPU after the first few) before `BookReadError` (the writer died mid-write).
Ordering relies on x86-64 TSO (stores seen in program order, loads not passing loads), as the
rings do; each store below is a separate numpy call, so the compiler cannot merge them.

`status` makes an out-of-sync book visible: while a feed resyncs a symbol (gap, crossed book,
stale stream) the slot says BOOK_SYNCING/STALE/CROSSED and the engine must not quote on it
(`BookView.ok`). A fresh segment starts every symbol at BOOK_SYNCING.

Slot layout (`slot_dtype(depth)`): version, status, n_bids, n_asks, ts_event, ts_recv,
update_id, pad, then bids and asks as (depth, 2) float64 [price, size], best first, unused
levels zeroed. With depth 20 a slot is 704 bytes, a whole number of cache lines.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from shm import registry
from shm.layout import DATA_OFFSET, KIND_BOOK, LayoutMismatch, read_header, write_header

BOOK_OK, BOOK_SYNCING, BOOK_STALE, BOOK_CROSSED = 0, 1, 2, 3
BOOK_STATUSES = {BOOK_OK: "ok", BOOK_SYNCING: "syncing", BOOK_STALE: "stale",
                 BOOK_CROSSED: "crossed"}
MAX_READ_RETRIES = 10_000
# int64 word offsets inside a slot (see slot_dtype)
_VERSION, _STATUS, _N_BIDS, _N_ASKS, _TS_EVENT, _TS_RECV, _UPDATE_ID, _PAD, _LEVELS = range(9)
_SPIN_BEFORE_YIELD = 64


class BookReadError(Exception):
    """The writer kept the slot busy for MAX_READ_RETRIES attempts (it died mid-write)."""


def slot_dtype(depth: int) -> np.dtype:
    return np.dtype([
        ("version", "<i8"), ("status", "<i8"), ("n_bids", "<i8"), ("n_asks", "<i8"),
        ("ts_event", "<i8"), ("ts_recv", "<i8"), ("update_id", "<i8"), ("_pad", "<i8"),
        ("bids", "<f8", (depth, 2)), ("asks", "<f8", (depth, 2)),
    ])


def _segment_size(n_symbols: int, dtype: np.dtype) -> int:
    return DATA_OFFSET + dtype.itemsize * max(n_symbols, 1)


@dataclass(slots=True)
class BookView:
    """A consistent copy of one symbol's book."""

    bids: np.ndarray      # (n_bids, 2) [price, size], best (highest) first
    asks: np.ndarray      # (n_asks, 2) [price, size], best (lowest) first
    n_bids: int
    n_asks: int
    ts_event: int
    ts_recv: int
    status: int
    version: int          # even; changes on every write
    update_id: int

    @property
    def ok(self) -> bool:
        """Quotable: in sync and both sides present."""
        return self.status == BOOK_OK and self.n_bids > 0 and self.n_asks > 0


class BookSlots:
    def __init__(self, shm: Any, owner: bool) -> None:
        try:
            n_symbols, dtype = read_header(shm.buf, KIND_BOOK, shm.name, size_of=_segment_size)
            if dtype.names is None or "bids" not in dtype.names:
                raise LayoutMismatch(f"{shm.name}: not a book-slot record layout")
        except Exception:
            shm.close()
            raise
        self._shm = shm
        self.owner = owner
        self.name = shm.name
        self.n_symbols = n_symbols
        self.depth = dtype["bids"].shape[0]
        self._slots = np.ndarray((n_symbols,), dtype=dtype, buffer=shm.buf, offset=DATA_OFFSET)
        # every slot field is 8 bytes: a flat int64 view makes a read one memcpy plus slicing
        self._words = dtype.itemsize // 8
        self._raw = np.ndarray((n_symbols, self._words), dtype=np.int64, buffer=shm.buf,
                               offset=DATA_OFFSET)
        self._versions = self._raw[:, _VERSION]
        self._status = self._raw[:, _STATUS]
        self._meta = self._raw[:, _STATUS:_PAD]
        self._bids = self._slots["bids"]
        self._asks = self._slots["asks"]

    @classmethod
    def create(cls, name: str, n_symbols: int, depth: int = 20) -> BookSlots:
        if n_symbols < 0 or depth < 1:
            raise ValueError(f"book slots need n_symbols >= 0 and depth >= 1, got "
                             f"{n_symbols}, {depth}")
        dt = slot_dtype(depth)
        shm = registry.create(name, _segment_size(n_symbols, dt))
        assert shm.buf is not None
        write_header(shm.buf, KIND_BOOK, n_symbols, dt)
        slots = cls(shm, owner=True)
        slots._status[:] = BOOK_SYNCING  # nothing is in sync before the feed says so
        return slots

    @classmethod
    def attach(cls, name: str) -> BookSlots:
        return cls(registry.attach(name), owner=False)

    def _check(self, symbol_id: int) -> int:
        if not 0 <= symbol_id < self.n_symbols:
            raise IndexError(f"{self.name}: symbol id {symbol_id} out of range "
                             f"(0..{self.n_symbols - 1})")
        return symbol_id

    # -- writer (the venue's feed) -------------------------------------------------------------
    def _levels(self, side: Any, what: str) -> np.ndarray:
        arr = np.asarray(side, dtype=np.float64)
        if arr.size == 0:
            return arr.reshape(0, 2)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"{self.name}: {what} must be (k, 2) [price, size] levels, "
                             f"got shape {arr.shape}")
        return arr[:self.depth]  # top-N only: deeper levels are not this slot's job

    def write(self, symbol_id: int, bids: Any, asks: Any, ts_event: int, ts_recv: int,
              status: int = BOOK_OK, update_id: int = 0) -> None:
        """Replace a symbol's book. `bids`/`asks`: (k, 2) arrays or sequences of (px, sz),
        best first; levels beyond `depth` are dropped, unused levels zeroed."""
        i = self._check(symbol_id)
        if status not in BOOK_STATUSES:
            raise ValueError(f"{self.name}: unknown book status {status}")
        b = self._levels(bids, "bids")
        a = self._levels(asks, "asks")
        nb, na = len(b), len(a)
        v = self._versions
        v[i] += 1  # odd: writing
        sb = self._bids[i]
        sa = self._asks[i]
        sb[:nb] = b
        sb[nb:] = 0.0
        sa[:na] = a
        sa[na:] = 0.0
        self._meta[i] = (status, nb, na, ts_event, ts_recv, update_id)
        v[i] += 1  # even: consistent

    def set_status(self, symbol_id: int, status: int) -> None:
        """Mark a symbol in/out of sync without touching its levels."""
        i = self._check(symbol_id)
        if status not in BOOK_STATUSES:
            raise ValueError(f"{self.name}: unknown book status {status}")
        v = self._versions
        v[i] += 1
        self._status[i] = status
        v[i] += 1

    # -- readers -------------------------------------------------------------------------------
    def read(self, symbol_id: int) -> BookView:
        """The symbol's latest consistent book (copies)."""
        i = self._check(symbol_id)
        v = self._versions
        raw = self._raw
        d2 = 2 * self.depth
        for attempt in range(MAX_READ_RETRIES):
            v1 = int(v[i])
            if not v1 & 1:
                w = raw[i].copy()
                if int(v[i]) == v1:
                    _, status, nb, na, ts_event, ts_recv, update_id = w[:_PAD].tolist()
                    lv = w[_LEVELS:].view(np.float64)
                    return BookView(lv[:2 * nb].reshape(nb, 2), lv[d2:d2 + 2 * na].reshape(na, 2),
                                    nb, na, ts_event, ts_recv, status, v1, update_id)
            if attempt >= _SPIN_BEFORE_YIELD:
                os.sched_yield()  # the writer may be descheduled mid-write: let it finish
        raise BookReadError(f"{self.name}[{symbol_id}]: writer never finished (died mid-write?)")

    def version(self, symbol_id: int) -> int:
        """Cheap change detection: the engine re-reads a book only when this moved."""
        return int(self._versions[self._check(symbol_id)])

    def status(self, symbol_id: int) -> int:
        return int(self._status[self._check(symbol_id)])

    def close(self) -> None:
        if self._shm is None:
            return
        self._slots = self._raw = self._versions = self._status = None  # type: ignore[assignment]
        self._bids = self._asks = self._meta = None  # type: ignore[assignment]
        try:
            self._shm.close()
        except BufferError:  # a caller still holds a view; the mapping dies with the process
            pass
        self._shm = None

    def unlink(self) -> None:
        registry.unlink(self.name)
