"""PostgreSQL side of the writer: migrations and idempotent binary-COPY flushes.

Events: binary COPY into a temp staging table, then `INSERT ... SELECT ... ON CONFLICT DO
NOTHING` on natural keys, in one transaction, so a replay never duplicates a fill or order
event. Ticks: binary COPY straight into `ticks`, made exactly-once by claiming the writer's
batch id in `tick_batches` in the same transaction (see write_ticks).
"""
from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import numpy as np
import orjson
import psycopg

TICK_COLS = ("kind", "venue", "side", "flags", "symbol_id", "ts_event", "ts_recv", "ts_pub",
             "bid_px", "bid_sz", "ask_px", "ask_sz", "price", "size", "update_id")
# PostgreSQL binary wire type of each column (big-endian), then batch_id int8, row_no int4.
_PG_TYPES = (">i2", ">i2", ">i2", ">i2", ">i8", ">i8", ">i8", ">i8",
             ">f8", ">f8", ">f8", ">f8", ">f8", ">f8", ">i8", ">i8", ">i4")
_ALL_COLS = TICK_COLS + ("batch_id", "row_no")
_ROW_DTYPE = np.dtype([("n", ">i2")] + [
    f for i, t in enumerate(_PG_TYPES) for f in ((f"l{i}", ">i4"), (f"v{i}", t))])
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_TRAILER = b"\xff\xff"


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


def ticks_copy_payload(batch: np.ndarray, batch_id: int) -> bytes:
    """Tick records -> one PGCOPY binary payload, built column-wise with numpy (no Python loop)."""
    n = len(batch)
    out = np.empty(n, dtype=_ROW_DTYPE)
    out["n"] = len(_PG_TYPES)
    for i, t in enumerate(_PG_TYPES):
        out[f"l{i}"] = np.dtype(t).itemsize
        if i < len(TICK_COLS):
            out[f"v{i}"] = batch[TICK_COLS[i]]
    out[f"v{len(TICK_COLS)}"] = batch_id
    out[f"v{len(TICK_COLS) + 1}"] = np.arange(n, dtype=np.int64)
    return _HEADER + out.tobytes() + _TRAILER


def write_ticks(conn: psycopg.Connection, batch: np.ndarray, batch_id: int) -> int:
    """Exactly-once store of a tick batch; returns rows inserted (0 if the batch was already
    stored). Idempotency is per writer batch: the batch id is claimed in `tick_batches` in the
    same transaction as a direct binary COPY into `ticks`, so a spool replay of a committed
    batch is a no-op, with no staging table or unique index on the hot table. Caller commits."""
    if len(batch) == 0:
        return 0
    cur = conn.execute("INSERT INTO tick_batches (batch_id, n) VALUES (%s, %s) "
                       "ON CONFLICT DO NOTHING", (batch_id, len(batch)))
    if cur.rowcount == 0:
        return 0
    with conn.cursor() as c, c.copy(f"COPY ticks ({', '.join(_ALL_COLS)}) FROM STDIN "
                                    "(FORMAT BINARY)") as cp:
        cp.write(ticks_copy_payload(batch, batch_id))
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
