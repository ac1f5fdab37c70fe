"""Wait strategies in one process: each returns as soon as data is there, returns False by its
timeout when none comes, and a parked reader is counted and woken by the producer's ring."""
from __future__ import annotations

import threading

import pytest

from shm.layout import TICK_DTYPE
from shm.ring import RingReader, RingWriter
from shm.wait import STRATEGIES, make_wait_strategy

ROW = (1, 1, 0, 0, 0, 0, 0, 0, 1.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0)


@pytest.fixture
def ring(seg_name):
    made = []

    def make(strategy):
        w = RingWriter.create(seg_name(), TICK_DTYPE, 16)
        r = RingReader.attach(w.name, strategy)
        made.extend((r, w))
        return w, r

    yield make
    for x in made:
        x.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_returns_true_when_data_is_there_and_false_on_timeout(ring, strategy):
    w, r = ring(strategy)
    assert r.wait(0.02) is False
    w.publish(ROW)
    assert r.wait(0.02) is True
    r.poll()
    assert r.wait(0.0) is False


def test_parked_reader_is_counted_and_woken_by_the_ring(ring):
    # a block timeout far beyond the test's patience: only the producer's ring can wake it
    w, r = ring(make_wait_strategy("block", block_timeout_s=60.0))
    bell = w._m.doorbell
    woke = []
    t = threading.Thread(target=lambda: woke.append(r.wait(60.0)))
    t.start()
    while bell.parked() == 0 and t.is_alive():
        threading.Event().wait(0.001)
    assert bell.parked() == 1
    # the count goes up just before the reader's last look and its futex sleep: publishing
    # in that gap is seen by the look (no park: `parks` stays 0). Give it time to sleep.
    threading.Event().wait(0.1)
    w.publish(ROW)
    t.join(30)
    assert woke == [True] and bell.parked() == 0
    assert r.parks == 1 and r.park_timeouts == 0


def test_unknown_strategy_or_parameter_is_refused():
    with pytest.raises(ValueError, match="unknown wait strategy"):
        make_wait_strategy("nap")
    with pytest.raises(ValueError, match="bad wait strategy parameter"):
        make_wait_strategy("phased", spin_s=-1.0)
    with pytest.raises(ValueError, match="bad wait strategy parameter"):
        make_wait_strategy("phased", nap_s=1.0)
