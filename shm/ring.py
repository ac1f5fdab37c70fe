"""Single-producer / multi-reader ring of numpy records in shared memory (broadcast semantics).

The feed publishes ticks; the engine and the writer each read every record with their own
`RingReader`. The producer never waits for anyone: a reader that falls a whole ring behind is
*lapped* — it learns so on its next `poll`, counts exactly how many records it lost, and
resumes at the oldest record still in the ring (Agrona's broadcast buffer, LMAX-style
sequence stamps).

Segment: header (`shm.layout`), control block (cursor, parked count, doorbell — each on its
own cache line), then `capacity` int64 sequence stamps and `capacity` records.

Protocol for record `seq` in slot `seq & mask`:
- producer: stamp := -(seq+1) (being written), record := data, stamp := seq+1, cursor := seq+1;
- reader: read stamps, copy records, read stamps again; a record counts only if its stamp was
  seq+1 both before and after the copy. So a reader never returns a torn or overwritten
  record. This relies on stores becoming visible in program order and loads not passing
  older loads — true on x86-64 (TSO); on weaker architectures (arm64) the before/after stamp
  checks catch most but not all reorderings, so x86-64 is the supported platform.

Hot path: `publish` packs one record straight into the segment with a precompiled `struct`
and updates stamps/cursor through int64 memoryviews (no numpy scalar machinery);
`publish_batch` copies a whole numpy array with two slice assignments and stamps it with one
vectorized store. `poll` returns a **copy** (the producer may overwrite the slots right after).
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from shm import registry
from shm.layout import (CONTROL_BYTES, CURSOR_OFFSET, DATA_OFFSET, DOORBELL_OFFSET, KIND_RING,
                        PARKED_OFFSET, read_header, struct_format, write_header)
from shm.wait import Doorbell, WaitStrategy, make_wait_strategy


def _segment_size(capacity: int, dtype: np.dtype) -> int:
    return DATA_OFFSET + capacity * 8 + capacity * dtype.itemsize


class _RingMap:
    """Views over one ring segment (shared by writer and reader)."""

    def __init__(self, shm: Any, capacity: int, dtype: np.dtype) -> None:
        self.shm = shm
        self.capacity = capacity
        self.mask = capacity - 1
        self.dtype = dtype
        buf = shm.buf
        self.cursor_mv = buf[CURSOR_OFFSET:CURSOR_OFFSET + 8].cast("q")
        self.stamps = np.ndarray((capacity,), dtype=np.int64, buffer=buf, offset=DATA_OFFSET)
        self.stamps_mv = buf[DATA_OFFSET:DATA_OFFSET + capacity * 8].cast("q")
        self.rec_offset = DATA_OFFSET + capacity * 8
        self.records = np.ndarray((capacity,), dtype=dtype, buffer=buf, offset=self.rec_offset)
        self.doorbell = Doorbell(buf, PARKED_OFFSET, DOORBELL_OFFSET, f"/dev/shm/{shm.name}")

    def close(self) -> None:
        self.doorbell.close()
        self.cursor_mv.release()
        self.stamps_mv.release()
        self.stamps = self.records = None  # type: ignore[assignment]
        try:
            self.shm.close()
        except BufferError:  # a caller still holds a view; the mapping dies with the process
            pass


class RingWriter:
    """The one producer of a ring."""

    def __init__(self, shm: Any, owner: bool) -> None:
        capacity, dtype = read_header(shm.buf, KIND_RING, shm.name)
        self._m = _RingMap(shm, capacity, dtype)
        self.name = shm.name
        self.owner = owner
        self.capacity = capacity
        self.dtype = dtype
        self._seq = int(self._m.cursor_mv[0])  # resume after a producer restart
        self._struct = struct.Struct(struct_format(dtype))
        self._buf = shm.buf
        self._itemsize = dtype.itemsize

    @classmethod
    def create(cls, name: str, dtype: np.dtype, capacity: int) -> "RingWriter":
        if capacity <= 0 or capacity & (capacity - 1):
            raise ValueError(f"ring capacity must be a power of two, got {capacity}")
        shm = registry.create(name, _segment_size(capacity, dtype))
        write_header(shm.buf, KIND_RING, capacity, dtype)
        shm.buf[CURSOR_OFFSET:CURSOR_OFFSET + CONTROL_BYTES] = bytes(CONTROL_BYTES)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> "RingWriter":
        """The producer process attaching to a ring the supervisor created."""
        return cls(registry.attach(name), owner=False)

    @property
    def published(self) -> int:
        return self._seq

    def publish(self, row: tuple) -> int:
        """Publish one record given as a tuple in dtype field order; returns its sequence."""
        seq = self._seq
        idx = seq & self._m.mask
        stamps = self._m.stamps_mv
        stamps[idx] = -(seq + 1)
        self._struct.pack_into(self._buf, self._m.rec_offset + idx * self._itemsize, *row)
        stamps[idx] = seq + 1
        self._seq = seq + 1
        self._m.cursor_mv[0] = seq + 1
        self._m.doorbell.ring_if_parked()
        return seq

    def publish_batch(self, records: np.ndarray) -> int:
        """Publish a batch (structured array of this ring's dtype) in one step; returns the
        sequence of its first record. Larger-than-ring batches keep only the newest records."""
        n = len(records)
        if n == 0:
            return self._seq
        if records.dtype != self.dtype:
            raise TypeError("batch dtype differs from the ring's record dtype")
        m = self._m
        if n > self.capacity:  # a reader could never see the older ones anyway
            skip = n - self.capacity
            self._seq += skip
            records = records[skip:]
            n = self.capacity
        seq0 = self._seq
        seqs = np.arange(seq0, seq0 + n, dtype=np.int64)
        idx = seqs & m.mask
        m.stamps[idx] = -(seqs + 1)
        start = seq0 & m.mask
        first = min(n, self.capacity - start)
        m.records[start:start + first] = records[:first]
        if first < n:
            m.records[:n - first] = records[first:]
        m.stamps[idx] = seqs + 1
        self._seq = seq0 + n
        m.cursor_mv[0] = self._seq
        m.doorbell.ring_if_parked()
        return seq0

    def close(self) -> None:
        self._m.close()

    def unlink(self) -> None:
        registry.unlink(self.name)


class RingReader:
    """One independent reader; starts at the producer's current position (new records only)
    unless `from_start`."""

    def __init__(self, shm: Any, wait: WaitStrategy | str | None = None,
                 dtype: np.dtype | None = None, from_start: bool = False) -> None:
        capacity, got = read_header(shm.buf, KIND_RING, shm.name, expected=dtype)
        self._m = _RingMap(shm, capacity, got)
        self.name = shm.name
        self.capacity = capacity
        self.dtype = got
        cursor = int(self._m.cursor_mv[0])
        self._next = max(0, cursor - capacity) if from_start else cursor
        self.lapped_count = 0   # times this reader was lapped
        self.lost_records = 0   # records it never saw because of that
        self.received = 0
        self._wait = (make_wait_strategy(wait) if isinstance(wait, str)
                      else wait or make_wait_strategy("phased"))

    @classmethod
    def attach(cls, name: str, wait_strategy: WaitStrategy | str | None = None,
               dtype: np.dtype | None = None, from_start: bool = False) -> "RingReader":
        return cls(registry.attach(name), wait_strategy, dtype, from_start)

    @property
    def position(self) -> int:
        return self._next

    def available(self) -> int:
        return int(self._m.cursor_mv[0]) - self._next

    def poll(self, max_records: int | None = None) -> np.ndarray:
        """Every available record (up to `max_records`) as a copied structured array."""
        m = self._m
        cursor = int(m.cursor_mv[0])
        start = self._next
        if cursor <= start:
            return m.records[:0].copy()
        oldest = cursor - self.capacity
        if start < oldest:  # lapped: everything before `oldest` is gone
            self.lapped_count += 1
            self.lost_records += oldest - start
            start = oldest
        end = cursor if max_records is None else min(cursor, start + max_records)
        n = end - start
        i0 = start & m.mask
        first = min(n, self.capacity - i0)
        # contiguous slices (at most two, around the wrap): far cheaper than fancy indexing
        if first == n:
            before = m.stamps[i0:i0 + n].copy()
            out = m.records[i0:i0 + n].copy()
            after = m.stamps[i0:i0 + n]
        else:
            before = np.concatenate((m.stamps[i0:], m.stamps[:n - first]))
            out = np.concatenate((m.records[i0:], m.records[:n - first]))
            after = np.concatenate((m.stamps[i0:], m.stamps[:n - first]))
        want = np.arange(start + 1, end + 1, dtype=np.int64)
        ok = (before == want) & (after == want)
        if not ok.all():
            # overwritten while we copied (the producer lapped us mid-read): drop and count
            bad = int(n - np.count_nonzero(ok))
            self.lapped_count += 1
            self.lost_records += bad
            out = out[ok]
        self._next = end
        self.received += len(out)
        return out

    def wait(self, timeout_s: float) -> bool:
        """Wait (with this reader's strategy) until a record is available or timeout."""
        cursor_mv, nxt = self._m.cursor_mv, self._next
        return self._wait.wait(lambda: cursor_mv[0] > nxt, timeout_s, self._m.doorbell)

    def close(self) -> None:
        self._m.close()
