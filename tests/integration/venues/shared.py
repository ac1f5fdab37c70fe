"""Pieces every venue's loopback tests share: bounded waiting for a condition, and the
shared-memory tick ring + book slots a feed under test writes into."""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shm import registry
from shm.book import BookSlots
from shm.layout import TICK_DTYPE
from shm.ring import RingReader, RingWriter


async def until(pred: Callable[[], bool], timeout: float = 5.0, what: str = "condition",
                event: asyncio.Event | None = None,
                step: Callable[[], Any] | None = None) -> None:
    """Wait (bounded) for `pred`; woken by `event` when given, else re-checked each 10 ms.
    `step` runs before each re-check (e.g. keep the market moving until a book syncs)."""
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            r = step()
            if asyncio.iscoroutine(r):
                await r
        if pred():
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        if event is not None:
            event.clear()
            if pred():
                return
            try:
                await asyncio.wait_for(event.wait(), timeout=min(left, 0.5))
            except TimeoutError:
                pass
        else:
            await asyncio.sleep(0.01)


@contextmanager
def feed_segments(tag: str, n_symbols: int, depth: int, capacity: int = 4096
                  ) -> Iterator[tuple[Any, Any, Any]]:
    """(ring writer, book slots, ring reader) over fresh segments, unlinked afterwards; the
    test fails if either segment outlives it."""
    pid = os.getpid()
    tag = f"{tag}{id(object())}"
    rname, bname = registry.segment_name("ring", tag), registry.segment_name("book", tag)
    ring = RingWriter.create(rname, TICK_DTYPE, capacity)
    books = BookSlots.create(bname, n_symbols=n_symbols, depth=depth)
    reader = RingReader.attach(rname)
    try:
        yield ring, books, reader
    finally:
        reader.close()
        ring.close()
        books.close()
        registry.unlink(rname)
        registry.unlink(bname)
    assert not [s for s in registry.list_segments(pid) if s in (rname, bname)]
