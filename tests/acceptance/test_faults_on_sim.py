"""Order-path faults on the whole system (simulated venues, real processes):

1. Every gateway is killed with SIGKILL mid-run (orders in flight, fills arriving). The
   supervisor restarts it; on reconnect it reconciles with the venue. Then trading is halted
   and the venue's own books are compared with the engine's: the account balance changes at
   each venue (asked with ccxt, a client no one here wrote) equal the engine's positions
   exactly — no fill lost or counted twice — and no order of ours is left open at any venue.
2. The venues misbehave on the "flaky" schedule for a whole run: every frame is delayed
   (lognormal one-way latency), market and order connections are dropped, a depth stream
   gaps, order acks are delayed or lost, orders are rejected and rate-limited at random.
   Afterwards the venues' books agree with the engine's exactly and no order is left open.
3. The engine is frozen (SIGSTOP: alive but silent). Each gateway's own dead-man switch sees
   the engine's heartbeats stop and cancels everything at its venue (OKX and Gate also have
   the venue-side countdown armed). The engine then resumes and the run ends cleanly.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import psutil
import pytest

from feeds.sim.endpoints import SIM_CREDENTIALS
from feeds.sim.venue import START_BALANCES
from pipeline.control_api import hash_token, mint_token
from pipeline.ports import free_port_block

VENUES = ("binance", "okx", "gate")
SYMBOLS = ["BTC/USDT", "ETH/USDT"]
pytestmark = pytest.mark.timeout(240)


def _config(tmp: Path, base_port: int, token_hash: str, heartbeat_ms: int,
            scenario: str = "ideal") -> Path:
    db = os.environ.get("HFT_TEST_PG_URL", "embedded")
    ex = "\n".join(f"[exchanges.{v}]\nsymbols = {json.dumps(SYMBOLS)}\n" for v in VENUES)
    p = tmp / "config.toml"
    p.write_text(f"""
[system]
data_dir = "{tmp / 'data'}"
max_orders_per_second = 200
[database]
url = "{db}"
[redis]
url = ""
{ex}
[strategy.market_making]
spread_bps = 4
layers = 2
[risk]
max_orders_per_second = 200
[pipeline.restart]
heartbeat_timeout_ms = {heartbeat_ms}
backoff_initial_ms = 200
[sim]
seed = 11
base_port = {base_port}
scenario = "{scenario}"
[control]
port = {base_port + 10}
tokens = [{{ name = "ops", role = "admin", sha256 = "{token_hash}" }}]
""")
    return p


def _start(tmp: Path, cfg: Path, duration: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--config", str(cfg),
                             "--duration", str(duration), "--summary",
                             str(tmp / "summary.json")], cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _children(proc: subprocess.Popen, title: str) -> list[psutil.Process]:
    out = []
    for c in psutil.Process(proc.pid).children(recursive=True):
        try:
            if " ".join(c.cmdline()).startswith(title):
                out.append(c)
        except psutil.Error:
            pass
    return out


def _post(port: int, path: str, token: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}", method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _ccxt(venue: str, base_port: int) -> Any:
    key, secret, pp = SIM_CREDENTIALS[venue]
    port = base_port + {"binance": 0, "okx": 1, "gate": 2}[venue]
    opts = {"apiKey": key, "secret": secret, "enableRateLimit": False, "timeout": 5000,
            "options": {"fetchMarkets": {"types": ["spot"]}}}
    if venue == "binance":
        opts["options"].update({"fetchCurrencies": False, "fetchMargins": False,
                                "warnOnFetchOpenOrdersWithoutSymbol": False})
        ex = ccxt.binance(opts)
        ex.urls["api"]["public"] = ex.urls["api"]["private"] = f"http://127.0.0.1:{port}/api/v3"
    elif venue == "okx":
        opts["password"] = pp
        ex = ccxt.okx(opts)
        ex.has["fetchCurrencies"] = False
        ex.urls["api"]["rest"] = f"http://127.0.0.1:{port}"
    else:
        ex = ccxt.gate(opts)
        for group in ex.urls["api"].values():
            for name in group:
                group[name] = f"http://127.0.0.1:{port}/api/v4"
    return ex


def _venue_truth(base_port: int) -> dict[str, Any]:
    """Per venue: balance changes since the start (base assets) and our open orders."""
    out: dict[str, Any] = {}
    for v in VENUES:
        ex = _ccxt(v, base_port)
        ex.load_markets()
        bal = ex.fetch_balance()
        deltas = {a: Decimal(str(bal["total"].get(a, 0))) - Decimal(START_BALANCES[a])
                  for a in ("BTC", "ETH")}
        open_n = sum(len(ex.fetch_open_orders(s)) for s in SYMBOLS)
        out[v] = {"delta": deltas, "open": open_n}
    return out


def test_gateways_killed_mid_run_reconcile_exactly(tmp_path: Path) -> None:
    base = free_port_block(11)   # the venues at +0..2, the control API at +10
    token = mint_token()
    cfg = _config(tmp_path, base, hash_token(token), 5_000)
    proc = _start(tmp_path, cfg, 45)
    try:
        time.sleep(16)
        killed = []
        for v in VENUES:
            for c in _children(proc, f"hft:gateway:{v}"):
                c.send_signal(signal.SIGKILL)
                killed.append(v)
            time.sleep(1.5)  # mid-run, one after the other
        assert sorted(killed) == sorted(VENUES)
        time.sleep(12)   # restarted, reconciled, trading again
        _post(base + 10, "/halt", token)  # pull every quote; no new orders
        time.sleep(4)
        truth = _venue_truth(base)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    s = json.loads((tmp_path / "summary.json").read_text())
    assert proc.returncode == 0, out[-3000:]
    assert "position" in s, out[-6000:]
    for v in VENUES:
        assert s["processes"][f"gateway:{v}"]["restarts"] == 1
        assert not s["processes"][f"gateway:{v}"]["failed"]
        _assert_venue_agrees(s, truth, v)
    assert s["open_orders_at_exit"] == 0
    assert s["fills"] > 0


def _assert_venue_agrees(s: dict, truth: dict, v: str) -> None:
    """No orphan left at venue `v`, and its balance changes equal the engine's positions."""
    assert truth[v]["open"] == 0, (v, truth[v])
    for sym, asset in (("BTC/USDT", "BTC"), ("ETH/USDT", "ETH")):
        engine = Decimal(s["position"][f"{v}:{sym}"])
        assert engine == truth[v]["delta"][asset], (v, sym, engine, truth[v]["delta"])


def test_a_flaky_venue_session_ends_reconciled_with_no_orphans(tmp_path: Path) -> None:
    base = free_port_block(11)   # the venues at +0..2, the control API at +10
    token = mint_token()
    cfg = _config(tmp_path, base, hash_token(token), 5_000, scenario="flaky")
    proc = _start(tmp_path, cfg, 42)
    try:
        time.sleep(33)   # one 30 s flaky period: drops at 8/18/28 s, gap, all orders refused
        #                  at 14-14.5 s, rate limits at 22 s
        _post(base + 10, "/halt", token)
        time.sleep(4)
        truth = _venue_truth(base)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    s = json.loads((tmp_path / "summary.json").read_text())
    assert proc.returncode == 0, out[-3000:]
    assert "position" in s, out[-6000:]
    assert s["fills"] > 0 and s["orders"] > 50
    assert s["rejects"] > 0           # forced rejects and rate limits reached the engine
    for v in VENUES:
        assert not s["processes"][f"gateway:{v}"]["failed"]
        assert not s["processes"][f"feed:{v}"]["failed"]
        _assert_venue_agrees(s, truth, v)
    assert s["open_orders_at_exit"] == 0


def test_frozen_engine_trips_every_gateways_dead_man_switch(tmp_path: Path) -> None:
    base = free_port_block(11)   # the venues at +0..2, the control API at +10
    token = mint_token()
    # the supervisor must not restart the silent engine before the gateways' switch acts
    cfg = _config(tmp_path, base, hash_token(token), 60_000)
    proc = _start(tmp_path, cfg, 40)
    try:
        time.sleep(15)
        before = _venue_truth(base)
        assert sum(before[v]["open"] for v in VENUES) > 0  # we were quoting
        engine = _children(proc, "hft:engine")
        assert len(engine) == 1
        engine[0].send_signal(signal.SIGSTOP)
        try:
            time.sleep(9)  # > the gateways' 5 s engine-heartbeat timeout
            frozen = _venue_truth(base)
        finally:
            engine[0].send_signal(signal.SIGCONT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert {v: frozen[v]["open"] for v in VENUES} == {v: 0 for v in VENUES}
    s = json.loads((tmp_path / "summary.json").read_text())
    assert proc.returncode == 0, out[-3000:]
    assert s["open_orders_at_exit"] == 0
    assert "engine heartbeat lost" in out
