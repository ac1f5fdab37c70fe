"""Single-producer / multi-reader ring of numpy records in shared memory (broadcast semantics).

A feed publishes ticks (`RingWriter`); the engine and the writer each read every record with
their own `RingReader`. The supervisor creates the segment (`RingWriter.create`) and unlinks
it; the feed process attaches as the producer (`RingWriter.attach`), readers attach by name.
The producer never waits for anyone: a reader that falls a whole ring behind is *lapped* — its
next `poll` counts exactly how many records it lost (`lost_records`, `lapped_count`) and
resumes at the oldest record still in the ring (Agrona's broadcast buffer, LMAX-style stamps).

Segment: header (`shm.layout`), control block (cursor, parked count, doorbell — each on its
own cache line), `capacity` int64 sequence stamps, then `capacity` records.

Protocol for record `seq` in slot `seq & mask`:
- producer: stamp := ~seq (= -(seq+1), "being written"), record := data, stamp := seq+1,
  cursor := seq+1;
- reader: copy the stamps, copy the records, read the stamps again; a record is returned only
  if its stamp was seq+1 both before and after the copy, so a reader never returns a torn or
  overwritten record (it is counted as lost instead).
Memory ordering: this relies on stores becoming visible in program order and loads not passing
older loads — x86-64 (TSO) guarantees both, and CPython/numpy issue the stores in the order
written here (each is a separate C call). On weaker architectures (arm64) barriers would be
needed; x86-64 is the supported platform.

Hot path: `publish(row)` takes a tuple in dtype field order and packs it straight into the
slot with a precompiled `struct` (no numpy scalar machinery); stamps and the cursor are int64
memoryviews; every name it touches is a closure cell, not an attribute lookup. The cursor is
the producer's only state, so a restarted producer resumes where the last one stopped.
`publish_batch(arr)` copies a whole structured array with (at most two) slice assignments and
stamps it with one vectorized store after the data. `poll()` returns a **copy** — the producer
may overwrite the slots right after the reader looks away.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from shm import registry
from shm.layout import (
    CONTROL_BYTES,
    CURSOR_OFFSET,
    DATA_OFFSET,
    DOORBELL_OFFSET,
    KIND_RING,
    PARKED_OFFSET,
    read_header,
    struct_format,
    write_header,
)
from shm.wait import Doorbell, WaitStrategy, make_wait_strategy, register_producer


def segment_size(capacity: int, dtype: np.dtype) -> int:
    return DATA_OFFSET + capacity * 8 + capacity * dtype.itemsize


class _RingMap:
    """Views over one ring segment (shared by writer and reader)."""

    def __init__(self, shm: Any, dtype: np.dtype | None) -> None:
        try:
            capacity, got = read_header(shm.buf, KIND_RING, shm.name, expected=dtype,
                                        size_of=segment_size)
            if capacity <= 0 or capacity & (capacity - 1):
                raise ValueError(f"{shm.name}: corrupt header (capacity {capacity})")
        except Exception:
            shm.close()
            raise
        self.shm = shm
        self.name = shm.name
        self.capacity = capacity
        self.mask = capacity - 1
        self.dtype = got
        buf = shm.buf
        self.cursor_mv = buf[CURSOR_OFFSET:CURSOR_OFFSET + 8].cast("q")
        self.stamps_mv = buf[DATA_OFFSET:DATA_OFFSET + capacity * 8].cast("q")
        self.stamps = np.ndarray((capacity,), dtype=np.int64, buffer=buf, offset=DATA_OFFSET)
        self.rec_offset = DATA_OFFSET + capacity * 8
        self.records = np.ndarray((capacity,), dtype=got, buffer=buf, offset=self.rec_offset)
        self.doorbell = Doorbell(buf, PARKED_OFFSET, DOORBELL_OFFSET, f"/dev/shm/{shm.name}")

    def close(self) -> None:
        if self.shm is None:
            return
        self.doorbell.close()
        self.cursor_mv.release()
        self.stamps_mv.release()
        self.stamps = self.records = None  # type: ignore[assignment]
        try:
            self.shm.close()
        except BufferError:  # a caller still holds a view; the mapping dies with the process
            pass
        self.shm = None


class RingWriter:
    """The one producer of a ring.

    `publish(row: tuple) -> int`: publish one record given as a tuple in the dtype's field
    order (for `TICK_DTYPE`: kind, venue, side, flags, symbol_id, ts_event, ts_recv, ts_pub,
    bid_px, bid_sz, ask_px, ask_sz, price, size, update_id); returns its sequence number.
    A tuple of the wrong length or types raises `struct.error` and publishes nothing.
    """

    publish: Callable[[tuple], int]

    def __init__(self, shm: Any, owner: bool) -> None:
        self._m = m = _RingMap(shm, None)
        self.name = m.name
        self.owner = owner
        self.capacity = m.capacity
        self.dtype = m.dtype
        self.publish = self._make_publish()
        register_producer()  # readers parking on this ring may need to fence this process

    def _make_publish(self) -> Callable[[tuple], int]:
        m = self._m
        cur, stamps, mask = m.cursor_mv, m.stamps_mv, m.mask
        parked, ring = m.doorbell.parked_view, m.doorbell.ring
        pack = struct.Struct(struct_format(m.dtype)).pack
        mm, base, size = m.shm.buf, m.rec_offset, m.dtype.itemsize

        def publish(row: tuple) -> int:
            rec = pack(*row)
            seq = cur[0]
            idx = seq & mask
            off = base + idx * size
            stamps[idx] = ~seq  # "being written": a reader copying this slot now rejects it
            mm[off:off + size] = rec
            stamps[idx] = seq + 1  # written last: the record is complete
            cur[0] = seq + 1
            if parked[0]:
                ring()
            return seq

        return publish

    @classmethod
    def create(cls, name: str, dtype: np.dtype, capacity: int) -> RingWriter:
        """Create the segment (the supervisor, tests, benchmarks) and return its producer."""
        if capacity <= 0 or capacity & (capacity - 1):
            raise ValueError(f"ring capacity must be a power of two, got {capacity}")
        dtype = np.dtype(dtype)
        if dtype.names is None:
            raise ValueError("ring records must be a structured numpy dtype")
        shm = registry.create(name, segment_size(capacity, dtype))
        assert shm.buf is not None
        shm.buf[CURSOR_OFFSET:CURSOR_OFFSET + CONTROL_BYTES] = bytes(CONTROL_BYTES)
        write_header(shm.buf, KIND_RING, capacity, dtype)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> RingWriter:
        """The producer process attaching to a ring the supervisor created."""
        return cls(registry.attach(name), owner=False)

    @property
    def published(self) -> int:
        """Records published so far (the next record's sequence)."""
        return int(self._m.cursor_mv[0])

    def publish_batch(self, records: np.ndarray) -> int:
        """Publish a structured array of this ring's dtype in one step; returns the sequence
        of its first record. A batch longer than the ring keeps only its newest `capacity`
        records (a reader could never see the older ones anyway)."""
        n = len(records)
        m = self._m
        if records.dtype != m.dtype:
            raise TypeError(f"{self.name}: batch dtype differs from the ring's record dtype")
        seq0 = int(m.cursor_mv[0])
        if n == 0:
            return seq0
        cap = self.capacity
        if n > cap:
            seq0 += n - cap
            records = records[n - cap:]
            n = cap
        end = seq0 + n
        start = seq0 & m.mask
        first = min(n, cap - start)
        stamps, recs = m.stamps, m.records
        # mark, copy, then stamp — per contiguous piece, so each step is one vectorized store
        stamps[start:start + first] = np.arange(~seq0, ~(seq0 + first), -1, dtype=np.int64)
        if first < n:
            stamps[:n - first] = np.arange(~(seq0 + first), ~end, -1, dtype=np.int64)
        recs[start:start + first] = records[:first]
        if first < n:
            recs[:n - first] = records[first:]
        stamps[start:start + first] = np.arange(seq0 + 1, seq0 + first + 1, dtype=np.int64)
        if first < n:
            stamps[:n - first] = np.arange(seq0 + first + 1, end + 1, dtype=np.int64)
        m.cursor_mv[0] = end
        if m.doorbell.parked_view[0]:
            m.doorbell.ring()
        return seq0

    def close(self) -> None:
        self.publish = _closed  # type: ignore[assignment]
        self._m.close()

    def unlink(self) -> None:
        registry.unlink(self.name)


def _closed(row: tuple) -> int:
    raise ValueError("ring writer is closed")


class RingReader:
    """One independent reader. Starts at the producer's current position (new records only),
    or at the oldest record still in the ring with `from_start=True`.

    `poll()` returns copies; `lapped_count` counts the polls that found loss, `lost_records`
    the records this reader never saw, `received` those it returned.
    """

    def __init__(self, shm: Any, wait: WaitStrategy | str | None = None,
                 dtype: np.dtype | None = None, from_start: bool = False) -> None:
        self._m = m = _RingMap(shm, dtype)
        self.name = m.name
        self.capacity = m.capacity
        self.dtype = m.dtype
        cursor = int(m.cursor_mv[0])
        self._next = max(0, cursor - m.capacity) if from_start else cursor
        self.lapped_count = 0
        self.lost_records = 0
        self.received = 0
        self._empty = m.records[:0].copy()
        self._wait = (make_wait_strategy(wait) if isinstance(wait, str)
                      else wait or make_wait_strategy("phased"))
        self._ready = self._make_ready()

    @classmethod
    def attach(cls, name: str, wait_strategy: WaitStrategy | str | None = None,
               dtype: np.dtype | None = None, from_start: bool = False) -> RingReader:
        """Attach by name; `dtype` (recommended) makes a ring of another record layout refuse
        with `LayoutMismatch`, as does a segment of another layout version or kind."""
        return cls(registry.attach(name), wait_strategy, dtype, from_start)

    def _make_ready(self) -> Callable[[], bool]:
        cur = self._m.cursor_mv
        return lambda: cur[0] > self._next

    @property
    def position(self) -> int:
        """Sequence of the next record this reader will return."""
        return self._next

    def available(self) -> int:
        return int(self._m.cursor_mv[0]) - self._next

    def poll(self, max_records: int | None = None) -> np.ndarray:
        """Every available record (up to `max_records`, oldest first) as a copied array."""
        m = self._m
        cursor = m.cursor_mv[0]
        start = self._next
        if cursor <= start:
            return self._empty
        oldest = cursor - m.capacity
        if start < oldest:  # lapped: everything before `oldest` is gone
            self.lapped_count += 1
            self.lost_records += oldest - start
            start = oldest
        end = cursor if max_records is None else min(cursor, start + max(max_records, 1))
        n = end - start
        i0 = start & m.mask
        first = min(n, m.capacity - i0)
        stamps, recs = m.stamps, m.records
        # contiguous slices (two around the wrap): far cheaper than fancy indexing
        if first == n:
            before = stamps[i0:i0 + n].copy()
            out = recs[i0:i0 + n].copy()
            after = stamps[i0:i0 + n]
        else:
            before = np.concatenate((stamps[i0:], stamps[:n - first]))
            out = np.concatenate((recs[i0:], recs[:n - first]))
            after = np.concatenate((stamps[i0:], stamps[:n - first]))
        want = np.arange(start + 1, end + 1, dtype=np.int64)
        ok = (before == want) & (after == want)
        if not ok.all():
            # the producer lapped us while we copied: drop the overwritten ones and count them
            good = int(np.count_nonzero(ok))
            self.lapped_count += 1
            self.lost_records += n - good
            out = out[ok]
        self._next = end
        self.received += len(out)
        return out

    @property
    def parks(self) -> int:
        """Times this reader slept on the doorbell."""
        return self._m.doorbell.parks

    @property
    def park_timeouts(self) -> int:
        """Parks that ended by timeout rather than the producer's ring (an idle ring, or a
        missed wake-up — the latter must never happen)."""
        return self._m.doorbell.timeouts

    def wait(self, timeout_s: float) -> bool:
        """Wait with this reader's strategy until a record is available (True) or timeout."""
        return self._wait.wait(self._ready, timeout_s, self._m.doorbell)

    def close(self) -> None:
        self._m.close()
