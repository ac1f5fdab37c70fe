"""In-process Binance venue on loopback for the binance integration tests.

`binance_sim` starts `SimVenue("binance", ...)` with the sim credentials behind the Binance
front-end on an ephemeral port (aiohttp `TestServer`), seeds a crowd book on both pairs and
yields the venue, the front and the endpoints exactly as `feeds/sim/endpoints.py` derives them
(REST base, ws_public base, ws_private `/ws-api/v3`). `GatewayHarness` is the minimal asyncio
glue of `feeds/gateway.py` (WsClient + GatewayCore + session frames + flush) without the
process plumbing, so the order path runs over a real WebSocket.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from feeds.binance.adapter import BinanceGatewayAdapter, make_gateway_adapter
from feeds.gateway_core import GatewayCore
from feeds.runner import fetch_json
from feeds.sim.binance_front import BinanceFront, make_front
from feeds.sim.endpoints import SIM_CREDENTIALS
from feeds.sim.matching import SimOrder
from feeds.sim.venue import CROWD, SimVenue
from feeds.ws import Backoff, WsClient, WsSettings
from pipeline.messages import ExecReport
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from ..shared import until

KEY, SECRET, _ = SIM_CREDENTIALS["binance"]
SYMBOLS = ["BTC/USDT", "ETH/USDT"]
MID = {"BTC/USDT": 6_500_000, "ETH/USDT": 320_000}   # in ticks of 0.01
LOT = {"BTC/USDT": 1_000, "ETH/USDT": 1_000}          # 0.01 BTC, 0.1 ETH
FAST = Backoff(initial_s=0.02, max_s=0.1)


@dataclass
class BinanceSim:
    venue: SimVenue
    front: BinanceFront
    rest: str
    ws_public: str
    ws_private: str


def crowd_order(venue: SimVenue, symbol: str, side: Side, ticks: int, lots: int,
                tif: TimeInForce = TimeInForce.GTC) -> None:
    venue.submit(CROWD, symbol, SimOrder(CROWD, "", side, ticks, lots, OrderType.LIMIT, tif))


def seed_book(venue: SimVenue, levels: int = 30) -> None:
    for sym in SYMBOLS:
        mid, lot = MID[sym], LOT[sym]
        for i in range(1, levels + 1):
            crowd_order(venue, sym, Side.BUY, mid - 10 * i, lot * (1 + i % 4))
            crowd_order(venue, sym, Side.SELL, mid + 10 * i, lot * (1 + i % 3))


def crowd_step(venue: SimVenue, rng: random.Random, symbols: list[str] | None = None) -> None:
    """One random crowd action: add, cancel, or take."""
    sym = rng.choice(symbols or SYMBOLS)
    mid, lot = MID[sym], LOT[sym]
    r = rng.random()
    side = rng.choice((Side.BUY, Side.SELL))
    if r < 0.5:
        off = rng.randint(1, 40) * 10
        crowd_order(venue, sym, side, mid - off if side is Side.BUY else mid + off,
                    lot * rng.randint(1, 5))
    elif r < 0.8:
        opens = venue.open_orders(CROWD, sym)
        if opens:
            venue.cancel(CROWD, sym, rng.choice(opens).order_id)
    else:  # a taker that walks a level or two
        px = mid + 400 if side is Side.BUY else mid - 400
        crowd_order(venue, sym, side, px, lot * rng.randint(1, 3), TimeInForce.IOC)


@pytest.fixture
async def binance_sim() -> AsyncIterator[BinanceSim]:
    venue = SimVenue("binance", SYMBOLS, {KEY: SECRET}, time.time_ns)
    front, app = make_front(venue)
    seed_book(venue)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    base = f"127.0.0.1:{server.port}"
    try:
        yield BinanceSim(venue, front, f"http://{base}", f"ws://{base}", f"ws://{base}/ws-api/v3")
    finally:
        await front.drop_connections()
        await server.close()


@dataclass
class GatewayHarness:
    """GatewayCore + the binance adapter over a real WS API connection."""

    sim: BinanceSim
    adapter: BinanceGatewayAdapter
    instruments: dict[str, Instrument]
    clock_ns: Callable[[], int] = time.time_ns
    reports: list[Any] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.core = GatewayCore(self.adapter, self.instruments, 1000.0, self.clock_ns,
                                lambda: time.time_ns() // 1_000_000)
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()
        self.stop = asyncio.Event()
        plan = self.adapter.ws_plan(self.sim.ws_private)
        self.client = WsClient(WsSettings(url=plan.url, idle_timeout_s=plan.idle_timeout_s,
                                          backoff=FAST),
                               on_frame=self._on_frame, on_open=self._on_open)
        self.task: asyncio.Future[Any] | None = None

    async def _on_open(self, ws: Any) -> None:
        for f in self.adapter.session_frames(time.time_ns() // 1_000_000):
            await ws.send(f)

    def _on_frame(self, data: Any, ts_recv: int) -> None:
        for rec in self.core.on_frame(data, ts_recv):
            self.records.append(rec)
            if self.adapter.session_ready(rec):
                self.ready.set()
        self.flush()

    def flush(self) -> None:
        out, rep = self.core.take()
        for f in out:
            asyncio.ensure_future(self.client.send(f))
        self.reports.extend(rep)
        self.changed.set()

    def send(self, msg: Any) -> None:
        self.core.on_message(msg)
        self.flush()

    def of(self, client_id: str) -> list[ExecReport]:
        return [r for r in self.reports if isinstance(r, ExecReport) and r.client_id == client_id]

    async def wait(self, pred: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        await until(pred, timeout, what, self.changed)

    async def start(self, expect_ready: bool = True) -> None:
        self.task = asyncio.ensure_future(self.client.run(self.stop))
        if expect_ready:
            await asyncio.wait_for(self.ready.wait(), 5.0)

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5.0)


async def load_instruments(sim: BinanceSim, adapter: Any) -> dict[str, Instrument]:
    async with aiohttp.ClientSession() as http:
        payload = await fetch_json(http, sim.rest, adapter.instruments_request())
    return {i.symbol: i for i in adapter.parse_instruments(payload)}


@pytest.fixture
async def gateway(binance_sim: BinanceSim) -> AsyncIterator[GatewayHarness]:
    adapter = make_gateway_adapter(None, KEY, SECRET, "")
    h = GatewayHarness(binance_sim, adapter, await load_instruments(binance_sim, adapter))
    await h.start()
    try:
        yield h
    finally:
        await h.close()
