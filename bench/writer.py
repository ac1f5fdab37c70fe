"""Writer throughput: sustained ticks/s into PostgreSQL by binary COPY through the real writer
path (pipelined Writer as run_writer uses it: spool fsync, tick_batches claim, direct COPY into
the day partition of ticks_bbo), its lag at a paced 100k rows/s, and psycopg 3 executemany
INSERT of the same rows into the same table as the baseline, in the same run.

COPY and INSERT phases alternate for --rounds rounds and each figure is the median over rounds
(the ratio: median of the rounds' own ratios), so load from other processes on a shared
machine lands on both sides instead of on whichever phase it happened to hit.

    python -m bench.writer [--json] [--url postgresql://...|embedded] [--rows N] [--rounds R]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid

import numpy as np
import psycopg

from shm.layout import TICK_DTYPE
from writer import storage
from writer.core import Writer
from writer.partitions import partition_name
from writer.tick_copy import route


def _ticks(start: int, n: int, ts: int) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    b["kind"], b["venue"], b["symbol_id"] = 1, 1, 7
    b["update_id"] = np.arange(start, start + n)
    b["ts_recv"] = ts
    b["bid_px"], b["ask_px"], b["bid_sz"], b["ask_sz"] = 100.0, 100.01, 1.0, 2.0
    return b


def _copy_round(w: Writer, start: int, rows: int, chunk: int = 10_000) -> float:
    """Seconds to push `rows` through the writer until all are committed."""
    t0 = time.perf_counter()
    for i in range(start, start + rows, chunk):
        w.add_ticks(_ticks(i, chunk, i))
        if w.due():
            w.flush()
    w.flush()
    w.wait()
    return time.perf_counter() - t0


def _insert_round(url: str, schema: str, start: int, n: int) -> tuple[float, str]:
    """Seconds for one executemany of `n` rows into the table the COPY path wrote them to
    (these rows are BBOs of one day: that day's ticks_bbo partition), with the same columns."""
    batch = _ticks(start, n, 1)
    (r,) = route(batch)
    table = partition_name(r.table.name, r.day)
    rows = [t + (0, i) for i, t in enumerate(batch[list(r.table.fields)].tolist())]
    with psycopg.connect(url) as c:
        c.execute(f'SET search_path TO "{schema}"')
        c.commit()
        t0 = time.perf_counter()
        with c.cursor() as cur:  # psycopg 3 pipelines executemany by itself
            cur.executemany(f'INSERT INTO "{table}" ({", ".join(r.table.columns)}) VALUES '
                            f"({', '.join(['%s'] * len(r.table.columns))})", rows)
        c.commit()
        return time.perf_counter() - t0, table


def _lag_ms(w: Writer, start_id: int, n: int, rate: int) -> list[float]:
    """Rows stamped with their production time at a paced rate; per committed batch, commit
    time minus its oldest stamp."""
    lags: list[float] = []
    w.on_ticks_committed = lambda b: lags.append((time.time_ns() - int(b["ts_recv"].min())) / 1e6)
    step, start = 2_000, time.time_ns()
    for k in range(0, n, step):
        due_at = start + int(k / rate * 1e9)
        now = time.time_ns()
        if due_at > now:
            time.sleep((due_at - now) / 1e9)
        w.add_ticks(_ticks(start_id + k, step, due_at))
        if w.due():
            w.flush()
    w.flush()
    w.wait()
    w.on_ticks_committed = None
    return lags


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--url", default=os.environ.get(
        "HFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--rows", type=int, default=400_000, help="COPY rows per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=100_000, help="paced rate for the lag figure")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hft-bench-writer-")
    h = storage.postgres(a.url, os.path.join(tmp, "pg"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        w = Writer(h.url, os.path.join(tmp, "spool"), batch_rows=50_000, schema=schema,
                   pipelined=True)
        w.add_ticks(_ticks(-1, 1, 0))  # connect, migrate, make the day's partition: not timed
        w.flush()
        w.wait()
        n_ins = max(a.rows // 10, 10_000)
        copy_rates, ins_rates, next_id, table = [], [], 0, ""
        for _ in range(a.rounds):
            copy_rates.append(a.rows / _copy_round(w, next_id, a.rows))
            next_id += a.rows
            ins_s, table = _insert_round(h.url, schema, 10**9 + next_id, n_ins)
            ins_rates.append(n_ins / ins_s)
        w.batch_rows, w.flush_ns = 20_000, 100_000_000
        n_paced = min(a.rows, a.rate * 3)
        lags = _lag_ms(w, next_id, n_paced, a.rate)
        w.close()
        with psycopg.connect(h.url) as c:
            c.execute(f'SET search_path TO "{schema}"')
            total = c.execute("SELECT count(*) FROM ticks").fetchone()[0]  # type: ignore[index]
        assert total == 1 + a.rounds * (a.rows + n_ins) + n_paced, total
        ratios = [cr / ir for cr, ir in zip(copy_rates, ins_rates)]
        out = {"copy_rows_per_s": round(statistics.median(copy_rates)),
               "insert_rows_per_s": round(statistics.median(ins_rates)),
               "ratio": round(statistics.median(ratios), 1),
               "ratio_rounds": [round(r, 1) for r in ratios],
               "lag_ms_p99": round(float(np.percentile(lags, 99)), 1) if lags else None,
               "lag_rate_rows_per_s": a.rate, "table": table,
               "cores": os.cpu_count(), "server": "embedded" if a.url == "embedded" else "url"}
        print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    finally:
        with psycopg.connect(h.url, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        h.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
