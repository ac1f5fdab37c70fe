"""Tick-to-order latency of the whole pipeline in sim mode.

Runs `hft run` (every process: simulated venues, feeds, writer, gateways, engine) for a fixed
time in a scratch directory and reads the run summary: `t2o_us` is the time from the feed
receiving the venue frame that moved a book to the gateway writing the order frame it caused,
per order, with its breakdown (feed -> engine decision, decision -> gateway send). The
histogram of those percentiles goes to `bench/out/tick_to_order.png`.

Baseline in the same run: the shared-memory ring handoff alone between two processes (from
`bench/ring.py`), so the ratio says how much of tick-to-order is our pipeline's work rather
than the transport under it.

    python -m bench.tick_to_order [--json] [--duration S]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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
    a = ap.parse_args()
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
           if baseline else None,
           "cores": os.cpu_count(), "duration_s": a.duration, "wall_s": round(wall, 1),
           "png": str(png)}
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
