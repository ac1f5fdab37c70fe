"""OKX order path end to end on loopback: GatewayCore + the okx adapter over a real WS.

The gateway logs in on the simulated OKX `/ws/v5/private`, subscribes the `orders` channel,
and every order below goes out as a WS `order` op keyed by `instIdCode`; the crowd (the sim's
background account) takes our orders to fill them. REST calls (reconciliation over
`orders-pending`, the `cancel-batch-orders` sweep, the `cancel-all-after` dead-man switch) are
the adapter's own signed requests, sent as `feeds/gateway.py` sends them.
"""
from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from feeds.gateway_core import GatewayCore
from feeds.okx.adapter import make_gateway_adapter
from feeds.runner import fetch_json
from feeds.sim.faults import MS, Chance, FaultPlan, Latency, VenueFaults
from feeds.ws import Backoff, WsClient, WsSettings
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus, RejectReason, Side, TimeInForce

from .conftest import KEY, PASSPHRASE, SECRET, OkxSim, crowd_order, until

BTC = "BTC/USDT"


class MiniGateway:
    """The parts of `feeds.gateway.GatewayDriver` that move orders (no process context)."""

    def __init__(self, sim: OkxSim, secret: str = SECRET) -> None:
        self.sim = sim
        self.adapter = make_gateway_adapter(None, KEY, secret, PASSPHRASE)
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
        plan = self.adapter.ws_plan(self.sim.ws_private)
        assert plan.url.endswith("/ws/v5/private") and plan.app_ping == "ping"
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
        self.core.place(NewOrder(cid, "okx", BTC, side, ticks, lots, tif=tif))
        self.flush()

    def cancel(self, cid: str, venue_order_id: str = "") -> None:
        assert self.core is not None
        self.core.cancel(CancelOrder(cid, "okx", BTC, venue_order_id))
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
async def gw(okx_sim):
    g = await MiniGateway(okx_sim).start()
    try:
        yield g
    finally:
        await g.close()


def best(sim: OkxSim) -> tuple[int, int]:
    b, a = sim.venue.engines[BTC].best()
    assert b is not None and a is not None
    return b[0], a[0]


async def test_place_ack_partial_fill_then_fill(okx_sim, gw):
    bid, _ask = best(okx_sim)
    px = bid + 1  # inside the spread: resting, first in line
    usdt0 = okx_sim.venue.accounts[KEY].balance("USDT").total
    btc0 = okx_sim.venue.accounts[KEY].balance("BTC").total
    gw.place("buy1", Side.BUY, px, 200_000, TimeInForce.POST_ONLY)  # 0.002 BTC
    await gw.wait(lambda: gw.of("buy1", ExecType.NEW), "NEW")
    new = gw.of("buy1", ExecType.NEW)
    assert len(new) == 1  # the op response and the `live` push make one NEW
    assert new[0].status is OrderStatus.NEW and new[0].venue_order_id
    assert new[0].price_ticks == px and new[0].lots == 200_000

    crowd_order(okx_sim.venue, BTC, Side.SELL, px, 150_000, TimeInForce.IOC)
    await gw.wait(lambda: gw.of("buy1", ExecType.TRADE), "first fill")
    t1 = gw.of("buy1", ExecType.TRADE)[0]
    assert t1.status is OrderStatus.PARTIALLY_FILLED and t1.filled_lots == 150_000
    assert (t1.last_lots, t1.last_price_ticks, t1.is_maker) == (150_000, px, True)
    assert t1.fee == Decimal("0.0015") * Decimal("0.0008") and t1.fee_asset == "BTC"

    crowd_order(okx_sim.venue, BTC, Side.SELL, px, 100_000, TimeInForce.IOC)
    await gw.wait(lambda: any(r.status is OrderStatus.FILLED for r in gw.of("buy1")), "filled")
    trades = gw.of("buy1", ExecType.TRADE)
    assert [t.last_lots for t in trades] == [150_000, 50_000]
    done = next(r for r in gw.of("buy1") if r.status is OrderStatus.FILLED)
    assert done.filled_lots == 200_000 and done.venue_order_id == new[0].venue_order_id
    price = okx_sim.venue.engines[BTC].instrument.ticks_to_price(px)
    acct = okx_sim.venue.accounts[KEY]
    assert acct.balance("USDT").total == usdt0 - Decimal("0.002") * price
    assert acct.balance("BTC").total == btc0 + Decimal("0.002") * Decimal("0.9992")
    assert gw.core is not None and gw.core.counters["rejects"] == 0


async def test_cancel_and_unknown_order_cancel(okx_sim, gw):
    bid, _ = best(okx_sim)
    gw.place("c1", Side.BUY, bid - 50, 100_000)
    await gw.wait(lambda: gw.of("c1", ExecType.NEW), "NEW")
    vid = gw.of("c1", ExecType.NEW)[0].venue_order_id
    gw.cancel("c1", vid)
    await gw.wait(lambda: gw.of("c1", ExecType.CANCELED), "CANCELED")
    assert gw.of("c1", ExecType.CANCELED)[0].status is OrderStatus.CANCELED
    assert okx_sim.venue.open_orders(KEY) == []

    gw.cancel("neverplaced")  # by clOrdId
    await gw.wait(lambda: gw.of("neverplaced", ExecType.CANCEL_REJECTED), "cancel reject")
    rej = gw.of("neverplaced", ExecType.CANCEL_REJECTED)[0]
    assert rej.reason is RejectReason.UNKNOWN_ORDER and "51400" in rej.reason_text

    gw.cancel("c1", vid)  # already cancelled
    await gw.wait(lambda: gw.of("c1", ExecType.CANCEL_REJECTED), "second cancel reject")
    assert gw.of("c1", ExecType.CANCEL_REJECTED)[0].reason is RejectReason.UNKNOWN_ORDER


async def test_post_only_that_would_cross_is_accepted_then_canceled_31(okx_sim, gw):
    _, ask = best(okx_sim)
    gw.place("po1", Side.BUY, ask, 100_000, TimeInForce.POST_ONLY)
    await gw.wait(lambda: any(r.status.is_terminal for r in gw.of("po1")), "post-only end")
    assert gw.of("po1", ExecType.NEW)  # OKX accepts it (sCode 0) ...
    end = next(r for r in gw.of("po1") if r.status.is_terminal)
    assert end.exec_type is ExecType.EXPIRED and end.status is OrderStatus.EXPIRED
    assert end.reason is RejectReason.POST_ONLY_WOULD_CROSS  # ... then cancels it, source 31
    assert "cancelSource=31" in end.reason_text
    assert not gw.of("po1", ExecType.TRADE)
    assert best(okx_sim)[1] == ask  # nothing was taken


async def test_insufficient_balance_is_a_typed_reject(okx_sim, gw):
    bid, _ = best(okx_sim)
    gw.place("big", Side.BUY, bid - 10, 2_000_000_000)  # 20 BTC x ~65k > 1M USDT
    await gw.wait(lambda: gw.of("big", ExecType.REJECTED), "reject")
    rej = gw.of("big", ExecType.REJECTED)[0]
    assert rej.reason is RejectReason.INSUFFICIENT_BALANCE and "51008" in rej.reason_text


async def test_client_id_okx_cannot_hold_is_refused_in_band(okx_sim, gw):
    bid, _ = best(okx_sim)
    gw.place("not-alnum", Side.BUY, bid - 10, 100_000)  # OKX clOrdId: letters/digits only
    await gw.wait(lambda: gw.of("not-alnum", ExecType.REJECTED), "local reject")
    assert okx_sim.venue.open_orders(KEY) == []
    gw.place("after", Side.BUY, bid - 10, 100_000)  # the session carries on
    await gw.wait(lambda: gw.of("after", ExecType.NEW), "NEW after")


async def test_wrong_secret_gets_the_venue_login_error(okx_sim):
    g = await MiniGateway(okx_sim, secret="not-the-secret").start(wait_ready=False)
    try:
        def errors() -> list[dict]:
            return [r.detail for r in g.others if isinstance(r, Control) and r.kind == "error"]
        await until(lambda: len(errors()) >= 2, what="login and subscribe errors",
                    event=g.changed)
        codes = [d["code"] for d in errors()]
        assert codes[:2] == ["60007", "60011"]  # invalid sign; then "please log in"
        assert not g.ready.is_set()
    finally:
        await g.close()


async def test_reconcile_open_orders_over_rest(okx_sim, gw):
    bid, ask = best(okx_sim)
    gw.place("r1", Side.BUY, bid - 20, 100_000)
    gw.place("r2", Side.SELL, ask + 20, 100_000)
    await gw.wait(lambda: gw.of("r1", ExecType.NEW) and gw.of("r2", ExecType.NEW), "NEWs")
    now_ms = time.time_ns() // 1_000_000
    req = gw.adapter.open_orders_request(now_ms)
    assert req.params == {} and "?" in req.path  # the signed query travels in the path
    got = gw.adapter.parse_open_orders(await gw.rest(req), time.time_ns())
    assert {r.exec_type for r in got} == {ExecType.STATUS}
    assert sorted((r.client_id, r.side, r.price_ticks, r.lots, r.venue_order_id) for r in got) \
        == sorted((c, r.side, r.price_ticks, r.lots, r.venue_order_id)
                  for c in ("r1", "r2") for r in gw.of(c, ExecType.NEW)[:1])

    # the cancel-batch-orders sweep empties the instrument; the orders channel reports both
    inst = okx_sim.venue.engines[BTC].instrument
    req = gw.adapter.cancel_all_request(inst, now_ms)
    assert req is not None
    body = await gw.rest(req)
    assert body["code"] == "0" and len(body["data"]) == 2
    await gw.wait(lambda: gw.of("r1", ExecType.CANCELED) and gw.of("r2", ExecType.CANCELED),
                  "swept")
    assert gw.adapter.parse_open_orders(
        await gw.rest(gw.adapter.open_orders_request(now_ms)), time.time_ns()) == []
    assert gw.adapter.cancel_all_request(inst, now_ms) is None  # nothing left it knows of


async def test_cancel_all_after_then_expiry_cancels(okx_sim, gw):
    bid, _ = best(okx_sim)
    gw.place("d1", Side.BUY, bid - 30, 100_000)
    await gw.wait(lambda: gw.of("d1", ExecType.NEW), "NEW")
    before = time.time_ns()
    req = gw.adapter.deadman_request(before // 1_000_000, 10)
    assert req is not None
    answer = await gw.rest(req)
    deadline = okx_sim.venue.deadman[KEY]
    assert before + 10_000_000_000 <= deadline <= time.time_ns() + 10_000_000_000
    assert int(answer["data"][0]["triggerTime"]) == deadline // 1_000_000

    okx_sim.venue.check_deadman()  # not yet due: nothing happens
    assert len(okx_sim.venue.open_orders(KEY)) == 1
    okx_sim.venue.clock = lambda: time.time_ns() + 11_000_000_000  # 11 s later
    okx_sim.venue.check_deadman()
    assert okx_sim.venue.open_orders(KEY) == []
    await gw.wait(lambda: any(r.status.is_terminal for r in gw.of("d1")), "dead-man cancel")
    end = next(r for r in gw.of("d1") if r.status.is_terminal)
    assert end.exec_type is ExecType.EXPIRED and "cancelSource=20" in end.reason_text
    assert KEY not in okx_sim.venue.deadman

    # timeOut 0 disarms
    okx_sim.venue.clock = time.time_ns
    await gw.rest(gw.adapter.deadman_request(time.time_ns() // 1_000_000, 30))
    assert KEY in okx_sim.venue.deadman
    off = await gw.rest(gw.adapter.deadman_request(time.time_ns() // 1_000_000, 0))
    assert off["data"][0]["triggerTime"] == "0" and KEY not in okx_sim.venue.deadman


async def test_status_is_asked_over_rest_and_an_unknown_order_is_closed(okx_sim, gw):
    """OKX has no WS order query: GatewayCore queues it for REST `GET /api/v5/trade/order`;
    the answer settles the request, and 51603 closes an order OKX does not know."""
    assert gw.core is not None
    bid, _ = best(okx_sim)
    gw.place("st1", Side.BUY, bid - 40, 100_000)
    await gw.wait(lambda: gw.of("st1", ExecType.NEW), "NEW")
    for cid in ("st1", "neverplaced1"):
        gw.core.query_status(cid, BTC)
    gw.flush()
    assert gw.core.rest_queries and len(gw.core.pending) == 2
    queries, gw.core.rest_queries = gw.core.rest_queries, []
    for rid, q, inst in queries:
        payload = await gw.rest(gw.adapter.status_request(q.client_id, inst,
                                                          int(time.time() * 1000)))
        gw.core.on_rest_answer(rid, gw.adapter.parse_status(payload, rid, time.time_ns()),
                               time.time_ns())
    gw.flush()
    [st] = gw.of("st1", ExecType.STATUS)
    assert st.status is OrderStatus.NEW and st.venue_order_id == \
        gw.of("st1", ExecType.NEW)[0].venue_order_id and st.lots == 100_000
    [gone] = gw.of("neverplaced1", ExecType.STATUS)
    assert (gone.status, gone.reason) == (OrderStatus.EXPIRED, RejectReason.UNKNOWN_ORDER)
    assert "51603" in gone.reason_text and not gw.core.pending


async def test_scenario_latency_and_a_lost_ack_on_the_wire(okx_sim, gw):
    """The fault plan's one-way latency holds the answer back; a lost ack leaves the order
    live on the venue and the gateway learns it from the private orders channel."""
    venue = okx_sim.venue
    bid, _ = best(okx_sim)
    venue.faults = FaultPlan({"okx": VenueFaults(latency=Latency("fixed", 60 * MS))})
    t0 = time.monotonic_ns()
    gw.place("lat1", Side.BUY, bid - 50, 100_000)
    await gw.wait(lambda: gw.of("lat1", ExecType.NEW), "NEW")
    assert time.monotonic_ns() - t0 >= 60 * MS
    venue.faults = FaultPlan({"okx": VenueFaults(ack_loss=(Chance(1.0),))})
    before = len(venue.open_orders(KEY, BTC))
    gw.place("lost1", Side.BUY, bid - 60, 100_000)
    await gw.wait(lambda: gw.of("lost1", ExecType.NEW), "NEW from the orders channel")
    assert gw.of("lost1", ExecType.NEW)[0].status is OrderStatus.NEW
    assert sum(s.out.acks_lost for s in okx_sim.front.sessions) == 1
    assert len(venue.open_orders(KEY, BTC)) == before + 1


async def test_back_to_back_places_go_out_as_one_batch_and_are_answered_per_order(okx_sim, gw):
    assert gw.core is not None
    bid, _ = best(okx_sim)
    for i in range(4):
        gw.core.place(NewOrder(f"bat{i}", "okx", BTC, Side.BUY, bid - 30 - i, 100_000))
    # 1,000 BTC: more than the account holds -> this item alone fails (51008)
    gw.core.place(NewOrder("batbig", "okx", BTC, Side.BUY, bid - 30, 100_000_000_000))
    gw.flush()
    assert gw.core.counters["batches_sent"] == 1
    await gw.wait(lambda: all(gw.of(f"bat{i}", ExecType.NEW) for i in range(4))
                  and gw.of("batbig", ExecType.REJECTED), "batch answered")
    [big] = gw.of("batbig", ExecType.REJECTED)
    assert big.reason is RejectReason.INSUFFICIENT_BALANCE and "51008" in big.reason_text
    assert not gw.core.pending
    live = {o.client_id for o in okx_sim.venue.open_orders(KEY, BTC)}
    assert {f"bat{i}" for i in range(4)} <= live and "batbig" not in live
    for i in range(4):
        assert len(gw.of(f"bat{i}", ExecType.NEW)) == 1   # the push and the answer: one NEW


async def test_back_to_back_cancels_go_out_as_one_batch_and_are_answered_per_order(okx_sim, gw):
    """A requote or a kill cancels many orders at once: one `batch-cancel-orders`, by ordId
    where the order's id is known and by clOrdId where it is not; each answered on its own,
    an order the venue does not know refused alone."""
    assert gw.core is not None
    bid, _ = best(okx_sim)
    for i in range(3):
        gw.core.place(NewOrder(f"bc{i}", "okx", BTC, Side.BUY, bid - 40 - i, 100_000))
    gw.flush()
    await gw.wait(lambda: all(gw.of(f"bc{i}", ExecType.NEW) for i in range(3)), "placed")
    vid0 = gw.of("bc0", ExecType.NEW)[0].venue_order_id
    sent0 = gw.core.counters["batches_sent"]
    gw.core.cancel(CancelOrder("bc0", "okx", BTC, vid0))     # by ordId
    gw.core.cancel(CancelOrder("bc1", "okx", BTC))           # by clOrdId
    gw.core.cancel(CancelOrder("bcnever", "okx", BTC))       # unknown to the venue
    gw.core.cancel(CancelOrder("bc2", "okx", BTC))
    gw.flush()
    assert gw.core.counters["batches_sent"] == sent0 + 1
    await gw.wait(lambda: all(gw.of(f"bc{i}", ExecType.CANCELED) for i in range(3))
                  and gw.of("bcnever", ExecType.CANCEL_REJECTED), "batch cancel answered")
    [never] = gw.of("bcnever", ExecType.CANCEL_REJECTED)
    assert never.reason is RejectReason.UNKNOWN_ORDER
    assert not gw.core.pending and okx_sim.venue.open_orders(KEY, BTC) == []
    assert not any(gw.of(f"bc{i}", ExecType.CANCEL_REJECTED) for i in range(3))


async def test_a_refused_place_among_back_to_back_places_does_not_break_the_batch(okx_sim, gw):
    """A place the codec refuses (a client id OKX cannot hold) is answered in band at the
    next pong; the run it sits in then goes out one frame per order, every other order
    still placed (this once raised KeyError out of `take`)."""
    assert gw.core is not None
    bid, _ = best(okx_sim)
    gw.core.place(NewOrder("rf0", "okx", BTC, Side.BUY, bid - 60, 100_000))
    gw.core.place(NewOrder("rf-bad", "okx", BTC, Side.BUY, bid - 60, 100_000))
    gw.core.place(NewOrder("rf1", "okx", BTC, Side.BUY, bid - 61, 100_000))
    gw.flush()
    await gw.wait(lambda: gw.of("rf0", ExecType.NEW) and gw.of("rf1", ExecType.NEW)
                  and gw.of("rf-bad", ExecType.REJECTED), "all answered")
    assert not gw.core.pending
