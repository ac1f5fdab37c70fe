"""The writer core: batches ticks and events, flushes on size or time through the write-ahead
spool (writer.spool) to PostgreSQL, keeps going (spooling) while PostgreSQL is down, and
replays the spool in order when it is back. Producers are never blocked: they write into
rings/queues the writer drains; this class only sees what was drained."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import psycopg

from shm.layout import TICK_DTYPE
from writer import events as ev
from writer import postgres as pg
from writer.redis_state import RedisState
from writer.spool import Spool, SpoolCorrupt


@dataclass
class WriterStats:
    ticks_in: int = 0
    ticks_inserted: int = 0
    events_in: int = 0
    events_inserted: int = 0
    events_bad: int = 0
    batches_spooled: int = 0
    spool_pending: int = 0
    spool_corrupt: int = 0
    batches_rejected: int = 0
    redis_errors: int = 0
    db_errors: int = 0
    db_up: bool = False
    ring_lapped: int = 0
    ring_lost: int = 0
    last_error: str = ""
    extra: dict[str, int] = field(default_factory=dict)


class Writer:
    def __init__(self, db_url: str, spool_dir: str, *, batch_rows: int = 20_000,
                 flush_ns: int = 200_000_000, redis: RedisState | None = None,
                 schema: str | None = None, clock: Callable[[], int] = time.time_ns,
                 retry_ns: int = 500_000_000) -> None:
        self.db_url = db_url
        self.schema = schema
        self.spool = Spool(spool_dir)
        self.batch_rows = batch_rows
        self.flush_ns = flush_ns
        self.redis = redis
        self.clock = clock
        self.retry_ns = retry_ns
        self.stats = WriterStats()
        self._ticks: list[np.ndarray] = []
        self._nticks = 0
        self._events: list[bytes] = []
        self._last_flush = clock()
        self._next_retry = 0
        self.conn: psycopg.Connection | None = None
        # test hook: called after a batch is spooled and before it is sent (crash injection)
        self.after_spool: Callable[[int], None] | None = None

    # -- input (called by the main loop with what it drained) -------------------------------
    def add_ticks(self, batch: np.ndarray) -> None:
        if batch.dtype != TICK_DTYPE:
            raise ValueError(f"tick batch dtype {batch.dtype} is not TICK_DTYPE")
        if len(batch):
            self._ticks.append(batch.copy())  # ring memory is reused by the writer side
            self._nticks += len(batch)
            self.stats.ticks_in += len(batch)
            if self.redis is not None:
                self._redis(self.redis.update_bbo, batch)

    def add_events(self, items: list[bytes]) -> None:
        self._events.extend(items)
        self.stats.events_in += len(items)

    def due(self) -> bool:
        n = self._nticks + len(self._events)
        return n >= self.batch_rows or (n > 0 and self.clock() - self._last_flush >= self.flush_ns)

    # -- flushing -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Spool what is buffered (fsync'd), then try to send every pending spool file."""
        now = self.clock()
        self._last_flush = now
        if self._nticks:
            ticks = np.concatenate(self._ticks)
            self._ticks, self._nticks = [], 0
            self.spool.put(self.spool.next_id(now), b"T", ticks.tobytes())
            self.stats.batches_spooled += 1
        if self._events:
            items, self._events = self._events, []
            self.spool.put(self.spool.next_id(now), b"E", orjson.dumps([i.decode() for i in items]))
            self.stats.batches_spooled += 1
        self.drain_spool()

    def drain_spool(self) -> bool:
        """Send pending spool files in batch-id order; stop at the first DB error. True if empty."""
        pending = self.spool.pending()
        self.stats.spool_pending = len(pending)
        if not pending:
            return True
        if self.conn is None and not self._connect():
            return False
        for path in pending:
            try:
                kind, bid, payload = Spool.read(path)
            except SpoolCorrupt as exc:  # keep the evidence, count it, move on
                path.rename(path.with_suffix(".corrupt"))
                self.stats.spool_corrupt += 1
                self.stats.last_error = str(exc)
                continue
            if self.after_spool is not None:
                self.after_spool(bid)
            try:
                self._send(kind, bid, payload)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._db_down(exc)  # server away: keep the file, retry later, keep order
                return False
            except psycopg.Error as exc:
                # The server refused this batch's data: retrying would block every later
                # batch forever. Keep the file as evidence, count it, go on.
                path.rename(path.with_suffix(".rejected"))
                self.stats.batches_rejected += 1
                self.stats.last_error = type(exc).__name__
                continue
            Spool.done(path)
            self.stats.spool_pending -= 1
        return True

    def _send(self, kind: bytes, bid: int, payload: bytes) -> None:
        assert self.conn is not None
        with self.conn.transaction():
            if kind == b"T":
                self.stats.ticks_inserted += pg.write_ticks(
                    self.conn, np.frombuffer(payload, dtype=TICK_DTYPE), bid)
            else:
                items = [s.encode() for s in orjson.loads(payload)]
                rows: dict[str, list[tuple[Any, ...]]] = {}
                self.stats.events_bad += ev.to_rows(items, rows)
                self.stats.events_inserted += pg.write_events(self.conn, rows)
        if kind == b"E" and self.redis is not None:
            self._redis(self.redis.apply_events, rows)

    def _redis(self, fn: Callable[[Any], Any], arg: Any) -> None:
        """Redis is a cache: an error is counted and skipped, never stops persistence."""
        import redis as redis_py
        try:
            fn(arg)
        except (redis_py.RedisError, OSError) as exc:
            self.stats.redis_errors += 1
            self.stats.last_error = type(exc).__name__

    def _connect(self) -> bool:
        now = self.clock()
        if now < self._next_retry:
            return False
        try:
            conn = psycopg.connect(self.db_url, connect_timeout=2, autocommit=True)
            if self.schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                conn.execute(f'SET search_path TO "{self.schema}"')
            pg.migrate(conn)
        except psycopg.Error as exc:
            self._db_down(exc)
            return False
        self.conn = conn
        self.stats.db_up = True
        return True

    def _db_down(self, exc: Exception) -> None:
        self.stats.db_errors += 1
        self.stats.db_up = False
        self.stats.last_error = type(exc).__name__  # the message may carry a URL with a password
        self._next_retry = self.clock() + self.retry_ns
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
        self.conn = None

    def close(self) -> None:
        self.flush()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
