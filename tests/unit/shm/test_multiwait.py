"""MultiWait: one park covering several rings' doorbells and a local wake word."""
from __future__ import annotations

import threading

import pytest

from shm.layout import TICK_DTYPE
from shm.multiwait import HAVE_FUTEX_WAITV, MultiWait, WakeWord
from shm.ring import RingReader, RingWriter

ROW = (1, 1, 0, 0, 0, 0, 0, 0, 1.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0)


@pytest.fixture
def two_rings(seg_name):
    names = [seg_name("ring"), seg_name("ring")]
    writers = [RingWriter.create(n, TICK_DTYPE, 64) for n in names]
    readers = [RingReader.attach(n) for n in names]
    yield writers, readers
    for r in readers:
        r.close()
    for w in writers:
        w.close()


def _waiter(readers, wake=None) -> MultiWait:
    return MultiWait([r._m.doorbell for r in readers], wake)


def test_data_already_there_returns_at_once(two_rings) -> None:
    writers, readers = two_rings
    writers[1].publish(ROW)
    mw = _waiter(readers)
    assert mw.wait(lambda: any(r.available() for r in readers), 5.0)
    assert mw.parks == 0


def test_times_out_when_nothing_happens(two_rings) -> None:
    _, readers = two_rings
    mw = _waiter(readers)
    assert not mw.wait(lambda: any(r.available() for r in readers), 0.05)


@pytest.mark.skipif(not HAVE_FUTEX_WAITV, reason="kernel without futex_waitv: fallback path")
@pytest.mark.parametrize("which", [0, 1])
def test_a_publish_on_any_ring_wakes_the_parked_waiter(two_rings, which) -> None:
    writers, readers = two_rings
    mw = _waiter(readers)
    parked = threading.Event()

    def publisher() -> None:
        while not any(r._m.doorbell.parked() for r in readers):
            parked.wait(0.001)
        writers[which].publish(ROW)

    t = threading.Thread(target=publisher)
    t.start()
    assert mw.wait(lambda: any(r.available() for r in readers), 30.0)
    t.join()
    assert mw.parks == 1 and mw.timeouts == 0
    assert all(r._m.doorbell.parked() == 0 for r in readers)  # parked counts restored


@pytest.mark.skipif(not HAVE_FUTEX_WAITV, reason="kernel without futex_waitv: fallback path")
def test_the_wake_word_wakes_the_waiter(two_rings) -> None:
    _, readers = two_rings
    wake = WakeWord()
    mw = _waiter(readers, wake)
    flag = threading.Event()

    def waker() -> None:
        while not readers[0]._m.doorbell.parked():
            flag.wait(0.001)
        flag.set()
        wake.wake()

    t = threading.Thread(target=waker)
    t.start()
    assert mw.wait(flag.is_set, 30.0)
    t.join()
    assert mw.timeouts == 0
