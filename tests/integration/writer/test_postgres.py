"""Migrations, binary-COPY round trips and idempotent replays against real PostgreSQL."""
from __future__ import annotations

from decimal import Decimal
from importlib import resources

import numpy as np
import orjson
import psycopg

from pipeline.messages import ExecReport, ExecType, NewOrder, encode
from pipeline.model import OrderStatus, Side
from shm.layout import TICK_DTYPE
from writer import events, postgres

from .conftest import connect
from .helpers import DAY_NS, odd_ticks, ticks


def test_migrations_are_idempotent(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    assert postgres.migrate(c) == ["001_initial.sql", "002_ticks_by_kind.sql"]
    assert postgres.migrate(c) == []
    assert c.execute("SELECT count(*) FROM schema_migrations").fetchone() == (2,)
    tables = {r[0] for r in c.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (pg_schema[1],))}
    assert {"ticks", "orders", "order_events", "fills", "positions", "pnl_snapshots",
            "risk_events", "audit_events", "metrics", "instruments", "tick_batches",
            "ticks_bbo", "ticks_trade", "ticks_other", "ticks_legacy"} <= tables
    # the tick migration's own SQL run again (as by hand) changes nothing and fails nothing
    c.execute(_sql("002_ticks_by_kind.sql"))
    assert c.execute("SELECT count(*) FROM ticks").fetchone() == (0,)


def _sql(name: str) -> str:
    return resources.files("writer.schema").joinpath(name).read_text()


def _read_back(c: psycopg.Connection) -> np.ndarray:
    cols = ", ".join(postgres.TICK_COLS)
    rows = c.execute(f"SELECT {cols} FROM ticks ORDER BY batch_id, row_no").fetchall()
    return np.array([tuple(r) for r in rows], dtype=TICK_DTYPE)


def _per_table(c: psycopg.Connection) -> dict[str, int]:
    return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("ticks_bbo", "ticks_trade", "ticks_other", "ticks_legacy")}


def test_tick_copy_round_trip_and_replay(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    postgres.migrate(c)
    b = ticks(0, 5000)
    with c.transaction():
        assert postgres.write_ticks(c, b, batch_id=1) == 5000
    with c.transaction():  # the same batch again (spool replay): nothing new
        assert postgres.write_ticks(c, b, batch_id=1) == 0
    assert c.execute("SELECT count(*) FROM ticks").fetchone() == (5000,)
    assert np.array_equal(_read_back(c), b)
    trades = int((b["kind"] == 2).sum())
    assert _per_table(c) == {"ticks_bbo": 5000 - trades, "ticks_trade": trades,
                             "ticks_other": 0, "ticks_legacy": 0}


def test_any_tick_row_reads_back_bit_for_bit(pg_schema: tuple[str, str]) -> None:
    """Rows that do not fit their kind's narrow table keep every field in ticks_other; a batch
    across midnight (and one stamped before 1970) lands in one partition per day; the view
    gives back exactly the batch, in order."""
    c = connect(*pg_schema)
    postgres.migrate(c)
    b = np.concatenate([ticks(0, 10), odd_ticks(10), ticks(16, 10)])
    b["ts_recv"][-5:] += DAY_NS                   # the last rows after midnight
    b["ts_recv"][1] = -1                          # a BBO at 1969-12-31T23:59:59.999999999
    with c.transaction():
        assert postgres.write_ticks(c, b, batch_id=5) == len(b)
    back = _read_back(c)
    assert back.tobytes() == b.tobytes()          # NaN and -0.0 included
    assert _per_table(c)["ticks_other"] == 6
    parts = {r[0] for r in c.execute(
        "SELECT i.inhrelid::regclass::text FROM pg_inherits i WHERE i.inhparent IN "
        "('ticks_bbo'::regclass, 'ticks_trade'::regclass, 'ticks_other'::regclass)")}
    assert parts == {"ticks_bbo_19691231", "ticks_bbo_20231114", "ticks_bbo_20231115",
                     "ticks_trade_20231114", "ticks_trade_20231115", "ticks_other_20231114",
                     # and each following day's, made in advance
                     "ticks_bbo_19700101", "ticks_bbo_20231116", "ticks_trade_20231116",
                     "ticks_other_20231115"}


def test_the_first_and_last_days_of_int8_time(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    postgres.migrate(c)
    b = ticks(0, 2)
    b["ts_recv"] = [-(1 << 63), (1 << 63) - 1]    # partitions bounded by MINVALUE / MAXVALUE
    with c.transaction():
        assert postgres.write_ticks(c, b, batch_id=1) == 2
    assert np.array_equal(_read_back(c), b)


def test_rows_stored_before_the_tick_migration_stay_readable(pg_schema: tuple[str, str]) -> None:
    """A database at migration 001 with ticks in the wide table: after 002 those rows read
    back through the view unchanged, in order before the new ones (batch ids only grow)."""
    c = connect(*pg_schema)
    c.execute(_sql("001_initial.sql"))
    c.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, "
              "applied_at timestamptz NOT NULL DEFAULT now())")
    c.execute("INSERT INTO schema_migrations (version) VALUES ('001_initial.sql')")
    old = ticks(0, 30)
    cols = ", ".join(postgres.TICK_COLS)
    with c.cursor() as cur:
        cur.executemany(f"INSERT INTO ticks ({cols}, batch_id, row_no) VALUES "
                        f"({', '.join(['%s'] * 17)})",
                        [tuple(r) + (1, i) for i, r in enumerate(old.tolist())])
    assert postgres.migrate(c) == ["002_ticks_by_kind.sql"]
    new = ticks(30, 30)
    with c.transaction():
        assert postgres.write_ticks(c, new, batch_id=2) == 30
    assert np.array_equal(_read_back(c), np.concatenate([old, new]))
    assert _per_table(c)["ticks_legacy"] == 30


def test_events_round_trip_and_replay(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    postgres.migrate(c)
    items = [
        encode(NewOrder("c1", "binance", "BTC/USDT", Side.BUY, 100, 3, ts_decision=9)),
        encode(ExecReport("binance", "BTC/USDT", "c1", "v1", ExecType.NEW, OrderStatus.NEW,
                          Side.BUY, 100, 3, ts_event=10, ts_recv=11)),
        encode(ExecReport("binance", "BTC/USDT", "c1", "v1", ExecType.TRADE,
                          OrderStatus.FILLED, Side.BUY, 100, 3, 3, 3, 100, Decimal("0.0012"),
                          "USDT", "t1", True, ts_event=12, ts_recv=13)),
        orjson.dumps({"type": "audit", "seq": 1, "ts": 5, "kind": "halt", "actor": "op",
                      "data": {}, "prev": "0" * 64, "hash": "ab" * 32}),
        orjson.dumps({"type": "pnl", "source": "engine", "seq": 1, "ts": 6, "realized": 1.5}),
        orjson.dumps({"type": "risk", "source": "rms", "seq": 1, "ts": 7, "state": "halted"}),
        b"not json", orjson.dumps({"type": "nope"}),
    ]
    rows: dict = {}
    assert events.to_rows(items, rows) == 2  # two malformed items, counted
    with c.transaction():
        assert postgres.write_events(c, rows) == 7
    with c.transaction():
        assert postgres.write_events(c, rows) == 0
    assert c.execute("SELECT trade_id, fee, is_maker FROM fills").fetchall() == [
        ("t1", Decimal("0.0012"), True)]
    assert c.execute("SELECT count(*) FROM order_events").fetchone() == (2,)
    assert c.execute("SELECT seq, hash FROM audit_events").fetchall() == [(1, "ab" * 32)]
    assert c.execute("SELECT body->>'realized' FROM pnl_snapshots").fetchone() == ("1.5",)
