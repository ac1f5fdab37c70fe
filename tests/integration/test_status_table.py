"""Status table: a child's heartbeat and counters are visible to other processes; layout
mismatch refused; the slot count is bounded."""
from __future__ import annotations

import multiprocessing as mp

import pytest

from shm import registry
from shm.status import StatusLayoutError, StatusTable


def _child(name: str) -> None:
    t = StatusTable.attach(name)
    s = t.slot(2)
    s.set_counter_names(["msgs", "gaps"])
    for _ in range(1000):
        s.add(0)
    s.add(1, 7)
    s.beat(123_456)
    t.close()


def test_child_updates_are_visible_and_survive_child_exit():
    name = registry.segment_name("status", "test")
    table = StatusTable.create(name, n_slots=3, n_counters=4)
    try:
        table.slot(2).set_role("feed:okx", ["msgs", "gaps"])
        table.slot(2).set_pid(42)
        p = mp.get_context("spawn").Process(target=_child, args=(name,))
        p.start()
        p.join(20)
        assert p.exitcode == 0
        snap = table.snapshot()[2]
        assert snap["role"] == "feed:okx" and snap["pid"] == 42
        assert snap["heartbeat_ns"] == 123_456
        assert snap["counters"] == {"msgs": 1000, "gaps": 7}
    finally:
        table.close()
        registry.unlink(name)


def test_other_layout_is_refused_and_slots_bounded():
    name = registry.segment_name("status", "bogus")
    shm = registry.create(name, 4096)
    shm.close()
    try:
        with pytest.raises(StatusLayoutError):
            StatusTable.attach(name)
    finally:
        registry.unlink(name)
    name = registry.segment_name("status", "small")
    t = StatusTable.create(name, n_slots=1, n_counters=2)
    try:
        with pytest.raises(IndexError):
            t.slot(1)
        with pytest.raises(ValueError):
            t.slot(0).set_counter_names(["a", "b", "c"])
    finally:
        t.close()
        registry.unlink(name)
