"""The market-data frames a simulated venue's front-end pushes during a seeded run, as the
subscribers receive them: one fake connection per way of subscribing (Binance raw and
combined streams, every public channel of OKX and Gate, every symbol), the crowd's flow plus
our own orders (takers that print trades, quotes that move the top), published the way the
server does after each market pass. The frames of every connection, in order, are the
trace; an encoder rewrite is byte-identical exactly when the traces are equal."""
from __future__ import annotations

import importlib
from decimal import Decimal as D
from typing import Any

from feeds.sim.market import MarketSimulator, SymbolParams
from feeds.sim.matching import SimOrder
from feeds.sim.venue import SimVenue
from pipeline.model import Side

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
T0 = 1_700_000_000_000_000_000


class _Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        return self.t


class BinanceConn:
    closing = False

    def __init__(self, combined: bool, names: set[str]) -> None:
        self.combined = combined
        self.subs = names
        self.frames: list[str] = []
        self.ip = "127.0.0.1"

    def push(self, frame: str) -> None:
        self.frames.append(frame)


class Session:
    """An OKX or Gate public session subscribed to every public channel of `ids`."""

    private = False
    account = None
    orders_sub = None

    def __init__(self, channels: Any, ids: list[str]) -> None:
        self.public = {ch: set(ids) for ch in channels}
        self.frames: list[str] = []

    def send(self, frame: str) -> None:
        self.frames.append(frame)


def _connect(name: str, venue: SimVenue, front: Any) -> list[Any]:
    ids = [i.venue_symbol for i in venue.instruments]
    if name == "binance":
        from feeds.binance.protocol import constants as C
        names = set()
        for vs in ids:
            s = vs.lower()
            names |= {f"{s}@bookTicker", f"{s}@depth", f"{s}@depth@100ms", f"{s}@trade"}
            names |= {f"{s}@depth{n}{x}" for n in C.PARTIAL_DEPTH_LEVELS for x in ("", "@100ms")}
        conns = [BinanceConn(True, names), BinanceConn(False, names)]
        front.streams.update(conns)
        return conns
    mod = importlib.import_module(f"feeds.sim.{name}_front")
    chans = mod.SUPPORTED_PUBLIC if name == "okx" else mod.PUBLIC_CHANNELS
    session = Session(sorted(chans), ids)
    if name == "gate":
        session.private = {}   # type: ignore[assignment]   # Gate: channel -> subscription
    front.sessions.add(session)
    return [session]


def md_frames(name: str, seed: int, passes: int = 16, per_pass: int = 300) -> list[str]:
    clock = _Clock()
    venue = SimVenue(name, SYMBOLS, {"k": "s"}, clock, {"k": "p"})
    front, _ = importlib.import_module(f"feeds.sim.{name}_front").make_front(venue)
    conns = _connect(name, venue, front)
    params = {"BTC/USDT": SymbolParams(D(65000), vol_bps=3.0, target_orders=40,
                                       market_share=0.12, size_lots=None),
              "ETH/USDT": SymbolParams(D(3200), vol_bps=3.0, target_orders=40,
                                       market_share=0.12, jump_rate_hz=0.5)}
    market = MarketSimulator(venue.instruments, venue.rules, venue.accounts, params, seed=seed,
                             rate_hz=2000.0, start_ns=T0, prefill=False, engines=venue.engines)
    events = market.prefill(T0)
    for k in range(passes):
        by_symbol: dict[str, list[Any]] = {s: [] for s in venue.engines}
        for ev in events:
            by_symbol[ev.symbol].append(ev)
        for s in venue.engines:
            venue.dispatch(s, by_symbol[s])
        clock.t += 7_345_678
        for inst in venue.instruments:   # ours: a quote at the touch, a taker now and then
            eng = venue.engines[inst.symbol]
            (bid, _), _ = eng.best()
            lots = int(D(80) / (inst.tick_size * bid) / inst.lot_size) + 1
            venue.submit("k", inst.symbol, SimOrder("k", f"q{k}{inst.symbol}", Side.BUY, bid,
                                                    lots))
            if k % 3 == 1:
                venue.submit("k", inst.symbol, SimOrder("k", f"t{k}{inst.symbol}", Side.SELL,
                                                        bid - 3, 4 * lots))
        events = market.step(per_pass) if k % 2 == 0 else market.advance_to(clock.t)
    return [f"{i} {f}" for i, c in enumerate(conns) for f in c.frames]
