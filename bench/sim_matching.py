"""Benchmark: the simulated venues' matching engine and background market, on one core.

Figures, all measured in this run on this machine (core count printed):
- `engine_orders_per_s`: one seeded stream of commands (47 % passive limits around the mid,
  43 % cancels of a random earlier order, 10 % marketable IOC limits sweeping a few levels;
  past 500 tracked orders a placement becomes a cancel, so the book stays at a few hundred
  resting orders, as on a venue; `book_orders_end` reports it)
  through `MatchingEngine` for two funded accounts (balances, fees, events, STP checks);
- `engine_quiet_orders_per_s`: the same stream from an unlimited, quiet account (how the
  background crowd uses the engine: no ledger, no per-order events, trades only);
- `naive_orders_per_s`: the same stream through a naive list-scan book (best price found by
  scanning every resting order, cancels by scanning), the baseline; `ratio_vs_naive` is the
  quiet engine over the baseline (neither keeps a ledger);
- `market_arrivals_per_s` / `market_events_per_s`: `MarketSimulator.step` on three symbols,
  arrivals processed and public events (trades) produced per second.
- `hot_path`: which implementation ran (`feeds.sim.fast.describe()`): the compiled twins of
  the engine and the market, or pure Python (HFT_PURE_PYTHON=1, not built, or stale); run
  it both ways back to back to compare.

    python -m bench.sim_matching [--json] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from feeds.sim import fast
from feeds.sim.accounts import Accounts
from feeds.sim.market import MarketSimulator, SymbolParams
from feeds.sim.matching import MatchingEngine, SimOrder
from feeds.sim.venue_rules import BINANCE
from pipeline.model import Instrument, OrderType, Side, TimeInForce

MID = 5_000_000
CAP = 500   # the driver tracks at most this many placed orders (a steady-state book)
INST = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", Decimal("0.01"),
                  Decimal("0.0001"), min_notional=Decimal(5))

Op = tuple[int, int, int, int, float]   # kind (0 limit, 1 cancel, 2 take), side, price, lots, u


def workload(n: int, seed: int = 1) -> list[Op]:
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.47, 0.43, 0.10])
    side = rng.choice([1, -1], size=n)
    dist = 1 + rng.geometric(0.08, size=n)
    lots = 2 + rng.geometric(0.2, size=n)
    u = rng.random(n)
    ops: list[Op] = []
    for k, s, d, q, uu in zip(kind.tolist(), side.tolist(), dist.tolist(), lots.tolist(),
                              u.tolist()):
        if k == 2:   # marketable: cross by a few ticks with a bigger size
            ops.append((2, s, MID + s * (d % 5), q * 6, uu))
        else:
            ops.append((k, s, MID - s * d, q, uu))
    return ops


class NaiveBook:
    """Baseline: resting orders in two arrival-ordered lists, scanned for the best price."""

    def __init__(self) -> None:
        self.book: dict[int, list[list[int]]] = {1: [], -1: []}   # [id, price, lots]
        self.next_id = 0
        self.trades = 0

    def submit(self, side: int, price: int, lots: int, ioc: bool) -> int:
        self.next_id += 1
        opp = self.book[-side]
        while lots > 0 and opp:
            best_i = 0
            for i in range(1, len(opp)):   # best price, earliest first
                if (opp[i][1] - opp[best_i][1]) * side < 0:
                    best_i = i
            m = opp[best_i]
            if (price - m[1]) * side < 0:
                break
            q = min(lots, m[2])
            lots -= q
            m[2] -= q
            self.trades += 1
            if m[2] == 0:
                del opp[best_i]
        if lots > 0 and not ioc:
            self.book[side].append([self.next_id, price, lots])
        return self.next_id

    def cancel(self, oid: int) -> bool:
        for lst in self.book.values():
            for i, o in enumerate(lst):
                if o[0] == oid:
                    del lst[i]
                    return True
        return False


def _drive(ops: list[Op], submit: Callable[[int, int, int, int, bool], int],
           cancel: Callable[[int, int], object]) -> float:
    ids: list[int] = []
    t0 = time.perf_counter()
    for i, (k, s, p, q, u) in enumerate(ops):
        if k == 1 or (k == 0 and len(ids) >= CAP):   # bounded book: cancel instead
            if ids:
                j = int(u * len(ids))
                ids[j], ids[-1] = ids[-1], ids[j]
                cancel(ids.pop(), i)
        else:
            ids.append(submit(i, s, p, q, k == 2))
    return time.perf_counter() - t0


def bench_engine(ops: list[Op], quiet: bool) -> float:
    acc = Accounts()
    names = ("bg",) if quiet else ("a", "b")
    for name in names:
        if quiet:
            acc.open(name, unlimited=True, quiet=True)
        else:
            acc.open(name, {"USDT": Decimal(10) ** 12, "BTC": Decimal(10) ** 9})
    eng = MatchingEngine(INST, BINANCE, acc)
    who = {}

    def submit(i: int, s: int, p: int, q: int, ioc: bool) -> int:
        name = names[i % len(names)]
        eng.submit(SimOrder(name, "", Side(s), p, q, OrderType.LIMIT,
                            TimeInForce.IOC if ioc else TimeInForce.GTC), i)
        oid = eng.last_order_id
        who[oid] = name
        return oid

    def cancel(oid: int, i: int) -> object:
        return eng.cancel(who.pop(oid, names[0]), oid, i)

    return len(ops) / _drive(ops, submit, cancel)


def bench_naive(ops: list[Op]) -> tuple[float, int]:
    nb = NaiveBook()
    rate = len(ops) / _drive(ops, lambda i, s, p, q, ioc: nb.submit(s, p, q, ioc),
                             lambda oid, i: nb.cancel(oid))
    return rate, sum(len(v) for v in nb.book.values())


def bench_market(arrivals: int) -> tuple[float, float]:
    insts = [INST,
             Instrument("binance", "ETH/USDT", "ETHUSDT", "ETH", "USDT", Decimal("0.01"),
                        Decimal("0.0001"), min_notional=Decimal(5)),
             Instrument("binance", "SOL/USDT", "SOLUSDT", "SOL", "USDT", Decimal("0.001"),
                        Decimal("0.01"), min_notional=Decimal(1))]
    params = {"BTC/USDT": SymbolParams(Decimal(50000)),
              "ETH/USDT": SymbolParams(Decimal(3000)),
              "SOL/USDT": SymbolParams(Decimal(150))}
    sim = MarketSimulator(insts, BINANCE, Accounts(), params, seed=1, rate_hz=1000.0)
    sim.step(arrivals // 10)   # warm the book up to its steady state
    t0 = time.perf_counter()
    events = len(sim.step(arrivals))
    dt = time.perf_counter() - t0
    return arrivals / dt, events / dt


def run(quick: bool = False) -> dict[str, float | int | str]:
    n = 20_000 if quick else 200_000
    ops = workload(n)
    res: dict[str, float | int | str] = {"cores": os.cpu_count() or 0, "orders": n,
                                         "hot_path": fast.describe()}
    res["engine_orders_per_s"] = round(bench_engine(ops, quiet=False))
    quiet_rate = bench_engine(ops, quiet=True)
    res["engine_quiet_orders_per_s"] = round(quiet_rate)
    naive_rate, resting = bench_naive(ops)
    res["naive_orders_per_s"] = round(naive_rate)
    res["book_orders_end"] = resting
    res["ratio_vs_naive"] = round(round(quiet_rate) / round(naive_rate), 2)
    arr, ev = bench_market(30_000 if quick else 300_000)
    res["market_arrivals_per_s"] = round(arr)
    res["market_events_per_s"] = round(ev)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:28s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
