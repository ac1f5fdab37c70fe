"""The writer core: batches ticks and events, flushes on size or time through the write-ahead
spool (writer.spool) to PostgreSQL, keeps going (spooling) while PostgreSQL is down, and
replays the spool in order when it is back. Producers are never blocked: they write into
rings/queues the writer drains; this class only sees what was drained."""
from __future__ import annotations

import threading
import time
from pathlib import Path
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


PARALLEL_SPLIT_ROWS = 8_192


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
                 retry_ns: int = 500_000_000, parallel_copy: bool = True) -> None:
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
        self._conn2: psycopg.Connection | None = None   # second COPY stream (see drain_spool)
        self._stats_lock = threading.Lock()
        self.parallel_copy = parallel_copy
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
            # a big batch goes out as two files so drain_spool can COPY them side by side
            parts = np.array_split(ticks, 2) if self.parallel_copy and len(ticks) >= \
                PARALLEL_SPLIT_ROWS else [ticks]
            for part in parts:
                self.spool.put(self.spool.next_id(now), b"T", part.tobytes())
                self.stats.batches_spooled += 1
        if self._events:
            items, self._events = self._events, []
            self.spool.put(self.spool.next_id(now), b"E", orjson.dumps([i.decode() for i in items]))
            self.stats.batches_spooled += 1
        self.drain_spool()

    def drain_spool(self) -> bool:
        """Send pending spool files in batch-id order; stop at the first DB error. True if empty.

        Two consecutive tick files go out together, each on its own connection (a worker
        thread holds the second): one PostgreSQL backend parsing binary COPY is the limit of
        a single stream, and a second backend on the other core nearly doubles throughput.
        Each file is still its own exactly-once transaction keyed by its batch id, so the
        order of commits does not matter for correctness, and stored rows keep their
        arrival order by (batch_id, row_no)."""
        pending = self.spool.pending()
        self.stats.spool_pending = len(pending)
        if not pending:
            return True
        if self.conn is None and not self._connect():
            return False
        loaded: list[tuple[Path, bytes, int, bytes]] = []
        it = iter(pending)
        while True:
            while len(loaded) < 2:
                path = next(it, None)
                if path is None:
                    break
                item = self._load(path)
                if item is not None:
                    loaded.append(item)
            if not loaded:
                return True
            pair = len(loaded) == 2 and loaded[0][1] == b"T" == loaded[1][1] and \
                self.parallel_copy
            group, loaded = (loaded[:2], []) if pair else (loaded[:1], loaded[1:])
            for _, _, bid, _ in group:
                if self.after_spool is not None:
                    self.after_spool(bid)
            results = self._send_group(group)
            for (path, _, _, _), res in zip(group, results):
                if res is None:
                    Spool.done(path)
                    self.stats.spool_pending -= 1
                elif isinstance(res, (psycopg.OperationalError, psycopg.InterfaceError)):
                    self._db_down(res)  # server away: keep the file, retry later, keep order
                    return False
                else:
                    # The server refused this batch's data: retrying would block every later
                    # batch forever. Keep the file as evidence, count it, go on.
                    path.rename(path.with_suffix(".rejected"))
                    self.stats.batches_rejected += 1
                    self.stats.last_error = type(res).__name__

    def _load(self, path: Path) -> tuple[Path, bytes, int, bytes] | None:
        try:
            kind, bid, payload = Spool.read(path)
        except SpoolCorrupt as exc:  # keep the evidence, count it, move on
            path.rename(path.with_suffix(".corrupt"))
            self.stats.spool_corrupt += 1
            self.stats.last_error = str(exc)
            return None
        return path, kind, bid, payload

    def _send_group(self, group: list[tuple[Path, bytes, int, bytes]]) -> list[Exception | None]:
        """Send one file, or two tick files in parallel; per file: None or the DB error."""
        assert self.conn is not None
        if len(group) == 1:
            _, kind, bid, payload = group[0]
            try:
                self._send(self.conn, kind, bid, payload)
                return [None]
            except psycopg.Error as exc:
                return [exc]
        if self._conn2 is None:
            self._conn2 = self._open_conn()
            if self._conn2 is None:  # second connection refused: fall back to one stream
                return self._send_group(group[:1]) + [psycopg.OperationalError("no 2nd conn")]
        out: list[Exception | None] = [None, None]

        def second() -> None:
            _, kind, bid, payload = group[1]
            try:
                self._send(self._conn2, kind, bid, payload)  # type: ignore[arg-type]
            except psycopg.Error as exc:
                out[1] = exc

        t = threading.Thread(target=second, name="writer-copy2")
        t.start()
        _, kind, bid, payload = group[0]
        try:
            self._send(self.conn, kind, bid, payload)
        except psycopg.Error as exc:
            out[0] = exc
        t.join()
        if out[1] is not None:
            self._close_conn2()
        return out

    def _send(self, conn: psycopg.Connection, kind: bytes, bid: int, payload: bytes) -> None:
        with conn.transaction():
            if kind == b"T":
                n = pg.write_ticks(conn, np.frombuffer(payload, dtype=TICK_DTYPE), bid)
                with self._stats_lock:
                    self.stats.ticks_inserted += n
            else:
                items = [s.encode() for s in orjson.loads(payload)]
                rows: dict[str, list[tuple[Any, ...]]] = {}
                self.stats.events_bad += ev.to_rows(items, rows)
                self.stats.events_inserted += pg.write_events(conn, rows)
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

    def _open_conn(self) -> psycopg.Connection | None:
        try:
            conn = psycopg.connect(self.db_url, connect_timeout=2, autocommit=True)
            if self.schema:
                conn.execute(f'SET search_path TO "{self.schema}"')
            return conn
        except psycopg.Error:
            return None

    def _close_conn2(self) -> None:
        if self._conn2 is not None:
            try:
                self._conn2.close()
            except psycopg.Error:
                pass
        self._conn2 = None

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
        self._close_conn2()

    def close(self) -> None:
        self.flush()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._close_conn2()
