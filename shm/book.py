"""Book slots: each symbol's latest top-N L2 book in shared memory, under a seqlock.

Books are conflated state, not events: the engine wants the *latest consistent* book, not
every intermediate one, so each symbol has one slot the feed overwrites. A slot's `version`
is odd while the feed writes it; a reader copies the slot and accepts the copy only if the
version was even and unchanged around the copy (retrying a bounded number of times).

`status` makes an out-of-sync book visible: while a feed resyncs a symbol (gap, crossed book,
stale stream) the slot says BOOK_SYNCING/STALE/CROSSED and the engine does not quote on it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from shm import registry
from shm.layout import DATA_OFFSET, KIND_BOOK, read_header, write_header

BOOK_OK, BOOK_SYNCING, BOOK_STALE, BOOK_CROSSED = 0, 1, 2, 3
MAX_READ_RETRIES = 10_000


class BookReadError(Exception):
    """The writer kept the slot busy for MAX_READ_RETRIES attempts (it died mid-write)."""


def slot_dtype(depth: int) -> np.dtype:
    return np.dtype([
        ("version", "<i8"), ("status", "<i8"), ("n_bids", "<i8"), ("n_asks", "<i8"),
        ("ts_event", "<i8"), ("ts_recv", "<i8"), ("update_id", "<i8"), ("_pad", "<i8"),
        ("bids", "<f8", (depth, 2)), ("asks", "<f8", (depth, 2)),
    ])


@dataclass(slots=True)
class BookView:
    bids: np.ndarray      # (n_bids, 2) price, size — best first
    asks: np.ndarray
    n_bids: int
    n_asks: int
    ts_event: int
    ts_recv: int
    status: int
    version: int
    update_id: int

    @property
    def ok(self) -> bool:
        return self.status == BOOK_OK and self.n_bids > 0 and self.n_asks > 0


class BookSlots:
    def __init__(self, shm: Any, owner: bool) -> None:
        n_symbols, dtype = read_header(shm.buf, KIND_BOOK, shm.name)
        self._shm = shm
        self.owner = owner
        self.name = shm.name
        self.n_symbols = n_symbols
        self.depth = dtype["bids"].shape[0]
        self._slots = np.ndarray((n_symbols,), dtype=dtype, buffer=shm.buf, offset=DATA_OFFSET)
        self._versions = self._slots["version"]

    @classmethod
    def create(cls, name: str, n_symbols: int, depth: int = 20) -> "BookSlots":
        dt = slot_dtype(depth)
        shm = registry.create(name, DATA_OFFSET + dt.itemsize * max(n_symbols, 1))
        write_header(shm.buf, KIND_BOOK, n_symbols, dt)
        slots = cls(shm, owner=True)
        slots._slots["status"] = BOOK_SYNCING  # nothing is in sync before the feed says so
        return slots

    @classmethod
    def attach(cls, name: str) -> "BookSlots":
        return cls(registry.attach(name), owner=False)

    # -- writer (the venue's feed) ----------------------------------------------------------------
    def write(self, symbol_id: int, bids: Any, asks: Any, ts_event: int, ts_recv: int,
              status: int = BOOK_OK, update_id: int = 0) -> None:
        """Replace a symbol's book with the given levels (best first; at most `depth`)."""
        slot = self._slots[symbol_id:symbol_id + 1]
        v = self._versions
        v[symbol_id] += 1  # odd: writing
        nb, na = min(len(bids), self.depth), min(len(asks), self.depth)
        b = slot["bids"][0]
        a = slot["asks"][0]
        if nb:
            b[:nb] = np.asarray(bids[:nb], dtype=np.float64)
        b[nb:] = 0.0
        if na:
            a[:na] = np.asarray(asks[:na], dtype=np.float64)
        a[na:] = 0.0
        row = slot[0]
        row["n_bids"] = nb
        row["n_asks"] = na
        row["ts_event"] = ts_event
        row["ts_recv"] = ts_recv
        row["status"] = status
        row["update_id"] = update_id
        v[symbol_id] += 1  # even: consistent

    def set_status(self, symbol_id: int, status: int) -> None:
        v = self._versions
        v[symbol_id] += 1
        self._slots["status"][symbol_id] = status
        v[symbol_id] += 1

    # -- readers -------------------------------------------------------------------------------
    def read(self, symbol_id: int) -> BookView:
        v = self._versions
        for attempt in range(MAX_READ_RETRIES):
            v1 = int(v[symbol_id])
            if v1 & 1:
                if attempt > 100:
                    os.sched_yield()
                continue
            row = self._slots[symbol_id].copy()
            if int(v[symbol_id]) == v1:
                nb, na = int(row["n_bids"]), int(row["n_asks"])
                return BookView(row["bids"][:nb], row["asks"][:na], nb, na,
                                int(row["ts_event"]), int(row["ts_recv"]), int(row["status"]),
                                v1, int(row["update_id"]))
        raise BookReadError(f"{self.name}[{symbol_id}]: writer never finished (died mid-write?)")

    def version(self, symbol_id: int) -> int:
        """Cheap change detection: the engine re-reads a book only when this moved."""
        return int(self._versions[symbol_id])

    def close(self) -> None:
        self._slots = self._versions = None  # type: ignore[assignment]
        try:
            self._shm.close()
        except BufferError:
            pass

    def unlink(self) -> None:
        registry.unlink(self.name)
