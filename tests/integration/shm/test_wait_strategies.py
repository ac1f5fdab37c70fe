"""Every wait strategy wakes when a record arrives from another process and times out when
none does; a parked reader is woken through the futex doorbell."""
from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from shm import registry
from shm.layout import TICK_DTYPE
from shm.ring import RingReader, RingWriter
from shm.wait import STRATEGIES, make_wait_strategy

ROW = (1, 1, 0, 0, 0, 0, 0, 0, 1.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0)


def publish_later(name: str, delay: float) -> None:
    w = RingWriter.attach(name)
    time.sleep(delay)
    w.publish(ROW)
    w.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_wakes_on_publish_from_another_process(strategy):
    name = registry.segment_name("ring", f"wait.{strategy}")
    w = RingWriter.create(name, TICK_DTYPE, 64)
    r = RingReader.attach(name, strategy)
    try:
        p = mp.get_context("spawn").Process(target=publish_later, args=(name, 0.3))
        p.start()
        assert r.wait(20.0)  # far longer than needed: returning True means it woke on data
        assert len(r.poll()) == 1
        p.join(10)
        assert not r.wait(0.05)  # nothing more: times out
    finally:
        r.close()
        w.close()
        registry.unlink(name)


def test_parked_reader_is_counted_while_blocked():
    name = registry.segment_name("ring", "parked")
    w = RingWriter.create(name, TICK_DTYPE, 64)
    r = RingReader.attach(name, "block")
    try:
        bell = w._m.doorbell
        assert bell.parked() == 0
        import threading
        seen = []
        t = threading.Thread(target=lambda: seen.append(r.wait(10.0)))
        t.start()
        deadline = time.monotonic() + 5
        while bell.parked() == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert bell.parked() == 1
        w.publish(ROW)
        t.join(5)
        assert seen == [True] and bell.parked() == 0
    finally:
        r.close()
        w.close()
        registry.unlink(name)


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown wait strategy"):
        make_wait_strategy("nap")
