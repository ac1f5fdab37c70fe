"""In-process Gate venue on loopback for the gate integration tests.

`gate_sim` starts `SimVenue("gate", ...)` with the sim credentials behind the Gate front-end on
an ephemeral port (aiohttp `TestServer`), seeds a crowd book on both pairs, and yields the
venue, the front and the REST/WS endpoints exactly as `feeds/sim/endpoints.py` derives them.
"""
from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer

from feeds.sim.endpoints import SIM_CREDENTIALS
from feeds.sim.gate_front import GateFront, make_front
from feeds.sim.matching import SimOrder
from feeds.sim.venue import CROWD, SimVenue
from pipeline.model import OrderType, Side, TimeInForce

from ..shared import until  # noqa: F401  (re-exported for this venue's tests)

KEY, SECRET, _ = SIM_CREDENTIALS["gate"]
SYMBOLS = ["BTC/USDT", "ETH/USDT"]
MID = {"BTC/USDT": 650_000, "ETH/USDT": 320_000}   # in ticks (0.1 and 0.01)
LOT = {"BTC/USDT": 1_000, "ETH/USDT": 100}          # a typical crowd size in lots


@dataclass
class GateSim:
    venue: SimVenue
    front: GateFront
    rest: str
    ws: str


def crowd_order(venue: SimVenue, symbol: str, side: Side, ticks: int, lots: int,
                tif: TimeInForce = TimeInForce.GTC) -> None:
    venue.submit(CROWD, symbol, SimOrder(CROWD, "", side, ticks, lots, OrderType.LIMIT, tif))


def seed_book(venue: SimVenue, levels: int = 30) -> None:
    for sym in SYMBOLS:
        mid, lot = MID[sym], LOT[sym]
        for i in range(1, levels + 1):
            crowd_order(venue, sym, Side.BUY, mid - 10 * i, lot * (1 + i % 4))
            crowd_order(venue, sym, Side.SELL, mid + 10 * i, lot * (1 + i % 3))


def crowd_step(venue: SimVenue, rng: random.Random) -> None:
    """One random crowd action: add, cancel, or take."""
    sym = rng.choice(SYMBOLS)
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
        px = mid + 40 * 10 if side is Side.BUY else mid - 40 * 10
        crowd_order(venue, sym, side, px, lot * rng.randint(1, 3), TimeInForce.IOC)


@pytest.fixture
async def gate_sim() -> AsyncIterator[GateSim]:
    venue = SimVenue("gate", SYMBOLS, {KEY: SECRET}, time.time_ns)
    front, app = make_front(venue)
    seed_book(venue)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    base = f"127.0.0.1:{server.port}"
    try:
        yield GateSim(venue, front, f"http://{base}/api/v4", f"ws://{base}/ws/v4/")
    finally:
        await front.drop_connections()
        await server.close()
