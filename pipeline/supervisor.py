"""The supervisor: one command launches, pins, names, watches, restarts and stops every process.

`hft run` builds a `Supervisor` from the config. It creates the run's shared segments (status
table, one tick ring and one book-slot segment per venue) and the IPC queues, then spawns the
processes in dependency order: simulated venues (sim mode), feeds, writer, gateways, engine;
in sim mode the rest wait (bounded) until the simulator's first heartbeat, which it gives once
every venue listens.
Children are started **by module name** through `pipeline.process.child_entry`; the supervisor
imports none of their internals.

Watching: a child that exits or stops heart-beating (no beat for `heartbeat_timeout_ms`) is
restarted with exponential back-off; past `max_restarts` it stays down and the supervisor
halts trading (engine `halt`, every gateway `CancelAll`) and says why.

Shutdown (SIGINT/SIGTERM, `--duration`, or a halt that cannot continue) goes in order: the
engine halts its strategy, cancels all open orders and confirms; then gateways, feeds, the
writer (which flushes) and the simulator stop; stragglers are killed; segments are unlinked;
exit code 0.
"""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.audit import AuditLog
from pipeline.config import Config
from pipeline.ipc import MessageQueue
from pipeline.messages import CancelAll, Command, Record
from pipeline.process import ProcessSpec, SharedHandles, child_entry, pin_to_cores, set_title
from shm import registry

log = logging.getLogger(__name__)

# Role -> module run in that process (by name: the supervisor never imports them).
ROLE_MODULES = {
    "sim": "feeds.sim.server",
    "feed": "feeds.runner",
    "writer": "writer.main",
    "gateway": "feeds.gateway",
    "engine": "engine.main",
}
# Shutdown order (first stopped first) and how long each group may take.
STOP_ORDER = ("engine", "gateway", "feed", "writer", "sim")

STATE_STARTING, STATE_RUNNING, STATE_STOPPING, STATE_STOPPED, STATE_FAILED = range(1, 6)
STATE_NAMES = {0: "-", STATE_STARTING: "starting", STATE_RUNNING: "running",
               STATE_STOPPING: "stopping", STATE_STOPPED: "stopped", STATE_FAILED: "failed"}


@dataclass
class Child:
    spec: ProcessSpec
    proc: Any = None            # multiprocessing.Process
    restarts: int = 0
    started_at: float = 0.0     # monotonic
    started_ns: int = 0         # wall clock, to compare with heartbeats
    next_start_at: float = 0.0  # monotonic; back-off gate
    failed: bool = False
    stopping: bool = False


def build_specs(config: Config) -> list[ProcessSpec]:
    """Every process of a run, in start order, with cores and status-table slots."""
    venues = list(config.exchanges.enabled())
    plan: list[tuple[str, str, str]] = []
    if config.pipeline.mode == "sim":
        plan.append(("sim", "sim", ""))
    plan += [(f"feed:{v}", "feed", v) for v in venues]
    plan.append(("writer", "writer", ""))
    plan += [(f"gateway:{v}", "gateway", v) for v in venues]
    plan.append(("engine", "engine", ""))
    return [ProcessSpec(name=name, role=role, module=ROLE_MODULES[role], venue=venue,
                        cores=config.cores_for(role, venue), slot=i)
            for i, (name, role, venue) in enumerate(plan)]


class Supervisor:
    def __init__(self, config: Config, config_path: str | None, *,
                 duration_s: float | None = None, summary_path: str | None = None,
                 modules: dict[str, str] | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.duration_s = duration_s if duration_s is not None else (
            config.system.run_duration_s or None)
        self.summary_path = summary_path
        self.specs = build_specs(config)
        if modules:  # tests swap in their own role modules
            self.specs = [ProcessSpec(s.name, s.role, modules.get(s.role, s.module), s.venue,
                                      s.cores, s.slot) for s in self.specs]
        self.children = {s.name: Child(s) for s in self.specs}
        self._mp = mp.get_context("spawn")
        self._stop_requested = False
        self._stop_reason = ""
        self._halted_reason = ""
        self._segments: list[str] = []
        self._closers: list[Any] = []
        self.status: Any = None
        self.handles: SharedHandles | None = None
        self.pid = os.getpid()
        self.audit: AuditLog | None = None
        self._control: Any = None

    # -- set-up ------------------------------------------------------------------------------
    def _create_shared(self) -> SharedHandles:
        from shm.book import BookSlots
        from shm.layout import TICK_DTYPE
        from shm.ring import RingWriter
        from shm.status import StatusTable

        removed = registry.cleanup_stale()
        if removed:
            log.info("removed %d stale shared-memory segment(s) from a crashed run", len(removed))
        status_name = registry.segment_name("status", "main")
        self.status = StatusTable.create(status_name, n_slots=len(self.specs), n_counters=16)
        self._segments.append(status_name)
        self._closers.append(self.status)
        rings, books = {}, {}
        pc = self.config.pipeline
        for venue, ex in self.config.exchanges.enabled().items():
            rname = registry.segment_name("ring", f"ticks.{venue}")
            ring = RingWriter.create(rname, TICK_DTYPE, pc.tick_ring_capacity)
            self._closers.append(ring)
            bname = registry.segment_name("book", venue)
            book = BookSlots.create(bname, n_symbols=len(ex.symbols), depth=pc.book_depth)
            self._closers.append(book)
            rings[venue], books[venue] = rname, bname
            self._segments += [rname, bname]
        from shm.snapshot import SnapshotSlot
        live_name = registry.segment_name("snapshot", "engine")
        self._closers.append(SnapshotSlot.create(live_name))
        self._segments.append(live_name)
        qbytes = pc.event_queue_bytes
        venues = list(self.config.exchanges.enabled())
        handles = SharedHandles(
            config_path=self.config_path,
            status_segment=status_name,
            tick_rings=rings,
            book_segments=books,
            order_queues={v: MessageQueue(f"orders.{v}", max(qbytes // 8, 1 << 20)) for v in venues},
            report_queue=MessageQueue("reports", max(qbytes // 4, 1 << 20)),
            event_queue=MessageQueue("events", qbytes),
            control_queues={s.name: MessageQueue(f"control.{s.name}", 1 << 16) for s in self.specs},
            run_id=f"{self.pid}",
            extra={"summary_path": self._engine_summary_path(),
                   "live_state_segment": live_name,
                   # raw frames feeds -> writer (capture files), only when capture is on
                   "capture_queue": MessageQueue("capture", pc.capture_queue_bytes)
                   if pc.capture else None},
        )
        for spec in self.specs:
            self.status.slot(spec.slot).set_role(spec.name, [])
        return handles

    def _engine_summary_path(self) -> str:
        run_dir = Path(self.config.system.data_dir) / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        return str(run_dir / f"engine-summary-{self.pid}.json")

    # -- process control ---------------------------------------------------------------------
    def _spawn(self, child: Child) -> None:
        assert self.handles is not None
        slot = self.status.slot(child.spec.slot)
        proc = self._mp.Process(target=child_entry, args=(child.spec, self.handles),
                                name=child.spec.name, daemon=False)
        proc.start()
        child.proc = proc
        child.started_at = time.monotonic()
        slot.set_pid(proc.pid or 0)
        slot.set_restarts(child.restarts)
        slot.set_state(STATE_STARTING)
        slot.beat(0)  # the child's first beat marks it running
        child.started_ns = time.time_ns()
        log.info("started %s pid=%s cores=%s", child.spec.name, proc.pid, list(child.spec.cores))

    def _await_serving(self, child: Child) -> None:
        """Wait (bounded by the start-up timeout) for `child`'s first heartbeat. The simulator
        beats only once every venue listens, so the feeds and gateways started after this
        connect at once instead of meeting refused connections and backing off. If it exits,
        times out or a stop is asked for, the start goes on and the watch loop treats it as
        any other child (restart, or halt past the limit)."""
        slot = self.status.slot(child.spec.slot)
        deadline = time.monotonic() + self.config.pipeline.restart.startup_timeout_ms / 1000
        while not self._stop_requested and time.monotonic() < deadline:
            if slot.heartbeat_ns() >= child.started_ns:
                log.info("%s serving after %.2fs", child.spec.name,
                         time.monotonic() - child.started_at)
                return
            if child.proc is None or not child.proc.is_alive():
                return
            time.sleep(0.02)
        if not self._stop_requested:
            log.warning("%s not serving after %.1fs: starting the rest anyway",
                        child.spec.name, time.monotonic() - child.started_at)

    def _backoff_s(self, restarts: int) -> float:
        rc = self.config.pipeline.restart
        return min(rc.backoff_initial_ms * (2 ** max(restarts - 1, 0)), rc.backoff_max_ms) / 1000

    def _on_child_down(self, child: Child, why: str) -> None:
        rc = self.config.pipeline.restart
        slot = self.status.slot(child.spec.slot)
        if child.restarts >= rc.max_restarts:
            child.failed = True
            child.proc = None
            slot.set_state(STATE_FAILED)
            self.halt_trading(f"{child.spec.name} {why} and exceeded {rc.max_restarts} restarts")
            return
        child.restarts += 1
        child.proc = None
        child.next_start_at = time.monotonic() + self._backoff_s(child.restarts)
        slot.set_restarts(child.restarts)
        slot.set_state(STATE_STARTING)
        log.warning("%s %s; restart %d/%d in %.2fs", child.spec.name, why, child.restarts,
                    rc.max_restarts, self._backoff_s(child.restarts))

    def halt_trading(self, reason: str) -> None:
        """Stop trading everywhere and say why (a process is beyond restarting)."""
        if self._halted_reason:
            return
        self._halted_reason = reason
        log.error("HALTING TRADING: %s", reason)
        self.audit_event("risk_state", "supervisor", {"state": "HALTED", "reason": reason})
        self.send_engine(Command("halt", reason, time.time_ns()))
        self.cancel_everywhere(f"supervisor halt: {reason}")

    def send_engine(self, cmd: Command) -> bool:
        assert self.handles is not None
        q = self.handles.control_queues.get("engine")
        return q.put(cmd) if q is not None else False

    def cancel_everywhere(self, reason: str) -> None:
        assert self.handles is not None
        for venue, q in self.handles.order_queues.items():
            q.put(CancelAll(venue, "", reason))

    def audit_event(self, kind: str, actor: str, data: dict[str, Any]) -> None:
        """Append to the hash-chained file, then hand the same record to the writer so the
        database holds the chain too (a full queue is counted by the queue, never blocks)."""
        if self.audit is not None:
            try:
                rec = self.audit.append(kind, actor, data, time.time_ns())
            except OSError:
                log.exception("audit append failed")
                return
            if self.handles is not None and self.handles.event_queue is not None:
                self.handles.event_queue.put(Record("audit", rec))

    def check_children(self) -> None:
        """One watch pass: reap exits, detect silent processes, restart when their time comes."""
        now = time.monotonic()
        rc = self.config.pipeline.restart
        hb_timeout_s, startup_timeout_s = rc.heartbeat_timeout_ms / 1000, rc.startup_timeout_ms / 1000
        now_ns = time.time_ns()
        for child in self.children.values():
            if child.failed or child.stopping:
                continue
            slot = self.status.slot(child.spec.slot)
            if child.proc is None:
                if now >= child.next_start_at:
                    self._spawn(child)
                continue
            if not child.proc.is_alive():
                code = child.proc.exitcode
                child.proc.join(0)
                self._on_child_down(child, f"exited with code {code}")
                continue
            beat = slot.heartbeat_ns()
            age_s = (now_ns - max(beat, child.started_ns)) / 1e9
            timeout_s = hb_timeout_s if beat >= child.started_ns else startup_timeout_s
            if age_s > timeout_s:
                log.warning("%s silent for %.1fs: killing it", child.spec.name, age_s)
                child.proc.kill()
                child.proc.join(2)
                self._on_child_down(child, f"stopped heart-beating ({age_s:.1f}s)")
            elif slot.state() == STATE_STARTING and beat >= child.started_ns:
                slot.set_state(STATE_RUNNING)

    # -- run ---------------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self._stop_requested:
            self._stop_requested = True
            self._stop_reason = reason

    def _install_signals(self) -> None:
        def handler(signum: int, _frame: Any) -> None:
            self.request_stop(signal.Signals(signum).name)
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def run(self) -> int:
        set_title("supervisor")
        from pipeline.config import CORES_ENV, available_cores
        os.environ.setdefault(CORES_ENV, ",".join(str(c) for c in sorted(available_cores())))
        pin_to_cores(self.config.cores_for("supervisor"))
        self._install_signals()
        self.handles = self._create_shared()
        self.audit = AuditLog(Path(self.config.system.data_dir) / self.config.control.audit_file)
        self.audit_event("run", "supervisor", {"event": "start", "mode": self.config.pipeline.mode})
        self._start_control_api()
        self._start_prometheus()
        started = time.monotonic()
        try:
            for spec in self.specs:
                if self._stop_requested:
                    break
                self._spawn(self.children[spec.name])
                if spec.role == "sim":
                    self._await_serving(self.children[spec.name])
            while not self._stop_requested:
                time.sleep(0.05)
                self.check_children()
                if self.duration_s and time.monotonic() - started >= self.duration_s:
                    self.request_stop(f"duration {self.duration_s:g}s reached")
            log.info("shutting down: %s", self._stop_reason)
            self.shutdown()
        finally:
            self._release()
        self._write_summary(time.monotonic() - started)
        return 0

    def _stop_group(self, role: str, timeout_s: float) -> None:
        group = [c for c in self.children.values() if c.spec.role == role]
        assert self.handles is not None
        for child in group:
            child.stopping = True
            q = self.handles.control_queues.get(child.spec.name)
            if q is not None:
                q.put(Command("shutdown", self._stop_reason, time.time_ns()))
            if child.proc is not None and child.proc.is_alive():
                self.status.slot(child.spec.slot).set_state(STATE_STOPPING)
                child.proc.terminate()  # SIGTERM: orderly stop in the child
        deadline = time.monotonic() + timeout_s
        for child in group:
            if child.proc is None:
                continue
            child.proc.join(max(deadline - time.monotonic(), 0.05))
            if child.proc.is_alive():
                log.warning("%s did not stop in %.1fs: killing it", child.spec.name, timeout_s)
                child.proc.kill()
                child.proc.join(2)
            self.status.slot(child.spec.slot).set_state(STATE_STOPPED)

    def shutdown(self) -> None:
        """Ordered stop: engine (halt, cancel all, confirm) -> gateways -> feeds -> writer -> sim."""
        t = self.config.pipeline.shutdown_timeout_s
        for role in STOP_ORDER:
            self._stop_group(role, t)

    def _start_control_api(self) -> None:
        cc = self.config.control
        if not cc.port:
            return
        from pipeline.control_api import ControlServer, TokenEntry, build_app
        from pipeline.supervisor_actions import SupervisorActions

        tokens = [TokenEntry(t.name, t.role, t.sha256) for t in cc.tokens]
        app = build_app(SupervisorActions(self), tokens, self.audit_event)
        self._control = ControlServer(app, cc.host, cc.port)
        port = self._control.start()
        log.info("control API on http://%s:%d (%d token(s))", cc.host, port, len(tokens))

    def _start_prometheus(self) -> None:
        port = self.config.monitoring.prometheus_port
        if not port:
            return
        from pipeline.prometheus import serve
        from pipeline.supervisor_actions import SupervisorMetrics

        self._prometheus = serve(SupervisorMetrics(self), port)
        log.info("Prometheus metrics on http://127.0.0.1:%d/metrics", port)

    def _release(self) -> None:
        if getattr(self, "_prometheus", None) is not None:
            self._prometheus[0].shutdown()
        if self._control is not None:
            self._control.stop()
        if self.audit is not None:
            self.audit_event("run", "supervisor", {"event": "stop", "reason": self._stop_reason})
            self.audit.close()
        for obj in self._closers:
            try:
                obj.close()
            except Exception:  # pragma: no cover - best effort at exit
                log.exception("close failed")
        if self.handles is not None:
            capture = self.handles.extra.get("capture_queue")
            for q in [*self.handles.order_queues.values(), self.handles.report_queue,
                      self.handles.event_queue, *self.handles.control_queues.values(),
                      *([capture] if capture is not None else [])]:
                q.close()
        for name in self._segments:
            registry.unlink(name)

    def _write_summary(self, elapsed_s: float) -> None:
        summary: dict[str, Any] = {"elapsed_s": round(elapsed_s, 3),
                                   "stop_reason": self._stop_reason,
                                   "halted": self._halted_reason,
                                   "processes": {n: {"restarts": c.restarts, "failed": c.failed}
                                                 for n, c in self.children.items()}}
        assert self.handles is not None
        engine_path = Path(self.handles.extra["summary_path"])
        if engine_path.exists():
            try:
                summary.update(json.loads(engine_path.read_text()))
            except ValueError:
                log.error("engine summary %s is not valid JSON", engine_path)
            engine_path.unlink(missing_ok=True)
        print(format_summary(summary), flush=True)
        if self.summary_path:
            Path(self.summary_path).write_text(json.dumps(summary, indent=2, default=str))


def format_summary(summary: dict[str, Any]) -> str:
    lines = ["== hft run summary =="]
    for key in ("elapsed_s", "stop_reason", "halted", "orders", "fills", "cancels", "rejects",
                "open_orders_at_exit", "volume", "realized_pnl"):
        if key in summary and summary[key] not in ("", None):
            lines.append(f"{key:>20}: {summary[key]}")
    for key in ("t2o_us", "order_ack_us"):
        if key in summary:
            lines.append(f"{key:>20}: {summary[key]}")
    for name, p in summary.get("processes", {}).items():
        lines.append(f"{name:>20}: restarts={p['restarts']}{' FAILED' if p['failed'] else ''}")
    return "\n".join(lines)
