"""The binance feed end to end on loopback: FeedCore + the binance FeedAdapter, fed by a real
WsClient on the combined-stream URL and REST `/api/v3/depth` snapshots, must end with a local
top-20 book exactly equal to the matching engine's — from a cold start, after an injected
sequence gap, and after the venue drops every connection."""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from feeds.binance.adapter import make_feed_adapter
from feeds.feed_core import FeedCore
from feeds.runner import fetch_json
from feeds.ws import WsClient, WsSettings
from shm.book import BOOK_OK
from shm.layout import KIND_BBO, KIND_TRADE

from ..shared import feed_segments
from .conftest import FAST, SYMBOLS, BinanceSim, crowd_step, until

DEPTH = 20


@pytest.fixture
def shm_pair() -> Any:
    with feed_segments("bnf", len(SYMBOLS), DEPTH, 1 << 16) as segs:
        yield segs


class Feed:
    """The feed process's loop in miniature: frames -> FeedCore, snapshots on demand."""

    def __init__(self, sim: BinanceSim, ring: Any, books: Any) -> None:
        self.sim = sim
        self.adapter = make_feed_adapter(None)
        self.vs = [self.adapter.venue_symbol(s) for s in SYMBOLS]
        self.core = FeedCore(self.adapter, list(enumerate(self.vs)), ring, books, depth=DEPTH)
        self.books = books
        self.stop = asyncio.Event()
        self.snapshots = 0
        [plan] = self.adapter.ws_plans(sim.ws_public, self.vs)
        self.plan = plan

        def on_close(reason: str) -> None:
            if not self.stop.is_set():
                self.core.on_disconnect()

        self.client = WsClient(WsSettings(url=plan.url, idle_timeout_s=plan.idle_timeout_s,
                                          app_ping=plan.app_ping, backoff=FAST),
                               on_frame=self.core.on_frame, on_close=on_close)

    async def pump_snapshots(self, http: aiohttp.ClientSession) -> None:
        for vs in self.core.take_snapshot_requests():
            payload = await fetch_json(http, self.sim.rest, self.adapter.snapshot_request(vs))
            self.core.on_snapshot(self.adapter.parse_snapshot(vs, payload), time.time_ns())
            self.snapshots += 1

    def matches(self) -> bool:
        for sid, sym in enumerate(SYMBOLS):
            view = self.books.read(sid)
            if view.status != BOOK_OK:
                return False
            inst = self.sim.venue.by_symbol[sym]
            bids, asks = self.sim.venue.engines[sym].depth(DEPTH)
            want_b = [[float(inst.ticks_to_price(p)), float(inst.lots_to_qty(q))] for p, q in bids]
            want_a = [[float(inst.ticks_to_price(p)), float(inst.lots_to_qty(q))] for p, q in asks]
            if view.bids.tolist() != want_b or view.asks.tolist() != want_a:
                return False
        return True

    def synced(self) -> bool:
        return all(self.books.read(i).status == BOOK_OK for i in range(len(SYMBOLS)))


@pytest.fixture
async def feed(binance_sim: BinanceSim, shm_pair: Any) -> AsyncIterator[tuple[Feed, Any]]:
    ring, books, reader = shm_pair
    f = Feed(binance_sim, ring, books)
    task = asyncio.ensure_future(f.client.run(f.stop))
    try:
        yield f, reader
    finally:
        f.stop.set()
        await asyncio.wait_for(task, 5.0)


async def settle(feed: Feed, http: aiohttp.ClientSession, rng: random.Random,
                 what: str) -> None:
    """Move the market until both books are synced, then stop and wait for exact equality."""
    venue = feed.sim.venue

    async def churn() -> None:
        if not feed.synced():
            crowd_step(venue, rng)
        await feed.pump_snapshots(http)

    await until(feed.synced, 10.0, f"{what}: books synced", step=churn)
    for _ in range(50):   # a burst of changes after sync, then quiet
        crowd_step(venue, rng)
    await until(feed.matches, 10.0, f"{what}: local top-20 == engine depth(20)",
                step=lambda: feed.pump_snapshots(http))


async def test_local_book_equals_the_engine_through_gap_and_reconnect(
        feed: tuple[Feed, Any]) -> None:
    f, reader = feed
    rng = random.Random(7)
    venue, front = f.sim.venue, f.sim.front
    assert "/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@trade/" in f.plan.url
    async with aiohttp.ClientSession() as http:
        await until(lambda: bool(front.streams), 5.0, "stream connection")
        await settle(f, http, rng, "cold start")
        assert f.snapshots >= 2 and f.core.counters.values["gaps"] == 0
        rows = reader.poll()
        kinds = set(rows["kind"].tolist())
        assert {KIND_BBO, KIND_TRADE} <= kinds
        assert f.core.counters.values["parse_errors"] == 0

        # an injected gap: one diff never goes out, the next one does not chain
        venue.suppress_depth.add("BTC/USDT")
        before = f.snapshots
        await settle(f, http, rng, "after gap")
        assert f.core.counters.values["gaps"] >= 1 and f.snapshots > before

        # the venue drops every connection: reconnect, resubscribe (URL), resync
        await front.drop_connections()
        await until(lambda: f.client.counters.reconnects >= 1, 5.0, "reconnect")
        await until(lambda: bool(front.streams), 5.0, "stream connection again")
        before = f.snapshots
        await settle(f, http, rng, "after reconnect")
        assert f.snapshots > before and f.client.counters.connects >= 2
        assert f.core.counters.values["parse_errors"] == 0
