"""How much market data the simulated venues can push, per venue, on one core.

For each venue: `hft sim` with only that venue enabled, pinned to core 0, its market driven
as fast as it can go (`[sim] message_rate` far above what it can serve); a client on the
other core subscribes exactly as our feed does (the venue adapter's subscription frames) and
counts the frames it receives over a fixed window. Order round trips through the simulator
are measured by `bench/orders.py` (simulated OKX, real gateway).

Baseline in the same run: a bare aiohttp WebSocket server pushing a constant pre-encoded
frame as fast as it can to the same client — the transport ceiling the simulator's market
model, matching engine and venue encoders sit on.

    python -m bench.sim [--json] [--seconds S]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VENUES = ("binance", "okx", "gate")
SYMBOLS = ["BTC/USDT", "ETH/USDT"]


async def _count_frames(url: str, on_open: tuple[str, ...], seconds: float,
                        warmup: float = 1.0) -> float:
    import websockets
    async with websockets.connect(url, max_size=1 << 24, compression=None) as ws:
        for f in on_open:
            await ws.send(f)
        t_end_warm = time.monotonic() + warmup
        while time.monotonic() < t_end_warm:
            await asyncio.wait_for(ws.recv(), timeout=5)
        n = 0
        t0 = time.monotonic()
        while (el := time.monotonic() - t0) < seconds:
            await asyncio.wait_for(ws.recv(), timeout=5)
            n += 1
        return n / el


def venue_rate(venue: str, seconds: float) -> float:
    from feeds.runner import load_feed_adapter
    from feeds.sim.endpoints import sim_endpoints
    from pipeline.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="hft-bench-sim-"))
    port = random.randint(20_000, 40_000)
    ex = "\n".join(f"[exchanges.{v}]\nenabled = {'true' if v == venue else 'false'}\n"
                   f"symbols = {json.dumps(SYMBOLS)}\n" for v in VENUES)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[system]\ndata_dir = "{tmp}"\n{ex}\n'
                   f'[sim]\nbase_port = {port}\nmessage_rate = 1000000.0\n')
    config = load_config(cfg)
    cmd = [sys.executable, "-m", "pipeline.cli", "sim", "--config", str(cfg)]
    if (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", "0", *cmd]
    sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        sim.stdout.readline()  # endpoints: serving
        adapter = load_feed_adapter(venue, config)
        vsyms = [adapter.venue_symbol(s) for s in SYMBOLS]
        plan = adapter.ws_plans(sim_endpoints(config, venue).ws_public, vsyms)[0]
        frames = plan.on_open_fn(int(time.time() * 1000)) if plan.on_open_fn else plan.on_open
        return asyncio.run(_count_frames(plan.url, tuple(frames), seconds))
    finally:
        sim.terminate()
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()


def _echo_server(port: int, ready: Any) -> None:
    from aiohttp import web

    frame = json.dumps({"stream": "btcusdt@bookTicker", "data": {
        "u": 1, "s": "BTCUSDT", "b": "65000.10", "B": "1.5", "a": "65000.20", "A": "2.0"}})

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # the subscription
        while not ws.closed:
            for _ in range(64):
                await ws.send_str(frame)
            await asyncio.sleep(0)
        return ws

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/ws", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    asyncio.run(main())


def baseline_rate(seconds: float) -> float:
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    port = random.randint(40_001, 50_000)
    p = ctx.Process(target=_echo_server, args=(port, ready), daemon=True)
    p.start()
    try:
        ready.wait(30)
        return asyncio.run(_count_frames(f"ws://127.0.0.1:{port}/ws", ("{}",), seconds))
    finally:
        p.kill()
        p.join(5)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the client on the other core
    base = baseline_rate(a.seconds)
    out: dict[str, Any] = {"cores": os.cpu_count(), "seconds": a.seconds,
                           "baseline_ws_push_mps": round(base)}
    for v in VENUES:
        rate = venue_rate(v, a.seconds)
        out[v] = {"md_mps": round(rate), "vs_bare_ws": round(rate / base, 2) if base else None}
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
