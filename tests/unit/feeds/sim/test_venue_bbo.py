"""How a simulated venue publishes its best bid/offer: Binance on every change of the top
(`@bookTicker` is real time), OKX and Gate at most once per publishing pass (their BBO
streams are conflated, ~10 ms)."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from feeds.sim.market import MarketSimulator, SymbolParams, TopOfBook
from feeds.sim.venue import SimVenue

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_depth(self, change: Any) -> None:
        self.calls.append(("depth", change.instrument.symbol))

    def on_bbo(self, inst: Any, bid: Any, ask: Any, seq: int, ts_ns: int) -> None:
        self.calls.append(("bbo", (inst.symbol, bid, ask, seq)))

    def on_trade(self, inst: Any, trade: Any) -> None:
        self.calls.append(("trade", inst.symbol))

    def on_private(self, account: str, inst: Any, event: Any) -> None:
        pass


def running(venue_name: str) -> tuple[SimVenue, MarketSimulator, Recorder]:
    venue = SimVenue(venue_name, SYMBOLS, {"k": "s"}, lambda: 1)
    rec = Recorder()
    venue.fronts.append(rec)
    params = {"BTC/USDT": SymbolParams(D(60000), target_orders=40),
              "ETH/USDT": SymbolParams(D(3000), target_orders=40)}
    market = MarketSimulator(venue.instruments, venue.rules, venue.accounts, params, seed=5,
                             rate_hz=2000.0, prefill=False, engines=venue.engines)
    for s in SYMBOLS:
        venue.dispatch(s, market.prefill(0))
    rec.calls.clear()
    return venue, market, rec


def publish(venue: SimVenue, events: list[Any]) -> None:
    """What the server does after each market pass: one dispatch per symbol."""
    for s in SYMBOLS:
        venue.dispatch(s, [ev for ev in events if ev.symbol == s])


def test_binance_pushes_every_top_change_in_order_then_nothing_stale() -> None:
    venue, market, rec = running("binance")
    for _ in range(40):
        events = market.step(50)
        tops = {s: [(t.bid, t.ask, t.seq) for t in events
                    if isinstance(t, TopOfBook) and t.symbol == s] for s in SYMBOLS}
        rec.calls.clear()
        publish(venue, events)
        for s in SYMBOLS:
            bbos = [(b, a, q) for kind, (sym, b, a, q) in
                    (c for c in rec.calls if c[0] == "bbo") if sym == s]
            assert bbos == tops[s]                       # every change, in order, no extra
            assert [q for _, _, q in bbos] == sorted(q for _, _, q in bbos)
            if bbos:                                     # the last one is the book now
                assert bbos[-1][:2] == venue.engines[s].best()


def test_binance_client_order_that_moves_the_top_still_gets_its_bbo() -> None:
    from feeds.sim.matching import SimOrder
    from pipeline.model import Side
    venue, _, rec = running("binance")
    eng = venue.engines["BTC/USDT"]
    (bid, _), _ = eng.best()
    venue.submit("k", "BTC/USDT", SimOrder("k", "c1", Side.BUY, bid + 1, 100))
    assert [c for c in rec.calls if c[0] == "bbo"][-1][1][1] == (bid + 1, 100)


@pytest.mark.parametrize("venue_name", ["okx", "gate"])
def test_conflated_venues_push_one_bbo_per_pass_at_most(venue_name: str) -> None:
    venue, market, rec = running(venue_name)
    pushed = 0
    for _ in range(20):
        rec.calls.clear()
        publish(venue, market.step(50))
        for s in SYMBOLS:
            bbos = [c for c in rec.calls if c[0] == "bbo" and c[1][0] == s]
            assert len(bbos) <= 1
            if bbos:
                assert bbos[0][1][1:3] == venue.engines[s].best()
            pushed += len(bbos)
    assert pushed > 10
