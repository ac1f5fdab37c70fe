"""Segment registry: an attaching child's exit never unlinks a segment; stale segments of a
dead supervisor are cleaned, a live one's are not."""
from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys

from shm import registry


def _attach_and_write(name: str) -> None:
    shm = registry.attach(name)
    shm.buf[0] = 42
    shm.close()


def test_child_exit_does_not_unlink():
    name = registry.segment_name("test", "attach")
    shm = registry.create(name, 4096)
    try:
        p = mp.get_context("spawn").Process(target=_attach_and_write, args=(name,))
        p.start()
        p.join(20)
        assert p.exitcode == 0
        again = registry.attach(name)
        assert again.buf[0] == 42
        again.close()
    finally:
        shm.close()
        assert registry.unlink(name)
    assert not registry.unlink(name)


def test_cleanup_stale_removes_only_dead_owners():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = registry.segment_name("ring", "ticks.binance", owner_pid=dead_pid)
    live = registry.segment_name("ring", "ticks.binance")
    a, b = registry.create(stale, 1024), registry.create(live, 1024)
    a.close(), b.close()
    try:
        removed = registry.cleanup_stale()
        assert stale in removed and live not in removed
        assert registry.list_segments(owner_pid=os.getpid()) == [live]
    finally:
        registry.unlink(live)
        registry.unlink(stale)


def test_create_replaces_leftover_of_same_name():
    name = registry.segment_name("test", "replace")
    first = registry.create(name, 1024)
    first.buf[0] = 7
    first.close()
    second = registry.create(name, 2048)
    try:
        assert second.size >= 2048 and second.buf[0] == 0
    finally:
        second.close()
        registry.unlink(name)
