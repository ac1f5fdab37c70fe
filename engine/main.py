"""Engine process (`hft:engine`), pinned by the supervisor.

The loop around `EngineCore`: poll every venue's tick ring in batches, re-read the book slots
of the symbols that moved, drain execution reports, fire timers, let the core decide, and
ship its orders to the gateways' queues and its records to the writer. When there is nothing
to do it parks on every ring's doorbell and on a wake word the report thread bumps
(`shm.multiwait`), so an idle engine costs ~0 % CPU and still wakes in microseconds.

Garbage collection runs on the timers, never on the tick path: the automatic collector is
off (a full pass over ~100k retained orders is a multi-millisecond pause, and even young
passes land mid-decision), the young generation is collected every 100 ms, the middle one
every second and everything once a minute. The hot path's objects free themselves by
reference counting; only reference cycles wait for those passes.

Startup: ask each gateway for its instruments and start trading when all are known (or after
a grace period, with what is known). Shutdown: cancel everything, wait (bounded) for the
venues to confirm, then write the run summary for the supervisor.
"""
from __future__ import annotations

import gc
import json
import logging
import time
from pathlib import Path

from engine.core import EngineCore
from engine.live_state import LiveStatePublisher
from pipeline.messages import Command
from pipeline.process import ProcessContext
from shm.multiwait import MultiWait

log = logging.getLogger(__name__)

POLL_MAX = 4096
TIMER_NS = 100_000_000
RECORD_NS = 1_000_000_000
STATUS_NS = 5_000_000_000
PUBLISH_NS = 250_000_000   # live state for hft top / Prometheus
GC_FULL_NS = 60_000_000_000
INSTRUMENT_GRACE_NS = 20_000_000_000
SHUTDOWN_WAIT_S = 3.0
COUNTERS = ("ticks", "orders", "cancels", "fills", "rejects", "local_rejects", "open_orders",
            "requotes", "parks")


class EngineLoop:
    def __init__(self, ctx: ProcessContext) -> None:
        from shm.book import BookSlots
        from shm.ring import RingReader

        self.ctx = ctx
        h = ctx.handles
        self.core = EngineCore(ctx.config, int(time.time() * 1000))
        self.readers = {v: RingReader.attach(h.tick_rings[v]) for v in self.core.venues}
        self.books = {v: BookSlots.attach(h.book_segments[v]) for v in self.core.venues}
        self.order_qs = {v: h.order_queues[v] for v in self.core.venues}
        # a requoted market's orders go to its gateway at once, not at the end of the step
        self.core.ship = self._ship
        self.events_q = h.event_queue
        self.reports_q = h.report_queue
        # one park covers every tick ring and the execution-report queue
        w = ctx.config.pipeline.wait
        phased = w.engine == "phased"
        self.waiter = MultiWait([r._m.doorbell for r in self.readers.values()] +
                                [h.report_queue.doorbell],
                                spin_s=w.engine_spin_us * 1e-6 if phased else 0.0,
                                yield_s=w.engine_yield_us * 1e-6 if phased else 0.0)
        self.started_ns = time.time_ns()
        seg = h.extra.get("live_state_segment")
        self.publisher = LiveStatePublisher(seg) if seg else None
        if ctx.status is not None:
            ctx.status.set_counter_names(list(COUNTERS))

    def _ready(self) -> bool:
        return any(r.available() for r in self.readers.values()) or self.reports_q.nonempty()

    def _ship(self, venue: str, msgs: list) -> None:
        self.order_qs[venue].put_many(msgs)

    def _flush(self) -> None:
        out, recs = self.core.take()
        for venue, msgs in out.items():
            self.order_qs[venue].put_many(msgs)
        if recs:
            self.events_q.put_many(recs)

    def step(self, now: int) -> bool:
        """One pass; True if anything happened."""
        core = self.core
        moved: set[tuple[str, str]] = set()
        for venue, reader in self.readers.items():
            rows = reader.poll(POLL_MAX)
            if len(rows):
                for sid in core.on_ticks(venue, rows, now):
                    core.on_book(venue, sid, self.books[venue].read(sid), now)
                    moved.add((venue, core.symbols[venue][sid]))
        # an empty take costs faster_fifo an Empty exception: look before taking
        msgs = self.reports_q.get_many(timeout=0) if self.reports_q.nonempty() else []
        for m in msgs:
            core.on_message(m, now)
        if not core.trading and (core.complete() or (
                now - self.started_ns > INSTRUMENT_GRACE_NS and core.instruments)):
            core.start()
        if moved or msgs:
            core.requote(now, moved)
        self._flush()
        return bool(moved or msgs)

    def _commands(self, now: int) -> None:
        for cmd in self.ctx.poll_commands(timeout=0):
            name = getattr(cmd, "name", "")
            if name in ("kill", "halt", "resume", "params", "limits"):
                log.warning("operator command: %s %s", name, getattr(cmd, "arg", ""))
                self.core.on_command(name, getattr(cmd, "arg", ""), now)

    def _publish_counters(self) -> None:
        st = self.ctx.status
        if st is None:
            return
        s = self.core.stats
        vals = (s.ticks, s.orders, s.cancels, s.fills, s.rejects, s.local_rejects,
                self.core.oms.n_open(), s.requotes, self.waiter.parks)
        for i, v in enumerate(vals):
            st.set(i, v)

    def run(self) -> None:
        for q in self.order_qs.values():
            q.put(Command("instruments"))
        next_timer = next_record = next_publish = 0
        next_status = time.time_ns() + STATUS_NS
        next_gc_full = time.time_ns() + GC_FULL_NS
        gc.collect()
        gc.freeze()    # start-up objects (modules, config, books) are never scanned again
        gc.disable()   # collections happen on the timers below
        try:
            self._loop(next_timer, next_record, next_publish, next_status, next_gc_full)
        finally:
            gc.enable()
        self.shutdown()

    def _loop(self, next_timer: int, next_record: int, next_publish: int, next_status: int,
              next_gc_full: int) -> None:
        ctx = self.ctx
        while not ctx.stopping():
            now = time.time_ns()
            busy = self.step(now)
            if now >= next_timer:
                next_timer = now + TIMER_NS
                ctx.beat()
                self._commands(now)
                self.core.on_timer(now)
                self.core.requote(now, full=True)  # stale books, requote intervals
                self._flush()
                gc.collect(0)
                self._publish_counters()
                if self.publisher is not None and now >= next_publish:
                    next_publish = now + PUBLISH_NS
                    self.publisher.publish(self.core, now)
            if now >= next_record:
                next_record = now + RECORD_NS
                self.core.snapshot_records(now)
                self._flush()
                if now >= next_gc_full:
                    next_gc_full = now + GC_FULL_NS
                    gc.collect()
                else:
                    gc.collect(1)
            if now >= next_status:
                next_status = now + STATUS_NS
                self._log_status()
            if not busy:
                self.waiter.wait(self._ready, max(0.0, (next_timer - time.time_ns()) / 1e9))

    def _log_status(self) -> None:
        c = self.core
        pf = c.portfolio
        log.info("orders=%d fills=%d open=%d realized=%s fees=%s unrealized=%s pos=%s",
                 c.stats.orders, c.stats.fills, c.oms.n_open(), pf.realized(), pf.fees(),
                 pf.unrealized(), {k: v for k, v in c.positions().items() if v != "0"})
        if c.strategy is not None:
            for sym in sorted({s for _, s in c.instruments}):
                st = c.strategy.symbol_state(sym)
                if st is not None:
                    log.info("%s fair=%.2f sigma=%.2fbp/s tau=%.1fs q=%.2f skew_to=%.2f "
                             "half=%.2fbp venues=%d", sym, st.fair, st.sigma_bps, st.tau_s,
                             st.q_clips, st.reservation, st.half_spread_bps, st.quoting_venues)

    def shutdown(self) -> None:
        """Cancel everything and wait (bounded) for the venues to confirm zero open."""
        core = self.core
        now = time.time_ns()
        core.cancel_everywhere("engine shutdown", now)
        self._flush()
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        while core.oms.n_open() and time.monotonic() < deadline:
            self.waiter.wait(self._ready, 0.05)
            now = time.time_ns()
            for m in self.reports_q.get_many(timeout=0):
                core.on_message(m, now)
            self._flush()
        if core.oms.n_open():
            log.error("%d order(s) still open at exit (venues did not confirm in %.0fs)",
                      core.oms.n_open(), SHUTDOWN_WAIT_S)
        core.snapshot_records(time.time_ns())
        self._flush()
        self._publish_counters()
        if self.publisher is not None:
            self.publisher.publish(self.core)

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        for r in self.readers.values():
            r.close()
        for b in self.books.values():
            b.close()


def main(ctx: ProcessContext) -> int:
    loop = EngineLoop(ctx)
    log.info("engine up: venues %s", ", ".join(loop.core.venues))
    try:
        loop.run()
    finally:
        summary = loop.core.summary()
        path = ctx.handles.extra.get("summary_path")
        if path:
            Path(path).write_text(json.dumps(summary, default=str))
        loop.close()
    return 0
