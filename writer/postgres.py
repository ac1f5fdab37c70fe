"""PostgreSQL side of the writer: migrations and idempotent binary-COPY flushes.

Events: binary COPY into a temp staging table, then `INSERT ... SELECT ... ON CONFLICT DO
NOTHING` on natural keys, in one transaction, so a replay never duplicates a fill or order
event. Ticks: binary COPY straight into the per-kind tick tables (writer.tick_copy), made
exactly-once by claiming the writer's batch id in `tick_batches` in the same transaction (see
write_ticks), into the day's partition (writer.partitions); readers query the `ticks` view.
"""
from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import numpy as np
import orjson
import psycopg

from writer import tick_copy
from writer.partitions import Partitions, partition_name

TICK_COLS = tick_copy.WIDE_FIELDS  # the columns of the `ticks` view, in TICK_DTYPE order


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply every `schema/NNN_*.sql` not yet recorded in `schema_migrations`; returns applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                 "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
    conn.execute("SELECT pg_advisory_lock(7007)")  # two writers starting at once: one migrates
    try:
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        files = sorted((p for p in resources.files("writer.schema").iterdir()
                        if p.name.endswith(".sql")), key=lambda p: p.name)
        for f in files:
            if f.name in done:
                continue
            with conn.transaction():
                conn.execute(f.read_text())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (f.name,))
            applied.append(f.name)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(7007)")


class TickEncoders:
    """One reusable COPY encoder per tick table, for one connection (see writer.tick_copy)."""

    def __init__(self) -> None:
        self.by_table = {t.name: tick_copy.CopyEncoder(t) for t in tick_copy.TABLES}


def write_ticks(conn: psycopg.Connection, batch: np.ndarray, batch_id: int,
                encoders: TickEncoders | None = None, parts: Partitions | None = None,
                routes: list[tick_copy.Route] | None = None) -> int:
    """Exactly-once store of a tick batch; returns rows inserted (0 if the batch was already
    stored). Idempotency is per writer batch: the batch id is claimed in `tick_batches` in the
    same transaction as direct binary COPYs into the day partitions of the tick tables (one
    per kind and day present, see writer.tick_copy), so a spool replay of a committed batch is
    a no-op, with no staging table or unique index on the hot tables. `routes` (from
    tick_copy.route) and `parts` let the caller create partitions before its transaction (see
    writer.partitions). Caller commits."""
    if len(batch) == 0:
        return 0
    if routes is None:
        routes = tick_copy.route(batch)
    (parts or Partitions()).ensure(conn, routes)
    cur = conn.execute("INSERT INTO tick_batches (batch_id, n) VALUES (%s, %s) "
                       "ON CONFLICT DO NOTHING", (batch_id, len(batch)))
    if cur.rowcount == 0:
        return 0
    enc = (encoders or TickEncoders()).by_table
    for r in routes:
        with conn.cursor() as c, c.copy(
                f'COPY "{partition_name(r.table.name, r.day)}" ({", ".join(r.table.columns)}) '
                "FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(tick_copy.HEADER)
            cp.write(enc[r.table.name].encode(r.rows, batch_id, r.row_no))
            cp.write(tick_copy.TRAILER)
    return len(batch)


# Event tables: (table, columns, binary COPY types). Rows come from events.to_rows().
EVENT_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (("client_id", "venue", "symbol", "side", "price_ticks", "lots", "order_type", "tif",
                "ts_tick_recv", "ts_decision"),
               ("text", "text", "text", "int2", "int8", "int8", "int2", "int2", "int8", "int8")),
    "order_events": (("venue", "client_id", "venue_order_id", "exec_type", "status", "side",
                      "price_ticks", "lots", "filled_lots", "reason", "reason_text", "ts_event",
                      "ts_recv"),
                     ("text", "text", "text", "int2", "int2", "int2", "int8", "int8", "int8",
                      "int2", "text", "int8", "int8")),
    "fills": (("venue", "trade_id", "client_id", "symbol", "side", "last_lots", "last_price_ticks",
               "fee", "fee_asset", "is_maker", "ts_event", "ts_recv"),
              ("text", "text", "text", "text", "int2", "int8", "int8", "numeric", "text", "bool",
               "int8", "int8")),
    "audit_events": (("seq", "ts", "prev_hash", "hash", "body"),
                     ("int8", "int8", "text", "text", "jsonb")),
}
for _t in ("positions", "pnl_snapshots", "risk_events", "metrics"):
    EVENT_TABLES[_t] = (("source", "seq", "ts", "body"), ("text", "int8", "int8", "jsonb"))


def write_events(conn: psycopg.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> int:
    """Idempotently store event rows grouped by table; returns rows newly inserted."""
    total = 0
    for table, trows in rows.items():
        if not trows:
            continue
        cols, types = EVENT_TABLES[table]
        clist = ", ".join(cols)
        stage = f"stage_{table}"
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) "
                     "ON COMMIT DELETE ROWS")
        with conn.cursor() as cur:
            with cur.copy(f"COPY {stage} ({clist}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(list(types))
                for r in trows:
                    cp.write_row(_jsonb(r, types))
            cur.execute(f"INSERT INTO {table} ({clist}) SELECT {clist} FROM {stage} "
                        "ON CONFLICT DO NOTHING")
            total += max(cur.rowcount, 0)
            cur.execute(f"TRUNCATE {stage}")
    return total


def _jsonb(row: Iterable[Any], types: tuple[str, ...]) -> tuple[Any, ...]:
    from psycopg.types.json import Jsonb
    return tuple(Jsonb(v) if t == "jsonb" else v for v, t in zip(row, types))


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)
