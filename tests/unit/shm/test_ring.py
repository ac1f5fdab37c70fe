"""Ring semantics in one process: publish/poll, batches across the wrap, lapped readers resync
and count loss exactly, slots caught mid-write are never returned, bad input is refused."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from shm.layout import KIND_TRADE, TICK_DTYPE
from shm.ring import RingReader, RingWriter


def row(seq: int) -> tuple:
    return (KIND_TRADE, 1, 1, 0, seq % 5, seq, seq + 1, seq + 2, 0.0, 0.0, 0.0, 0.0,
            float(seq), 1.0, seq)


def batch(first: int, n: int) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    b["update_id"] = np.arange(first, first + n)
    b["price"] = b["update_id"]
    return b


@pytest.fixture
def ring(seg_name):
    made = []

    def make(capacity: int, **kw):
        name = seg_name()
        w = RingWriter.create(name, TICK_DTYPE, capacity)
        r = RingReader.attach(name, dtype=TICK_DTYPE, **kw)
        made.extend((r, w))
        return w, r

    yield make
    for x in made:
        x.close()


def test_single_publish_round_trips_every_field(ring):
    w, r = ring(16)
    assert w.publish(row(0)) == 0 and w.publish(row(1)) == 1
    got = r.poll()
    assert [tuple(x) for x in got.tolist()] == [row(0), row(1)]
    assert r.received == 2 and r.lost_records == 0 and w.published == 2
    assert len(r.poll()) == 0


def test_poll_returns_a_copy_not_a_view(ring):
    w, r = ring(4)
    w.publish(row(7))
    got = r.poll()
    for s in range(8, 20):  # overwrite every slot several times
        w.publish(row(s))
    assert got["update_id"].tolist() == [7] and got["price"].tolist() == [7.0]


def test_reader_starts_at_the_producers_position_unless_from_start(ring):
    w, _ = ring(8)
    for s in range(3):
        w.publish(row(s))
    late = RingReader.attach(w.name)
    early = RingReader.attach(w.name, from_start=True)
    try:
        w.publish(row(3))
        assert late.poll()["update_id"].tolist() == [3]
        assert early.poll()["update_id"].tolist() == [0, 1, 2, 3]
    finally:
        late.close()
        early.close()


def test_lapped_reader_is_told_counts_exactly_and_resyncs_to_oldest(ring):
    w, r = ring(8)
    for s in range(20):
        w.publish(row(s))
    got = r.poll()
    assert got["update_id"].tolist() == list(range(12, 20))
    assert r.lapped_count == 1 and r.lost_records == 12
    w.publish(row(20))
    assert r.poll()["update_id"].tolist() == [20]
    assert r.lapped_count == 1 and r.received + r.lost_records == 21


def test_batches_wrap_and_max_records_limits_a_poll(ring):
    w, r = ring(16)
    assert w.publish_batch(batch(0, 12)) == 0
    assert r.poll(max_records=5)["update_id"].tolist() == list(range(5))
    assert w.publish_batch(batch(12, 12)) == 12  # wraps; the reader (at 5) is lapped by 3
    assert r.poll()["update_id"].tolist() == list(range(8, 24))
    assert r.lost_records == 3
    w.publish_batch(batch(24, 40))  # bigger than the ring: only the newest 16 survive
    assert w.published == 64
    assert r.poll()["update_id"].tolist() == list(range(48, 64))
    assert r.lost_records == 3 + 24 and r.received + r.lost_records == 64


def test_singles_and_batches_interleave_in_sequence(ring):
    w, r = ring(32)
    w.publish(row(0))
    w.publish_batch(batch(1, 10))
    w.publish(row(11))
    assert r.poll()["update_id"].tolist() == list(range(12))


def test_slot_caught_mid_write_is_dropped_and_counted(ring):
    w, r = ring(8)
    for s in range(6):
        w.publish(row(s))
    # what a reader sees if the producer is rewriting slot 3 (it has lapped the reader there)
    w._m.stamps[3] = ~11
    got = r.poll()
    assert got["update_id"].tolist() == [0, 1, 2, 4, 5]
    assert r.lost_records == 1 and r.lapped_count == 1


def test_producer_reattaching_resumes_the_sequence(ring):
    w, r = ring(8)
    w.publish(row(0))
    w2 = RingWriter.attach(w.name)
    try:
        assert w2.publish(row(1)) == 1
        assert r.poll()["update_id"].tolist() == [0, 1]
    finally:
        w2.close()


def test_bad_input_is_refused(ring, seg_name):
    w, r = ring(8)
    with pytest.raises(struct.error):
        w.publish((1, 2, 3))
    with pytest.raises(TypeError, match="dtype differs"):
        w.publish_batch(np.zeros(3, dtype=[("x", "<i8")]))
    assert w.published == 0 and len(r.poll()) == 0
    with pytest.raises(ValueError, match="power of two"):
        RingWriter.create(seg_name(), TICK_DTYPE, 1000)
    with pytest.raises(ValueError, match="structured"):
        RingWriter.create(seg_name(), np.int64, 16)
    with pytest.raises(FileNotFoundError):
        RingReader.attach(seg_name())


def test_closed_writer_refuses_to_publish(ring):
    w, _ = ring(8)
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.publish(row(0))
