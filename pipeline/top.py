"""`hft top`: a live terminal dashboard (rich) over shared memory.

Reads only shared memory — the status table (processes, heartbeats, restarts, counters), per
venue the book slots (best bid/ask and book state), and the engine's live-state snapshot
(our quotes, positions, PnL, latency histograms, trading state, recent risk events) — so it
works while the system runs under load and costs the running processes nothing. Refreshes a
few times a second; `--iterations 1` prints one frame and exits.
"""
from __future__ import annotations

import time
from typing import Any

import psutil
from rich.console import Group
from rich.live import Live
from rich.table import Table

from pipeline.cli import status_rows

BOOK_STATES = {0: "ok", 1: "syncing", 2: "stale", 3: "crossed"}


def _cpu(pid: int, cache: dict[int, psutil.Process]) -> str:
    try:
        p = cache.get(pid)
        if p is None:
            p = cache[pid] = psutil.Process(pid)
            p.cpu_percent(interval=None)
        return f"{p.cpu_percent(interval=None):.0f}%"
    except psutil.Error:
        return "-"


def process_table(rows: list[dict[str, Any]], cache: dict[int, psutil.Process]) -> Table:
    t = Table(title="processes", expand=True)
    for col in ("process", "pid", "cores", "beat age", "restarts", "state", "cpu", "counters"):
        t.add_column(col)
    for r in rows:
        age = r["heartbeat_age_s"]
        age_s = "-" if age is None else f"{age:.2f}s"
        style = "red" if r["state"] in ("failed",) or (age is not None and age > 2) else ""
        counters = " ".join(f"{k}={v}" for k, v in r["counters"].items() if v)
        t.add_row(r["name"], str(r["pid"]), ",".join(map(str, r["cores"])), age_s,
                  str(r["restarts"]), r["state"], _cpu(r["pid"], cache) if r["pid"] else "-",
                  counters, style=style)
    return t


def book_table(books: list[dict[str, Any]]) -> Table:
    t = Table(title="books", expand=True)
    for col in ("venue", "symbol", "bid", "ask", "spread bps", "state", "age"):
        t.add_column(col)
    now = time.time_ns()
    for b in books:
        spread = ((b["ask"] - b["bid"]) / ((b["ask"] + b["bid"]) / 2) * 1e4
                  if b["bid"] > 0 and b["ask"] > 0 else float("nan"))
        age = (now - b["ts_recv"]) / 1e9 if b["ts_recv"] else float("nan")
        t.add_row(b["venue"], b["symbol"], f"{b['bid']:g}", f"{b['ask']:g}", f"{spread:.2f}",
                  BOOK_STATES.get(b["status"], str(b["status"])), f"{age:.2f}s")
    return t


def read_books() -> list[dict[str, Any]]:
    """Best bid/ask of every book slot of every live run (empty when none is published)."""
    from shm import registry
    from shm.book import BookSlots

    out: list[dict[str, Any]] = []
    for name in registry.list_segments():
        if ".book." not in name:
            continue
        venue = name.rsplit(".", 1)[-1]
        try:
            slots = BookSlots.attach(name)
        except Exception:
            continue
        try:
            for sid in range(slots.n_symbols):
                view = slots.read(sid)
                out.append({"venue": venue, "symbol": str(sid),
                            "bid": float(view.bids[0][0]) if view.n_bids else 0.0,
                            "ask": float(view.asks[0][0]) if view.n_asks else 0.0,
                            "status": int(view.status), "ts_recv": int(view.ts_recv)})
        finally:
            slots.close()
    return out


def read_engine_states() -> list[dict[str, Any]]:
    """The live-state document of every running engine on this machine."""
    from engine.live_state import read_live_state
    from shm import registry

    out = []
    for name in registry.list_segments():
        if ".snapshot.engine" not in name:
            continue
        try:
            doc = read_live_state(name)
        except Exception:
            continue
        if doc:
            out.append(doc)
    return out


def market_table(state: dict[str, Any]) -> Table:
    t = Table(title=f"trading: {state.get('trading_state')}   orders {state.get('orders')}  "
                    f"fills {state.get('fills')}  open {state.get('open_orders')}  "
                    f"realized {float(state.get('realized', 0)):.4f}  "
                    f"unrealized {float(state.get('unrealized', 0)):.4f}  "
                    f"fees {float(state.get('fees', 0)):.4f}", expand=True)
    for col in ("venue", "symbol", "bid", "ask", "our bid", "our ask", "position",
                "realized", "unrealized", "volume", "gateway"):
        t.add_column(col)
    for m in state.get("markets", []):
        t.add_row(m["venue"], m["symbol"], f"{m['bid']:g}", f"{m['ask']:g}",
                  m["quote_bid"] or "-", m["quote_ask"] or "-", m["position"],
                  f"{float(m['realized']):.4f}", f"{float(m['unrealized']):.4f}",
                  f"{float(m['volume']):.2f}", "up" if m["gateway_up"] else "DOWN",
                  style="" if m["gateway_up"] else "red")
    return t


def latency_table(state: dict[str, Any]) -> Table:
    import numpy as np

    from pipeline.histogram import Histogram

    t = Table(title="latency (µs)", expand=True)
    for col in ("path", "count", "p50", "p90", "p99", "max"):
        t.add_column(col)
    for name, arr in (state.get("histograms_ns") or {}).items():
        h = Histogram(np.array(arr, dtype=np.int64))
        if not h.count:
            t.add_row(name, "0", "-", "-", "-", "-")
            continue
        s = h.summary_us()
        t.add_row(name, str(h.count), f"{s['p50']:.0f}", f"{s['p90']:.0f}", f"{s['p99']:.0f}",
                  f"{s['max']:.0f}")
    return t


def risk_table(state: dict[str, Any]) -> Table:
    t = Table(title="recent risk events", expand=True)
    for col in ("time", "scope", "change", "reason"):
        t.add_column(col)
    for e in state.get("risk_events", [])[-5:]:
        t.add_row(time.strftime("%H:%M:%S", time.localtime(e["ts"] / 1e9)), e["scope"],
                  f"{e['old']} -> {e['new']}" if e["kind"] == "state" else e["kind"],
                  e["reason"])
    return t


def render(cache: dict[int, psutil.Process]) -> Group:
    rows = status_rows()
    parts: list[Any] = [process_table(rows, cache)]
    try:
        parts.append(book_table(read_books()))
    except Exception as exc:  # dashboard must keep running whatever it reads
        parts.append(f"books unavailable: {exc}")
    try:
        for state in read_engine_states():
            parts += [market_table(state), latency_table(state), risk_table(state)]
    except Exception as exc:
        parts.append(f"engine state unavailable: {exc}")
    if not rows:
        parts.append("no hft run is active on this machine")
    return Group(*parts)


def run(refresh_s: float = 0.5, iterations: int | None = None) -> int:
    cache: dict[int, psutil.Process] = {}
    n = 0
    with Live(render(cache), refresh_per_second=max(1, int(1 / refresh_s)), screen=False) as live:
        while iterations is None or n < iterations:
            time.sleep(refresh_s)
            live.update(render(cache))
            n += 1
    return 0
