"""Rings across processes: a multi-million-record stress with several readers and one slow
reader that gets lapped (no torn, duplicated or out-of-order record; loss counted exactly),
wait strategies woken by a producer in another process, and a ping-pong over the futex
doorbell in which no wake-up may be lost."""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Iterator

import numpy as np
import pytest

from shm import registry
from shm.layout import KIND_BBO, KIND_TRADE, TICK_DTYPE
from shm.ring import RingReader, RingWriter
from shm.wait import STRATEGIES, make_wait_strategy

N = 2_000_000
SINGLES = 400_000        # the first records go one by one, the rest in batches
BATCH = 512
CAPACITY = 1 << 14
CTX = mp.get_context("spawn")


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Segment names to unlink after the test; nothing of this process may be left behind."""
    made: list[str] = []
    yield made
    for name in made:
        registry.unlink(name)
    assert registry.list_segments(os.getpid()) == []


# -- records whose every field derives from their sequence (so tearing is detectable) -----------
def checksum(seq: np.ndarray | int):
    return (seq * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF


def fields(seq: int) -> tuple:
    return (KIND_TRADE if seq & 1 else KIND_BBO, seq % 3 + 1, 1 if seq % 4 < 2 else -1,
            seq % 251, seq % 7, seq * 3, seq * 3 + 1, checksum(seq), seq * 0.5, seq * 0.25,
            seq + 0.5, 1.0, float(seq), -float(seq), seq)


def fill(block: np.ndarray, first: int) -> np.ndarray:
    s = np.arange(first, first + len(block), dtype=np.int64)
    block["kind"] = np.where(s & 1, KIND_TRADE, KIND_BBO)
    block["venue"], block["side"] = s % 3 + 1, np.where(s % 4 < 2, 1, -1)
    block["flags"], block["symbol_id"] = s % 251, s % 7
    block["ts_event"], block["ts_recv"], block["ts_pub"] = s * 3, s * 3 + 1, checksum(s)
    block["bid_px"], block["bid_sz"], block["ask_px"] = s * 0.5, s * 0.25, s + 0.5
    block["ask_sz"], block["price"], block["size"], block["update_id"] = 1.0, s, -s, s
    return block


def intact(b: np.ndarray) -> bool:
    s = b["update_id"]
    return bool(
        np.all(b["kind"] == np.where(s & 1, KIND_TRADE, KIND_BBO))
        and np.all(b["venue"] == s % 3 + 1) and np.all(b["side"] == np.where(s % 4 < 2, 1, -1))
        and np.all(b["flags"] == s % 251) and np.all(b["symbol_id"] == s % 7)
        and np.all(b["ts_event"] == s * 3) and np.all(b["ts_recv"] == s * 3 + 1)
        and np.all(b["ts_pub"] == checksum(s)) and np.all(b["bid_px"] == s * 0.5)
        and np.all(b["bid_sz"] == s * 0.25) and np.all(b["ask_px"] == s + 0.5)
        and np.all(b["ask_sz"] == 1.0) and np.all(b["price"] == s) and np.all(b["size"] == -s))


def producer(name: str, go) -> None:
    w = RingWriter.attach(name)
    go.wait(60)
    pub = w.publish
    for seq in range(SINGLES):
        pub(fields(seq))
    block = np.zeros(BATCH, dtype=TICK_DTYPE)
    seq = SINGLES
    while seq < N:
        n = min(BATCH, N - seq)
        w.publish_batch(fill(block[:n], seq))
        seq += n
    w.close()


def reader(name: str, slow: bool, ready, results) -> None:
    try:
        r = RingReader.attach(name, "phased", dtype=TICK_DTYPE)
        ready.set()
        last = -1
        while r.position < N:
            if slow:
                time.sleep(0.002)  # a consumer that cannot keep up
            elif not r.wait(5.0):
                continue
            pos, lost = r.position, r.lost_records
            b = r.poll(max_records=64 if slow else None)
            ids = b["update_id"]
            # exact accounting per poll: what came back plus what was counted lost is exactly
            # the span the reader advanced over
            assert len(ids) + (r.lost_records - lost) == r.position - pos, "loss miscounted"
            if len(ids):
                assert ids[0] >= pos and ids[-1] < r.position, "record outside the span"
                assert ids[0] > last and np.all(np.diff(ids) > 0), "out of order / duplicate"
                assert intact(b), "torn record"
                last = int(ids[-1])
        results.put((slow, r.received, r.lost_records, r.lapped_count, None))
        r.close()
    except BaseException:  # noqa: BLE001 - any failure goes back to the test as text
        results.put((slow, 0, 0, 0, traceback.format_exc()))


def test_stress_several_readers_one_lapped(names):
    name = registry.segment_name("ring", "stress")
    names.append(name)
    w = RingWriter.create(name, TICK_DTYPE, CAPACITY)
    go, results = CTX.Event(), CTX.Queue()
    roles = (False, False, True)
    readies = [CTX.Event() for _ in roles]
    procs = [CTX.Process(target=reader, args=(name, slow, ev, results))
             for slow, ev in zip(roles, readies)]
    try:
        for p in procs:
            p.start()
        assert all(ev.wait(60) for ev in readies)
        prod = CTX.Process(target=producer, args=(name, go))
        prod.start()
        go.set()
        prod.join(120)
        assert prod.exitcode == 0
        outs = [results.get(timeout=120) for _ in procs]
        assert w.published == N
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
        w.close()
    assert [o[4] for o in outs] == [None, None, None]
    for slow, received, lost, lapped, _ in outs:
        assert received + lost == N
        assert received > 0
        if slow:
            assert lapped > 0 and lost > 0
        else:
            assert (lost > 0) == (lapped > 0)


# -- wait strategies across processes ----------------------------------------------------------
ROW = fields(1)


def publish_once(name: str, go) -> None:
    w = RingWriter.attach(name)
    go.wait(60)
    time.sleep(0.05)  # let the reader get into its wait first
    w.publish(ROW)
    w.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_wakes_on_a_publish_from_another_process(names, strategy):
    name = registry.segment_name("ring", f"wake.{strategy}")
    names.append(name)
    w = RingWriter.create(name, TICK_DTYPE, 64)
    r = RingReader.attach(name, strategy)
    go = CTX.Event()
    p = CTX.Process(target=publish_once, args=(name, go))
    try:
        p.start()
        go.set()
        assert r.wait(30.0)
        assert r.poll()["update_id"].tolist() == [1]
    finally:
        p.join(30)
        r.close()
        w.close()
    assert p.exitcode == 0


ROUNDS = 2000


def echo(ping: str, pong: str, results) -> None:
    try:
        r = RingReader.attach(ping, make_wait_strategy("block", block_timeout_s=30.0),
                            from_start=True)  # the first ping may precede this attach
        w = RingWriter.attach(pong)
        for _ in range(ROUNDS):
            assert r.wait(60.0)
            for rec in r.poll():
                w.publish(tuple(rec.tolist()))
        results.put((r.received, r.parks, r.park_timeouts, None))
        r.close()
        w.close()
    except BaseException:  # noqa: BLE001 - any failure goes back to the test as text
        results.put((0, 0, 0, traceback.format_exc()))


def test_ping_pong_over_the_doorbell_loses_no_wake_up(names):
    """Each side parks (block strategy) for every message; the block timeout is far longer
    than the test, so a lost wake-up would show up as a park that ended by timeout."""
    ping = registry.segment_name("ring", "ping")
    pong = registry.segment_name("ring", "pong")
    names += [ping, pong]
    wp = RingWriter.create(ping, TICK_DTYPE, 64)
    RingWriter.create(pong, TICK_DTYPE, 64).close()
    r = RingReader.attach(pong, make_wait_strategy("block", block_timeout_s=30.0))
    results = CTX.Queue()
    p = CTX.Process(target=echo, args=(ping, pong, results))
    try:
        p.start()
        for seq in range(ROUNDS):
            wp.publish(fields(seq))
            assert r.wait(60.0)
            assert r.poll()["update_id"].tolist() == [seq]
        received, parks, timeouts, err = results.get(timeout=60)
    finally:
        p.join(30)
        r.close()
        wp.close()
    assert err is None
    assert received == ROUNDS and timeouts == 0 and r.park_timeouts == 0
    assert parks > 0 and r.parks > 0  # the doorbell really was used
