"""Book slots under concurrent writes from another process: every book a reader gets is
internally consistent (all levels, counts, stamps and status derive from one write counter),
and each symbol's version and book only move forward."""
from __future__ import annotations

import multiprocessing as mp
import os
import traceback

import numpy as np

from shm import registry
from shm.book import BOOK_OK, BOOK_STALE, BOOK_SYNCING, BookSlots

DEPTH = 20
SYMBOLS = 3
WRITES = 60_000
CTX = mp.get_context("spawn")


def book_for(k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The k-th write's book: level counts vary with k, every number derives from k."""
    nb, na = 1 + k % DEPTH, 1 + (k * 7) % DEPTH
    bids = np.stack([1000.0 + k - np.arange(nb), k + np.arange(nb) * 0.5], axis=1)
    asks = np.stack([1001.0 + k + np.arange(na), k + np.arange(na) * 0.25], axis=1)
    return bids, asks, BOOK_STALE if k % 11 == 0 else BOOK_OK


def writer(name: str, go) -> None:
    slots = BookSlots.attach(name)
    go.wait(60)
    for k in range(1, WRITES + 1):
        bids, asks, status = book_for(k)
        slots.write(k % SYMBOLS, bids, asks, ts_event=k, ts_recv=k * 10, status=status,
                    update_id=k)
    slots.close()


def check_reads(name: str, ready, writer_done, results) -> None:
    """Read every symbol until the writer is done; count consistent books with progress."""
    try:
        slots = BookSlots.attach(name)
        ready.set()
        last_version = [0] * SYMBOLS
        last_k = [0] * SYMBOLS
        fresh = 0
        finished = False
        while not finished:
            finished = writer_done.is_set()  # one more full pass after the writer stops
            for sym in range(SYMBOLS):
                v = slots.read(sym)
                assert v.version % 2 == 0 and v.version >= last_version[sym], "version went back"
                k = v.update_id
                if k == 0:
                    assert v.status == BOOK_SYNCING and v.n_bids == 0  # not written yet
                    continue
                assert k % SYMBOLS == sym and k >= last_k[sym], "book went back"
                bids, asks, status = book_for(k)
                assert (v.n_bids, v.n_asks) == (len(bids), len(asks)), "mixed level counts"
                assert np.array_equal(v.bids, bids) and np.array_equal(v.asks, asks), "torn levels"
                assert (v.ts_event, v.ts_recv, v.status) == (k, 10 * k, status), "torn header"
                fresh += v.version != last_version[sym]
                last_version[sym], last_k[sym] = v.version, k
        assert last_k == [WRITES - (WRITES - s) % SYMBOLS for s in range(SYMBOLS)]
        results.put((fresh, None))
        slots.close()
    except BaseException:  # noqa: BLE001 - any failure goes back to the test as text
        results.put((0, traceback.format_exc()))


def test_readers_in_other_processes_only_see_consistent_books():
    name = registry.segment_name("book", "stress")
    slots = BookSlots.create(name, n_symbols=SYMBOLS, depth=DEPTH)
    go, done, results = CTX.Event(), CTX.Event(), CTX.Queue()
    readies = [CTX.Event() for _ in range(2)]
    readers = [CTX.Process(target=check_reads, args=(name, ev, done, results)) for ev in readies]
    w = CTX.Process(target=writer, args=(name, go))
    try:
        for p in readers + [w]:
            p.start()
        assert all(ev.wait(60) for ev in readies)
        go.set()
        w.join(120)
        done.set()
        outs = [results.get(timeout=120) for _ in readers]
    finally:
        for p in readers + [w]:
            p.join(30)
            if p.is_alive():
                p.kill()
        slots.close()
        registry.unlink(name)
    assert w.exitcode == 0
    assert [err for _, err in outs] == [None, None]
    assert all(fresh > 100 for fresh, _ in outs)  # the readers really raced the writer
    assert registry.list_segments(os.getpid()) == []
