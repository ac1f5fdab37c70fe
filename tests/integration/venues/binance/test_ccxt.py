"""A real third-party client against the simulated Binance: ccxt's sync `binance` class with
its spot REST bases (`urls['api']['public'|'private']`) pointed at the sim.

ccxt is configured not to call what a spot-only venue does not serve: futures markets
(`fetchMarkets.types = ['spot']`), `sapi` capital config (`fetchCurrencies = False`) and margin
pairs (`fetchMargins = False`). The server runs on its own event loop in a thread because
ccxt's sync client blocks the calling thread.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from aiohttp import web

from feeds.sim.binance_front import make_front
from feeds.sim.venue import SimVenue

from .conftest import KEY, SECRET, SYMBOLS, seed_book


class ServerThread:
    def __init__(self) -> None:
        self.venue = SimVenue("binance", SYMBOLS, {KEY: SECRET}, time.time_ns)
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

    def call(self, fn: Any) -> Any:
        """Run `fn()` on the server's loop (the venue is not thread-safe)."""
        async def _do() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(_do(), self.loop).result(5)

    def __enter__(self) -> ServerThread:  # noqa: PYI034
        self.thread.start()
        assert self.started.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as s:
        yield s


def client(port: int) -> Any:
    ex = ccxt.binance({
        "apiKey": KEY, "secret": SECRET, "enableRateLimit": False, "timeout": 5000,
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                    "fetchMargins": False, "warnOnFetchOpenOrdersWithoutSymbol": False},
    })
    base = f"http://127.0.0.1:{port}/api/v3"
    ex.urls["api"]["public"] = base
    ex.urls["api"]["private"] = base
    return ex


def test_ccxt_markets_book_orders(server: ServerThread) -> None:
    ex = client(server.port)
    markets = ex.load_markets()
    assert set(markets) == set(SYMBOLS)
    m = markets["BTC/USDT"]
    assert m["spot"] and m["precision"]["price"] == 0.01 and m["precision"]["amount"] == 0.00001
    assert m["limits"]["cost"]["min"] == 5.0

    ob = ex.fetch_order_book("BTC/USDT", limit=20)
    bids, asks = server.call(lambda: server.venue.engines["BTC/USDT"].depth(20))
    assert [b[0] for b in ob["bids"]] == [p / 100 for p, _ in bids]
    assert [a[1] for a in ob["asks"]] == [float(Decimal(q) / 100_000) for _, q in asks]
    assert ob["nonce"] == server.call(lambda: server.front._published("BTC/USDT"))

    o = ex.create_order("BTC/USDT", "limit", "buy", 0.001, 64000.5)
    assert o["status"] == "open" and o["price"] == 64000.5 and o["amount"] == 0.001
    opens = ex.fetch_open_orders("BTC/USDT")
    assert [x["id"] for x in opens] == [o["id"]]
    venue_open = server.call(lambda: server.venue.open_orders(KEY, "BTC/USDT"))
    assert [str(v.order_id) for v in venue_open] == [o["id"]]
    assert venue_open[0].client_id == o["clientOrderId"]

    c = ex.cancel_order(o["id"], "BTC/USDT")
    assert c["status"] == "canceled" and c["id"] == o["id"]
    assert ex.fetch_open_orders("BTC/USDT") == []
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order(o["id"], "BTC/USDT")


def test_ccxt_sees_binance_errors(server: ServerThread) -> None:
    ex = client(server.port)
    ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "limit", "buy", 100, 64000)
    bad = client(server.port)
    bad.secret = "wrong"
    bad.markets, bad.markets_by_id, bad.symbols = ex.markets, ex.markets_by_id, ex.symbols
    with pytest.raises(ccxt.AuthenticationError):
        bad.fetch_open_orders("BTC/USDT")
    balance = ex.fetch_balance()
    assert balance["USDT"]["free"] == 1_000_000.0 and balance["BTC"]["total"] == 20.0
