"""Book slots under concurrent writes: a reader never sees a mixed book; status is visible."""
from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from shm import registry
from shm.book import BOOK_CROSSED, BOOK_OK, BOOK_SYNCING, BookSlots

DEPTH = 20
WRITES = 60_000


def book_for(k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Every level derives from k; the level count varies with k too."""
    n = 1 + k % DEPTH
    i = np.arange(n)
    bids = np.stack([1000.0 + k - i, k + i * 0.5], axis=1)
    asks = np.stack([1001.0 + k + i, k + i * 0.25], axis=1)
    return bids, asks, n


def writer(name: str, go) -> None:
    slots = BookSlots.attach(name)
    go.wait(30)
    for k in range(WRITES):
        bids, asks, _ = book_for(k)
        slots.write(k % 2, bids, asks, ts_event=k, ts_recv=k * 10, status=BOOK_OK, update_id=k)
    slots.close()


def test_readers_see_only_consistent_books():
    ctx = mp.get_context("spawn")
    name = registry.segment_name("book", "stress")
    slots = BookSlots.create(name, n_symbols=2, depth=DEPTH)
    try:
        assert slots.read(0).status == BOOK_SYNCING  # nothing is in sync until the feed says so
        go = ctx.Event()
        p = ctx.Process(target=writer, args=(name, go))
        p.start()
        go.set()
        seen = 0
        last = -1
        while p.is_alive() or seen == 0:
            v = slots.read(1)
            k = v.update_id
            if v.status != BOOK_OK:
                continue
            bids, asks, n = book_for(k)
            assert v.n_bids == n and v.n_asks == n
            assert np.array_equal(v.bids, bids) and np.array_equal(v.asks, asks)
            assert v.ts_event == k and v.ts_recv == 10 * k
            assert k >= last
            last = k
            seen += 1
        p.join(30)
        assert p.exitcode == 0 and seen > 100
    finally:
        slots.close()
        registry.unlink(name)


def test_status_changes_and_depth_truncation():
    name = registry.segment_name("book", "status")
    slots = BookSlots.create(name, n_symbols=1, depth=3)
    try:
        slots.write(0, [(10.0, 1.0)] * 5, [(11.0, 2.0)], ts_event=1, ts_recv=2)
        v = slots.read(0)
        assert v.n_bids == 3 and v.n_asks == 1 and v.ok
        ver = slots.version(0)
        slots.set_status(0, BOOK_CROSSED)
        assert slots.read(0).status == BOOK_CROSSED and not slots.read(0).ok
        assert slots.version(0) == ver + 2
        slots.write(0, [], [], ts_event=3, ts_recv=4, status=BOOK_OK)
        assert not slots.read(0).ok  # an empty side is not quotable
    finally:
        slots.close()
        registry.unlink(name)
