"""Hot-path scheduling: `[pipeline] realtime_priority` and `[pipeline.wait]` for the engine."""
from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.process import HOT_PATH_ROLES, set_realtime


def _child(priority: int, out: object) -> None:
    ok = set_realtime(priority)
    out.put((ok, os.sched_getscheduler(0), os.sched_getparam(0).sched_priority))  # type: ignore[attr-defined]


def _in_child(priority: int) -> tuple[bool, int, int]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(priority, q))
    p.start()
    res = q.get(timeout=30)
    p.join(10)
    return res


def test_zero_leaves_scheduling_alone() -> None:
    ok, policy, _ = _in_child(0)
    assert not ok and policy == os.SCHED_OTHER


def test_a_priority_gives_sched_fifo_where_permitted_and_a_logged_refusal_elsewhere() -> None:
    ok, policy, prio = _in_child(7)
    if ok:
        assert (policy, prio) == (os.SCHED_FIFO, 7)
    else:   # no root / CAP_SYS_NICE: the process carries on, normally scheduled
        assert policy == os.SCHED_OTHER


def test_only_the_tick_and_order_path_is_raised() -> None:
    assert set(HOT_PATH_ROLES) == {"feed", "engine", "gateway"}


def test_config_defaults_and_bounds() -> None:
    c = parse_config({})
    assert c.pipeline.realtime_priority == 0
    assert (c.pipeline.wait.engine, c.pipeline.wait.engine_spin_us,
            c.pipeline.wait.engine_yield_us) == ("phased", 20.0, 100.0)
    c = parse_config({"pipeline": {"realtime_priority": 10,
                                   "wait": {"engine": "block", "engine_yield_us": 2000}}})
    assert c.pipeline.realtime_priority == 10 and c.pipeline.wait.engine == "block"
    for bad in ({"realtime_priority": 100}, {"wait": {"engine": "spin"}},
                {"wait": {"engine_yield_us": -1}}, {"wait": {"writer": "sleep"}}):
        with pytest.raises(ConfigError):
            parse_config({"pipeline": bad})
