"""Tick-to-order latency of the whole pipeline in sim mode.

Runs `hft run` (every process: simulated venues, feeds, writer, gateways, engine) for a fixed
time in a scratch directory and reads the run summary: `t2o_us` is the time from the feed
receiving the venue frame that moved a book to the gateway writing the order frame it caused,
per order, with its breakdown (feed -> engine decision, decision -> gateway send). The
histogram of those percentiles goes to `bench/out/tick_to_order.png`.

Baseline in the same run: the shared-memory ring handoff alone between two processes (from
`bench/ring.py`), so the ratio says how much of tick-to-order is our pipeline's work rather
than the transport under it. Also reported, in process: `EngineLoop.step` per book update on
the real ring and book-slot code (`engine_step_us_*`), the engine's own share of the path.

    python -m bench.tick_to_order [--json] [--duration S] [--inprocess [--symbols A,B]]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def run_system(duration: float, workdir: Path) -> dict[str, Any]:
    cfg = workdir / "config.toml"
    db = os.environ.get("HFT_TEST_PG_URL", "embedded")
    cfg.write_text(f'[system]\ndata_dir = "{workdir / "data"}"\n[database]\nurl = "{db}"\n'
                   f'[redis]\nurl = ""\n[sim]\nbase_port = {21_000 + os.getpid() % 5000}\n')
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--config", str(cfg),
                           "--duration", str(duration), "--summary", str(workdir / "s.json")],
                          cwd=workdir, capture_output=True, text=True, timeout=duration + 120)
    if proc.returncode != 0:
        raise SystemExit(f"hft run failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    return json.loads((workdir / "s.json").read_text())


def ring_handoff_us() -> float:
    """p50 of the cross-process ring handoff (phased wait), measured here and now."""
    from bench import ring
    res = ring.handoff_latency("phased", n=1000)
    return float(res["p50"])


# -- in process: the engine's own step per tick ----------------------------------------------
class _Sink:
    """Stands in for a gateway's order queue: encodes like `MessageQueue.put_many` does."""

    def __init__(self) -> None:
        self.msgs: list[Any] = []

    def put_many(self, msgs: list[Any]) -> bool:
        from pipeline.messages import encode
        for m in msgs:
            encode(m)
        self.msgs.extend(msgs)
        return True


class _Reports:
    """Stands in for the report queue: what the simulated venue answered since the last step."""

    def __init__(self) -> None:
        self.pending: list[Any] = []

    def nonempty(self) -> bool:
        return bool(self.pending)

    def get_many(self, timeout: float = 0.0) -> list[Any]:
        out, self.pending = self.pending, []
        return out


def engine_step(ticks: int = 20_000, symbols: tuple[str, ...] = ("BTC/USDT",),
                seed: int = 7) -> dict[str, float]:
    """`EngineLoop.step` per book update, in process, on the real ring and book-slot code.

    Each tick moves one (venue, symbol) book on a seeded random walk (a BBO row in that
    venue's ring, the book slot rewritten as a feed does), then one step is timed: poll,
    book reads, strategy, diff, RMS, OMS, encoding for the gateway queue. The simulated
    venue acks every order and cancel at the next step and fills ~2 % of resting orders;
    the 100 ms timer runs between steps, untimed (it is not on the tick path), and so
    does garbage collection, as in the engine."""
    import gc
    import random

    import numpy as np

    from engine.core import EngineCore
    from engine.main import EngineLoop
    from feeds.sim.instruments import listed, reference_price
    from pipeline.config import parse_config
    from pipeline.messages import (
        CancelOrder,
        ExecReport,
        ExecType,
        GatewayStatus,
        InstrumentInfo,
        NewOrder,
    )
    from pipeline.model import OrderStatus
    from shm import registry
    from shm.book import BookSlots
    from shm.layout import KIND_BBO, KIND_TRADE, TICK_DTYPE, VENUE_IDS
    from shm.ring import RingReader, RingWriter

    venues = ("binance", "okx", "gate")
    cfg = parse_config({"exchanges": {v: {"symbols": list(symbols)} for v in venues}})
    t0 = 1_800_000_000_000_000_000
    core = EngineCore(cfg, 1_700_000_000_000)
    for v in venues:
        for inst in listed(v, symbols):
            core.on_message(InstrumentInfo.of(inst), t0)
    core.start()
    for v in venues:
        core.on_message(GatewayStatus(v, "reconciled", "", t0), t0)
    loop = EngineLoop.__new__(EngineLoop)
    loop.core = core
    writers, books, readers, slots = {}, {}, {}, {}
    for v in venues:
        rname = registry.segment_name("ring", f"bench-step-{v}")
        bname = registry.segment_name("book", f"bench-step-{v}")
        writers[v] = RingWriter.create(rname, TICK_DTYPE, 1 << 14)
        slots[v] = BookSlots.create(bname, len(symbols))
        readers[v] = RingReader.attach(rname)
        books[v] = BookSlots.attach(bname)
    loop.readers, loop.books = readers, books
    sinks = {v: _Sink() for v in venues}
    loop.order_qs = sinks
    core.ship = loop._ship   # as EngineLoop wires it
    loop.reports_q = reports = _Reports()
    loop.events_q = _Sink()
    loop.started_ns = t0
    rng = random.Random(seed)
    ticks_of = {(v, s): float(i.tick_size) for v in venues for s, i in
                ((s, core.instruments[(v, s)]) for s in symbols)}
    mids = {k: float(reference_price(k[1])) for k in ticks_of}
    depth = np.arange(20, dtype=np.float64)
    resting: dict[str, NewOrder] = {}
    times: list[int] = []
    placing: list[int] = []
    seq = 0
    gc.collect()
    gc.freeze()
    gc.disable()  # as the engine runs: collections on its timer (below), not mid-step
    try:
        for i in range(ticks + 500):
            now = t0 + (i + 1) * 1_000_000
            v, sym = rng.choice(list(ticks_of))
            tick = ticks_of[(v, sym)]
            mids[(v, sym)] += tick * rng.choice((-2, -1, 1, 2))
            bid = round(mids[(v, sym)] / tick - 1) * tick
            ask = bid + tick * rng.randint(1, 3)
            sid = symbols.index(sym)
            lv = rng.uniform(0.1, 3.0)
            slots[v].write(sid, np.column_stack([bid - depth * tick, depth * 0.1 + lv]),
                           np.column_stack([ask + depth * tick, depth * 0.1 + 1]), now, now)
            writers[v].publish((KIND_BBO, VENUE_IDS[v], 0, 0, sid, now, now, now, bid, lv,
                                ask, 1.0, 0.0, 0.0, i))
            if i % 25 == 0:
                writers[v].publish((KIND_TRADE, VENUE_IDS[v], 1 if i % 50 else -1, 0, sid,
                                    now, now, now, 0.0, 0.0, 0.0, 0.0, ask, 0.01, i))
            n_before = sum(len(s.msgs) for s in sinks.values())
            a = time.perf_counter_ns()
            loop.step(now)
            b = time.perf_counter_ns()
            if i >= 500:
                times.append(b - a)
                if sum(len(s.msgs) for s in sinks.values()) > n_before:
                    placing.append(b - a)
            if i % 100 == 0:
                core.on_timer(now)
                core.requote(now, full=True)
                loop._flush()
                gc.collect(0)
            # the venue: ack new orders and cancels, fill a few resting orders
            for sink in sinks.values():
                for m in sink.msgs:
                    seq += 1
                    if isinstance(m, NewOrder):
                        resting[m.client_id] = m
                        reports.pending.append(ExecReport(
                            m.venue, m.symbol, m.client_id, f"V{seq}", ExecType.NEW,
                            OrderStatus.NEW, m.side, m.price_ticks, m.lots, ts_recv=now,
                            ts_sent=now, ts_tick_recv=m.ts_tick_recv,
                            ts_decision=m.ts_decision))
                    elif isinstance(m, CancelOrder) and resting.pop(m.client_id, None):
                        reports.pending.append(ExecReport(
                            m.venue, m.symbol, m.client_id, "", ExecType.CANCELED,
                            OrderStatus.CANCELED, core.oms.orders[m.client_id].side,
                            ts_recv=now))
                sink.msgs.clear()
            if resting and rng.random() < 0.02:
                o = resting.pop(rng.choice(list(resting)))
                reports.pending.append(ExecReport(
                    o.venue, o.symbol, o.client_id, "", ExecType.TRADE, OrderStatus.FILLED,
                    o.side, o.price_ticks, o.lots, o.lots, o.lots, o.price_ticks,
                    Decimal("0.01"), "USDT", f"T{seq}", True, ts_recv=now))
    finally:
        gc.enable()
        gc.unfreeze()
        for v in venues:
            readers[v].close()
            books[v].close()
            writers[v].close()
            writers[v].unlink()
            slots[v].close()
            slots[v].unlink()
    times.sort()
    placing.sort()
    q = len(times)
    return {"engine_step_us_p50": round(times[q // 2] / 1e3, 1),
            "engine_step_us_p99": round(times[int(q * 0.99)] / 1e3, 1),
            "engine_step_us_mean": round(sum(times) / q / 1e3, 1),
            "engine_step_placing_us_p50": round(placing[len(placing) // 2] / 1e3, 1)
            if placing else 0.0,
            "engine_step_ticks": q, "engine_step_placing": len(placing),
            "engine_orders": core.stats.orders, "engine_fills": core.stats.fills,
            "engine_markets": len(core.instruments)}


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t2o = summary["t2o_us"]
    labels = [k for k in ("p50", "p90", "p99", "p99.9", "max") if k in t2o]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(labels, [t2o[k] for k in labels], color="#3070b0")
    br = summary.get("t2o_breakdown_us", {})
    if br.get("tick_to_decision") and br.get("decision_to_send"):
        ax.plot(labels, [br["tick_to_decision"].get(k, 0) for k in labels], "o-",
                label="feed -> engine decision")
        ax.plot(labels, [br["decision_to_send"].get(k, 0) for k in labels], "s-",
                label="decision -> gateway send")
        ax.legend()
    ax.set_ylabel("microseconds")
    ax.set_yscale("log")
    ax.set_title(f"tick-to-order, {t2o.get('count', 0)} orders, {os.cpu_count()} cores")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--inprocess", action="store_true",
                    help="only the in-process engine step per tick (no system run)")
    ap.add_argument("--symbols", default="BTC/USDT", help="in-process: comma-separated")
    a = ap.parse_args()
    step = engine_step(symbols=tuple(a.symbols.split(",")))
    if a.inprocess:
        step["cores"] = os.cpu_count()
        print(json.dumps(step) if a.json else "\n".join(f"{k}: {v}" for k, v in step.items()))
        return
    baseline = ring_handoff_us()
    with tempfile.TemporaryDirectory(prefix="hft-bench-t2o-") as tmp:
        t0 = time.monotonic()
        s = run_system(a.duration, Path(tmp))
        wall = time.monotonic() - t0
    if not s.get("t2o_us"):
        raise SystemExit("no tick-triggered orders in the run: nothing to measure")
    png = OUT / "tick_to_order.png"
    plot(s, png)
    out = {"t2o_us": s["t2o_us"], "t2o_breakdown_us": s.get("t2o_breakdown_us", {}),
           "order_ack_us": s.get("order_ack_us", {}), "samples": s["t2o_us"]["count"],
           "orders": s["orders"], "fills": s["fills"], "ring_handoff_p50_us": baseline,
           "t2o_p50_over_ring_handoff": round(s["t2o_us"]["p50"] / baseline, 1)
           if baseline else None, **step,
           "cores": os.cpu_count(), "duration_s": a.duration, "wall_s": round(wall, 1),
           "png": str(png)}
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
