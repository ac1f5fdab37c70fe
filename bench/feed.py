"""Feed throughput: parse + normalize + publish, per venue, on one core.

For each venue, frames made by the venue's own server-side encoders (the exact shapes the
venue sends) go through the real feed path — the venue adapter's parser and `FeedCore` —
into a real shared-memory tick ring and book slots:
- `bbo_mps`: best-bid/offer frames (Binance `@bookTicker` in the combined-stream envelope,
  OKX `bbo-tbt`, Gate `spot.book_ticker`), each published as one ring record;
- `depth_mps`: incremental depth frames changing 20 levels (10 per side) that chain on the
  book's sequence, each applied to the local book and written to the book slot (top 20);
- `ccxt_bbo_mps`, the baseline a user would otherwise have: the same BBO frames through
  `json.loads` and ccxt pro's own handler for that channel (markets set in memory, no
  network), measured in the same run.

    python -m bench.feed [--json] [--frames N]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from feeds.binance.protocol import market as binance_m
from feeds.gate.protocol import market as gate_m
from feeds.okx.protocol import market as okx_m
from feeds.runner import frame_handler
from pipeline.config import Config
from pipeline.replay import close_all, private_feed

VENUES = ("binance", "okx", "gate")
MID = 65_000.0
TICK = 0.1


def _bbo_frames(venue: str, n: int) -> list[str]:
    out = []
    for i in range(n):
        bid = f"{MID - TICK * (i % 7):.1f}"
        ask = f"{MID + TICK * (1 + i % 5):.1f}"
        sz = f"{0.5 + (i % 13) * 0.01:.2f}"
        if venue == "binance":
            out.append(binance_m.wrap_combined("btcusdt@bookTicker", binance_m.encode_bbo(
                "BTCUSDT", bid, sz, ask, sz, i + 1)))
        elif venue == "okx":
            out.append(okx_m.encode_bbo("BTC-USDT", (bid, sz), (ask, sz),
                                        1_800_000_000_000_000_000, i + 1))
        else:
            out.append(gate_m.encode_bbo("BTC_USDT", bid, sz, ask, sz, i + 1,
                                         1_800_000_000_000_000_000))
    return out


def _levels(side: int, i: int) -> list[tuple[str, str]]:
    """10 changed levels on one side, near the touch, sizes varying with the frame number."""
    return [(f"{MID + side * TICK * (k + 1):.1f}", f"{0.1 + ((i + k) % 17) * 0.05:.2f}")
            for k in range(10)]


def _snapshot_and_depth(venue: str, n: int) -> tuple[Any, list[str]]:
    """(REST snapshot payload at id 1000, n chained 20-level diff frames)."""
    bids0 = [(f"{MID - TICK * (k + 1):.1f}", "1.00") for k in range(40)]
    asks0 = [(f"{MID + TICK * (k + 1):.1f}", "1.00") for k in range(40)]
    ts = 1_800_000_000_000_000_000
    frames = []
    snap: Any
    if venue == "binance":
        snap = binance_m.encode_rest_snapshot(1000, bids0, asks0)
        for i in range(n):
            diff = binance_m.encode_depth_update("BTCUSDT", 1001 + i, 1001 + i, _levels(-1, i),
                                                 _levels(1, i), ts)
            frames.append(binance_m.wrap_combined("btcusdt@depth@100ms", diff))
    elif venue == "okx":
        snap = okx_m.encode_rest_snapshot(bids0, asks0, ts, 1000)
        for i in range(n):
            frames.append(okx_m.encode_books("update", "BTC-USDT", _levels(-1, i),
                                             _levels(1, i), ts, 1001 + i, 1000 + i))
    else:
        snap = gate_m.encode_rest_snapshot(1000, bids0, asks0, ts)
        for i in range(n):
            frames.append(gate_m.encode_order_book_update("BTC_USDT", 1001 + i, 1001 + i,
                                                          _levels(-1, i), _levels(1, i), ts))
    return snap, frames


def _rate(fn: Any, frames: list[str]) -> float:
    t0 = time.perf_counter()
    for i, f in enumerate(frames):
        fn(f, i)
    return len(frames) / (time.perf_counter() - t0)


def bench_ours(venue: str, n: int) -> dict[str, float]:
    """The real feed path (adapter + FeedCore + shm ring and book slot) — the same private
    feed `hft replay` builds — driven through `feeds.runner.frame_handler`, the very callback
    the feed process gives its WebSocket clients (capture off, as configured by default)."""
    feed = private_feed(venue, Config(), depth=20)
    core = feed.core
    vs = core.adapter.venue_symbol("BTC/USDT")
    replies: list[str] = []
    on_frame = frame_handler(core, replies.append)
    try:
        bbo_mps = _rate(on_frame, _bbo_frames(venue, n))
        assert core.counters.values["bbo"] == n and core.counters.values["parse_errors"] == 0
        snap, depth = _snapshot_and_depth(venue, n)
        core.on_snapshot(core.adapter.parse_snapshot(vs, snap), 0)
        depth_mps = _rate(on_frame, depth)
        c = core.counters.values
        assert c["gaps"] == 0 and c["parse_errors"] == 0, c
        assert feed.books.read(0).n_bids == 20
        return {"bbo_mps": round(bbo_mps), "depth_mps": round(depth_mps)}
    finally:
        close_all({venue: feed})


def _ccxt_market(mid: str) -> dict[str, Any]:
    none = {"min": None, "max": None}
    return {"id": mid, "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC",
            "quoteId": "USDT", "type": "spot", "spot": True, "margin": False, "swap": False,
            "future": False, "option": False, "active": True, "contract": False,
            "linear": None, "inverse": None, "settle": None, "settleId": None,
            "contractSize": None, "expiry": None, "expiryDatetime": None, "strike": None,
            "optionType": None, "precision": {"amount": 1e-5, "price": 0.1},
            "limits": {"amount": none, "price": none, "cost": none}, "info": {}}


async def bench_ccxt(venue: str, n: int) -> float:
    from ccxt import pro
    handler, mid = {"binance": ("handle_bids_asks", "BTCUSDT"),
                    "okx": ("handle_order_book", "BTC-USDT"),
                    "gate": ("handle_bid_ask", "BTC_USDT")}[venue]
    ex = getattr(pro, venue)()
    try:
        ex.set_markets([_ccxt_market(mid)])
        client = ex.client("ws://127.0.0.1:9/bench")
        fn = getattr(ex, handler)
        frames = _bbo_frames(venue, n)
        if venue == "binance":  # ccxt's binance client unwraps the combined envelope first
            frames = [json.dumps(json.loads(f)["data"]) for f in frames]
        loads = json.loads
        t0 = time.perf_counter()
        for f in frames:
            fn(client, loads(f))
        return len(frames) / (time.perf_counter() - t0)
    finally:
        await ex.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--frames", type=int, default=100_000)
    a = ap.parse_args()
    out: dict[str, Any] = {"cores": os.cpu_count(), "frames": a.frames}
    for venue in VENUES:
        r = bench_ours(venue, a.frames)
        r["ccxt_bbo_mps"] = round(asyncio.run(bench_ccxt(venue, min(a.frames, 30_000))))
        r["bbo_vs_ccxt"] = round(r["bbo_mps"] / r["ccxt_bbo_mps"], 1)
        out[venue] = r
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
