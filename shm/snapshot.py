"""A snapshot slot: one writer publishes a whole document (bytes) that readers copy
consistently, under a seqlock. The engine's live state (positions, PnL, quotes, latency
histograms, risk state) goes here a few times a second for `hft top` and the Prometheus
exporter, so neither talks to the engine or touches its hot path.

Layout after the common header (`shm.layout`, record dtype u1, capacity = payload bytes):
version (int64, odd while writing), length (int64), payload. A reader copies length and
payload and accepts the copy only if the version was even and unchanged around it.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from shm import registry
from shm.layout import DATA_OFFSET, KIND_SNAPSHOT, read_header, write_header

_DT = np.dtype([("byte", "u1")])  # the header describes records as structured dtypes
_MAX_RETRIES = 1000


def _segment_size(capacity: int, _dtype: np.dtype = _DT) -> int:
    return DATA_OFFSET + 16 + capacity


class SnapshotTooLarge(ValueError):
    pass


class SnapshotSlot:
    def __init__(self, shm: Any, owner: bool) -> None:
        try:
            self.capacity, _ = read_header(shm.buf, KIND_SNAPSHOT, shm.name, _DT,
                                           size_of=_segment_size)
        except Exception:
            shm.close()
            raise
        self._shm = shm
        self.owner = owner
        self.name = shm.name
        self._ctl = np.ndarray((2,), dtype=np.int64, buffer=shm.buf, offset=DATA_OFFSET)
        self._data = np.ndarray((self.capacity,), dtype=np.uint8, buffer=shm.buf,
                                offset=DATA_OFFSET + 16)

    @classmethod
    def create(cls, name: str, capacity: int = 256 * 1024) -> SnapshotSlot:
        shm = registry.create(name, _segment_size(capacity))
        assert shm.buf is not None
        write_header(shm.buf, KIND_SNAPSHOT, capacity, _DT)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> SnapshotSlot:
        return cls(registry.attach(name), owner=False)

    def write(self, payload: bytes) -> None:
        n = len(payload)
        if n > self.capacity:
            raise SnapshotTooLarge(f"{self.name}: {n} bytes > capacity {self.capacity}")
        ctl = self._ctl
        ctl[0] += 1  # odd: writing
        self._data[:n] = np.frombuffer(payload, dtype=np.uint8)
        ctl[1] = n
        ctl[0] += 1  # even: consistent

    def read(self) -> bytes | None:
        """The latest consistent payload; None before the first write."""
        ctl, data = self._ctl, self._data
        for attempt in range(_MAX_RETRIES):
            v1 = int(ctl[0])
            if not v1 & 1:
                n = int(ctl[1])
                out = data[:max(0, min(n, self.capacity))].tobytes()
                if int(ctl[0]) == v1:
                    return out if v1 else None
            if attempt > 16:
                os.sched_yield()
        return None  # the writer died mid-write: nothing consistent to show

    def close(self) -> None:
        if self._shm is None:
            return
        self._ctl = self._data = None  # type: ignore[assignment]
        try:
            self._shm.close()
        except BufferError:
            pass
        self._shm = None

    def unlink(self) -> None:
        registry.unlink(self.name)
