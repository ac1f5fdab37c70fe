"""The writer core: batches ticks and events, flushes on size or time through the write-ahead
spool (writer.spool) to PostgreSQL, keeps going (spooling) while PostgreSQL is down, and
replays the spool in order when it is back. Producers are never blocked: they write into
rings/queues the writer drains; this class only sees what was drained."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg

from shm.layout import TICK_DTYPE
from writer import events as ev
from writer import postgres as pg
from writer import tick_copy
from writer.partitions import Partitions
from writer.redis_state import RedisState
from writer.spool import Spool, SpoolCorrupt
from writer.tick_buffer import TickBuffer

PARALLEL_SPLIT_ROWS = 8_192
# a batch ready to send: its spool file, kind, batch id, payload (file bytes, or the tick array)
_Loaded = tuple[Path, bytes, int, "bytes | np.ndarray"]


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
                 retry_ns: int = 500_000_000, parallel_copy: bool = True,
                 pipelined: bool = False) -> None:
        self.db_url = db_url
        self.schema = schema
        self.spool = Spool(spool_dir)
        self.batch_rows = batch_rows
        self.flush_ns = flush_ns
        self.redis = redis
        self.clock = clock
        self.retry_ns = retry_ns
        self.stats = WriterStats()
        self._ticks = TickBuffer(2 * batch_rows)
        self._events: list[bytes] = []
        self._last_flush = clock()
        self._next_retry = 0
        self.conn: psycopg.Connection | None = None
        self._conn2: psycopg.Connection | None = None   # second COPY stream (see drain_spool)
        self._enc, self._enc2 = pg.TickEncoders(), pg.TickEncoders()  # one per connection
        self._parts = Partitions()  # day partitions known to exist (shared by both streams)
        # batches just spooled, kept in memory so the send need not read back (and re-checksum)
        # the file it just wrote; a drain drops those it listed, sent or not (then the file
        # is read from disk), so this holds at most about one flush's worth
        self._fresh: dict[Path, _Loaded] = {}
        self._stats_lock = threading.Lock()
        self.parallel_copy = parallel_copy
        self.pipelined = pipelined
        self._drainer: threading.Thread | None = None   # the background drain (pipelined)
        self._drain_error: BaseException | None = None
        self.drains = 0  # drains ended so far (the main loop reports stats after each)
        # test hook: called after a batch is spooled and before it is sent (crash injection)
        self.after_spool: Callable[[int], None] | None = None
        # called (from the sending thread) with each tick batch just committed, for lag
        # figures; the array is only valid during the call
        self.on_ticks_committed: Callable[[np.ndarray], None] | None = None

    # -- input (called by the main loop with what it drained) -------------------------------
    def add_ticks(self, batch: np.ndarray) -> None:
        if batch.dtype != TICK_DTYPE:
            raise ValueError(f"tick batch dtype {batch.dtype} is not TICK_DTYPE")
        if len(batch):
            self._ticks.append(batch)  # copied: ring memory is reused by the writer side
            self.stats.ticks_in += len(batch)
            if self.redis is not None:
                self._redis(self.redis.update_bbo, batch)

    def add_events(self, items: list[bytes]) -> None:
        self._events.extend(items)
        self.stats.events_in += len(items)

    def due(self) -> bool:
        n = self._ticks.n + len(self._events)
        return n >= self.batch_rows or (n > 0 and self.clock() - self._last_flush >= self.flush_ns)

    # -- flushing -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Spool what is buffered (fsync'd), then try to send every pending spool file.

        Pipelined, the sending runs in a background thread and flush returns once the batch
        is durable in the spool: the caller buffers (and spools) the next batch while the
        server ingests this one, instead of the two taking turns on a 2-core machine. One
        drain at a time: a flush first waits for the previous drain, then starts the next.
        Nothing else changes: the spool is still written before anything is sent, files still
        go in batch-id order, each still its own exactly-once transaction."""
        now = self.clock()
        self._last_flush = now
        if self._ticks.n:
            ticks = self._ticks.take()
            # a big batch goes out as two files so drain_spool can COPY them side by side
            parts = np.array_split(ticks, 2) if self.parallel_copy and len(ticks) >= \
                PARALLEL_SPLIT_ROWS else [ticks]
            for part in parts:
                bid = self.spool.next_id(now)
                path = self.spool.put(bid, b"T", part.view(np.uint8).data)
                self._fresh[path] = (path, b"T", bid, part)
                self.stats.batches_spooled += 1
        if self._events:
            items, self._events = self._events, []
            self.spool.put(self.spool.next_id(now), b"E", orjson.dumps([i.decode() for i in items]))
            self.stats.batches_spooled += 1
        if not self.pipelined:
            self._drain()
            return
        self.wait()
        self._drainer = threading.Thread(target=self._drain_in_background, name="writer-drain",
                                         daemon=True)
        self._drainer.start()

    def _drain_in_background(self) -> None:
        try:
            self._drain()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread by wait())
            self._drain_error = exc

    @property
    def busy(self) -> bool:
        """A background drain is running."""
        return self._drainer is not None and self._drainer.is_alive()

    def wait(self) -> bool:
        """Wait for a background drain to end (pipelined); True if it left the spool empty."""
        t, self._drainer = self._drainer, None
        if t is not None:
            t.join()
        if self._drain_error is not None:
            exc, self._drain_error = self._drain_error, None
            raise exc
        return self.stats.spool_pending == 0

    def drain_spool(self) -> bool:
        """Send every pending spool file now, in this thread (after any background drain)."""
        self.wait()
        return self._drain()

    def _drain(self) -> bool:
        """Send pending spool files in batch-id order; stop at the first DB error. True if empty.

        Two consecutive tick files go out together, each on its own connection (a worker
        thread holds the second): one PostgreSQL backend parsing binary COPY is the limit of
        a single stream, and a second backend on the other core nearly doubles throughput.
        Each file is still its own exactly-once transaction keyed by its batch id, so the
        order of commits does not matter for correctness, and stored rows keep their
        arrival order by (batch_id, row_no)."""
        pending = self.spool.pending()
        try:
            return self._drain_files(pending)
        finally:
            for path in pending:
                self._fresh.pop(path, None)
            self.drains += 1

    def _drain_files(self, pending: list[Path]) -> bool:
        self.stats.spool_pending = len(pending)
        if not pending:
            return True
        if self.conn is None and not self._connect():
            return False
        loaded: list[_Loaded] = []
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

    def _load(self, path: Path) -> _Loaded | None:
        fresh = self._fresh.pop(path, None)
        if fresh is not None:
            return fresh
        try:
            kind, bid, payload = Spool.read(path)
        except SpoolCorrupt as exc:  # keep the evidence, count it, move on
            path.rename(path.with_suffix(".corrupt"))
            self.stats.spool_corrupt += 1
            self.stats.last_error = str(exc)
            return None
        return path, kind, bid, payload

    def _send_group(self, group: list[_Loaded]) -> list[Exception | None]:
        """Send one file, or two tick files in parallel; per file: None or the DB error."""
        assert self.conn is not None
        if len(group) == 1:
            _, kind, bid, payload = group[0]
            try:
                self._send(self.conn, self._enc, kind, bid, payload)
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
                self._send(self._conn2, self._enc2, kind, bid, payload)  # type: ignore[arg-type]
            except psycopg.Error as exc:
                out[1] = exc

        t = threading.Thread(target=second, name="writer-copy2")
        t.start()
        _, kind, bid, payload = group[0]
        try:
            self._send(self.conn, self._enc, kind, bid, payload)
        except psycopg.Error as exc:
            out[0] = exc
        t.join()
        if out[1] is not None:
            self._close_conn2()
        return out

    def _send(self, conn: psycopg.Connection, enc: pg.TickEncoders, kind: bytes, bid: int,
              payload: bytes | np.ndarray) -> None:
        if kind == b"T":
            batch = payload if isinstance(payload, np.ndarray) else \
                np.frombuffer(payload, dtype=TICK_DTYPE)
            routes = tick_copy.route(batch)
            for attempt in (1, 2):
                self._parts.ensure(conn, routes)  # DDL before, not inside, the batch's txn
                try:
                    with conn.transaction():
                        n = pg.write_ticks(conn, batch, bid, enc, self._parts, routes)
                    break
                except psycopg.errors.UndefinedTable:
                    if attempt == 2:
                        raise
                    self._parts.forget()  # a day partition was dropped behind our back
            with self._stats_lock:
                self.stats.ticks_inserted += n
            if self.on_ticks_committed is not None:
                self.on_ticks_committed(batch)
            return
        with conn.transaction():
            items = [s.encode() for s in orjson.loads(bytes(payload))]
            rows: dict[str, list[tuple[Any, ...]]] = {}
            self.stats.events_bad += ev.to_rows(items, rows)
            self.stats.events_inserted += pg.write_events(conn, rows)
        if self.redis is not None:
            self._redis(self.redis.apply_events, rows)

    def _redis(self, fn: Callable[[Any], Any], arg: Any) -> None:
        """Redis is a cache: an error is counted and skipped, never stops persistence."""
        import redis as redis_py
        try:
            fn(arg)
        except (redis_py.RedisError, OSError) as exc:
            with self._stats_lock:  # the main loop and a background drain both get here
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
        self.wait()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._close_conn2()
