"""A child of a supervisor that dies (SIGKILL here) is told to stop, not left running as an
orphan: `stop_with_parent` has the kernel send it SIGTERM, the signal every role already
handles as an orderly stop; and a parent that died before the request is caught at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.process import stop_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux's")

# the "supervisor": starts a child that asks to stop with it, prints the child's pid, waits
PARENT = textwrap.dedent("""
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
    print(child.pid, flush=True)
    child.wait()
""")
# the "role": a SIGTERM handler that records the stop, as ProcessContext.request_stop does
CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from pipeline.process import stop_with_parent
    out = sys.argv[1]
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append("SIGTERM"))
    assert stop_with_parent(os.getppid(), lambda: stopped.append("orphaned"))
    open(out + ".ready", "w").close()
    deadline = time.monotonic() + 20
    while not stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    with open(out + ".tmp", "w") as f:   # renamed into place: never read half-written
        f.write(",".join(stopped) or "still running")
    os.replace(out + ".tmp", out)
""")


def _wait_for(path: Path, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_a_killed_supervisors_child_gets_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "child"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, str(out)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        _wait_for(Path(str(out) + ".ready"))
        assert not out.exists()          # the child runs while its parent lives
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        _wait_for(out)
        assert out.read_text() == "SIGTERM"
    finally:
        parent.kill()
        try:
            os.kill(child_pid, signal.SIGKILL)
        except (ProcessLookupError, UnboundLocalError):
            pass


def test_a_parent_already_gone_stops_the_child_at_once() -> None:
    calls: list[str] = []
    # this process's parent is pytest's parent, not pid 1: a pid that cannot be our parent
    # stands for "the supervisor died between our start and the request"
    assert stop_with_parent(os.getppid() + 1_000_000, lambda: calls.append("orphaned"))
    assert calls == ["orphaned"]
    # the request itself is kept for this process; undo it so pytest is not SIGTERMed
    # if its own parent goes away first
    import ctypes
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)


def test_a_living_parent_leaves_the_child_running() -> None:
    import ctypes
    calls: list[str] = []
    try:
        assert stop_with_parent(os.getppid(), lambda: calls.append("orphaned"))
        assert calls == []
    finally:
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
