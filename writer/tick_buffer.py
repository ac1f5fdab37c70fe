"""Ticks drained since the last flush (writer.core.Writer buffers into it).

Drained ring batches are copied once, as bytes, straight into a reused array, instead of
copied at drain time (ring memory is reused) and again by a concatenation at flush time: one
memcpy per batch instead of two field-by-field structured copies, and no fresh pages to fault
in for every batch.

Two arrays take turns: `take()` hands out a view of the filled one and switches to the other.
A view stays valid until the `take()` after next, i.e. while the Writer spools it and a
(pipelined) drain sends it: Writer.flush waits for the previous drain before it returns, so
the array is not written again before its last reader is done.
"""
from __future__ import annotations

import numpy as np

from shm.layout import TICK_DTYPE

_ITEM = TICK_DTYPE.itemsize


def _bytes(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint8)


class TickBuffer:
    def __init__(self, capacity: int) -> None:
        self._bufs = [np.empty(capacity, dtype=TICK_DTYPE) for _ in range(2)]
        self._cur = 0
        self.n = 0

    def append(self, batch: np.ndarray) -> None:
        """Copy `batch` (TICK_DTYPE) in. As bytes: numpy copies a padded structured dtype
        field by field, ~20x slower than one memcpy of the same rows."""
        buf, k = self._bufs[self._cur], len(batch)
        if self.n + k > len(buf):  # the array being filled is never in flight: safe to replace
            bigger = np.empty(max(2 * len(buf), self.n + k), dtype=TICK_DTYPE)
            _bytes(bigger)[:self.n * _ITEM] = _bytes(buf)[:self.n * _ITEM]
            self._bufs[self._cur] = buf = bigger
        _bytes(buf)[self.n * _ITEM:(self.n + k) * _ITEM] = _bytes(np.ascontiguousarray(batch))
        self.n += k

    def take(self) -> np.ndarray:
        """The rows appended so far (a view, see the module doc); the buffer is empty after."""
        out = self._bufs[self._cur][:self.n]
        self._cur ^= 1
        self.n = 0
        return out
