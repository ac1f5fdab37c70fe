"""Multi-process ring stress: one producer, several readers, one deliberately slow reader that
gets lapped. Every record a reader returns is intact and in order; loss is counted exactly."""
from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np
import pytest

from shm import registry
from shm.layout import KIND_TRADE, TICK_DTYPE, LayoutMismatch
from shm.ring import RingReader, RingWriter

N = 1_500_000
CAPACITY = 4096


def record_fields(seq: int) -> tuple:
    # every field derives from seq, so a torn record (half old, half new) is detectable
    return (KIND_TRADE, 2, 1, 0, seq % 7, seq, seq * 2, seq * 3, seq * 0.5, seq * 0.25,
            seq * 0.125, 1.0, float(seq), float(-seq), seq)


def check_batch(batch: np.ndarray) -> None:
    s = batch["update_id"]
    assert np.all(batch["ts_event"] == s) and np.all(batch["ts_recv"] == 2 * s)
    assert np.all(batch["ts_pub"] == 3 * s) and np.all(batch["price"] == s)
    assert np.all(batch["size"] == -s) and np.all(batch["bid_px"] == s * 0.5)
    assert np.all(batch["symbol_id"] == s % 7)


def producer(name: str, start_evt) -> None:
    w = RingWriter.attach(name)
    start_evt.wait(30)
    seq = 0
    block = np.zeros(256, dtype=TICK_DTYPE)
    while seq < N:
        if (seq // 10_000) % 2 == 0:  # alternate single publishes and batches
            w.publish(record_fields(seq))
            seq += 1
        else:
            n = min(256, N - seq)
            s = np.arange(seq, seq + n)
            b = block[:n]
            b["kind"], b["venue"], b["side"], b["symbol_id"] = KIND_TRADE, 2, 1, s % 7
            b["ts_event"], b["ts_recv"], b["ts_pub"] = s, 2 * s, 3 * s
            b["bid_px"], b["bid_sz"], b["ask_px"], b["ask_sz"] = s * 0.5, s * 0.25, s * 0.125, 1.0
            b["price"], b["size"], b["update_id"] = s, -s, s
            w.publish_batch(b)
            seq += n
    w.close()


def reader(name: str, slow: bool, ready, results) -> None:
    r = RingReader.attach(name, "phased", dtype=TICK_DTYPE)
    ready.set()
    expected = 0
    received = 0
    while r.position < N:
        if slow:
            time.sleep(0.002)
        else:
            r.wait(0.5)
        batch = r.poll()
        if len(batch) == 0:
            continue
        check_batch(batch)
        ids = batch["update_id"]
        assert np.all(np.diff(ids) > 0), "out of order"
        assert ids[0] >= expected
        expected = int(ids[-1]) + 1
        received += len(batch)
    results.put((slow, received, r.lost_records, r.lapped_count))
    r.close()


@pytest.mark.slow
def test_stress_many_readers_one_lapped():
    ctx = mp.get_context("spawn")
    name = registry.segment_name("ring", "stress")
    w = RingWriter.create(name, TICK_DTYPE, CAPACITY)
    try:
        start, results = ctx.Event(), ctx.Queue()
        readies = [ctx.Event() for _ in range(3)]
        readers = [ctx.Process(target=reader, args=(name, slow, ev, results))
                   for slow, ev in zip((False, False, True), readies)]
        for p in readers:
            p.start()
        for ev in readies:
            assert ev.wait(60)
        prod = ctx.Process(target=producer, args=(name, start))
        prod.start()
        start.set()
        prod.join(120)
        assert prod.exitcode == 0
        outs = [results.get(timeout=120) for _ in readers]
        for p in readers:
            p.join(30)
            assert p.exitcode == 0
    finally:
        w.close()
        registry.unlink(name)
    for slow, received, lost, lapped in outs:
        assert received + lost == N  # loss counted exactly
        if slow:
            assert lapped > 0 and lost > 0
    assert registry.list_segments(owner_pid=None).count(name) == 0


def test_lapped_reader_resyncs_to_oldest_and_counts():
    name = registry.segment_name("ring", "lap")
    w = RingWriter.create(name, TICK_DTYPE, 8)
    r = RingReader.attach(name)
    try:
        for s in range(20):
            w.publish(record_fields(s))
        batch = r.poll()
        assert list(batch["update_id"]) == list(range(12, 20))
        assert r.lost_records == 12 and r.lapped_count == 1
        w.publish(record_fields(20))
        assert list(r.poll()["update_id"]) == [20]
        assert len(r.poll()) == 0
    finally:
        r.close()
        w.close()
        registry.unlink(name)


def test_batch_wraps_and_max_records():
    name = registry.segment_name("ring", "wrap")
    w = RingWriter.create(name, TICK_DTYPE, 16)
    r = RingReader.attach(name)
    try:
        b = np.zeros(12, dtype=TICK_DTYPE)
        b["update_id"] = np.arange(12)
        w.publish_batch(b)
        assert len(r.poll(max_records=5)) == 5
        b["update_id"] = np.arange(12, 24)
        w.publish_batch(b)  # wraps around the end of the ring; the reader (at 5) is lapped
        got = r.poll()
        assert list(got["update_id"]) == list(range(8, 24)) and r.lost_records == 3
        big = np.zeros(40, dtype=TICK_DTYPE)
        big["update_id"] = np.arange(100, 140)
        w.publish_batch(big)  # bigger than the ring: only the newest 16 are kept
        assert list(r.poll()["update_id"]) == list(range(124, 140))
        assert r.lost_records == 3 + 24
    finally:
        r.close()
        w.close()
        registry.unlink(name)


def test_reader_refuses_other_layout_and_wrong_dtype():
    name = registry.segment_name("ring", "other")
    shm = registry.create(name, 8192)
    shm.close()
    try:
        with pytest.raises(LayoutMismatch, match="bad magic"):
            RingReader.attach(name)
    finally:
        registry.unlink(name)
    w = RingWriter.create(name, np.dtype([("x", "<i8")]), 16)
    try:
        with pytest.raises(LayoutMismatch, match="record layout differs"):
            RingReader.attach(name, dtype=TICK_DTYPE)
        # and a newer layout version is refused with a clear message
        import struct
        struct.pack_into("<I", w._m.shm.buf, 8, 99)
        with pytest.raises(LayoutMismatch, match="layout version 99"):
            RingReader.attach(name)
    finally:
        w.close()
        registry.unlink(name)


def test_capacity_must_be_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        RingWriter.create(registry.segment_name("ring", "bad"), TICK_DTYPE, 1000)
