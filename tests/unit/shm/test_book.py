"""Book slots in one process: levels, counts, zeroed tails, status, depth truncation, bad
input, and a writer that died mid-write."""
from __future__ import annotations

import numpy as np
import pytest

from shm.book import BOOK_CROSSED, BOOK_OK, BOOK_STALE, BOOK_SYNCING, BookReadError, BookSlots


@pytest.fixture
def slots(seg_name):
    made = []

    def make(n_symbols: int = 2, depth: int = 5) -> BookSlots:
        s = BookSlots.create(seg_name("book"), n_symbols, depth)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_fresh_slots_are_syncing_not_quotable(slots):
    s = slots()
    v = s.read(1)
    assert v.status == BOOK_SYNCING and not v.ok and v.n_bids == v.n_asks == 0


def test_write_then_read_round_trips(slots):
    s = slots(depth=5)
    bids = np.array([[100.0, 1.0], [99.5, 2.0]])
    s.write(0, bids, [(101.0, 3.0)], ts_event=11, ts_recv=12, status=BOOK_OK, update_id=7)
    v = s.read(0)
    assert v.ok and (v.n_bids, v.n_asks) == (2, 1)
    assert v.bids.tolist() == bids.tolist() and v.asks.tolist() == [[101.0, 3.0]]
    assert (v.ts_event, v.ts_recv, v.update_id, v.version) == (11, 12, 7, 2)
    assert s.read(1).n_bids == 0  # other symbols untouched


def test_shorter_book_zeroes_the_old_levels(slots):
    s = slots(depth=4)
    s.write(0, [(10.0, 1.0)] * 4, [(11.0, 1.0)] * 4, 1, 1)
    s.write(0, [(9.0, 2.0)], [], 2, 2)
    v = s.read(0)
    assert v.bids.tolist() == [[9.0, 2.0]] and v.n_asks == 0 and not v.ok
    assert not s._bids[0][1:].any() and not s._asks[0].any()


def test_levels_beyond_depth_are_dropped(slots):
    s = slots(depth=3)
    s.write(0, [(10.0 - i, 1.0) for i in range(6)], [(11.0, 2.0)], 1, 2)
    v = s.read(0)
    assert v.n_bids == 3 and v.bids[:, 0].tolist() == [10.0, 9.0, 8.0]


def test_status_is_visible_and_bumps_the_version(slots):
    s = slots()
    s.write(0, [(1.0, 1.0)], [(2.0, 1.0)], 1, 1)
    ver = s.version(0)
    s.set_status(0, BOOK_CROSSED)
    v = s.read(0)
    assert v.status == BOOK_CROSSED and not v.ok and v.version == ver + 2
    assert v.bids.tolist() == [[1.0, 1.0]]  # levels kept
    s.set_status(0, BOOK_STALE)
    assert s.status(0) == BOOK_STALE


def test_bad_input_is_refused(slots):
    s = slots(n_symbols=2)
    with pytest.raises(IndexError, match="out of range"):
        s.write(2, [], [], 0, 0)
    with pytest.raises(IndexError, match="out of range"):
        s.read(-1)
    with pytest.raises(ValueError, match=r"\(k, 2\)"):
        s.write(0, [1.0, 2.0, 3.0], [], 0, 0)
    with pytest.raises(ValueError, match="unknown book status"):
        s.write(0, [], [], 0, 0, status=9)
    with pytest.raises(ValueError, match="unknown book status"):
        s.set_status(0, -1)
    assert s.version(0) == 0  # nothing was half-written


def test_writer_dead_mid_write_is_reported_not_hung(slots):
    s = slots()
    s._versions[1] += 1  # odd forever: a writer that died inside write()
    with pytest.raises(BookReadError, match="never finished"):
        s.read(1)
    assert s.read(0).version == 0


def test_attached_reader_sees_the_writers_book(slots):
    s = slots(depth=2)
    s.write(1, [(5.0, 1.0)], [(6.0, 1.0)], 3, 4)
    other = BookSlots.attach(s.name)
    try:
        assert other.depth == 2 and other.n_symbols == 2
        assert other.read(1).asks.tolist() == [[6.0, 1.0]]
    finally:
        other.close()
