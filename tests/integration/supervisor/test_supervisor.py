"""The supervisor restarts dead and silent children, and stops everything in order on SIGTERM
with no leaked processes or shared-memory segments."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from shm import registry

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable

SCRIPT = textwrap.dedent("""
    import json, sys
    from pipeline.config import load_config
    from pipeline.logging_setup import setup_logging
    from pipeline.supervisor import Supervisor
    if __name__ == "__main__":  # children are spawned: they re-import this file
        setup_logging("INFO", "supervisor")
        cfg = load_config(sys.argv[1])
        modules = json.loads(sys.argv[2])
        sys.exit(Supervisor(cfg, sys.argv[1], summary_path=sys.argv[3], modules=modules).run())
""")

CONFIG = textwrap.dedent("""
    [system]
    data_dir = "{data}"
    [pipeline]
    mode = "{mode}"
    tick_ring_capacity = 1024
    shutdown_timeout_s = 5.0
    [pipeline.restart]
    max_restarts = {max_restarts}
    backoff_initial_ms = 50
    backoff_max_ms = 200
    heartbeat_timeout_ms = {hb_timeout}
    [exchanges.gate]
    enabled = false
""")


def start(tmp_path: Path, modules: dict[str, str], *, max_restarts: int = 5,
          hb_timeout: int = 1500, env_extra: dict[str, str] | None = None,
          mode: str = "replay") -> subprocess.Popen:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG.format(data=tmp_path / "data", max_restarts=max_restarts,
                                 hb_timeout=hb_timeout, mode=mode))
    script = tmp_path / "sup.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HFT_TEST_STOP_LOG": str(tmp_path / "stops"),
           **(env_extra or {})}
    return subprocess.Popen([PY, str(script), str(cfg), json.dumps(modules),
                             str(tmp_path / "summary.json")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def hft_children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def statuses(pid: int) -> dict[str, dict]:
    from pipeline.cli import status_rows
    return {r["name"]: r for r in status_rows() if r["supervisor"] == pid}


ALL_OK = {r: "tests.integration.supervisor.roles"
          for r in ("feed", "writer", "gateway", "engine", "sim")}


def stop_and_check(proc: subprocess.Popen) -> str:
    kids = hft_children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert registry.list_segments(owner_pid=proc.pid) == [], "leaked shm segments"
    # the multiprocessing resource tracker leaves when it sees the supervisor's pipe close
    _, alive = psutil.wait_procs(kids, timeout=5)
    assert [k for k in alive if k.status() != psutil.STATUS_ZOMBIE] == [], "leaked processes"
    return out


def test_processes_named_pinned_and_stopped_in_order(tmp_path):
    proc = start(tmp_path, ALL_OK)
    try:
        wait_for(lambda: len(statuses(proc.pid)) == 6
                 and all(r["state"] == "running" for r in statuses(proc.pid).values()))
        rows = statuses(proc.pid)
        assert set(rows) == {"feed:binance", "feed:okx", "writer", "gateway:binance",
                             "gateway:okx", "engine"}
        titles = {p.cmdline()[0] for p in hft_children(proc.pid) if p.cmdline()}
        assert {"hft:engine", "hft:feed:okx", "hft:gateway:binance", "hft:writer"} <= titles
        for r in rows.values():
            assert r["heartbeat_age_s"] is not None and r["heartbeat_age_s"] < 1.5
            assert r["cores"]
    finally:
        out = stop_and_check(proc)
    order = (tmp_path / "stops").read_text().split()
    assert order.index("engine") < min(order.index("gateway:binance"), order.index("gateway:okx"))
    assert max(order.index("gateway:binance"), order.index("gateway:okx")) < order.index("feed:okx")
    assert order.index("feed:binance") < order.index("writer")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["stop_reason"] == "SIGTERM"
    assert "hft run summary" in out


def test_in_sim_mode_the_rest_start_once_the_simulator_serves(tmp_path):
    """The simulator beats only once its venues listen; nothing that connects to it starts
    before that, so no feed or gateway meets a refused connection at start-up."""
    log = tmp_path / "starts"
    modules = {r: "tests.integration.supervisor.start_log_role" for r in ALL_OK}
    proc = start(tmp_path, modules, mode="sim",
                 env_extra={"HFT_TEST_START_LOG": str(log), "HFT_TEST_SIM_DELAY_S": "1.0"})
    try:
        wait_for(lambda: len(statuses(proc.pid)) == 7
                 and all(r["state"] == "running" for r in statuses(proc.pid).values()))
    finally:
        stop_and_check(proc)
    at = dict(line.split() for line in log.read_text().splitlines())
    serving = int(at.pop("serving:sim"))
    assert int(at.pop("start:sim")) + 900_000_000 < serving     # it really took its second
    assert set(at) == {"start:feed:binance", "start:feed:okx", "start:writer",
                       "start:gateway:binance", "start:gateway:okx", "start:engine"}
    assert all(int(t) > serving for t in at.values()), at


def test_crashed_child_is_restarted_with_backoff(tmp_path):
    modules = {**ALL_OK, "engine": "tests.integration.supervisor.crashing_role"}
    crash = tmp_path / "crashes"
    proc = start(tmp_path, modules, env_extra={"HFT_TEST_CRASH_FILE": str(crash),
                                               "HFT_TEST_CRASHES": "2"})
    try:
        wait_for(lambda: crash.exists() and int(crash.read_text()) == 3)
        wait_for(lambda: statuses(proc.pid).get("engine", {}).get("restarts") == 2
                 and statuses(proc.pid)["engine"]["state"] == "running")
        time.sleep(0.5)  # the third start stays up: no further restarts
        assert statuses(proc.pid)["engine"]["restarts"] == 2
    finally:
        stop_and_check(proc)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["processes"]["engine"] == {"restarts": 2, "failed": False}
    assert summary["halted"] == ""


def test_silent_child_is_killed_and_restarted(tmp_path):
    modules = {**ALL_OK, "feed": "tests.integration.supervisor.silent_role"}
    silent = tmp_path / "silent"
    proc = start(tmp_path, modules, hb_timeout=600, env_extra={"HFT_TEST_SILENT_FILE": str(silent)})
    try:
        # one of the two feeds starts first and wedges; it must be killed and restarted
        wait_for(lambda: silent.exists() and len(silent.read_text().split()) >= 3)
        wait_for(lambda: all(statuses(proc.pid)[f"feed:{v}"]["state"] == "running"
                             for v in ("binance", "okx")))
        rows = statuses(proc.pid)
        assert rows["feed:binance"]["restarts"] + rows["feed:okx"]["restarts"] == 1
    finally:
        stop_and_check(proc)


def test_child_beyond_restart_limit_halts_trading(tmp_path):
    modules = {**ALL_OK, "gateway": "tests.integration.supervisor.crashing_role"}
    proc = start(tmp_path, modules, max_restarts=1,
                 env_extra={"HFT_TEST_CRASH_FILE": str(tmp_path / "c"), "HFT_TEST_CRASHES": "99"})
    try:
        wait_for(lambda: any(r["state"] == "failed" for r in statuses(proc.pid).values()))
    finally:
        out = stop_and_check(proc)
    assert "HALTING TRADING" in out and "exceeded 1 restarts" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "exceeded 1 restarts" in summary["halted"]


def test_children_of_a_killed_supervisor_stop_in_order_instead_of_running_on(tmp_path):
    """SIGKILL leaves the supervisor no chance to stop anyone: the kernel's parent-death
    signal (pipeline.process.stop_with_parent) gives each child the SIGTERM it would have
    sent, and each stops through its own orderly path (the roles log their stop)."""
    proc = start(tmp_path, ALL_OK)
    kids: list[psutil.Process] = []
    try:
        wait_for(lambda: len(statuses(proc.pid)) == 6
                 and all(r["state"] == "running" for r in statuses(proc.pid).values()))
        kids = [k for k in hft_children(proc.pid)
                if k.cmdline() and k.cmdline()[0].startswith("hft:")]
        assert len(kids) == 6
        proc.kill()
        proc.communicate(timeout=30)
        _, alive = psutil.wait_procs(kids, timeout=20)
        assert [k for k in alive if k.status() != psutil.STATUS_ZOMBIE] == [], "orphans left"
        stopped = set((tmp_path / "stops").read_text().split())
        assert stopped == {"feed:binance", "feed:okx", "writer", "gateway:binance",
                           "gateway:okx", "engine"}
    finally:
        for k in kids:
            try:
                k.kill()
            except psutil.NoSuchProcess:
                pass
        for seg in registry.list_segments(owner_pid=proc.pid):
            registry.unlink(seg)
