"""What the simulated venues can serve, per venue, on one core: market data and order round trips.

For each venue, `hft sim` runs with only that venue enabled, pinned to core 0; a client on the
other core talks to it exactly as our processes do:
- `md_mps`: the market driven as fast as it can go (`[sim] message_rate` far above what it
  can serve); the client subscribes with the feed adapter's own subscription frames and
  counts the frames it receives over a fixed window;
- `order_rtt_per_s`: order requests answered per second over the venue's WebSocket order API
  (Binance WS API, OKX private WS, Gate WS API) when the simulator is the limit: the load
  generator of `bench/sim_order_load.py` opens the session as our gateway does and sends
  the gateway adapter's own signed frames, but reads each answer only for its id and status,
  so it needs about half the simulator's CPU per request and the simulator runs at ~100 %
  of its core. A window of requests stays in flight (`--load-window`): each post-only buy
  (resting far below the book, at the venue minimum) is cancelled once accepted, and each
  cancel is followed by a new order, so a round trip is a place or a cancel answered, and
  the venue also pushes each order's updates on the private stream
  (`order_pushes_per_rtt`); a cancel that finds the order already filled by a crowd sweep
  is counted in `order_cancels_too_late` (see `bench/sim_order_load.py`). One request per
  frame on every venue. The simulator runs with
  `[sim] order_rate_limits = false` (no real account may send this fast: this measures the
  simulator, not a quota). `order_rtt_per_s_per_core` is the target's figure.
- `gateway_rtt_per_s`: the same round trips with our whole gateway as the client
  (`GatewayCore` with the venue adapter: signing, encoding, request correlation, every
  response and push parsed into execution reports). That client costs more CPU per order
  than the simulator, so it is the limit on two cores and the simulator idles part of the
  time; `gateway_rtt_per_s_per_core` extrapolates from that partly loaded simulator (each
  request then pays a wake and a socket write of its own, so it reads lower than the
  saturated figure). Requests of one kind that leave together go out as the gateway sends
  them: on OKX as `batch-orders` / `batch-cancel-orders` frames (`gateway_batch_frames`
  counts them), each order in one still a round trip answered.

Each figure comes with the share of a core the simulator and the client used (from
/proc): `*_per_core` divides the rate by the simulator's share.

Baseline in the same run: a bare aiohttp WebSocket server pushing a constant pre-encoded
frame as fast as it can to the same client — the transport ceiling the simulator's market
model, matching engine and venue encoders sit on.

    python -m bench.sim [--json] [--seconds S] [--window N] [--load-window N]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.cpu_meter import CpuMeter
from bench.sim_order_load import order_client, saturate
from pipeline import aio
from pipeline.ports import free_port_block

VENUES = ("binance", "okx", "gate")
SYMBOLS = ["BTC/USDT", "ETH/USDT"]


async def _count_frames(url: str, on_open: tuple[str, ...], seconds: float,
                        sim: CpuMeter | None = None, warmup: float = 1.0
                        ) -> tuple[float, float, float]:
    """(frames/s received, simulator's core share, this client's core share)."""
    import websockets
    async with websockets.connect(url, max_size=1 << 24, compression=None) as ws:
        for f in on_open:
            await ws.send(f)
        t_end_warm = time.monotonic() + warmup
        while time.monotonic() < t_end_warm:
            await asyncio.wait_for(ws.recv(), timeout=5)
        me = CpuMeter(os.getpid())
        for m in (me, sim):
            if m is not None:
                m.start()
        n = 0
        t0 = time.monotonic()
        while (el := time.monotonic() - t0) < seconds:
            await asyncio.wait_for(ws.recv(), timeout=5)
            n += 1
        return n / el, (sim.share() if sim is not None else 0.0), me.share()


@contextlib.contextmanager
def _sim(venue: str, sim_extra: str) -> Iterator[tuple[Any, CpuMeter]]:
    """`hft sim` with only `venue` enabled, pinned to core 0: (its config, its CPU meter)."""
    from pipeline.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="hft-bench-sim-"))
    port = free_port_block(3)
    ex = "\n".join(f"[exchanges.{v}]\nenabled = {'true' if v == venue else 'false'}\n"
                   f"symbols = {json.dumps(SYMBOLS)}\n" for v in VENUES)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[system]\ndata_dir = "{tmp}"\n{ex}\n'
                   f'[sim]\nbase_port = {port}\n{sim_extra}\n')
    config = load_config(cfg)
    cmd = [sys.executable, "-m", "pipeline.cli", "sim", "--config", str(cfg)]
    if (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", "0", *cmd]
    sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert sim.stdout is not None
        sim.stdout.readline()  # endpoints: serving
        yield config, CpuMeter(sim.pid)
    finally:
        sim.terminate()
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()


def venue_rate(venue: str, seconds: float) -> dict[str, Any]:
    from feeds.runner import load_feed_adapter
    from feeds.sim.endpoints import sim_endpoints

    with _sim(venue, "message_rate = 1000000.0") as (config, meter):
        adapter = load_feed_adapter(venue, config)
        vsyms = [adapter.venue_symbol(s) for s in SYMBOLS]
        plan = adapter.ws_plans(sim_endpoints(config, venue).ws_public, vsyms)[0]
        frames = plan.on_open_fn(int(time.time() * 1000)) if plan.on_open_fn else plan.on_open
        rate, sim_share, client_share = aio.run(
            _count_frames(plan.url, tuple(frames), seconds, meter))
    return {"md_mps": round(rate), "md_sim_cpu": round(sim_share, 2),
            "md_client_cpu": round(client_share, 2),
            "md_mps_per_core": round(rate / sim_share) if sim_share > 0.05 else None}


async def _round_trips(venue: str, config: Any, seconds: float, window: int,
                       sim: CpuMeter, warmup: float = 1.0) -> dict[str, Any]:
    import websockets

    from feeds.sim.endpoints import sim_endpoints
    from feeds.ws import WsClient, WsSettings
    from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
    from pipeline.model import Side, TimeInForce

    adapter, core, inst, price, lots = order_client(venue, config, SYMBOLS[0])
    ids = iter(range(1, 1 << 62))
    sent = 0
    cancelled: set[str] = set()
    ended: set[str] = set()

    def place() -> None:
        nonlocal sent
        core.place(NewOrder(f"rt{next(ids)}", venue, inst.symbol, Side.BUY, price, lots,
                            tif=TimeInForce.POST_ONLY))
        sent += 1

    def cancel(client_id: str) -> None:
        nonlocal sent
        core.cancel(CancelOrder(client_id, venue, inst.symbol))
        sent += 1

    plan = adapter.ws_plan(sim_endpoints(config, venue).ws_private)
    async with websockets.connect(plan.url, max_size=1 << 24, compression=None) as ws:
        # frames leave as the gateway sends them (feeds/gateway.py `_send`): each written at
        # once by `WsClient.send_nowait`, awaiting `send` only when the socket is full
        client = WsClient(WsSettings(plan.url), on_frame=lambda *_: None)
        client.ws = ws
        for f in adapter.session_frames(int(time.time() * 1000)):
            await ws.send(f)
        ready = False
        while not ready:
            data = await asyncio.wait_for(ws.recv(), timeout=5)
            ready = any(adapter.session_ready(r) for r in core.on_frame(data, time.time_ns()))
        for _ in range(window):
            place()
        me = CpuMeter(os.getpid())
        t_start = time.monotonic()
        t0 = 0.0
        done0 = rejected = batches0 = 0
        while True:
            while True:   # a report may make a request, whose frame goes out at once
                frames, reports = core.take()
                if not frames and not reports:
                    break
                for f in frames:
                    if not client.send_nowait(f):
                        await ws.send(f)
                for r in reports:
                    if type(r) is not ExecReport:
                        continue
                    # Gate reports each step twice (response + push): act on the first
                    if r.exec_type is ExecType.NEW:
                        if r.client_id not in cancelled:
                            cancelled.add(r.client_id)
                            cancel(r.client_id)
                    elif r.status.is_terminal and r.client_id not in ended:
                        ended.add(r.client_id)
                        if r.exec_type is ExecType.REJECTED:
                            rejected += 1
                        place()
            now = time.monotonic()
            if not t0 and now - t_start >= warmup:
                t0, done0 = now, sent - len(core.pending)
                batches0 = core.counters["batches_sent"]
                me.start()
                sim.start()
                rejected = 0
            if t0 and now - t0 >= seconds:
                break
            data = await asyncio.wait_for(ws.recv(), timeout=5)
            core.on_frame(data, time.time_ns())
        el = time.monotonic() - t0
        done = sent - len(core.pending) - done0
        sim_share, client_share = sim.share(), me.share()
    return {"gateway_rtt_per_s": round(done / el), "gateway_sim_cpu": round(sim_share, 2),
            "gateway_client_cpu": round(client_share, 2),
            "gateway_rtt_per_s_per_core": round(done / el / sim_share) if sim_share > 0.05
            else None, "gateway_rejects": rejected,
            "gateway_batch_frames": core.counters["batches_sent"] - batches0}


def order_rate(venue: str, seconds: float, window: int, load_window: int) -> dict[str, Any]:
    """Both order measures against one simulator: the load generator's, then our gateway's."""
    with _sim(venue, "message_rate = 50.0\norder_rate_limits = false") as (config, meter):
        load = aio.run(saturate(venue, config, SYMBOLS[0], seconds, load_window, meter))
        gateway = aio.run(_round_trips(venue, config, seconds, window, meter))
    share = load["sim_cpu"]
    return {"order_rtt_per_s": round(load["rate"]), "order_sim_cpu": round(share, 2),
            "order_client_cpu": round(load["client_cpu"], 2),
            "order_rtt_per_s_per_core": round(load["rate"] / share) if share > 0.05 else None,
            "order_rejects": load["rejects"], "order_cancels_too_late": load["cancels_too_late"],
            "order_pushes_per_rtt": round(load["pushes_per_rtt"] or 0, 2)} | gateway


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
    aio.run(main())


def baseline_rate(seconds: float) -> float:
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    port = free_port_block(1)
    p = ctx.Process(target=_echo_server, args=(port, ready), daemon=True)
    p.start()
    try:
        ready.wait(30)
        return aio.run(_count_frames(f"ws://127.0.0.1:{port}/ws", ("{}",), seconds))[0]
    finally:
        p.kill()
        p.join(5)


def _order_path_modules() -> str:
    """Which of the plain modules compiled for the order path run compiled (as `hft sim`,
    started from the same tree, imports them)."""
    import importlib
    for name in ("feeds.sim.binance_front", "feeds.sim.gate_front"):
        importlib.import_module(name)
    from pipeline.compiled_guard import compiled_summary
    return compiled_summary()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--window", type=int, default=64,
                    help="order requests in flight from the gateway client")
    ap.add_argument("--load-window", type=int, default=256,
                    help="order requests in flight from the load generator")
    a = ap.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the client on the other core
    base = baseline_rate(a.seconds)
    from feeds.sim import fast
    out: dict[str, Any] = {"cores": os.cpu_count(), "seconds": a.seconds,
                           "sim_hot_path": fast.describe(),   # what `hft sim` runs here too
                           "sim_order_path": _order_path_modules(),
                           "baseline_ws_push_mps": round(base)}
    for v in VENUES:
        md = venue_rate(v, a.seconds)
        md["vs_bare_ws"] = round(md["md_mps"] / base, 2) if base else None
        out[v] = md | order_rate(v, a.seconds, a.window, a.load_window)
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
