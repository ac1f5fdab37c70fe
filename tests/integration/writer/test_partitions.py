"""Day partitions made by the writer: both COPY streams meeting a new day at once, a partition
dropped behind the writer's back, a long reader holding the parent table, and the pipelined
writer's rows all arriving in order."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import pytest

from writer import postgres
from writer.core import Writer
from writer.partitions import Partitions, partition_name
from writer.tick_copy import route

from .conftest import connect
from .helpers import DAY_NS, ticks


def _ids(url: str, schema: str) -> list[int]:
    c = connect(url, schema)
    return [r[0] for r in c.execute("SELECT update_id FROM ticks ORDER BY batch_id, row_no")]


def test_both_streams_meet_each_new_day_at_once(pg_schema: tuple[str, str],
                                                tmp_path: Path) -> None:
    """Every flush is big enough to go out as two files COPYed side by side, and each is a
    new day, so both connections find the same partition missing at the same moment."""
    url, schema = pg_schema
    w = Writer(url, str(tmp_path / "spool"), schema=schema, batch_rows=20_000)
    n = 10_000
    for day in range(6):
        b = ticks(day * n, n)
        b["ts_recv"] += day * DAY_NS
        w.add_ticks(b)
        w.flush()
        assert w.stats.batches_rejected == 0 and w.stats.spool_pending == 0
    w.close()
    assert _ids(url, schema) == list(range(6 * n))
    c = connect(url, schema)
    assert c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                     "'ticks_bbo'::regclass").fetchone() == (7,)  # and the next day's


def test_a_dropped_day_partition_is_made_again(pg_schema: tuple[str, str],
                                               tmp_path: Path) -> None:
    url, schema = pg_schema
    w = Writer(url, str(tmp_path / "spool"), schema=schema)
    w.add_ticks(ticks(0, 100))
    w.flush()
    c = connect(url, schema)
    c.execute("DROP TABLE ticks_bbo_20231114, ticks_trade_20231114")  # retention, by hand
    w.add_ticks(ticks(100, 100))                                        # the same day again
    w.flush()
    assert w.stats.batches_rejected == 0 and w.stats.spool_pending == 0
    w.close()
    assert _ids(url, schema) == list(range(100, 200))


def _day(start: int, day: int, n: int = 10) -> np.ndarray:
    b = ticks(start, n)
    b["kind"], b["side"], b["price"], b["size"] = 1, 0, 0.0, 0.0   # BBOs only: ticks_bbo
    b["bid_px"] = b["ask_px"] = b["bid_sz"] = b["ask_sz"] = 1.0
    b["ts_recv"] = day * DAY_NS + np.arange(n)
    return b


def _names(*days: int) -> set[str]:
    return {partition_name("ticks_bbo", d) for d in days}


def _bbo_days(c: psycopg.Connection) -> set[str]:
    return {r[0] for r in c.execute("SELECT inhrelid::regclass::text FROM pg_inherits "
                                    "WHERE inhparent = 'ticks_bbo'::regclass")}


def test_a_long_reader_never_stalls_the_writer_on_partition_ddl(pg_schema: tuple[str, str]) \
        -> None:
    """Making a partition needs the parent's exclusive lock. With a reader holding the parent:
    the next day's advance creation gives up quickly and silently, writing into a day that
    exists goes on, and a day that does not exist yet fails with LockNotAvailable (an
    OperationalError: the writer keeps the batch spooled and retries) instead of waiting."""
    url, schema = pg_schema
    c = connect(url, schema)
    postgres.migrate(c)
    parts = Partitions(wait_ms=100, ahead_wait_ms=50, ahead_retry_ns=0)
    day = 19_000
    with c.transaction():
        postgres.write_ticks(c, _day(0, day), 1, parts=parts)
    assert _bbo_days(c) == _names(day, day + 1)   # and the next day's, in advance
    reader = connect(url, schema)
    reader.autocommit = False
    reader.execute("SELECT count(*) FROM ticks").fetchone()  # holds ACCESS SHARE until commit
    b = _day(10, day + 1)
    parts.ensure(c, route(b))                      # day + 2 ahead: gives up after 50 ms
    with c.transaction():
        assert postgres.write_ticks(c, b, 2, parts=parts) == 10
    with pytest.raises(psycopg.errors.LockNotAvailable):
        parts.ensure(c, route(_day(20, day + 5)))  # needed now: gives up after 100 ms
    reader.commit()
    parts.ensure(c, route(_day(20, day + 5)))
    parts.ensure(c, route(b))                      # the advance try again, now it can
    assert _bbo_days(c) == _names(day, day + 1, day + 2, day + 5, day + 6)
    reader.close()


def test_the_writer_spools_through_a_partition_it_cannot_make_yet(pg_schema: tuple[str, str],
                                                                  tmp_path: Path) -> None:
    url, schema = pg_schema
    w = Writer(url, str(tmp_path / "spool"), schema=schema, retry_ns=0)
    w.add_ticks(_day(0, 19_000))
    w.flush()
    reader = connect(url, schema)
    reader.autocommit = False
    reader.execute("SELECT count(*) FROM ticks").fetchone()
    w.add_ticks(_day(10, 19_010))                  # a new day while the reader holds on
    w.flush()
    assert w.stats.spool_pending == 1 and w.stats.batches_rejected == 0
    reader.commit()
    w.flush()
    assert w.stats.spool_pending == 0
    w.close()
    assert _ids(url, schema) == list(range(20))
    reader.close()


def test_pipelined_writer_stores_every_row_once_in_order(pg_schema: tuple[str, str],
                                                         tmp_path: Path) -> None:
    """Flushes return while earlier batches are still being sent; the producer's buffer is
    reused meanwhile. Nothing is lost, doubled or reordered, and each batch is reported once
    it is committed."""
    url, schema = pg_schema
    committed: list[int] = []
    w = Writer(url, str(tmp_path / "spool"), schema=schema, batch_rows=10_000, pipelined=True)
    w.on_ticks_committed = lambda b: committed.append(len(b))
    for i in range(0, 100_000, 2_500):
        w.add_ticks(ticks(i, 2_500))
        if w.due():
            w.flush()
    w.close()
    assert not w.busy and w.stats.spool_pending == 0
    assert w.stats.ticks_inserted == sum(committed) == 100_000
    ids = _ids(url, schema)
    assert ids == list(range(100_000))
    assert np.unique(ids).size == len(ids)
    with psycopg.connect(url) as c2:
        c2.execute(f'SET search_path TO "{schema}"')
        assert c2.execute("SELECT sum(n) FROM tick_batches").fetchone() == (100_000,)
