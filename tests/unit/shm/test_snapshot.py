"""SnapshotSlot: whole documents, written by one process, read consistently by others."""
from __future__ import annotations

import pytest

from shm.snapshot import SnapshotSlot, SnapshotTooLarge


def test_round_trip_and_latest_wins(seg_name) -> None:
    name = seg_name("snapshot")
    w = SnapshotSlot.create(name, capacity=64)
    r = SnapshotSlot.attach(name)
    assert r.read() is None  # nothing published yet
    w.write(b'{"a":1}')
    w.write(b'{"b":2222}')
    assert r.read() == b'{"b":2222}'
    w.write(b"x")  # shorter than before: no stale tail
    assert r.read() == b"x"
    r.close()
    w.close()


def test_too_large_is_refused_and_keeps_the_old_document(seg_name) -> None:
    name = seg_name("snapshot")
    w = SnapshotSlot.create(name, capacity=8)
    w.write(b"ok")
    with pytest.raises(SnapshotTooLarge):
        w.write(b"0123456789")
    assert w.read() == b"ok"
    w.close()


def test_a_writer_dead_mid_write_reads_as_none(seg_name) -> None:
    name = seg_name("snapshot")
    w = SnapshotSlot.create(name, capacity=8)
    w.write(b"ok")
    w._ctl[0] += 1  # a writer that died between the two version bumps
    assert w.read() is None
    w.close()


def test_other_segment_kinds_are_refused(seg_name) -> None:
    from shm.layout import LayoutMismatch, TICK_DTYPE
    from shm.ring import RingWriter
    name = seg_name("ring")
    ring = RingWriter.create(name, TICK_DTYPE, 64)
    with pytest.raises(LayoutMismatch):
        SnapshotSlot.attach(name)
    ring.close()
