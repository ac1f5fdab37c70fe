"""Writer throughput: sustained ticks/s into PostgreSQL by binary COPY (through the writer's
spool, tick_batches claim and direct COPY), its lag at a paced 100k rows/s, and executemany
INSERT of the same rows in the same run as the baseline.

    python -m bench.writer [--json] [--url postgresql://...|embedded] [--rows N]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid

import numpy as np
import psycopg

from shm.layout import TICK_DTYPE
from writer import postgres as pg
from writer import storage
from writer.core import Writer


def _ticks(start: int, n: int, ts: int) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    b["kind"], b["venue"], b["symbol_id"] = 1, 1, 7
    b["update_id"] = np.arange(start, start + n)
    b["ts_recv"] = ts
    b["bid_px"], b["ask_px"], b["bid_sz"], b["ask_sz"] = 100.0, 100.01, 1.0, 2.0
    return b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--url", default=os.environ.get(
        "HFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--rate", type=int, default=100_000, help="paced rate for the lag figure")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hft-bench-writer-")
    h = storage.postgres(a.url, os.path.join(tmp, "pg"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        w = Writer(h.url, os.path.join(tmp, "spool"), batch_rows=50_000, schema=schema)
        # 1. sustained COPY: as fast as the writer can take it
        chunk = 10_000
        t0 = time.perf_counter()
        for i in range(0, a.rows, chunk):
            w.add_ticks(_ticks(i, chunk, i))
            if w.due():
                w.flush()
        w.flush()
        copy_s = time.perf_counter() - t0
        # 2. lag at a paced rate: rows stamped with their production time, lag = commit - stamp
        w.batch_rows, w.flush_ns = 20_000, 100_000_000
        lags: list[float] = []
        step, n_paced = 2_000, min(a.rows, a.rate * 3)
        start = time.time_ns()
        base = a.rows
        for k in range(0, n_paced, step):
            due_at = start + int(k / a.rate * 1e9)
            now = time.time_ns()
            if due_at > now:
                time.sleep((due_at - now) / 1e9)
            w.add_ticks(_ticks(base + k, step, due_at))
            if w.due():
                oldest = w._ticks[0]["ts_recv"][0]
                w.flush()
                lags.append((time.time_ns() - oldest) / 1e6)
        w.flush()
        # 3. baseline: executemany INSERT of rows in the same run
        n_ins = max(a.rows // 10, 10_000)
        rows = [tuple(r) for r in _ticks(10**9, n_ins, 1).tolist()]
        cols = ", ".join(pg.TICK_COLS) + ", batch_id, row_no"
        with psycopg.connect(h.url) as c:
            c.execute(f'SET search_path TO "{schema}"')
            t0 = time.perf_counter()
            with c.cursor() as cur:
                cur.executemany(f"INSERT INTO ticks ({cols}) VALUES "
                                f"({', '.join(['%s'] * 17)})",
                                [r + (0, i) for i, r in enumerate(rows)])
            c.commit()
            ins_s = time.perf_counter() - t0
            total = c.execute("SELECT count(*) FROM ticks").fetchone()[0]  # type: ignore[index]
        w.close()
        assert total == a.rows + n_paced + n_ins, total
        out = {"copy_rows_per_s": round(a.rows / copy_s),
               "insert_rows_per_s": round(n_ins / ins_s),
               "ratio": round((a.rows / copy_s) / (n_ins / ins_s), 1),
               "lag_ms_p99": round(float(np.percentile(lags, 99)), 1) if lags else None,
               "lag_rate_rows_per_s": a.rate,
               "cores": os.cpu_count(), "server": "embedded" if a.url == "embedded" else "url"}
        print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))
    finally:
        with psycopg.connect(h.url, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        h.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
