"""Gate order path end to end on loopback: GatewayCore + the gate adapter over a real WS.

The gateway logs in to the simulated Gate's WS trading API, subscribes `spot.orders` and
`spot.usertrades`, and every order below goes out as a signed-session `spot.order_place`;
the crowd (the sim's background account) takes our orders to fill them. REST calls
(reconciliation, cancel-all, the `countdown_cancel_all` dead-man switch) are the adapter's own
signed requests sent as `feeds/gateway.py` sends them.
"""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from feeds.gate.adapter import make_gateway_adapter
from feeds.gateway_core import GatewayCore
from feeds.runner import fetch_json
from feeds.sim.faults import MS, Chance, FaultPlan, Latency, VenueFaults
from feeds.ws import Backoff, WsClient, WsSettings
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus, RejectReason, Side, TimeInForce

from .conftest import KEY, SECRET, GateSim, crowd_order, until

BTC = "BTC/USDT"


class MiniGateway:
    """The parts of `feeds.gateway.GatewayDriver` that move orders (no process context)."""

    def __init__(self, sim: GateSim, secret: str = SECRET) -> None:
        self.sim = sim
        self.adapter = make_gateway_adapter(None, KEY, secret, "")
        self.core: GatewayCore | None = None
        self.reports: list[Any] = []
        self.others: list[Any] = []
        self.ready = asyncio.Event()
        self.changed = asyncio.Event()
        self.stop = asyncio.Event()
        self.client: WsClient | None = None
        self.http: aiohttp.ClientSession | None = None
        self.task: asyncio.Future[Any] | None = None

    async def start(self, wait_ready: bool = True) -> MiniGateway:
        self.http = aiohttp.ClientSession()
        payload = await fetch_json(self.http, self.sim.rest, self.adapter.instruments_request())
        insts = {i.symbol: i for i in self.adapter.parse_instruments(payload)}
        self.core = GatewayCore(self.adapter, insts, 10.0, time.time_ns,
                                lambda: time.time_ns() // 1_000_000)
        plan = self.adapter.ws_plan(self.sim.ws)
        settings = WsSettings(url=plan.url, app_ping=plan.app_ping,
                              app_ping_after_idle_s=plan.app_ping_after_idle_s,
                              idle_timeout_s=plan.idle_timeout_s,
                              max_lifetime_s=plan.max_lifetime_s,
                              backoff=Backoff(initial_s=0.05, max_s=0.2))

        def on_frame(data: Any, ts_recv: int) -> None:
            assert self.core is not None
            for rec in self.core.on_frame(data, ts_recv):
                self.others.append(rec)
                if self.adapter.session_ready(rec):
                    self.ready.set()
            self.flush()

        async def on_open(ws: Any) -> None:
            for f in self.adapter.session_frames(time.time_ns() // 1_000_000):
                await ws.send(f)

        self.client = WsClient(settings, on_frame=on_frame, on_open=on_open)
        self.task = asyncio.ensure_future(self.client.run(self.stop))
        if wait_ready:
            await asyncio.wait_for(self.ready.wait(), 5.0)
        return self

    def flush(self) -> None:
        assert self.core is not None and self.client is not None
        frames, reports = self.core.take()
        for f in frames:
            asyncio.ensure_future(self.client.send(f))
        if reports:
            self.reports.extend(reports)
        self.changed.set()

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    # -- actions ---------------------------------------------------------------------------
    def place(self, cid: str, side: Side, ticks: int, lots: int,
              tif: TimeInForce = TimeInForce.GTC) -> None:
        assert self.core is not None
        self.core.place(NewOrder(cid, "gate", BTC, side, ticks, lots, tif=tif))
        self.flush()

    def cancel(self, cid: str, venue_order_id: str = "") -> None:
        assert self.core is not None
        self.core.cancel(CancelOrder(cid, "gate", BTC, venue_order_id))
        self.flush()

    async def rest(self, req: Any) -> Any:
        assert self.http is not None
        return await fetch_json(self.http, self.sim.rest, req)

    def of(self, cid: str, *types: ExecType) -> list[ExecReport]:
        return [r for r in self.reports if isinstance(r, ExecReport) and r.client_id == cid
                and (not types or r.exec_type in types)]

    async def wait(self, pred: Any, what: str) -> None:
        await until(pred, what=what, event=self.changed)


@pytest.fixture
async def gw(gate_sim):
    g = await MiniGateway(gate_sim).start()
    try:
        yield g
    finally:
        await g.close()


def best(sim: GateSim) -> tuple[int, int]:
    b, a = sim.venue.engines[BTC].best()
    assert b is not None and a is not None
    return b[0], a[0]


async def test_place_ack_partial_fill_then_fill(gate_sim, gw):
    bid, _ask = best(gate_sim)
    px = bid + 1  # inside the spread: resting, first in line
    usdt0 = gate_sim.venue.accounts[KEY].balance("USDT").total
    btc0 = gate_sim.venue.accounts[KEY].balance("BTC").total
    gw.place("buy1", Side.BUY, px, 2000, TimeInForce.POST_ONLY)
    await gw.wait(lambda: gw.of("buy1", ExecType.NEW), "NEW")
    new = gw.of("buy1", ExecType.NEW)[0]
    assert new.status is OrderStatus.NEW and new.venue_order_id
    assert new.price_ticks == px and new.lots == 2000

    crowd_order(gate_sim.venue, BTC, Side.SELL, px, 1500, TimeInForce.IOC)
    await gw.wait(lambda: gw.of("buy1", ExecType.TRADE), "first fill")
    await gw.wait(lambda: any(r.status is OrderStatus.PARTIALLY_FILLED and r.filled_lots == 1500
                              for r in gw.of("buy1", ExecType.STATUS)), "partial state")
    t1 = gw.of("buy1", ExecType.TRADE)[0]
    assert (t1.last_lots, t1.last_price_ticks, t1.is_maker) == (1500, px, True)
    assert t1.fee == Decimal("0.0015") * Decimal("0.002") and t1.fee_asset == "BTC"

    crowd_order(gate_sim.venue, BTC, Side.SELL, px, 1000, TimeInForce.IOC)
    await gw.wait(lambda: any(r.status is OrderStatus.FILLED for r in gw.of("buy1")), "filled")
    trades = gw.of("buy1", ExecType.TRADE)
    assert [t.last_lots for t in trades] == [1500, 500]
    done = next(r for r in gw.of("buy1") if r.status is OrderStatus.FILLED)
    assert done.filled_lots == 2000 and done.venue_order_id == new.venue_order_id
    # exact money: 0.002 BTC bought at px, 0.2 % fee in BTC
    price = gate_sim.venue.engines[BTC].instrument.ticks_to_price(px)
    acct = gate_sim.venue.accounts[KEY]
    assert acct.balance("USDT").total == usdt0 - Decimal("0.002") * price
    assert acct.balance("BTC").total == btc0 + Decimal("0.002") * Decimal("0.998")
    assert gw.core is not None and gw.core.counters["rejects"] == 0


async def test_cancel_and_unknown_order_cancel(gate_sim, gw):
    bid, _ = best(gate_sim)
    gw.place("c1", Side.BUY, bid - 50, 1000)
    await gw.wait(lambda: gw.of("c1", ExecType.NEW), "NEW")
    vid = gw.of("c1", ExecType.NEW)[0].venue_order_id
    gw.cancel("c1", vid)
    await gw.wait(lambda: gw.of("c1", ExecType.CANCELED), "CANCELED")
    assert gw.of("c1", ExecType.CANCELED)[0].status is OrderStatus.CANCELED
    assert gate_sim.venue.open_orders(KEY) == []
    # Gate answers each step twice (the order object and the spot.orders put/finish push):
    # once both are in, the engine has one report per step
    await asyncio.sleep(0.2)
    assert [r.exec_type for r in gw.of("c1")] == [ExecType.NEW, ExecType.CANCELED]

    gw.cancel("never-placed")
    await gw.wait(lambda: gw.of("never-placed", ExecType.CANCEL_REJECTED), "cancel reject")
    rej = gw.of("never-placed", ExecType.CANCEL_REJECTED)[0]
    assert rej.reason is RejectReason.UNKNOWN_ORDER and "ORDER_NOT_FOUND" in rej.reason_text

    gw.cancel("c1", vid)  # already cancelled
    await gw.wait(lambda: gw.of("c1", ExecType.CANCEL_REJECTED), "second cancel reject")
    assert gw.of("c1", ExecType.CANCEL_REJECTED)[0].reason is RejectReason.UNKNOWN_ORDER


async def test_post_only_that_would_cross_is_refused(gate_sim, gw):
    _, ask = best(gate_sim)
    gw.place("po1", Side.BUY, ask, 1000, TimeInForce.POST_ONLY)
    await gw.wait(lambda: any(r.status.is_terminal for r in gw.of("po1")), "post-only end")
    end = next(r for r in gw.of("po1") if r.status.is_terminal)
    assert end.reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert end.status in (OrderStatus.EXPIRED, OrderStatus.REJECTED)
    assert not gw.of("po1", ExecType.TRADE)
    assert best(gate_sim)[1] == ask  # nothing was taken


async def test_insufficient_balance_is_a_typed_reject(gate_sim, gw):
    bid, _ = best(gate_sim)
    gw.place("big", Side.BUY, bid - 10, 20_000_000)  # 20 BTC x ~65k > 1M USDT
    await gw.wait(lambda: gw.of("big", ExecType.REJECTED), "reject")
    rej = gw.of("big", ExecType.REJECTED)[0]
    assert rej.reason is RejectReason.INSUFFICIENT_BALANCE
    assert "BALANCE_NOT_ENOUGH" in rej.reason_text


async def test_wrong_secret_gets_the_venue_auth_error(gate_sim):
    g = await MiniGateway(gate_sim, secret="not-the-secret").start(wait_ready=False)
    try:
        await until(lambda: len([r for r in g.others if isinstance(r, Control)
                                 and r.kind == "error"]) >= 3, what="auth errors",
                    event=g.changed)
        errors = [r.detail for r in g.others if isinstance(r, Control) and r.kind == "error"]
        login = [d for d in errors if d.get("channel") == "spot.login"]
        assert login and login[0]["label"] == "INVALID_SIGNATURE"
        assert login[0]["reason"] is RejectReason.AUTH and login[0]["status"] == 401
        subs = [d for d in errors if d.get("channel") in ("spot.orders", "spot.usertrades")]
        assert sorted(d["code"] for d in subs) == [4, 4]
        assert not g.ready.is_set()
    finally:
        await g.close()


async def test_reconcile_open_orders_over_rest(gate_sim, gw):
    bid, ask = best(gate_sim)
    gw.place("r1", Side.BUY, bid - 20, 1000)
    gw.place("r2", Side.SELL, ask + 20, 1000)
    await gw.wait(lambda: gw.of("r1", ExecType.NEW) and gw.of("r2", ExecType.NEW), "NEWs")
    now_ms = time.time_ns() // 1_000_000
    payload = await gw.rest(gw.adapter.open_orders_request(now_ms))
    got = gw.adapter.parse_open_orders(payload, time.time_ns())
    assert {r.exec_type for r in got} == {ExecType.STATUS}
    assert sorted((r.client_id, r.side, r.price_ticks, r.lots, r.venue_order_id) for r in got) \
        == sorted((c, r.side, r.price_ticks, r.lots, r.venue_order_id)
                  for c in ("r1", "r2") for r in gw.of(c, ExecType.NEW)[:1])

    # the REST cancel-all sweep empties the pair; the private stream reports both
    inst = gate_sim.venue.engines[BTC].instrument
    req = gw.adapter.cancel_all_request(inst, now_ms)
    assert req is not None
    body = await gw.rest(req)
    assert len(body) == 2
    await gw.wait(lambda: gw.of("r1", ExecType.CANCELED) and gw.of("r2", ExecType.CANCELED),
                  "swept")
    assert gw.adapter.parse_open_orders(
        await gw.rest(gw.adapter.open_orders_request(now_ms)), time.time_ns()) == []


async def test_deadman_countdown_then_expiry_cancels(gate_sim, gw):
    bid, _ = best(gate_sim)
    gw.place("d1", Side.BUY, bid - 30, 1000)
    await gw.wait(lambda: gw.of("d1", ExecType.NEW), "NEW")
    before = time.time_ns()
    req = gw.adapter.deadman_request(before // 1_000_000, 10)
    assert req is not None
    answer = await gw.rest(req)
    deadline = gate_sim.venue.deadman[KEY]
    assert before + 10_000_000_000 <= deadline <= time.time_ns() + 10_000_000_000
    assert int(answer["triggerTime"]) == deadline // 1_000_000

    gate_sim.venue.check_deadman()  # not yet due: nothing happens
    assert len(gate_sim.venue.open_orders(KEY)) == 1
    gate_sim.venue.clock = lambda: time.time_ns() + 11_000_000_000  # 11 s later
    gate_sim.venue.check_deadman()
    assert gate_sim.venue.open_orders(KEY) == []
    await gw.wait(lambda: gw.of("d1", ExecType.CANCELED), "dead-man cancel report")
    assert KEY not in gate_sim.venue.deadman


async def test_rate_limit_error_is_classified(gate_sim, gw):
    """Past Gate's 10 places/s the venue answers TOO_MANY_REQUESTS (HTTP-like 429)."""
    assert gw.core is not None
    gw.core.bucket.tokens = 1e9  # take our own budget out of the way: the venue must refuse
    gw.core.bucket.burst = 1e9
    bid, _ = best(gate_sim)
    frozen = time.time_ns()
    gate_sim.venue.clock = lambda: frozen  # all 12 land in one venue second
    for i in range(12):
        gw.place(f"rl{i}", Side.BUY, bid - 100 - i, 1000)
    await gw.wait(lambda: all(gw.of(f"rl{i}", ExecType.NEW, ExecType.REJECTED)
                              for i in range(12)), "12 answers")
    rejected = [r for i in range(12) for r in gw.of(f"rl{i}", ExecType.REJECTED)]
    assert len(rejected) == 2
    assert len(gate_sim.venue.open_orders(KEY)) == 10
    assert all(r.reason is RejectReason.RATE_LIMITED for r in rejected)
    statuses = [r for r in gw.core.reports] + gw.reports
    assert any(getattr(r, "state", "") == "rate_limited" for r in statuses)


async def test_order_rate_limits_off_lets_every_place_through(gate_sim, gw):
    """`[sim] order_rate_limits = false` (benchmarks): the same 12 places in one venue
    second are all accepted."""
    assert gw.core is not None
    gw.core.bucket.tokens = 1e9
    gw.core.bucket.burst = 1e9
    gate_sim.front.order_rate_limits = False
    bid, _ = best(gate_sim)
    frozen = time.time_ns()
    gate_sim.venue.clock = lambda: frozen
    for i in range(12):
        gw.place(f"nl{i}", Side.BUY, bid - 200 - i, 1000)
    await gw.wait(lambda: all(gw.of(f"nl{i}", ExecType.NEW, ExecType.REJECTED)
                              for i in range(12)), "12 answers")
    assert not [r for i in range(12) for r in gw.of(f"nl{i}", ExecType.REJECTED)]
    assert len(gate_sim.venue.open_orders(KEY)) == 12


async def test_scenario_latency_and_a_lost_ack_on_the_wire(gate_sim, gw):
    """The fault plan's one-way latency holds the answer back; a lost ack leaves the order
    live on the venue and the gateway learns it from the private orders channel."""
    venue = gate_sim.venue
    bid, _ = best(gate_sim)
    venue.faults = FaultPlan({"gate": VenueFaults(latency=Latency("fixed", 60 * MS))})
    t0 = time.monotonic_ns()
    gw.place("lat1", Side.BUY, bid - 50, 100_000)
    await gw.wait(lambda: gw.of("lat1", ExecType.NEW), "NEW")
    assert time.monotonic_ns() - t0 >= 60 * MS
    venue.faults = FaultPlan({"gate": VenueFaults(ack_loss=(Chance(1.0),))})
    before = len(venue.open_orders(KEY, BTC))
    gw.place("lost1", Side.BUY, bid - 60, 100_000)
    await gw.wait(lambda: gw.of("lost1", ExecType.NEW), "NEW from the orders channel")
    assert gw.of("lost1", ExecType.NEW)[0].status is OrderStatus.NEW
    assert sum(s.out.acks_lost for s in gate_sim.front.sessions) == 1
    assert len(venue.open_orders(KEY, BTC)) == before + 1

