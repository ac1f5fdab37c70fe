"""Status table: roles, counters with their names, heartbeats and a plain-dict snapshot."""
from __future__ import annotations

import pytest

from shm.status import StatusTable


@pytest.fixture
def table(seg_name):
    t = StatusTable.create(seg_name("status"), n_slots=3, n_counters=4)
    yield t
    t.close()


def test_slot_fields_and_named_counters_show_in_snapshot(table):
    s = table.slot(1)
    s.set_role("feed:binance", ["msgs", "gaps", "resyncs"])
    s.set_pid(4242)
    s.set_start(10)
    s.set_restarts(2)
    s.set_state(3)
    s.beat(99)
    s.add(0)
    s.add(0, 4)
    s.set(2, 7)
    snap = table.snapshot()
    assert snap[1] == {"role": "feed:binance", "pid": 4242, "start_ns": 10, "heartbeat_ns": 99,
                       "restarts": 2, "state": 3,
                       "counters": {"msgs": 5, "gaps": 0, "resyncs": 7}}
    assert snap[0]["role"] == "" and snap[0]["counters"] == {}
    assert s.get(0) == 5 and s.heartbeat_ns() == 99 and s.counter_index("resyncs") == 2


def test_another_handle_sees_the_same_slots(table):
    table.slot(2).set_role("engine", ["ticks"])
    other = StatusTable.attach(table.name)
    try:
        assert other.n_slots == 3 and other.n_counters == 4
        other.slot(2).add(0, 3)
        assert table.slot(2).snapshot()["counters"] == {"ticks": 3}
    finally:
        other.close()


def test_bad_input_is_refused(table, seg_name):
    with pytest.raises(IndexError):
        table.slot(3)
    with pytest.raises(ValueError, match="at most 4"):
        table.slot(0).set_role("x", ["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="counter names"):
        table.slot(0).set_counter_names(["x" * 25])
    with pytest.raises(ValueError, match="role name"):
        table.slot(0).set_role("r" * 41, [])
    with pytest.raises(ValueError):
        StatusTable.create(seg_name("status"), n_slots=0)
