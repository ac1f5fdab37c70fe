"""The writer's double tick buffer: rows come out as appended, growth keeps them, and a taken
view is not overwritten by the batch after it."""
from __future__ import annotations

import numpy as np

from shm.layout import TICK_DTYPE
from writer.tick_buffer import TickBuffer


def _rows(start: int, n: int) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    b["update_id"] = np.arange(start, start + n)
    return b


def test_take_returns_what_was_appended_then_starts_empty() -> None:
    buf = TickBuffer(8)
    buf.append(_rows(0, 3))
    buf.append(_rows(3, 2))
    assert buf.take()["update_id"].tolist() == [0, 1, 2, 3, 4]
    assert buf.n == 0 and len(buf.take()) == 0


def test_growing_keeps_rows() -> None:
    buf = TickBuffer(2)
    for i in range(5):
        buf.append(_rows(i * 3, 3))
    assert buf.take()["update_id"].tolist() == list(range(15))


def test_a_taken_view_survives_the_next_batch() -> None:
    buf = TickBuffer(4)
    buf.append(_rows(0, 4))
    first = buf.take()                 # being spooled and sent...
    buf.append(_rows(100, 4))          # ...while the next batch fills the other array
    second = buf.take()
    assert first["update_id"].tolist() == [0, 1, 2, 3]
    assert second["update_id"].tolist() == [100, 101, 102, 103]


def test_a_strided_batch_is_copied_row_by_row() -> None:
    buf = TickBuffer(4)
    buf.append(_rows(0, 10)[::3])      # not contiguous (a ring view need not be)
    assert buf.take()["update_id"].tolist() == [0, 3, 6, 9]
