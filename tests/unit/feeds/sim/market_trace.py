"""Seeded runs of the background market and the matching engine, recorded as text: every event
(its repr: type and every field), and after each pass every book (top 30 levels per side,
the engine's sequence, the changed levels). Two implementations behave the same exactly when
their traces are equal; `digest` pins a trace to the one the original pure-Python code gave."""
from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

from feeds.sim.accounts import Accounts
from feeds.sim.events import SimOrder, SymbolParams
from feeds.sim.instruments import listed
from feeds.sim.venue_rules import RULES
from pipeline.model import Instrument, OrderType, Side, TimeInForce

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


def _params(venue: str) -> dict[str, SymbolParams]:
    """As `hft sim` runs it (server.start_venue), plus one symbol with the defaults."""
    out = {}
    for i, inst in enumerate(listed(venue, SYMBOLS)):
        mid = {"BTC/USDT": D(65000), "ETH/USDT": D(3200), "SOL/USDT": D(150)}[inst.symbol]
        if i == 2:
            out[inst.symbol] = SymbolParams(mid, vol_bps=3.0, jump_rate_hz=0.5)
        else:
            out[inst.symbol] = SymbolParams(mid, size_lots=max(1, int(
                D(2000) / mid / inst.lot_size)), vol_bps=3.0, jump_rate_hz=0.05, jump_bps=10.0,
                target_orders=40, market_share=0.12)
    return out


def _lots_worth(inst: Any, ticks: int, quote: int) -> int:
    return int(D(quote) / (inst.tick_size * ticks) / inst.lot_size) + 1


def _books(sim: Any) -> Iterator[str]:
    for sym, eng in sim.engines.items():
        yield f"{sym} seq={eng.sequence} depth={eng.depth(30)} best={eng.best()}"
        yield f"{sym} changes={eng.drain_level_changes()}"


def market_trace(sim_cls: Any, engine_cls: Any, venue: str, seed: int, passes: int = 30,
                 per_pass: int = 400) -> list[str]:
    """`step` and `advance_to` passes in turn, with one funded account of ours quoting and
    taking inside the crowd's book (fills, cancels and rejects on our side too). The book is
    prefilled twice (by the constructor, then explicitly, so prefill's events are traced)."""
    acc = Accounts()
    acc.open("mm", {"USDT": D(10_000_000), "BTC": D(100), "ETH": D(1000), "SOL": D(100_000)})
    insts = listed(venue, SYMBOLS)
    ids = itertools.count(1)
    engines = {i.symbol: engine_cls(i, RULES[venue], acc, order_ids=ids) for i in insts}
    sim = sim_cls(insts, RULES[venue], acc, _params(venue), seed=seed, rate_hz=2000.0,
                  start_ns=10**18, engines=engines)
    out = [repr(e) for e in sim.prefill(sim.now_ns)]
    out += _books(sim)
    n = 0
    for k in range(passes):
        events = sim.step(per_pass) if k % 2 == 0 else sim.advance_to(sim.now_ns + 10**8)
        out += [repr(e) for e in events]
        out += _books(sim)
        for inst in insts:   # our orders: one passive at the touch, one taker every 3rd pass
            eng = sim.engines[inst.symbol]
            (bid, _), _ = eng.best()
            n += 1
            small = _lots_worth(inst, bid, 60)
            out += map(repr, eng.submit(SimOrder("mm", f"p{n}", Side.BUY, bid, small),
                                        sim.now_ns))
            if k % 3 == 0:
                out += map(repr, eng.submit(SimOrder(
                    "mm", f"t{n}", Side.SELL, bid - 2, 5 * small), sim.now_ns))
            if k % 4 == 1:
                out += map(repr, eng.cancel_all("mm", sim.now_ns))
        out.append(f"arrivals={sim.arrivals} now={sim.now_ns}")
    out += [repr(v) for inst in insts for v in sim.engines[inst.symbol].open_orders("mm")]
    out += [f"{a}: {acc.balance('mm', a)}" for a in ("USDT", "BTC", "ETH", "SOL")]
    return out


def digest(trace: list[str]) -> str:
    return hashlib.sha256("\n".join(trace).encode()).hexdigest()


def engine_commands(seed: int, n: int) -> list[tuple[Any, ...]]:
    """A seeded command stream like the property tests' (three small accounts, prices
    around one mid, every time in force, market buys by quote amount, cancels by order and
    client id, cancel-all)."""
    r = random.Random(seed)
    tifs = list(TimeInForce)
    cmds: list[tuple[Any, ...]] = []
    for i in range(n):
        who = r.choice("abc")
        side = r.choice([Side.BUY, Side.SELL])
        k = r.random()
        if k < 0.55:
            cmds.append(("limit", who, f"c{i}" if r.random() < 0.7 else "", side,
                         5_000_000 + r.randint(-4, 4), r.randint(1, 30), r.choice(tifs)))
        elif k < 0.7:
            quote = D(r.randint(1, 4000)) / 10 if side is Side.BUY and r.random() < 0.3 else None
            cmds.append(("market", who, f"c{i}", side, r.randint(1, 40),
                         r.choice([TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTC]), quote))
        elif k < 0.8:
            cmds.append(("cancel_cid", who, f"c{r.randint(0, i)}"))
        elif k < 0.97:
            cmds.append(("cancel", who, r.randint(0, i + 1)))
        else:
            cmds.append(("cancel_all", who))
    return cmds


def run_commands(engine_cls: Any, venue: str, cmds: list[tuple[Any, ...]]) -> list[str]:
    """Every event of every command, then the book, the open orders and the ledgers."""
    acc = Accounts()
    for name in "abc":
        acc.open(name, {"USDT": D(300), "BTC": D("0.006")})
    acc.open("crowd", unlimited=True, quiet=True)
    inst = Instrument(venue, "BTC/USDT", "BTCUSDT", "BTC", "USDT", tick_size=D("0.01"),
                      lot_size=D("0.0001"), min_qty=D("0.0001"), min_notional=D(5),
                      max_qty=D(100))
    eng = engine_cls(inst, RULES[venue], acc, history=50)
    out: list[str] = []
    for t, c in enumerate(cmds):
        try:
            if c[0] == "limit":
                ev = eng.submit(SimOrder(c[1], c[2], c[3], c[4], c[5], OrderType.LIMIT,
                                         c[6]), t)
            elif c[0] == "market":
                ev = eng.submit(SimOrder(c[1], c[2], c[3], None, c[4], OrderType.MARKET,
                                         c[5], c[6]), t)
            elif c[0] in ("cancel", "cancel_cid"):
                ev = eng.cancel(c[1], c[2], t)
            else:
                ev = eng.cancel_all(c[1], t)
        except (ValueError, KeyError) as exc:
            out.append(f"raised {type(exc).__name__}: {exc}")
            continue
        out += map(repr, ev)
        out.append(f"seq={eng.sequence} best={eng.best()} changes={eng.drain_level_changes()}")
    out.append(repr(eng.depth(100)))
    for name in "abc":
        out += map(repr, eng.open_orders(name))
        out += [repr(eng.get(name, ref)) for ref in (1, 5, 17, "c3", "c40")]
        out.append(repr(acc._accounts[name].snapshot()))
    out.append(repr(sorted(acc.fees.items())))
    return out
