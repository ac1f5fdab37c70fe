"""A real third-party OKX client (ccxt, sync REST) against the simulated OKX venue.

ccxt signs the OKX way itself (ISO timestamp + method + path?query + its own JSON body), so
this checks the front-end's REST surface and signature verification against an implementation
that is not ours. The server runs on its own thread and loop because ccxt blocks.

Configured: `fetchMarkets.types = ["spot"]` (the sim lists spot only) and
`has["fetchCurrencies"] = False`, so `load_markets` does not call the private
`/api/v5/asset/currencies` (a funding endpoint the simulated venue does not serve).
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

from feeds.sim.okx_front import OkxFront, make_front
from feeds.sim.venue import SimVenue

from .conftest import KEY, PASSPHRASE, SECRET, SYMBOLS, seed_book


class ThreadedSim:
    def __init__(self) -> None:
        self.venue = SimVenue("okx", SYMBOLS, {KEY: SECRET}, time.time_ns, {KEY: PASSPHRASE})
        self.front: OkxFront
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


def client(sim: ThreadedSim, secret: str = SECRET, password: str = PASSPHRASE) -> ccxt.okx:
    ex = ccxt.okx({"apiKey": KEY, "secret": secret, "password": password,
                   "enableRateLimit": False, "timeout": 5000,
                   "options": {"fetchMarkets": {"types": ["spot"]}}})
    ex.has["fetchCurrencies"] = False
    ex.urls["api"]["rest"] = f"http://127.0.0.1:{sim.port}"
    return ex


def test_ccxt_loads_markets_reads_the_book_trades_and_lists_orders(sim):
    ex = client(sim)
    markets = ex.load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT"}
    btc = markets["BTC/USDT"]
    assert btc["spot"] and btc["id"] == "BTC-USDT"
    assert Decimal(str(btc["precision"]["price"])) == Decimal("0.1")
    assert Decimal(str(btc["precision"]["amount"])) == Decimal("0.00000001")

    book = ex.fetch_order_book("BTC/USDT", 5)
    eng = sim.call(lambda: sim.venue.engines["BTC/USDT"].depth(5))
    inst = sim.venue.by_symbol["BTC/USDT"]
    assert [(Decimal(str(lv[0])), Decimal(str(lv[1]))) for lv in book["bids"]] == \
        [(inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in eng[0]]
    assert [(Decimal(str(lv[0])), Decimal(str(lv[1]))) for lv in book["asks"]] == \
        [(inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in eng[1]]

    bid = book["bids"][0][0]
    price = float(Decimal(str(bid)) - Decimal(100))
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    assert order["id"]
    opens = sim.call(lambda: sim.venue.open_orders(KEY, "BTC/USDT"))
    assert len(opens) == 1 and opens[0].lots == 100_000
    assert inst.ticks_to_price(opens[0].price_ticks) == Decimal(str(price))

    listed = ex.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in listed] == [order["id"]]
    assert listed[0]["side"] == "buy" and listed[0]["amount"] == 0.001
    assert listed[0]["price"] == price and listed[0]["status"] == "open"

    ex.cancel_order(order["id"], "BTC/USDT")
    assert sim.call(lambda: sim.venue.open_orders(KEY)) == []
    assert ex.fetch_open_orders("BTC/USDT") == []

    balance = ex.fetch_balance()
    assert balance["USDT"]["total"] == 1_000_000 and balance["USDT"]["used"] == 0


def test_ccxt_errors_map_from_okx_codes(sim):
    with pytest.raises(ccxt.AuthenticationError):
        client(sim, secret="wrong").fetch_open_orders()
    with pytest.raises(ccxt.AuthenticationError):
        client(sim, password="wrong").fetch_open_orders()
    ex = client(sim)
    ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "limit", "buy", 100, 60000)
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order("100001000000999999", "BTC/USDT")
