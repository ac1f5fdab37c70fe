"""A real third-party Gate client (ccxt, sync REST) against the simulated Gate venue.

ccxt signs the Gate way itself (its own recipe, sorted query, SHA512 body hash), so this
checks the front-end's REST surface and signature verification against an implementation
that is not ours. The server runs on its own thread and loop because ccxt blocks.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Self

import ccxt
import pytest
from aiohttp import web

from feeds.sim.gate_front import GateFront, make_front
from feeds.sim.venue import SimVenue

from .conftest import KEY, SECRET, SYMBOLS, seed_book


class ThreadedSim:
    def __init__(self) -> None:
        self.venue = SimVenue("gate", SYMBOLS, {KEY: SECRET}, time.time_ns)
        self.front: GateFront
        self.front, self.app = make_front(self.venue)
        seed_book(self.venue)
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self.runner = runner
        self.started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    def call(self, fn, *args):
        """Run `fn(*args)` on the server's loop (the venue is single-threaded)."""
        async def go():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)

    def __enter__(self) -> Self:
        self.thread.start()
        assert self.started.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    with ThreadedSim() as s:
        yield s


def client(sim: ThreadedSim, secret: str = SECRET) -> ccxt.gate:
    ex = ccxt.gate({"apiKey": KEY, "secret": secret, "enableRateLimit": False,
                    "timeout": 5000, "options": {"fetchMarkets": {"types": ["spot"]}}})
    base = f"http://127.0.0.1:{sim.port}/api/v4"
    for group in ex.urls["api"].values():
        for name in group:
            group[name] = base
    return ex


def test_ccxt_markets_book_orders_and_open_orders(sim):
    ex = client(sim)
    markets = ex.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["id"] == "BTC_USDT" and btc["active"] and btc["spot"]
    assert Decimal(str(btc["precision"]["price"])) == Decimal("0.1")
    assert Decimal(str(btc["precision"]["amount"])) == Decimal("0.000001")

    book = ex.fetch_order_book("BTC/USDT", limit=20)
    bids, asks = sim.call(lambda: sim.venue.engines["BTC/USDT"].depth(20))
    inst = sim.venue.engines["BTC/USDT"].instrument
    assert [b[:2] for b in book["bids"]] == [[float(inst.ticks_to_price(p)),
                                              float(inst.lots_to_qty(q))] for p, q in bids]
    assert [a[:2] for a in book["asks"]] == [[float(inst.ticks_to_price(p)),
                                              float(inst.lots_to_qty(q))] for p, q in asks]

    order = ex.create_order("BTC/USDT", "limit", "buy", 0.002, 60000,
                            {"text": "t-ccxt1"})
    assert order["status"] == "open" and order["clientOrderId"] == "t-ccxt1"
    assert order["price"] == 60000 and order["amount"] == 0.002
    views = sim.call(lambda: sim.venue.open_orders(KEY))
    assert [(v.price_ticks, v.lots) for v in views] == [(600_000, 2000)]

    second = ex.create_order("ETH/USDT", "limit", "sell", 0.5, 3500)
    opened = ex.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in opened] == [order["id"]]
    everywhere = ex.fetch_open_orders()
    assert sorted(o["id"] for o in everywhere) == sorted([order["id"], second["id"]])

    cancelled = ex.cancel_order(order["id"], "BTC/USDT")
    assert cancelled["status"] == "canceled"
    assert ex.fetch_open_orders("BTC/USDT") == []
    assert sim.call(lambda: [v.symbol for v in sim.venue.open_orders(KEY)]) == ["ETH/USDT"]

    bal = ex.fetch_balance()
    assert bal["ETH"]["used"] == 0.5 and bal["ETH"]["total"] == 300.0

    with pytest.raises(ccxt.InvalidOrder, match="ORDER_CANCELLED"):
        ex.cancel_order(order["id"], "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="ORDER_NOT_FOUND"):
        ex.cancel_order("999999000", "BTC/USDT")


def test_ccxt_wrong_secret_is_an_authentication_error(sim):
    ex = client(sim, secret="wrong")
    with pytest.raises(ccxt.AuthenticationError):
        ex.fetch_open_orders("BTC/USDT")
