"""Capture a live feed session on the simulated OKX, replay it, get the same books.

The live side is the feed path of `feeds/runner.py` (WsClient -> FeedCore, REST snapshots)
with the capture tee the feed process uses (`capture_record` for every frame and every REST
snapshot) into the writer's `CaptureSink`; the session includes an injected gap (repaired by
a REST snapshot) and a dropped connection. `hft replay`'s engine (`pipeline.replay`) then runs
the capture through fresh shared-memory books: they must equal the live ones exactly, and
equal the simulated venue's book.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
import pytest

from feeds.runner import SNAPSHOT_CONN, capture_record, fetch_json
from pipeline import replay as rp
from pipeline.config import parse_config
from writer.main import CaptureSink

from ..shared import feed_segments
from .conftest import SYMBOLS, crowd_step, until
from .test_feed import DEPTH, MiniFeed, books_equal, churn, subscribed


@pytest.fixture
def shm_pair() -> Any:
    with feed_segments("okxcap", len(SYMBOLS), DEPTH) as segs:
        yield segs


class ListQueue:
    """The capture queue's consumer API over a list (the test runs in one process)."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def put(self, rec: Any) -> bool:
        self.items.append(rec)
        return True

    def get_many(self, timeout: float = 0.0, max_messages: int = 4096) -> list[Any]:
        out, self.items = self.items[:max_messages], self.items[max_messages:]
        return out


class CapturingFeed(MiniFeed):
    def __init__(self, sim: Any, ring: Any, books: Any, q: ListQueue) -> None:
        super().__init__(sim, ring, books)
        live = self.client.on_frame
        conn = self.plan.url.rsplit("/", 1)[-1]

        def on_frame(data: Any, ts_recv: int) -> None:
            q.put(capture_record("okx", conn, data, ts_recv))
            live(data, ts_recv)

        self.client.on_frame = on_frame
        self.q = q

    async def snapshots(self, http: aiohttp.ClientSession) -> None:
        import orjson
        while not self.stop.is_set():
            for vs in self.core.take_snapshot_requests():
                payload = await fetch_json(http, self.sim.rest, self.adapter.snapshot_request(vs))
                self.rest_snapshots += 1
                ts = time.time_ns()
                self.q.put(capture_record("okx", SNAPSHOT_CONN + vs, orjson.dumps(payload), ts))
                self.core.on_snapshot(self.adapter.parse_snapshot(vs, payload), ts)
            await asyncio.sleep(0.01)


async def test_replayed_books_equal_the_live_ones(okx_sim_no_snapshot, shm_pair, tmp_path):
    sim = okx_sim_no_snapshot  # REST bootstrap: the capture must carry the snapshots
    ring, books, _ = shm_pair
    q = ListQueue()
    feed = CapturingFeed(sim, ring, books, q)
    rng = random.Random(5)
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.ensure_future(feed.client.run(feed.stop)),
                 asyncio.ensure_future(feed.snapshots(http))]
        try:
            await until(lambda: subscribed(sim), what="subscription")
            await churn(sim, rng, 150)
            await until(lambda: books_equal(sim, books), what="initial sync")
            sim.venue.suppress_depth.add("BTC/USDT")
            for _ in range(30):
                crowd_step(sim.venue, rng)
            await churn(sim, rng, 100)
            await until(lambda: books_equal(sim, books), what="sync after gap")
            await sim.front.drop_connections()
            await until(lambda: subscribed(sim) and feed.client.counters.connects > 1,
                        what="reconnect")
            await churn(sim, rng, 150)
            await until(lambda: books_equal(sim, books), what="sync after reconnect")
        finally:
            feed.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    live = {vs: {"bids": books.read(i).bids.tolist(), "asks": books.read(i).asks.tolist()}
            for i, vs in enumerate(feed.vsyms)}
    sink = CaptureSink(str(tmp_path / "capture"))
    while q.items:
        sink.drain(q)
    sink.close()
    assert sink.frames > 300 and sink.bad == 0

    config = parse_config({"exchanges": {"okx": {"symbols": SYMBOLS}}})
    states = rp.replay(str(tmp_path / "capture" / "okx"), config)
    try:
        s = rp.summary(states)
    finally:
        rp.close_all(states)
    okx = s["okx"]
    assert okx["snapshots"] == feed.rest_snapshots >= 2
    assert okx["parse_errors"] == 0 and okx["gaps"] >= 1  # the injected gap replays too
    for vs, book in live.items():
        assert okx["books"][vs]["bids"] == book["bids"], vs
        assert okx["books"][vs]["asks"] == book["asks"], vs
        assert okx["books"][vs]["status"] == 0
