"""The whole system on the simulated venues: `hft run` as a user runs it, with a fixed seed.

One run (module fixture) trades for a while, gets killed through the control API, keeps
running halted, and stops by itself. Then, from the outside:
- the venues (asked over their own REST APIs) hold zero open orders of ours after the kill;
- the run summary says zero open orders at exit, real fills, and positions within limits;
- the PnL the engine reports equals, exactly, what the fills stored in PostgreSQL imply;
- requote tolerance keeps cancels per fill under a bound.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from feeds.runner import fetch_json
from feeds.sim.endpoints import SIM_CREDENTIALS, sim_endpoints
from feeds.sim.instruments import listed
from pipeline.config import load_config
from pipeline.control_api import hash_token, mint_token
from pipeline.ports import free_port_block
from writer import storage

VENUES = ("binance", "okx", "gate")
SYMBOLS = ["BTC/USDT", "ETH/USDT"]
RUN_S = 40
KILL_AT_S = 28
MAX_POSITION = Decimal("0.004")
pytestmark = pytest.mark.timeout(240)


def _have_front(venue: str) -> bool:
    try:
        __import__(f"feeds.sim.{venue}_front")
        __import__(f"feeds.{venue}.adapter")
    except ModuleNotFoundError:
        return False
    return True


def _config_text(tmp: Path, base_port: int, control_port: int, token_hash: str,
                 venues: list[str]) -> str:
    db = os.environ.get("HFT_TEST_PG_URL", "embedded")
    ex = "\n".join(
        f'[exchanges.{v}]\nenabled = {"true" if v in venues else "false"}\n'
        f'symbols = {json.dumps(SYMBOLS)}\n' for v in VENUES)
    return f"""
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
order_size = 0.001
max_position = {MAX_POSITION}
layers = 2
[risk]
max_position_per_venue = 0.01
max_position_total = 0.02
max_orders_per_second = 200
[sim]
seed = 7
base_port = {base_port}
[monitoring]
prometheus_port = {control_port + 1}
[control]
port = {control_port}
tokens = [{{ name = "ops", role = "admin", sha256 = "{token_hash}" }}]
"""


async def _open_orders_at_venues(config: Any, venues: list[str]) -> dict[str, int]:
    out = {}
    async with aiohttp.ClientSession() as http:
        for v in venues:
            mod = __import__(f"feeds.{v}.adapter", fromlist=["make_gateway_adapter"])
            adapter = mod.make_gateway_adapter(config, *SIM_CREDENTIALS[v])
            payload = await fetch_json(http, sim_endpoints(config, v).rest,
                                       adapter.open_orders_request(int(time.time() * 1000)))
            out[v] = len(adapter.parse_open_orders(payload, time.time_ns()))
    return out


def _post(port: int, path: str, token: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}", method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    venues = [v for v in VENUES if _have_front(v)]
    assert venues, "no venue has a simulated front-end and an adapter"
    tmp = tmp_path_factory.mktemp("system")
    base_port = free_port_block(11)   # the venues at +0..2, the control API at +10
    control_port = base_port + 10
    token = mint_token()
    cfg_path = tmp / "config.toml"
    cfg_path.write_text(_config_text(tmp, base_port, control_port, hash_token(token), venues))
    config = load_config(cfg_path)
    started_ns = time.time_ns()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--config",
                             str(cfg_path), "--duration", str(RUN_S), "--summary",
                             str(tmp / "summary.json")], cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(KILL_AT_S)
        assert proc.poll() is None, "the system exited early"
        with urllib.request.urlopen(f"http://127.0.0.1:{control_port + 1}/metrics",
                                    timeout=10) as r:
            metrics = r.read().decode()
        top = subprocess.run([sys.executable, "-m", "pipeline.cli", "top", "--iterations", "1",
                              "--refresh", "0.2"], cwd=tmp, capture_output=True, text=True,
                             timeout=60, env={**os.environ, "COLUMNS": "200"})
        kill = _post(control_port, "/kill", token)
        time.sleep(4)  # cancels out, acks back, REST sweep done
        open_after_kill = asyncio.run(_open_orders_at_venues(config, venues))
        out, _ = proc.communicate(timeout=RUN_S + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
    summary = json.loads((tmp / "summary.json").read_text())
    return {"venues": venues, "summary": summary, "log": out, "kill": kill,
            "metrics": metrics, "top": top.stdout + top.stderr,
            "open_after_kill": open_after_kill, "config": config, "tmp": tmp,
            "started_ns": started_ns, "rc": proc.returncode}


def test_the_run_ends_cleanly_with_nothing_left_open(run: dict[str, Any]) -> None:
    s = run["summary"]
    assert run["rc"] == 0, run["log"][-3000:]
    assert s["open_orders_at_exit"] == 0
    assert all(not p["failed"] and p["restarts"] == 0 for p in s["processes"].values()), \
        s["processes"]


def test_kill_leaves_zero_open_orders_on_every_venue(run: dict[str, Any]) -> None:
    assert run["kill"]["ok"]
    assert run["open_after_kill"] == {v: 0 for v in run["venues"]}
    assert run["summary"]["trading_state"] == "HALTED"


def test_quotes_were_filled_on_every_venue_and_positions_stayed_within_limits(
        run: dict[str, Any]) -> None:
    s = run["summary"]
    assert s["fills"] > 0 and s["orders"] > 0
    traded = {k.split(":")[0] for k, v in s["volume_by_market"].items() if Decimal(v) > 0}
    assert traded == set(run["venues"]), s["volume_by_market"]
    by_symbol: dict[str, Decimal] = {}
    for market, qty in s["position"].items():
        by_symbol[market.split(":")[1]] = by_symbol.get(market.split(":")[1], Decimal(0)) + \
            Decimal(qty)
    # max_position bounds the strategy's aggregate inventory per symbol; base-asset fees
    # (a few lots) come on top of the traded quantity
    for symbol, qty in by_symbol.items():
        assert abs(qty) <= MAX_POSITION + Decimal("0.0001"), (symbol, qty)


def test_cancels_per_fill_stay_bounded(run: dict[str, Any]) -> None:
    s = run["summary"]
    assert s["cancels"] / max(s["fills"], 1) < 25, (s["cancels"], s["fills"])


def _fills_from_db(run: dict[str, Any]) -> list[tuple]:
    url = run["config"].database.url
    h = storage.postgres(url, str(run["tmp"] / "data" / "pg"))
    try:
        with psycopg.connect(h.url) as c:
            return c.execute(
                "SELECT venue, symbol, side, last_lots, last_price_ticks, fee, fee_asset "
                "FROM fills WHERE ts_recv >= %s", (run["started_ns"],)).fetchall()
    finally:
        h.stop()


def test_pnl_equals_what_the_stored_fills_imply_exactly(run: dict[str, Any]) -> None:
    s = run["summary"]
    insts = {(v, i.symbol): i for v in run["venues"] for i in listed(v, SYMBOLS)}
    fills = _fills_from_db(run)
    assert len(fills) == s["fills"]
    lots: dict[str, int] = {}
    cash = fees = Decimal(0)
    for venue, symbol, side, n, ticks, fee, fee_asset in fills:
        inst = insts[(venue, symbol)]
        unit = inst.tick_size * inst.lot_size
        key = f"{venue}:{symbol}"
        lots[key] = lots.get(key, 0) + side * n
        cash -= side * ticks * n * unit
        fees += fee if fee_asset in (inst.quote, "") else fee * inst.ticks_to_price(ticks)
    assert {k: v for k, v in lots.items() if v} == \
        {k: v for k, v in s["position_lots"].items() if v}
    marked = sum((Decimal(lots.get(k, 0)) * insts[tuple(k.split(":"))].lot_size * Decimal(m)
                  for k, m in s["marks"].items()), Decimal(0))
    assert Decimal(s["realized_pnl"]) + Decimal(s["unrealized_pnl"]) == cash + marked
    assert Decimal(s["fees"]) == fees


def _samples(text: str, name: str) -> dict[str, float]:
    """{label string: value} of one metric in Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name):]] = float(value)
    return out


def test_prometheus_endpoint_exports_plausible_live_figures(run: dict[str, Any]) -> None:
    text = run["metrics"]
    up = _samples(text, "hft_process_up")
    assert up['{process="engine"}'] == 1.0 and up['{process="writer"}'] == 1.0
    ages = _samples(text, "hft_process_heartbeat_age_seconds")
    # a beat can land between the exporter reading the clock and the table: tiny negatives
    assert ages and all(-0.05 < a < 5 for a in ages.values()), sorted(ages.items())
    assert _samples(text, "hft_orders_total")[""] > 0
    assert _samples(text, "hft_trading_state")[""] == 0.0  # ACTIVE before the kill
    for v in run["venues"]:
        msgs = _samples(text, "hft_events_total")[f'{{counter="messages",process="feed:{v}"}}']
        assert msgs > 100, (v, msgs)
        assert f'hft_position_base{{symbol="BTC/USDT",venue="{v}"}}' in text
        bid = _samples(text, "hft_best_bid")[f'{{symbol="BTC/USDT",venue="{v}"}}']
        ask = _samples(text, "hft_best_ask")[f'{{symbol="BTC/USDT",venue="{v}"}}']
        assert 10_000 < bid < ask < 200_000
    acks = _samples(text, "hft_order_ack_seconds_count")
    assert acks['{process="engine"}'] > 0
    p_le_1s = _samples(text, "hft_order_ack_seconds_bucket")['{le="1",process="engine"}']
    assert p_le_1s == acks['{process="engine"}']  # every ack within a second
    assert 0.9 <= _samples(text, "hft_order_success_ratio")[""] <= 1.0


def test_top_shows_books_quotes_positions_and_latency(run: dict[str, Any]) -> None:
    out = run["top"]
    assert "trading: ACTIVE" in out, out[-2000:]
    assert "latency" in out and "tick_to_order" in out
    for v in run["venues"]:
        assert v in out


def test_no_secret_reaches_logs_metrics_dashboard_or_database(run: dict[str, Any]) -> None:
    secrets = [s for v in run["venues"] for s in SIM_CREDENTIALS[v][1:] if s]
    url = run["config"].database.url
    h = storage.postgres(url, str(run["tmp"] / "data" / "pg"))
    try:
        with psycopg.connect(h.url) as c:
            stored = " ".join(str(r) for t in ("audit_events", "risk_events", "pnl_snapshots",
                                               "positions", "order_events", "fills", "orders")
                              for r in c.execute(f"SELECT * FROM {t} LIMIT 5000").fetchall())
    finally:
        h.stop()
    assert stored  # the run did persist things
    for where, text in (("log", run["log"]), ("metrics", run["metrics"]), ("top", run["top"]),
                        ("database", stored)):
        for secret in secrets:
            assert secret not in text, f"a venue secret appears in the {where}"
