"""Benchmark: market-maker decision cost and order traffic, 3 venues x 2 symbols.

One cycle = one book update (a random venue/symbol moves on a seeded random walk), a public
trade every other cycle, `MarketMaker.desired_quotes` for all six (venue, symbol), and
`diff_quotes` against the simulated live orders of each, whose result is applied (cancels
removed, placements added) so the next cycle diffs against what would really rest.

Baseline, measured in the same run on the same events: a naive quoter — mid +- spread_bps/2,
one layer, float floor/ceil to ticks — that cancels and replaces everything every cycle.
Figures: cycles/s and us/cycle for both and their cost ratio; desired_quotes alone and
diff_quotes alone per second; and order messages (cancels + places) per cycle with the
requote diff vs the naive replace-all, the traffic the tolerance saves.

    python -m bench.strategy [--json] [--quick]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from decimal import Decimal
from typing import Any

import numpy as np

from engine.strategy.base import BookView, Quote, QuoteSet
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.quotes import LiveOrder, diff_quotes
from pipeline.config import MarketMakingConfig
from pipeline.model import Instrument, Side

VENUES = ("binance", "okx", "gate")
SYMBOLS = (("BTC/USDT", 60_000.0, "0.01", "0.00001"), ("ETH/USDT", 3_000.0, "0.01", "0.0001"))
STEP_NS = 1_000_000  # one event per simulated millisecond


def _instruments() -> dict[tuple[str, str], Instrument]:
    out = {}
    for v in VENUES:
        for sym, _, tick, lot in SYMBOLS:
            base, quote = sym.split("/")
            out[(v, sym)] = Instrument(v, sym, base + quote, base, quote, Decimal(tick),
                                       Decimal(lot))
    return out


def _events(n: int, seed: int) -> list[tuple[str, str, BookView, float, Side]]:
    """Pre-built book views so the timed loop measures the strategy, not numpy setup."""
    rng = np.random.default_rng(seed)
    mids = {sym: px for sym, px, _, _ in SYMBOLS}
    out = []
    for i in range(n):
        v = VENUES[int(rng.integers(3))]
        sym, _, tick, _ = SYMBOLS[int(rng.integers(2))]
        t = float(tick)
        mids[sym] *= math.exp(float(rng.normal(0.0, 1e-5)))
        bid = round(math.floor(mids[sym] / t) * t, 2)
        ask = round(bid + t * int(rng.integers(1, 4)), 2)
        depth = np.arange(10, dtype=np.float64)
        bids = np.column_stack([bid - depth * t, rng.uniform(0.1, 3.0, 10)])
        asks = np.column_stack([ask + depth * t, rng.uniform(0.1, 3.0, 10)])
        view = BookView.from_levels(bids, asks, True, i * STEP_NS)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        out.append((v, sym, view, mids[sym], side))
    return out


def _apply(live: list[LiveOrder], cancel: list[str], place: list[Quote], now: int,
           seq: list[int]) -> list[LiveOrder]:
    gone = set(cancel)
    kept = [o for o in live if o.client_id not in gone]
    for q in place:
        seq[0] += 1
        kept.append(LiveOrder(str(seq[0]), q.side, q.price_ticks, q.lots, q.layer, now))
    return kept


def run_strategy(events: list[tuple[str, str, BookView, float, Side]],
                 cfg: MarketMakingConfig) -> dict[str, float]:
    insts = _instruments()
    mm = MarketMaker(cfg, insts, MarketMakerParams(gateways_up_at_start=True))
    live: dict[tuple[str, str], list[LiveOrder]] = {k: [] for k in insts}
    seq = [0]
    msgs = 0
    t_desired = t_diff = 0
    t0 = time.perf_counter_ns()
    for i, (v, sym, view, px, side) in enumerate(events):
        now = i * STEP_NS
        mm.on_book(v, sym, view, now)
        if i & 1:
            mm.on_trade(v, sym, px, 0.01, side, now)
        a = time.perf_counter_ns()
        desired = mm.desired_quotes(now)
        b = time.perf_counter_ns()
        for key, qs in desired.items():
            cancel, place = diff_quotes(live[key], qs, mm.tolerance_ticks(*key), now,
                                        mm.min_requote_ns)
            msgs += len(cancel) + len(place)
            if cancel or place:
                live[key] = _apply(live[key], cancel, place, now, seq)
        t_desired += b - a
        t_diff += time.perf_counter_ns() - b
    total = time.perf_counter_ns() - t0
    n = len(events)
    return {"cycles_per_s": n / total * 1e9, "us_per_cycle": total / n / 1e3,
            "desired_per_s": n / t_desired * 1e9, "diff_all_per_s": n / t_diff * 1e9,
            "msgs_per_cycle": msgs / n}


def run_baseline(events: list[tuple[str, str, BookView, float, Side]],
                 cfg: MarketMakingConfig) -> dict[str, float]:
    """Mid +- spread/2, one layer, replace everything every cycle."""
    insts = _instruments()
    ticks = {k: float(inst.tick_size) for k, inst in insts.items()}
    lots = {k: inst.qty_to_lots(cfg.order_size) for k, inst in insts.items()}
    books: dict[tuple[str, str], BookView] = {}
    half = cfg.spread_bps / 2e4
    live_n = dict.fromkeys(insts, 0)
    msgs = 0
    t0 = time.perf_counter_ns()
    for v, sym, view, _, _ in events:
        books[(v, sym)] = view
        for key, b in books.items():
            mid = 0.5 * (b.best_bid + b.best_ask)
            t = ticks[key]
            qs = QuoteSet((Quote(Side.BUY, math.floor(mid * (1 - half) / t), lots[key], 0),),
                          (Quote(Side.SELL, math.ceil(mid * (1 + half) / t), lots[key], 0),))
            msgs += live_n[key] + len(qs.quotes)
            live_n[key] = len(qs.quotes)
    total = time.perf_counter_ns() - t0
    n = len(events)
    return {"cycles_per_s": n / total * 1e9, "us_per_cycle": total / n / 1e3,
            "msgs_per_cycle": msgs / n}


def run(quick: bool = False) -> dict[str, Any]:
    n = 3_000 if quick else 20_000
    cfg = MarketMakingConfig()
    events = _events(n, seed=1)
    run_strategy(events[:500], cfg)  # warm-up
    full = run_strategy(events, cfg)
    base = run_baseline(events, cfg)
    return {
        "cores": os.cpu_count(),
        "venues_x_symbols": f"{len(VENUES)}x{len(SYMBOLS)}",
        "cycles": n,
        "layers": cfg.layers,
        "mm_cycles_per_s": round(full["cycles_per_s"]),
        "mm_us_per_cycle": round(full["us_per_cycle"], 2),
        "mm_desired_quotes_per_s": round(full["desired_per_s"]),
        "mm_diff_quotes_all_keys_per_s": round(full["diff_all_per_s"]),
        "baseline_cycles_per_s": round(base["cycles_per_s"]),
        "baseline_us_per_cycle": round(base["us_per_cycle"], 2),
        "cost_ratio_mm_vs_baseline": round(base["cycles_per_s"] / full["cycles_per_s"], 1),
        "mm_order_msgs_per_cycle": round(full["msgs_per_cycle"], 3),
        "baseline_order_msgs_per_cycle": round(base["msgs_per_cycle"], 3),
        "order_msgs_saved_ratio": round(base["msgs_per_cycle"] / max(full["msgs_per_cycle"],
                                                                     1e-9), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer cycles")
    args = ap.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:>32}: {v:,}" if isinstance(v, (int, float)) else f"{k:>32}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
