"""The order path's own CPU cost per venue, in process, with no sockets: our gateway's side
and the simulated venue's side of every order, measured apart.

For each venue, `GatewayCore` with the venue's real adapter (quantize, sign, encode, request
correlation, parse of every answer and private push, execution reports encoded for the
engine's queue) talks to that venue's real simulator front-end (`feeds/sim/<venue>_front.py`:
request decoding, signature check, matching engine, order bookkeeping, response and private
push encoding), frames handed across in memory. The session is logged in and subscribed to
the private order stream exactly as the gateway does. Each cycle places a batch of post-only
buys (resting far below the book, at the venue minimum), feeds the venue's answers back,
then cancels every acknowledged order and feeds those answers back.

Figures per venue: `gateway_us_per_order` and `sim_us_per_order` (one order placed and
cancelled: CPU of each side, wall time on an otherwise idle core), `gateway_orders_per_s` /
`sim_orders_per_s` (their inverses: what one core could sustain for that side alone), and
`reports_per_order` (execution reports the gateway produced). Run it on a quiet machine:
it measures one core's speed.

Baseline in the same run: `json_roundtrip_us`, one `orjson.dumps` + `orjson.loads` of the
venue's own order push frame — the floor any Python gateway pays per frame.

    python -m bench.order_codecs [--json] [--orders N] [--batch B] [--venues a,b]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import orjson

VENUES = ("binance", "okx", "gate")
SYMBOL = "BTC/USDT"


class _NoSocket:
    """What a simulator session reads of its aiohttp WebSocket when nothing is sent."""

    closed = False


class Pair:
    """One venue: our gateway core and the simulator's front-end, joined in memory."""

    def __init__(self, venue: str) -> None:
        from feeds.gateway import load_gateway_adapter
        from feeds.gateway_core import GatewayCore
        from feeds.sim.endpoints import SIM_CREDENTIALS
        from feeds.sim.instruments import listed, reference_price
        from feeds.sim.venue import SimVenue
        from pipeline.config import Config

        self.venue = venue
        key, secret, phrase = SIM_CREDENTIALS[venue]
        self.sim = SimVenue(venue, [SYMBOL], {key: secret}, time.time_ns, {key: phrase})
        mod = __import__(f"feeds.sim.{venue}_front", fromlist=["make_front"])
        kwargs: dict[str, Any] = {}
        if venue == "gate":
            kwargs["order_rate_limits"] = False
        elif venue == "binance":
            kwargs.update(orders_per_10s=1 << 62, orders_per_day=1 << 62, weight_limit=1 << 62)
        self.front, _ = mod.make_front(self.sim, **kwargs)
        if venue == "binance":
            self.conn = mod.ApiConn(_NoSocket(), "127.0.0.1", self.sim, True)
            self.front.api.add(self.conn)
            self._deliver = lambda f: self.front.on_api_frame(self.conn, f)
        elif venue == "okx":
            self.conn = mod.Session(_NoSocket(), 1, True, self.sim)
            self.front.sessions.add(self.conn)
            self._deliver = lambda f: self.front._on_text(self.conn, f)
        else:
            self.conn = mod.Session(_NoSocket(), 1, self.sim)
            self.front.sessions.add(self.conn)
            self._deliver = lambda f: self.front._on_text(self.conn, f)
        adapter = load_gateway_adapter(venue, Config())
        self.inst = listed(venue, [SYMBOL])[0]
        self.core = GatewayCore(adapter, {SYMBOL: self.inst}, 1e12, time.time_ns,
                                lambda: time.time_ns() // 1_000_000, enforce_venue_limits=False)
        ready = False
        for f in adapter.session_frames(int(time.time() * 1000)):
            for answer in self.to_sim([f]):
                ready |= any(adapter.session_ready(r)
                             for r in self.core.on_frame(answer, time.time_ns()))
        if not ready:
            raise SystemExit(f"{venue}: the simulated session never became ready")
        self.core.take()
        self.price = self.inst.price_to_ticks(reference_price(SYMBOL) / 2)
        lots = max(self.inst.qty_to_lots(self.inst.min_qty), 1)
        while self.inst.check(self.price, lots).name != "NONE":
            lots += 1
        self.lots = lots
        self._ids = iter(range(1, 1 << 62))
        self.last_push: str = ""

    def to_sim(self, frames: list[str]) -> list[str]:
        for f in frames:
            self._deliver(f)
        q = self.conn.out._frames
        out = [f for _, f in q]
        q.clear()
        if len(out) > 1:
            self.last_push = out[-1]
        return out

    def cycle(self, batch: int) -> tuple[float, float, int]:
        """Place `batch` orders and cancel them: (gateway s, sim s, reports)."""
        from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder, encode
        from pipeline.model import Side, TimeInForce

        core, v, sym = self.core, self.venue, SYMBOL
        clock = time.perf_counter
        t0 = clock()
        for _ in range(batch):
            core.place(NewOrder(f"b{next(self._ids)}", v, sym, Side.BUY, self.price,
                                self.lots, tif=TimeInForce.POST_ONLY))
        frames, _ = core.take()
        t1 = clock()
        answers = self.to_sim(frames)
        t2 = clock()
        for a in answers:
            core.on_frame(a, time.time_ns())
        _, reps = core.take()
        [encode(r) for r in reps]
        acked = {r.client_id: None for r in reps   # Gate acks twice (response + push)
                 if type(r) is ExecReport and r.exec_type is ExecType.NEW}
        for cid in acked:
            core.cancel(CancelOrder(cid, v, sym))
        frames, _ = core.take()
        t3 = clock()
        answers = self.to_sim(frames)
        t4 = clock()
        for a in answers:
            core.on_frame(a, time.time_ns())
        _, reps2 = core.take()
        [encode(r) for r in reps2]
        t5 = clock()
        return (t1 - t0) + (t3 - t2) + (t5 - t4), (t2 - t1) + (t4 - t3), len(reps) + len(reps2)


def measure(venue: str, orders: int, batch: int) -> dict[str, Any]:
    p = Pair(venue)
    for _ in range(max(1, 1000 // batch)):   # warm-up
        p.cycle(batch)
    gw = sim = 0.0
    reports = done = 0
    while done < orders:
        g, s, r = p.cycle(batch)
        gw, sim, reports, done = gw + g, sim + s, reports + r, done + batch
    push = p.last_push or "{}"
    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        orjson.loads(orjson.dumps(orjson.loads(push)))
    base = (time.perf_counter() - t0) / n
    return {"gateway_us_per_order": round(gw / done * 1e6, 1),
            "sim_us_per_order": round(sim / done * 1e6, 1),
            "gateway_orders_per_s": round(done / gw), "sim_orders_per_s": round(done / sim),
            "reports_per_order": round(reports / done, 2),
            "json_roundtrip_us": round(base * 1e6, 2), "orders": done, "batch": batch}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--venues", default=",".join(VENUES))
    a = ap.parse_args()
    out: dict[str, Any] = {"cores": os.cpu_count()}
    for v in a.venues.split(","):
        out[v] = measure(v, a.orders, a.batch)
    print(json.dumps(out) if a.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
