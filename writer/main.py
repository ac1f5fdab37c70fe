"""Writer process entry: `run_writer(settings, stop_event, sources)`.

The supervisor calls `main(ctx)` (pipeline.process contract), which builds the settings from
the config and attaches its own RingReaders to every tick ring.

`sources.tick_readers` are objects with `poll(max_records) -> TICK_DTYPE array` and
`lapped_count` / `lost_records` (shm.ring.RingReader); `sources.event_queue` is either a
pipeline.ipc.MessageQueue (its entries taken as they travel, decoded once in
writer.events.to_rows) or a raw faster-fifo Queue of
bytes (see writer.events for the encoding; this one also carries audit/PnL/risk dicts), or None. Lapped/lost counts are copied into
the stats, logged when they grow, and written to Redis health — never silent.
"""
from __future__ import annotations

import logging
import os
import queue as _queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.ipc import MessageQueue
from writer import storage
from writer.capture import CaptureWriter
from writer.core import Writer, WriterStats
from writer.redis_state import RedisState

log = logging.getLogger("hft.writer")


@dataclass
class WriterSettings:
    database_url: str = "embedded"
    redis_url: str = "embedded"
    data_dir: str = "data"
    batch_rows: int = 20_000
    flush_ms: int = 200
    poll_sleep_s: float = 0.005   # idle sleep when nothing was drained (no busy-spin)
    schema: str | None = None     # None = the server's default search_path
    redis_prefix: str = "hft:"


@dataclass
class WriterSources:
    tick_readers: list[Any] = field(default_factory=list)
    event_queue: Any = None
    capture_queue: Any = None   # Record("capture", {venue, conn, ts, frame}) from the feeds


def run_writer(settings: WriterSettings, stop_event: Any, sources: WriterSources,
               on_stats: Callable[[WriterStats], None] | None = None,
               beat: Callable[[], None] | None = None) -> WriterStats:
    """Run until `stop_event.is_set()`; flushes everything buffered before returning."""
    pgh = storage.postgres(settings.database_url, os.path.join(settings.data_dir, "pg"))
    rh = storage.redis(settings.redis_url, os.path.join(settings.data_dir, "redis"))
    rstate = RedisState(rh.client, settings.redis_prefix) if rh is not None else None
    # pipelined: batches are sent in the background while this loop keeps draining the rings
    w = Writer(pgh.url, os.path.join(settings.data_dir, "spool"), batch_rows=settings.batch_rows,
               flush_ns=settings.flush_ms * 1_000_000, redis=rstate, schema=settings.schema,
               pipelined=True)
    w.drain_spool()  # a previous run's unsent batches go first
    lost_seen = reported = 0
    captures = CaptureSink(os.path.join(settings.data_dir, "capture")) \
        if sources.capture_queue is not None else None
    try:
        while not stop_event.is_set():
            if beat is not None:
                beat()
            got = _drain_once(w, sources, settings.batch_rows)
            if captures is not None:
                got += captures.drain(sources.capture_queue)
            lost = sum(r.lost_records for r in sources.tick_readers)
            w.stats.ring_lapped = sum(r.lapped_count for r in sources.tick_readers)
            w.stats.ring_lost = lost
            if lost > lost_seen:
                log.warning("writer lapped: %d tick records lost so far", lost)
                lost_seen = lost
            flushed = w.due() or (w.stats.spool_pending and not got and not w.busy)
            if flushed:
                w.flush()
            if flushed or w.drains != reported:  # a background drain ended: report its counts
                reported = w.drains
                if on_stats is not None:
                    on_stats(w.stats)
                if rstate is not None:
                    w._redis(lambda f: rstate.health("writer", f),
                             {k: v for k, v in vars(w.stats).items() if k != "extra"}
                             | {"ts": time.time_ns()})
            if not got:
                time.sleep(settings.poll_sleep_s)
        _drain_once(w, sources, 1 << 30)
        if captures is not None:
            captures.drain(sources.capture_queue)
            captures.close()
            w.stats.extra["captured_frames"] = captures.frames
        w.close()
        return w.stats
    finally:
        pgh.stop()
        if rh is not None:
            rh.stop()


class CaptureSink:
    """Capture records from the feeds into one rotating `CaptureWriter` per venue."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.writers: dict[str, CaptureWriter] = {}
        self.frames = 0
        self.bad = 0

    def drain(self, q: Any, limit: int = 65536) -> int:
        items = q.get_many(timeout=0, max_messages=limit)
        for rec in items:
            body = getattr(rec, "body", None)
            try:
                venue, conn, ts = str(body["venue"]), str(body["conn"]), int(body["ts"])
                frame = body["frame"]
                data = frame.encode("utf-8", "surrogateescape") if isinstance(frame, str) \
                    else bytes(frame)
            except (TypeError, KeyError, ValueError):
                self.bad += 1
                continue
            cw = self.writers.get(venue)
            if cw is None:
                cw = self.writers[venue] = CaptureWriter(os.path.join(self.folder, venue), venue)
            cw.write(ts, data, conn)
            self.frames += 1
        return len(items)

    def close(self) -> None:
        for cw in self.writers.values():
            cw.close()


def _drain_once(w: Writer, sources: WriterSources, limit: int) -> int:
    got = 0
    for r in sources.tick_readers:
        b = r.poll(limit)
        if len(b):
            w.add_ticks(b)
            got += len(b)
    q = sources.event_queue
    if q is not None:
        items: list[bytes]
        if isinstance(q, MessageQueue):   # entries as they came: decoded once, in to_rows
            items = q.get_raw(min(limit, 65536))
        else:
            try:
                items = q.get_many(block=False, max_messages_to_get=min(limit, 65536))
            except _queue.Empty:
                items = []
        if items:
            w.add_events(list(items))
            got += len(items)
    return got


def main(ctx: Any) -> int:
    """Supervisor entry (pipeline.process.ProcessContext): run until shutdown, then flush."""
    from shm.ring import RingReader

    cfg = ctx.config
    settings = WriterSettings(database_url=cfg.database.url, redis_url=cfg.redis.url,
                              data_dir=cfg.system.data_dir)
    readers = [RingReader.attach(name) for name in ctx.handles.tick_rings.values()]
    last_cmd = [0]

    def beat() -> None:
        ctx.beat()
        now = time.monotonic_ns()
        if now - last_cmd[0] > 100_000_000:  # commands (shutdown) ~10x a second is plenty
            last_cmd[0] = now
            ctx.poll_commands(timeout=0)

    try:
        stats = run_writer(settings, ctx.stop_event,
                           WriterSources(readers, ctx.handles.event_queue,
                                         ctx.handles.extra.get("capture_queue")), beat=beat)
    finally:
        for r in readers:
            r.close()
    log.info("writer stopped: %s", {k: v for k, v in vars(stats).items() if k != "extra"})
    return 0
