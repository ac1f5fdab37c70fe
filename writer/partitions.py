"""Daily partitions of the tick tables: the writer makes a day's partition before it has rows
for that day, then COPYs straight into it (writer.postgres.write_ticks).

Partition of `ticks_bbo` for 2025-10-09 (UTC, by ts_recv) is `ticks_bbo_20251009`, bounds
[day * DAY_NS, (day + 1) * DAY_NS). Old days are dropped with `DROP TABLE` of their partitions.

Creating a partition takes an ACCESS EXCLUSIVE lock on the parent, so it waits for every
transaction using the parent (a long report over `ticks`, or the other COPY stream's batch)
and everything after it queues behind it. Hence:
- the next day's partition is made in advance, whenever a batch of the day before is written,
  trying only briefly (a short lock_timeout, then not again for a while), so midnight itself
  normally needs no DDL at all;
- making a day that rows are waiting for gives up after a bounded wait too: the error is an
  OperationalError, so the writer keeps the batch in the spool and retries later, as it does
  while the database is down, instead of stalling behind a reader;
- creation runs in its own short transaction under an advisory lock, before the batch's own
  transaction: two streams meeting a new day at once make it once, and no batch transaction
  holds the parent's lock while waiting to create.
Known partitions are cached per writer; one dropped behind the writer's back is forgotten on
the error and made again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import psycopg

from writer.tick_copy import DAY_NS, Route, TickTable

_LOCK_KEY = 7008  # pg_advisory_xact_lock key for partition DDL (7007 is migrations)
_INT8_MIN, _INT8_MAX = -(1 << 63), (1 << 63) - 1


def partition_name(table: str, day: int) -> str:
    """`ticks_bbo_20251009`; days outside years 0-9999 keep numpy's spelling (still unique)."""
    stamp = str(np.datetime64(day, "D")).replace("-", "")
    return f"{table}_{stamp}"


def _bound(ns: int) -> str:
    """The first and last days of the int8 range end at MINVALUE/MAXVALUE (a bound literal
    past int8 is an error)."""
    if ns < _INT8_MIN:
        return "MINVALUE"
    if ns > _INT8_MAX:
        return "MAXVALUE"
    return str(ns)


class Partitions:
    """Which day partitions exist (cached), making the missing ones; shared by a writer's
    connections (thread-safe)."""

    def __init__(self, *, wait_ms: int = 1000, ahead_wait_ms: int = 200,
                 ahead_retry_ns: int = 60_000_000_000,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.wait_ms = wait_ms                # lock wait for a day rows are waiting for
        self.ahead_wait_ms = ahead_wait_ms    # ... and for tomorrow, made in advance
        self.ahead_retry_ns = ahead_retry_ns  # after a failed advance try, leave it this long
        self.clock = clock
        self._known: set[tuple[str, int]] = set()
        self._ahead_after: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def ensure(self, conn: psycopg.Connection, routes: list[Route]) -> None:
        """Make the partitions `routes` need (raising psycopg.errors.LockNotAvailable if that
        waits too long), and try the following days' in advance. Call it outside the batch
        transaction (see the module doc); inside one it works but holds the lock longer."""
        for r in routes:
            if not self._is_known(r.table.name, r.day):
                self._create(conn, r.table, r.day, self.wait_ms)
        for r in routes:
            key = (r.table.name, r.day + 1)
            if (r.day + 1) * DAY_NS > _INT8_MAX or self._is_known(*key) \
                    or self.clock() < self._ahead_after.get(key, 0):
                continue  # (no day after the last one of int8 time)
            try:
                self._create(conn, r.table, r.day + 1, self.ahead_wait_ms)
            except psycopg.errors.LockNotAvailable:
                self._ahead_after[key] = self.clock() + self.ahead_retry_ns

    def forget(self) -> None:
        """After a COPY found a partition missing (dropped by hand): check them all again."""
        with self._lock:
            self._known.clear()

    def _is_known(self, table: str, day: int) -> bool:
        with self._lock:
            return (table, day) in self._known

    def _create(self, conn: psycopg.Connection, table: TickTable, day: int, wait_ms: int) -> None:
        with conn.transaction():  # (a savepoint inside a caller's transaction)
            row = conn.execute("SELECT current_setting('lock_timeout')").fetchone()
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(wait_ms)}ms",))
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(table.name, day)}" '
                f"PARTITION OF {table.name} FOR VALUES FROM ({_bound(day * DAY_NS)}) "
                f"TO ({_bound((day + 1) * DAY_NS)})")
            # a caller's transaction goes on with its own lock_timeout (on an error the
            # savepoint's rollback undoes the change anyway)
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (row[0] if row else "0",))
        with self._lock:
            self._known.add((table.name, day))
