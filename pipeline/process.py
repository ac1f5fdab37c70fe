"""Child-process bootstrap: what every hft process does before its own main loop.

The supervisor spawns each process with `child_entry(spec, handles)`. This names it
(setproctitle `hft:<name>`, so `ps` and `py-spy dump --pid` show who is who), pins it to its
cores, attaches its status slot (heartbeat and counters in shared memory), installs signal
handlers (SIGTERM -> orderly stop; SIGINT ignored: Ctrl-C goes to the supervisor, which stops
children in order), then imports the role's module **by name** and calls its `main(ctx)`.

`ProcessContext` is everything a role needs and nothing of the supervisor's internals.
"""
from __future__ import annotations

import ctypes
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import Config, load_config
from pipeline.ipc import MessageQueue
from pipeline.logging_setup import register_config_secrets, setup_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessSpec:
    """What to run: `name` is unique (`feed:binance`), `module` is imported by name."""

    name: str
    role: str            # feed | gateway | engine | writer | sim
    module: str          # e.g. "feeds.runner"; must define main(ctx) -> int
    venue: str = ""
    cores: tuple[int, ...] = ()
    slot: int = 0        # index in the status table


@dataclass
class SharedHandles:
    """Names of the run's shared segments and the queue objects, handed to every child."""

    config_path: str | None
    status_segment: str
    tick_rings: dict[str, str]            # venue -> ring segment name
    book_segments: dict[str, str]         # venue -> book-slot segment name
    order_queues: dict[str, MessageQueue]  # venue -> engine->gateway queue
    report_queue: MessageQueue            # gateways -> engine
    event_queue: MessageQueue             # engine/gateways -> writer
    control_queues: dict[str, MessageQueue]  # process name -> supervisor->process commands
    run_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ProcessContext:
    """Handed to a role's `main`: config, queues, segment names, status slot, stop flag."""

    def __init__(self, spec: ProcessSpec, handles: SharedHandles, config: Config,
                 status: Any) -> None:
        self.spec = spec
        self.handles = handles
        self.config = config
        self.status = status
        self.stop_event = threading.Event()
        self.started_ns = time.time_ns()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def venue(self) -> str:
        return self.spec.venue

    @property
    def control(self) -> MessageQueue | None:
        return self.handles.control_queues.get(self.spec.name)

    def beat(self) -> None:
        """Heartbeat: call from the main loop (not a side thread), so it proves the loop runs."""
        if self.status is not None:
            self.status.beat(time.time_ns())

    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def request_stop(self, *_: Any) -> None:
        self.stop_event.set()

    def poll_commands(self, timeout: float = 0.0) -> list[Any]:
        """Control commands for this process; `shutdown` also sets the stop flag."""
        q = self.control
        if q is None:
            if timeout:
                self.stop_event.wait(timeout)
            return []
        cmds = q.get_many(timeout=timeout)
        for cmd in cmds:
            if getattr(cmd, "name", "") == "shutdown":
                self.stop_event.set()
        return cmds

    def run_loop(self, step: Any = None, period_s: float = 0.1) -> None:
        """Generic process loop for roles without a hot loop of their own: heartbeat, handle
        commands (parked on the control queue, so idle costs ~0 CPU), run `step()`."""
        while not self.stop_event.is_set():
            self.beat()
            cmds = self.poll_commands(timeout=period_s)
            if step is not None:
                step(cmds)


def pin_to_cores(cores: tuple[int, ...]) -> tuple[int, ...]:
    """Pin this process; returns the cores actually in effect (unchanged if pinning fails)."""
    if cores and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, set(cores))
        except OSError as exc:
            log.warning("cannot pin to cores %s: %s", cores, exc)
    try:
        return tuple(sorted(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return cores


HOT_PATH_ROLES = ("feed", "engine", "gateway")   # a tick's and an order's way through


def set_realtime(priority: int) -> bool:
    """SCHED_FIFO at `priority` for this process (0: leave it as it is). False, logged, when
    the OS refuses (no root / CAP_SYS_NICE) or has no such policy: the run goes on under
    normal scheduling."""
    if priority <= 0:
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, AttributeError) as exc:
        log.warning("realtime priority %d refused (%s): normal scheduling", priority, exc)
        return False
    return True


_PR_SET_PDEATHSIG = 1   # linux/prctl.h


def stop_with_parent(parent_pid: int, on_orphaned: Callable[[], None]) -> bool:
    """Ask the kernel to send this process SIGTERM when its parent (the supervisor) dies, by
    whatever means: SIGKILL, the OOM killer, a crash. Without it the children of a dead
    supervisor run on as orphans: an engine still quoting, gateways holding live orders, the
    simulator and writer holding ports and files, and a fresh `hft run` would collide with
    them. SIGTERM is the supervisor's own stop signal, so each child then stops in order
    (gateways cancel their orders, the writer flushes) as in a normal shutdown.

    `parent_pid` is the parent seen when the child started: if it is already gone by the
    time the request is made (it died in between), `on_orphaned()` is called at once instead.
    Linux only; elsewhere (or if prctl is refused) returns False and nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    except (OSError, AttributeError) as exc:
        log.warning("cannot ask to stop with the supervisor (%s): an orphan would run on", exc)
        return False
    if os.getppid() != parent_pid:
        on_orphaned()
    return True


def set_title(name: str) -> None:
    try:
        import setproctitle
        setproctitle.setproctitle(f"hft:{name}")
    except Exception:  # pragma: no cover - cosmetic
        pass


def child_entry(spec: ProcessSpec, handles: SharedHandles) -> None:
    """Entry point of every spawned process (runs in the child)."""
    parent_pid = os.getppid()   # the supervisor, before anything can go wrong with it
    set_title(spec.name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = load_config(handles.config_path)
    setup_logging(config.system.log_level, spec.name)
    register_config_secrets(config)
    pin_to_cores(spec.cores)
    if spec.role in HOT_PATH_ROLES:
        set_realtime(config.pipeline.realtime_priority)
    from shm.status import StatusTable  # late: keeps import cost out of the supervisor's path

    table = StatusTable.attach(handles.status_segment)
    status = table.slot(spec.slot)
    ctx = ProcessContext(spec, handles, config, status)
    signal.signal(signal.SIGTERM, ctx.request_stop)
    stop_with_parent(parent_pid, ctx.request_stop)
    # no beat here: the role's own loop gives the first one, so its start-up (an embedded
    # PostgreSQL's initdb, a market prefill) runs under `startup_timeout_ms`, not the
    # running heartbeat timeout
    code = 1
    try:
        module = importlib.import_module(spec.module)
        code = int(module.main(ctx) or 0)
    except KeyboardInterrupt:
        code = 0
    except Exception:
        log.exception("%s crashed", spec.name)
        code = 1
    finally:
        logging.shutdown()
        table.close()
    sys.exit(code)
