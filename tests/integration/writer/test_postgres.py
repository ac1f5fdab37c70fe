"""Migrations, binary-COPY round trips and idempotent replays against real PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import orjson

from pipeline.messages import ExecReport, ExecType, NewOrder, encode
from pipeline.model import OrderStatus, Side
from shm.layout import TICK_DTYPE
from writer import events, postgres

from .conftest import connect
from .helpers import ticks


def test_migrations_are_idempotent(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    assert postgres.migrate(c) == ["001_initial.sql"]
    assert postgres.migrate(c) == []
    assert c.execute("SELECT count(*) FROM schema_migrations").fetchone() == (1,)
    tables = {r[0] for r in c.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (pg_schema[1],))}
    assert {"ticks", "orders", "order_events", "fills", "positions", "pnl_snapshots",
            "risk_events", "audit_events", "metrics", "instruments", "tick_batches"} <= tables


def test_tick_copy_round_trip_and_replay(pg_schema: tuple[str, str]) -> None:
    c = connect(*pg_schema)
    postgres.migrate(c)
    b = ticks(0, 5000)
    with c.transaction():
        assert postgres.write_ticks(c, b, batch_id=1) == 5000
    with c.transaction():  # the same batch again (spool replay): nothing new
        assert postgres.write_ticks(c, b, batch_id=1) == 0
    assert c.execute("SELECT count(*) FROM ticks").fetchone() == (5000,)
    cols = ", ".join(postgres.TICK_COLS)
    rows = c.execute(f"SELECT {cols} FROM ticks ORDER BY batch_id, row_no").fetchall()
    back = np.array([tuple(r) for r in rows], dtype=TICK_DTYPE)
    assert np.array_equal(back, b)


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
