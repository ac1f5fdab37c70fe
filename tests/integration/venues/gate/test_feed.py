"""Gate feed end to end on loopback: the simulated venue's WS + REST -> FeedCore -> shm.

A real `WsClient` runs the adapter's plan against the simulated Gate; snapshots are fetched
over REST exactly as `feeds/runner.py` does; the crowd trades meanwhile. The local top-20
books in the shared-memory slots must equal the matching engine's `depth(20)` exactly, at the
start, after an injected sequence gap and after the venue drops every connection.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
import pytest

from feeds.feed_core import FeedCore
from feeds.gate.adapter import make_feed_adapter
from feeds.runner import fetch_json
from feeds.ws import Backoff, WsClient, WsSettings
from shm.book import BOOK_OK, BookSlots
from shm.layout import KIND_BBO, KIND_TRADE

from ..shared import feed_segments
from .conftest import SYMBOLS, GateSim, crowd_step, until

DEPTH = 20


@pytest.fixture
def shm_pair() -> Any:
    with feed_segments("gatefeed", len(SYMBOLS), DEPTH, 4096) as segs:
        yield segs


class MiniFeed:
    """The parts of `feeds.runner.FeedDriver` that move data (no process context)."""

    def __init__(self, sim: GateSim, ring: Any, books: Any) -> None:
        self.sim = sim
        self.adapter = make_feed_adapter(None)
        self.vsyms = [self.adapter.venue_symbol(s) for s in SYMBOLS]
        self.core = FeedCore(self.adapter, list(enumerate(self.vsyms)), ring, books,
                             depth=DEPTH, stale_ns=60_000_000_000)
        plan = self.adapter.ws_plans(sim.ws, self.vsyms)[0]
        self.plan = plan
        settings = WsSettings(url=plan.url, app_ping=plan.app_ping,
                              app_ping_after_idle_s=plan.app_ping_after_idle_s,
                              protocol_ping_interval_s=plan.protocol_ping_interval_s,
                              idle_timeout_s=plan.idle_timeout_s,
                              max_lifetime_s=plan.max_lifetime_s,
                              backoff=Backoff(initial_s=0.05, max_s=0.2))
        self.closes = 0

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
                self.core.on_snapshot(self.adapter.parse_snapshot(vs, payload), time.time_ns())
            await asyncio.sleep(0.01)


def engine_top(sim: GateSim, symbol: str) -> tuple[list[tuple[float, float]], ...]:
    eng = sim.venue.engines[symbol]
    inst = eng.instrument
    bids, asks = eng.depth(DEPTH)
    conv = [[(float(inst.ticks_to_price(p)), float(inst.lots_to_qty(q))) for p, q in side]
            for side in (bids, asks)]
    return conv[0], conv[1]


def local_top(books: BookSlots, sid: int) -> tuple[int, list[tuple[float, float]], ...]:
    v = books.read(sid)
    return (v.status, [tuple(map(float, r)) for r in v.bids],
            [tuple(map(float, r)) for r in v.asks])


def books_equal(sim: GateSim, books: BookSlots) -> bool:
    for sid, sym in enumerate(SYMBOLS):
        status, bids, asks = local_top(books, sid)
        if status != BOOK_OK or (bids, asks) != engine_top(sim, sym):
            return False
    return True


async def churn(sim: GateSim, rng: random.Random, steps: int) -> None:
    for _ in range(steps):
        crowd_step(sim.venue, rng)
        await asyncio.sleep(0)  # let frames flow between crowd actions


async def test_local_books_equal_the_engine_through_gaps_and_reconnects(gate_sim, shm_pair):
    ring, books, reader = shm_pair
    feed = MiniFeed(gate_sim, ring, books)
    rng = random.Random(7)
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.ensure_future(feed.client.run(feed.stop)),
                 asyncio.ensure_future(feed.snapshots(http))]
        try:
            # first sync: diffs only start after the subscription, so keep the crowd busy
            await until(lambda: len(gate_sim.front.sessions) == 1, what="connection")
            await until(lambda: all(s.public["spot.order_book_update"]
                                    for s in gate_sim.front.sessions), what="subscription")
            await churn(gate_sim, rng, 200)
            await until(lambda: books_equal(gate_sim, books), what="initial sync")
            assert feed.core.counters.values["trades"] > 0
            assert feed.core.counters.values["bbo"] > 0

            # injected gap on BTC: one diff never goes out, the next one exposes the hole
            gaps = feed.core.counters.values["gaps"]
            gate_sim.venue.suppress_depth.add("BTC/USDT")
            for _ in range(50):
                crowd_step(gate_sim.venue, rng)
            await until(lambda: feed.core.counters.values["gaps"] > gaps, what="gap detected")
            await churn(gate_sim, rng, 100)
            await until(lambda: books_equal(gate_sim, books), what="sync after gap")

            # the venue drops every connection: books go syncing, then rebuild after reconnect
            connects = feed.client.counters.connects
            await gate_sim.front.drop_connections()
            await until(lambda: feed.client.counters.connects > connects, what="reconnect")
            await until(lambda: all(s.public["spot.order_book_update"]
                                    for s in gate_sim.front.sessions)
                        and gate_sim.front.sessions, what="resubscribed")
            await churn(gate_sim, rng, 200)
            await until(lambda: books_equal(gate_sim, books), what="sync after reconnect")
            assert feed.closes >= 1
            assert feed.core.counters.values["parse_errors"] == 0
        finally:
            feed.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    rows = reader.poll()
    kinds = set(rows["kind"].tolist())
    assert KIND_BBO in kinds and KIND_TRADE in kinds
