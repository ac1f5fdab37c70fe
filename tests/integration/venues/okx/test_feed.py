"""OKX feed end to end on loopback: the simulated venue's WS + REST -> FeedCore -> shm.

A real `WsClient` runs the adapter's plan (`bbo-tbt`, `books`, `trades`) against the simulated
OKX; REST snapshots are fetched exactly as `feeds/runner.py` does; the crowd trades meanwhile.
The local top-20 books in the shared-memory slots must equal the matching engine's `depth(20)`
exactly: with OKX's initial WS `books` snapshot and without it (REST bootstrap), after an
injected sequence gap and after the venue drops every connection.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
import pytest

from feeds.feed_core import FeedCore
from feeds.okx.adapter import make_feed_adapter
from feeds.runner import fetch_json
from feeds.ws import Backoff, WsClient, WsSettings
from shm.book import BOOK_OK, BookSlots
from shm.layout import KIND_BBO, KIND_TRADE

from ..shared import feed_segments
from .conftest import SYMBOLS, OkxSim, crowd_step, until

DEPTH = 20


@pytest.fixture
def shm_pair() -> Any:
    with feed_segments("okxfeed", len(SYMBOLS), DEPTH, 4096) as segs:
        yield segs


class MiniFeed:
    """The parts of `feeds.runner.FeedDriver` that move data (no process context)."""

    def __init__(self, sim: OkxSim, ring: Any, books: Any) -> None:
        self.sim = sim
        self.adapter = make_feed_adapter(None)
        self.vsyms = [self.adapter.venue_symbol(s) for s in SYMBOLS]
        self.core = FeedCore(self.adapter, list(enumerate(self.vsyms)), ring, books,
                             depth=DEPTH, stale_ns=60_000_000_000)
        plans = self.adapter.ws_plans(sim.ws_public, self.vsyms)
        assert len(plans) == 1
        plan = self.plan = plans[0]
        settings = WsSettings(url=plan.url, app_ping=plan.app_ping,
                              app_ping_after_idle_s=plan.app_ping_after_idle_s,
                              protocol_ping_interval_s=plan.protocol_ping_interval_s,
                              idle_timeout_s=plan.idle_timeout_s,
                              max_lifetime_s=plan.max_lifetime_s,
                              backoff=Backoff(initial_s=0.05, max_s=0.2))
        self.closes = 0
        self.rest_snapshots = 0

        def on_frame(data: Any, ts_recv: int) -> None:
            self.core.on_frame(data, ts_recv)
            for r in self.core.replies:
                asyncio.ensure_future(self.client.send(r))
            self.core.replies.clear()

        async def on_open(ws: Any) -> None:
            for f in plan.on_open:
                await ws.send(f)

        def on_close(reason: str) -> None:
            self.closes += 1
            self.core.on_disconnect()

        self.client = WsClient(settings, on_frame=on_frame, on_open=on_open, on_close=on_close)
        self.stop = asyncio.Event()

    async def snapshots(self, http: aiohttp.ClientSession) -> None:
        while not self.stop.is_set():
            for vs in self.core.take_snapshot_requests():
                payload = await fetch_json(http, self.sim.rest, self.adapter.snapshot_request(vs))
                self.rest_snapshots += 1
                self.core.on_snapshot(self.adapter.parse_snapshot(vs, payload), time.time_ns())
            await asyncio.sleep(0.01)


def engine_top(sim: OkxSim, symbol: str) -> tuple[list[tuple[float, float]], ...]:
    eng = sim.venue.engines[symbol]
    inst = eng.instrument
    bids, asks = eng.depth(DEPTH)
    conv = [[(float(inst.ticks_to_price(p)), float(inst.lots_to_qty(q))) for p, q in side]
            for side in (bids, asks)]
    return conv[0], conv[1]


def books_equal(sim: OkxSim, books: BookSlots) -> bool:
    for sid, sym in enumerate(SYMBOLS):
        v = books.read(sid)
        bids = [tuple(map(float, r)) for r in v.bids]
        asks = [tuple(map(float, r)) for r in v.asks]
        if v.status != BOOK_OK or (bids, asks) != engine_top(sim, sym):
            return False
    return True


def subscribed(sim: OkxSim) -> bool:
    return bool(sim.front.sessions) and all(
        set(s.public["books"]) == {"BTC-USDT", "ETH-USDT"} for s in sim.front.sessions)


async def churn(sim: OkxSim, rng: random.Random, steps: int) -> None:
    for _ in range(steps):
        crowd_step(sim.venue, rng)
        await asyncio.sleep(0)  # let frames flow between crowd actions


async def run_feed_scenario(sim: OkxSim, ring: Any, books: Any, reader: Any,
                            ws_snapshot: bool) -> None:
    feed = MiniFeed(sim, ring, books)
    assert feed.plan.app_ping == "ping" and feed.plan.app_ping_after_idle_s < 30
    assert feed.plan.max_lifetime_s is None
    rng = random.Random(11)
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.ensure_future(feed.client.run(feed.stop)),
                 asyncio.ensure_future(feed.snapshots(http))]
        try:
            await until(lambda: subscribed(sim), what="subscription")
            await churn(sim, rng, 200)
            await until(lambda: books_equal(sim, books), what="initial sync")
            # with OKX's initial snapshot no REST call is needed; without it, REST bootstraps
            assert (feed.rest_snapshots == 0) is ws_snapshot
            assert feed.core.counters.values["trades"] > 0
            assert feed.core.counters.values["bbo"] > 0

            # injected gap on BTC: one update never goes out, the next one's prevSeqId exposes it
            gaps, rest = feed.core.counters.values["gaps"], feed.rest_snapshots
            sim.venue.suppress_depth.add("BTC/USDT")
            for _ in range(50):
                crowd_step(sim.venue, rng)
            await until(lambda: feed.core.counters.values["gaps"] > gaps, what="gap detected")
            await churn(sim, rng, 100)
            await until(lambda: books_equal(sim, books), what="sync after gap")
            assert feed.rest_snapshots > rest  # the gap was repaired over REST

            # the venue drops every connection: books go syncing, then rebuild after reconnect
            connects = feed.client.counters.connects
            await sim.front.drop_connections()
            await until(lambda: feed.client.counters.connects > connects, what="reconnect")
            await until(lambda: subscribed(sim), what="resubscribed")
            await churn(sim, rng, 200)
            await until(lambda: books_equal(sim, books), what="sync after reconnect")
            assert feed.closes >= 1
            assert feed.core.counters.values["parse_errors"] == 0
        finally:
            feed.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    rows = reader.poll()
    kinds = set(rows["kind"].tolist())
    assert KIND_BBO in kinds and KIND_TRADE in kinds


async def test_books_equal_the_engine_with_the_ws_snapshot(okx_sim, shm_pair):
    await run_feed_scenario(okx_sim, *shm_pair, ws_snapshot=True)


async def test_books_equal_the_engine_with_rest_bootstrap(okx_sim_no_snapshot, shm_pair):
    await run_feed_scenario(okx_sim_no_snapshot, *shm_pair, ws_snapshot=False)
