"""Order path throughput and order->ack latency, end to end on this machine.

Processes: the simulated OKX (`hft sim`, its own process), the real gateway process code
(`feeds.gateway.GatewayDriver` in a child process, same queues as under the supervisor), and
this process acting as the engine: the real OMS and RMS create post-only orders (resting far
from the touch, sized at the venue minimum), ship them to the gateway's queue in batches with
a bounded number in flight, and apply every execution report to the OMS, waiting for reports
as the engine process does (`[pipeline.wait]`: spin, yield, then park on the report queue's
doorbell). A fourth process takes the events queue as the writer would (polling, never parked
on it, so the gateway's puts to it wake no one). Measured:
- `orders_per_s`: orders acknowledged by the venue and applied to the OMS per second, over
  `--orders` (>= 50,000 by default) — engine -> gateway -> venue -> ack -> OMS;
- `order_ack_us`: gateway wrote the order frame -> ack received (p50/p99), per order;
- `cpu_us_per_order`: CPU time (user + system, from /proc) each process spent per order
  during the saturated run: the venue simulator, the gateway, this engine and the event
  drain (standing in for the writer, which decodes every report too). On 2 cores the
  total bounds the throughput (2 s / total), and unlike a rate it holds still when other
  work shares the machine;
- `oms_rms_orders_per_s`: the in-process OMS+RMS cycle (`bench/oms.py`, its own baseline).
OKX is used because its simulator does not throttle order operations; the gateway runs with
`[system] enforce_venue_order_limits = false` (no real venue account allows these rates —
this measures our path, not a venue's quota).

    python -m bench.orders [--json] [--orders N]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

VENUE = "okx"
SYMBOL = "BTC/USDT"


def _config_text(tmp: Path, base_port: int) -> str:
    return (f'[system]\ndata_dir = "{tmp}"\nmax_orders_per_second = 1000000\n'
            f'enforce_venue_order_limits = false\n'
            f'[exchanges.binance]\nenabled = false\n[exchanges.gate]\nenabled = false\n'
            f'[exchanges.okx]\nsymbols = ["{SYMBOL}"]\n'
            f'[risk]\nmax_orders_per_second = 1000000\nmax_open_orders = 1000000\n'
            f'max_position_per_venue = 1000\nmax_position_total = 1000\n'
            f'max_order_notional = 1000000\nprice_collar_bps = 10000\n'
            f'[sim]\nbase_port = {base_port}\nmessage_rate = 5.0\n')


class _Ctx:
    """What `GatewayDriver` uses of a ProcessContext, for a process outside the supervisor."""

    def __init__(self, config: Any, orders: Any, reports: Any, events: Any) -> None:
        from types import SimpleNamespace
        self.config = config
        self.handles = SimpleNamespace(order_queues={VENUE: orders}, report_queue=reports,
                                       event_queue=events, extra={})
        self.status = None
        self.venue = VENUE
        self._stop = False

    def stopping(self) -> bool:
        return self._stop

    def beat(self) -> None:
        pass

    def poll_commands(self, timeout: float = 0.0) -> list[Any]:
        return []


def _gateway_main(cfg_path: str, orders: Any, reports: Any, events: Any, stop: Any) -> None:
    import threading

    from feeds.gateway import GatewayDriver, load_gateway_adapter
    from pipeline.config import load_config
    from pipeline.process import pin_to_cores

    pin_to_cores((1,) if (os.cpu_count() or 1) > 1 else (0,))
    config = load_config(cfg_path)
    ctx = _Ctx(config, orders, reports, events)
    threading.Thread(target=lambda: (stop.wait(), setattr(ctx, "_stop", True)),
                     daemon=True).start()
    from pipeline import aio
    aio.run(GatewayDriver(ctx, load_gateway_adapter(VENUE, config)).run())  # type: ignore


def _drain_events(events: Any, stop: Any) -> None:
    """The writer's share of the path short of the database: take every event as the writer
    does (`writer.main`: the queue's entries as they travel, a short sleep when nothing
    came, never parked on the queue's doorbell, so the gateway's puts wake no one here) and
    build its table rows (`writer.events.to_rows`)."""
    from writer.events import to_rows
    from writer.main import WriterSettings
    idle_s = WriterSettings.poll_sleep_s
    while not stop.is_set():
        items = events.get_raw()
        if not items:
            time.sleep(idle_s)
            continue
        to_rows(items, {})


def run(n_orders: int, window: int = 2000, batch: int = 200, latency_orders: int = 2000
        ) -> dict[str, Any]:
    from engine.client_ids import ClientIdFactory
    from engine.oms import OMS
    from engine.portfolio import Portfolio
    from engine.rms import RMS
    from pipeline.config import load_config
    from pipeline.ipc import MessageQueue
    from pipeline.messages import InstrumentInfo
    from pipeline.ports import free_port_block

    tmp = Path(tempfile.mkdtemp(prefix="hft-bench-orders-"))
    base_port = free_port_block(3)
    cfg_path = tmp / "config.toml"
    cfg_path.write_text(_config_text(tmp, base_port))
    config = load_config(cfg_path)
    sim = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "sim", "--config",
                            str(cfg_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    ctx = mp.get_context("spawn")
    orders_q, reports_q = MessageQueue("bench.orders", 64 << 20), MessageQueue("bench.rep", 64 << 20)
    events_q = MessageQueue("bench.events", 64 << 20)
    stop = ctx.Event()
    gw = ctx.Process(target=_gateway_main, args=(str(cfg_path), orders_q, reports_q, events_q,
                                                 stop), name="hft:gateway:bench")
    drain = ctx.Process(target=_drain_events, args=(events_q, stop))
    try:
        sim.stdout.readline()  # the endpoints line: the sim is serving
        gw.start()
        drain.start()
        inst = None
        up = False
        deadline = time.monotonic() + 60
        while not (inst and up):  # instruments, then the reconciled session
            for m in reports_q.get_many(timeout=0.5):
                if isinstance(m, InstrumentInfo) and m.symbol == SYMBOL:
                    inst = m.instrument()
                elif getattr(m, "state", "") == "reconciled":
                    up = True
            if time.monotonic() > deadline:
                raise SystemExit("gateway never came up")
        oms = OMS({VENUE: ClientIdFactory(VENUE, int(time.time() * 1000))})
        rms = RMS(config.risk, config.system, {(VENUE, SYMBOL): inst})
        pf = Portfolio()
        far_bid = inst.price_to_ticks("1000")  # rests: far below the market
        lots = max(inst.qty_to_lots(inst.min_qty), 1)
        fair = float(far_bid)

        # the engine process's own wait (engine/main.py): spin, yield, then park on the
        # report queue's doorbell, with the configured phases
        from shm.multiwait import MultiWait
        w = config.pipeline.wait
        phased = w.engine == "phased"
        waiter = MultiWait([reports_q.doorbell], spin_s=w.engine_spin_us * 1e-6 if phased else 0,
                           yield_s=w.engine_yield_us * 1e-6 if phased else 0)

        def phase(n: int, window: int, batch: int) -> tuple[int, int, list[int], float]:
            return _phase(n, window, batch, oms, rms, pf, orders_q, reports_q, waiter, far_bid,
                          lots, fair)

        # 1. unloaded: one order in flight at a time -> the path's own order->ack latency
        _, _, quiet_ns, _ = phase(latency_orders, 1, 1)
        # 2. saturated: a window of orders in flight -> sustained throughput
        cpu0 = {name: _cpu_s(pid) for name, pid in procs(sim, gw, drain).items()}
        acked, rejected, ack_ns, elapsed = phase(n_orders, window, batch)
        cpu_us = {name: round((_cpu_s(pid) - cpu0[name]) * 1e6 / max(acked + rejected, 1), 1)
                  for name, pid in procs(sim, gw, drain).items()}
        quiet = np.array(quiet_ns, dtype=np.int64) / 1000.0
        lat = np.array(ack_ns, dtype=np.int64) / 1000.0
        return {"orders": n_orders, "acked": acked, "rejected": rejected,
                "orders_per_s": round(acked / elapsed),
                "order_ack_us": {"p50": round(float(np.percentile(quiet, 50)), 1),
                                 "p99": round(float(np.percentile(quiet, 99)), 1),
                                 "max": round(float(quiet.max()), 1), "count": int(quiet.size)},
                "saturated_ack_us": {"p50": round(float(np.percentile(lat, 50)), 1),
                                     "p99": round(float(np.percentile(lat, 99)), 1),
                                     "count": int(lat.size)},
                "cpu_us_per_order": cpu_us | {"total": round(sum(cpu_us.values()), 1)},
                "window": window, "batch": batch, "elapsed_s": round(elapsed, 2)}
    finally:
        stop.set()
        gw.join(10)
        drain.join(5)
        for p in (gw, drain):
            if p.is_alive():
                p.kill()
        sim.terminate()
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()
        for q in (orders_q, reports_q, events_q):
            q.close()


def procs(sim: Any, gw: Any, drain: Any) -> dict[str, int]:
    """The processes on the order path, by role (the drain stands in for the writer)."""
    return {"venue_sim": sim.pid, "gateway": gw.pid, "engine": os.getpid(),
            "writer_drain": drain.pid}


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (/proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


STALL_S = 30.0   # no report for this long: the run is broken, not slow


def _phase(n_orders: int, window: int, batch: int, oms: Any, rms: Any, pf: Any, orders_q: Any,
           reports_q: Any, waiter: Any, far_bid: int, lots: int, fair: float
           ) -> tuple[int, int, list[int], float]:
    """Keep up to `window` orders in flight until `n_orders` are answered; (acked, rejected,
    per-order send->ack ns, seconds)."""
    from pipeline.messages import ExecReport, ExecType
    from pipeline.model import Side, TimeInForce

    acked = rejected = created = 0
    ack_ns: list[int] = []
    t0 = last_report = time.perf_counter()
    while acked + rejected < n_orders:
        if time.perf_counter() - last_report > STALL_S:
            raise SystemExit(f"no execution report for {STALL_S:.0f} s with "
                             f"{created - acked - rejected} orders in flight ({acked} acked, "
                             f"{rejected} rejected of {n_orders}): the gateway's session "
                             f"was probably cut; see the gateway's log above")
        in_flight = created - acked - rejected
        if created < n_orders and in_flight < window:
            out = []
            now = time.time_ns()
            for _ in range(min(batch, n_orders - created, window - in_flight)):
                o = oms.create(VENUE, SYMBOL, Side.BUY, far_bid, lots, TimeInForce.POST_ONLY,
                               now)
                created += 1
                if rms.check(o, fair, oms, pf, now) is not None:
                    oms.reject_local(o.client_id, now)
                    rejected += 1
                    continue
                out.append(o)
            orders_q.put_many(out)
        if in_flight and not reports_q.nonempty():
            waiter.wait(reports_q.nonempty, 0.001)
        for r in reports_q.get_many(timeout=0) if reports_q.nonempty() else ():
            last_report = time.perf_counter()
            if not isinstance(r, ExecReport):
                continue
            before = oms.get(r.client_id)
            was_pending = before is not None and before.status.name == "PENDING_NEW"
            oms.on_report(r)
            if r.exec_type is ExecType.NEW and was_pending:
                acked += 1
                if r.ts_sent and r.ts_recv >= r.ts_sent:
                    ack_ns.append(r.ts_recv - r.ts_sent)
            elif r.exec_type is ExecType.REJECTED and was_pending:
                rejected += 1
    return acked, rejected, ack_ns, time.perf_counter() - t0


def oms_rms() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.oms", "--json", "--quick"],
                          capture_output=True, text=True, timeout=300)
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {"error": proc.stderr[-500:]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--orders", type=int, default=50_000)
    a = ap.parse_args()
    e2e = run(a.orders)
    inproc = oms_rms()
    out = {**e2e, "oms_rms_orders_per_s": inproc.get("oms_rms_orders_per_s"),
           "oms_rms": inproc, "cores": os.cpu_count(), "venue": VENUE,
           "e2e_vs_oms_rms": round(e2e["orders_per_s"] / inproc["oms_rms_orders_per_s"], 3)
           if inproc.get("oms_rms_orders_per_s") else None}
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
