"""Benchmark: cross-process shm ring vs multiprocessing.Queue vs faster_fifo.Queue.

`ring_*_rps` count records the reader process actually *received* per second (end to end);
`*_publish_rps` is the producer's own rate. The ring never blocks its producer, so when the
reader cannot keep up it is lapped and `*_lost` says how many records it missed.

Prints throughput (single records and batches of 1024), one-way handoff latency per wait
strategy (producer stamps `ts_pub` with `perf_counter_ns`, the reader subtracts on receipt;
0.5 ms gaps between records so every reader really waits), and the CPU a reader parked with
the default strategy burns on an idle ring over 2 s (`/proc/PID/schedstat`); `--json` prints
one JSON object. Every figure is measured in this run, on this machine, with the core count
stated. `multiprocessing.Queue` and `faster_fifo.Queue` move the same tuples one by one.

    python -m bench.ring [--json] [--quick]      (also `hft bench ring`, via `main(argv)`)
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue as pyqueue
import sys
import time

import numpy as np

from shm import registry
from shm.layout import TICK_DTYPE
from shm.ring import RingReader, RingWriter
from shm.wait import STRATEGIES

ROW = (1, 1, 0, 0, 3, 0, 0, 0, 100.0, 1.0, 101.0, 2.0, 0.0, 0.0, 0)


def _ring_consumer(name: str, n: int, ready, done) -> None:
    r = RingReader.attach(name, "phased")
    ready.set()
    got = 0
    while got + r.lost_records < n:
        r.wait(1.0)
        got += len(r.poll(max_records=16384))  # cache-sized batches copy fastest
    done.put((got, r.lost_records))
    r.close()


def ring_throughput(n: int, batch: int) -> tuple[float, float, int]:
    """(records/s the reader received, records/s the producer published, records lost)."""
    n = (n // batch) * batch
    ctx = mp.get_context("spawn")
    name = registry.segment_name("ring", f"bench.{batch}")
    w = RingWriter.create(name, TICK_DTYPE, 1 << 18)
    ready, done = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=_ring_consumer, args=(name, n, ready, done))
    p.start()
    ready.wait(60)
    block = np.zeros(batch, dtype=TICK_DTYPE)
    t0 = time.perf_counter()
    if batch == 1:
        pub = w.publish
        for _ in range(n):
            pub(ROW)
    else:
        for _ in range(n // batch):
            w.publish_batch(block)
    pub_dt = time.perf_counter() - t0
    got, lost = done.get(timeout=300)
    dt = time.perf_counter() - t0
    p.join(30)
    w.close()
    registry.unlink(name)
    return got / dt, n / pub_dt, lost


def _q_consumer(q, n: int, kind: str, done) -> None:
    got = 0
    while got < n:
        if kind == "ffq":
            got += len(q.get_many(timeout=10))
        else:
            q.get(timeout=10)
            got += 1
    done.put(got)


def queue_throughput(kind: str, n: int) -> float:
    ctx = mp.get_context("spawn")
    if kind == "ffq":
        import faster_fifo
        q = faster_fifo.Queue(max_size_bytes=64 << 20)
    else:
        q = ctx.Queue()
    done = ctx.Queue()
    p = ctx.Process(target=_q_consumer, args=(q, n, kind, done))
    p.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    put = q.put
    for _ in range(n):
        while True:
            try:
                put(ROW)
                break
            except pyqueue.Full:  # faster_fifo when the consumer lags: retry
                time.sleep(0)
    done.get(timeout=300)
    dt = time.perf_counter() - t0
    p.join(30)
    return n / dt


def _latency_reader(name: str, strategy: str, n: int, ready, done) -> None:
    r = RingReader.attach(name, strategy)
    ready.set()
    lat = []
    while len(lat) < n:
        if not r.wait(2.0):
            break
        now = time.perf_counter_ns()
        for rec in r.poll():
            lat.append(now - int(rec["ts_pub"]))
    done.put(lat)
    r.close()


def handoff_latency(strategy: str, n: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    name = registry.segment_name("ring", f"lat.{strategy}")
    w = RingWriter.create(name, TICK_DTYPE, 1024)
    ready, done = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=_latency_reader, args=(name, strategy, n, ready, done))
    p.start()
    ready.wait(60)
    time.sleep(0.2)
    row = list(ROW)
    for _ in range(n):
        time.sleep(0.0005)  # idle gaps, so the reader really waits with its strategy
        row[7] = time.perf_counter_ns()
        w.publish(tuple(row))
    lat = np.array(done.get(timeout=60), dtype=np.int64)
    p.join(30)
    w.close()
    registry.unlink(name)
    return {"p50": round(float(np.percentile(lat, 50)) / 1000, 2),
            "p99": round(float(np.percentile(lat, 99)) / 1000, 2),
            "samples": int(lat.size)}


def _idle_reader(name: str, seconds: float, warm, done) -> None:
    r = RingReader.attach(name, "phased")
    r.wait(0.3)  # first park pays one-off costs (ctypes, page faults): not idle behaviour
    warm.set()
    end = time.monotonic() + seconds + 1.0
    while time.monotonic() < end:
        r.wait(end - time.monotonic())
    done.put(r.poll().size)
    r.close()


def _cpu_ns(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:  # pragma: no cover - no schedstat: tick-resolution fallback
        import psutil
        t = psutil.Process(pid).cpu_times()
        return int((t.user + t.system) * 1e9)


def idle_cpu(seconds: float = 2.0) -> float:
    """CPU % of a reader parked with the default (phased) strategy on an idle ring, from the
    kernel's accounting of that process over `seconds` (/proc/PID/schedstat: nanoseconds)."""
    ctx = mp.get_context("spawn")
    name = registry.segment_name("ring", "idle")
    w = RingWriter.create(name, TICK_DTYPE, 64)
    warm, done = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=_idle_reader, args=(name, seconds, warm, done))
    p.start()
    warm.wait(60)
    c0 = _cpu_ns(p.pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    c1 = _cpu_ns(p.pid)
    dt = time.monotonic() - t0
    done.get(timeout=60)
    p.join(10)
    w.close()
    registry.unlink(name)
    return round(100.0 * (c1 - c0) / 1e9 / dt, 3)


def run(quick: bool = False) -> dict:
    n_single = 300_000 if quick else 1_000_000
    n_batch = 4_000_000 if quick else 20_000_000
    n_queue = 50_000 if quick else 200_000
    single, single_pub, single_lost = ring_throughput(n_single, 1)
    batched, batched_pub, batched_lost = ring_throughput(n_batch, 1024)
    mpq = queue_throughput("mpq", n_queue)
    ffq = queue_throughput("ffq", n_queue)
    lat = {s: handoff_latency(s, 300 if quick else 1000) for s in STRATEGIES}
    return {
        "cores": os.cpu_count(),
        "ring_single_rps": round(single),
        "ring_batched_rps": round(batched),
        "ring_single_publish_rps": round(single_pub),
        "ring_batched_publish_rps": round(batched_pub),
        "ring_single_lost": single_lost,
        "ring_batched_lost": batched_lost,
        "mpq_single_rps": round(mpq),
        "ffq_single_rps": round(ffq),
        "ring_vs_mpq": round(single / mpq, 1),
        "ring_vs_ffq": round(single / ffq, 1),
        "latency_us": lat,
        "idle_cpu_pct": idle_cpu(2.0),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smaller counts")
    args = ap.parse_args(argv)
    res = run(args.quick)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"cores: {res['cores']}")
        for k in ("ring_single_rps", "ring_batched_rps", "ring_single_publish_rps",
                  "ring_batched_publish_rps", "ring_single_lost", "ring_batched_lost",
                  "mpq_single_rps", "ffq_single_rps",
                  "ring_vs_mpq", "ring_vs_ffq", "idle_cpu_pct"):
            print(f"{k:>18}: {res[k]:,}")
        for s, v in res["latency_us"].items():
            print(f"{'latency ' + s:>18}: p50 {v['p50']} us  p99 {v['p99']} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
