"""Outage: a private PostgreSQL is stopped mid-stream and started again; every record arrives
exactly once, in order. Crash: a writer process dies between spool and commit; after a
restart nothing is lost or duplicated."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest

from writer import storage
from writer.core import Writer

from .helpers import ticks


def _stored_ids(url: str) -> list[int]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute("SELECT update_id FROM ticks ORDER BY batch_id, row_no")]


def _flush(w: Writer) -> None:
    """flush, and when pipelined also wait for its background drain, so the test can look."""
    w.flush()
    w.wait()


@pytest.mark.parametrize("pipelined", [False, True])
def test_outage_spools_and_replays_in_order(tmp_path: Path, pipelined: bool) -> None:
    pgdir = tmp_path / "pg"
    h = storage.postgres("embedded", str(pgdir))
    url = h.url
    w = Writer(url, str(tmp_path / "spool"), batch_rows=100, retry_ns=0, pipelined=pipelined)
    try:
        for i in range(5):
            w.add_ticks(ticks(i * 100, 100))
            _flush(w)
        assert w.stats.spool_pending == 0 and w.stats.db_up
        h.stop()                                   # PostgreSQL goes away mid-stream
        for i in range(5, 12):
            w.add_ticks(ticks(i * 100, 100))
            _flush(w)                              # producers keep going; batches spool
        assert not w.stats.db_up
        assert w.stats.spool_pending == 7
        h = storage.postgres("embedded", str(pgdir))  # back
        for i in range(12, 14):
            w.add_ticks(ticks(i * 100, 100))
            _flush(w)
        assert w.stats.spool_pending == 0
        assert _stored_ids(url) == list(range(1400))   # exactly once, in order
        assert w.stats.db_errors >= 1
    finally:
        w.close()
        h.stop()


def test_pipelined_outage_while_batches_are_in_flight(tmp_path: Path) -> None:
    """The producer never waits: PostgreSQL stops while background drains are sending and
    comes back later; every row still arrives exactly once, in order."""
    pgdir = tmp_path / "pg"
    h = storage.postgres("embedded", str(pgdir))
    url = h.url
    w = Writer(url, str(tmp_path / "spool"), batch_rows=5_000, retry_ns=0, pipelined=True)
    try:
        n = 0
        for phase in ("up", "down", "back"):
            if phase == "down":
                h.stop()
            elif phase == "back":
                h = storage.postgres("embedded", str(pgdir))
            for _ in range(8):
                w.add_ticks(ticks(n, 5_000))
                n += 5_000
                w.flush()                          # no wait(): the last drain may be running
        w.close()
        assert w.stats.db_errors >= 1 and w.stats.batches_rejected == 0
        ids = _stored_ids(url)
        assert ids == list(range(n))               # exactly once, in order
    finally:
        h.stop()


_CRASHER = r"""
import os, sys
sys.path.insert(0, {root!r})
from writer.core import Writer
from tests.integration.writer.helpers import ticks
w = Writer({url!r}, {spool!r}, batch_rows=100, pipelined={pipelined!r})
w.add_ticks(ticks(0, 300)); w.flush(); w.wait()  # committed
w.add_ticks(ticks(300, 300))
w.after_spool = lambda bid: os._exit(17)        # die after the spool fsync, before COPY
w.flush(); w.wait()
"""


@pytest.mark.parametrize("pipelined", [False, True])
def test_crash_between_spool_and_commit(tmp_path: Path, pipelined: bool) -> None:
    h = storage.postgres("embedded", str(tmp_path / "pg"))
    spool = str(tmp_path / "spool")
    try:
        root = str(Path(__file__).resolve().parents[3])
        code = _CRASHER.format(root=root, url=h.url, spool=spool, pipelined=pipelined)
        p = subprocess.run([sys.executable, "-c", code], cwd=root, timeout=60, check=False,
                           capture_output=True)
        assert p.returncode == 17, p.stderr.decode()[-2000:]
        assert _stored_ids(h.url) == list(range(300))
        assert len(os.listdir(spool)) == 1
        w = Writer(h.url, spool, pipelined=pipelined)  # restart: the spool is replayed first
        assert w.drain_spool()
        w.add_ticks(ticks(600, 100))              # the producer goes on
        w.close()
        ids = _stored_ids(h.url)
        assert ids == list(range(700))
        assert np.unique(ids).size == len(ids)
    finally:
        h.stop()


def test_rejected_batch_does_not_block_later_ones(pg_schema: tuple[str, str],
                                                  tmp_path: Path) -> None:
    """A batch the server refuses (here: a NUL byte in text) is set aside and counted; the
    batches behind it still arrive."""
    import orjson

    from pipeline.messages import NewOrder, encode
    from pipeline.model import Side

    url, schema = pg_schema
    w = Writer(url, str(tmp_path / "spool"), schema=schema)
    w.add_events([orjson.dumps({"type": "risk", "source": "r\u0000", "seq": 1, "ts": 1})])
    w.flush()
    w.add_events([encode(NewOrder("ok1", "okx", "BTC/USDT", Side.BUY, 1, 1))])
    w.flush()
    assert w.stats.batches_rejected == 1 and w.stats.events_inserted == 1
    assert len(list((tmp_path / "spool").glob("*.rejected"))) == 1
    assert w.drain_spool()
    w.close()
