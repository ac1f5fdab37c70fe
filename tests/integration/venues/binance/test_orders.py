"""The binance order path end to end on loopback: GatewayCore + the binance adapter over a real
WS API connection to the simulated venue (signed frames verified by the venue's codec), with
the user-data stream subscribed on the same connection."""
from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

import aiohttp
import pytest

from feeds.binance.adapter import make_gateway_adapter
from feeds.runner import HttpStatusError, fetch_json
from feeds.sim.faults import MS, Chance, FaultPlan, Latency, VenueFaults
from feeds.sim.venue import CROWD
from pipeline.marketdata import Control
from pipeline.messages import CancelOrder, ExecType, GatewayStatus, NewOrder
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce

from .conftest import KEY, MID, SECRET, BinanceSim, GatewayHarness, crowd_order, load_instruments

BTC = "BTC/USDT"


def order(cid: str, side: Side = Side.BUY, ticks: int = MID[BTC] - 500, lots: int = 100,
          tif: TimeInForce = TimeInForce.GTC, symbol: str = BTC) -> NewOrder:
    return NewOrder(cid, "binance", symbol, side, ticks, lots, OrderType.LIMIT, tif)


async def test_place_ack_partial_fill_fill(gateway: GatewayHarness) -> None:
    venue = gateway.sim.venue
    px = MID[BTC] - 5  # inside the spread: ours is the best bid
    gateway.send(order("mm-fill-1", ticks=px, lots=100))
    await gateway.wait(lambda: any(r.exec_type is ExecType.NEW for r in gateway.of("mm-fill-1")),
                       "NEW")
    [new] = gateway.of("mm-fill-1")
    assert (new.status, new.price_ticks, new.lots) == (OrderStatus.NEW, px, 100)
    assert new.venue_order_id.isdigit() and new.ts_sent > 0
    crowd_order(venue, BTC, Side.SELL, px, 40, TimeInForce.IOC)   # the crowd takes 40 lots
    await gateway.wait(lambda: len(gateway.of("mm-fill-1")) >= 2, "partial fill")
    part = gateway.of("mm-fill-1")[1]
    assert (part.exec_type, part.status) == (ExecType.TRADE, OrderStatus.PARTIALLY_FILLED)
    assert (part.last_lots, part.filled_lots, part.last_price_ticks) == (40, 40, px)
    assert part.is_maker and part.fee_asset == "BTC"
    assert part.fee == Decimal("0.0004") * Decimal("0.001")  # 40 lots of 0.00001 BTC, 0.1 %
    crowd_order(venue, BTC, Side.SELL, px - 100, 60, TimeInForce.IOC)
    await gateway.wait(lambda: gateway.of("mm-fill-1")[-1].status is OrderStatus.FILLED, "fill")
    reps = gateway.of("mm-fill-1")
    assert [r.exec_type for r in reps] == [ExecType.NEW, ExecType.TRADE, ExecType.TRADE]
    last = reps[-1]
    assert (last.last_lots, last.filled_lots, last.last_price_ticks) == (60, 100, px)
    assert last.trade_id and last.trade_id != part.trade_id
    assert not venue.open_orders(KEY, BTC)
    # the account moved by exactly the fills
    bal = venue.accounts.balance(KEY, "BTC")
    assert bal.available == Decimal(20) + Decimal("0.001") * (1 - Decimal("0.001"))


async def test_cancel_reports_canceled_once(gateway: GatewayHarness) -> None:
    gateway.send(order("mm-cx-1"))
    await gateway.wait(lambda: bool(gateway.of("mm-cx-1")), "NEW")
    gateway.send(CancelOrder("mm-cx-1", "binance", BTC))
    await gateway.wait(lambda: gateway.of("mm-cx-1")[-1].exec_type is ExecType.CANCELED,
                       "CANCELED")
    # a later frame proves nothing else for this order was in flight
    gateway.send(order("mm-cx-2"))
    await gateway.wait(lambda: bool(gateway.of("mm-cx-2")), "second NEW")
    reps = gateway.of("mm-cx-1")
    assert [r.exec_type for r in reps] == [ExecType.NEW, ExecType.CANCELED]
    assert reps[-1].status is OrderStatus.CANCELED and reps[-1].lots == 100
    assert not gateway.core.pending  # every request was answered


async def test_post_only_that_would_cross_is_rejected(gateway: GatewayHarness) -> None:
    best_ask = gateway.sim.venue.engines[BTC].best()[1][0]
    gateway.send(order("mm-po-1", ticks=best_ask, tif=TimeInForce.POST_ONLY))
    await gateway.wait(lambda: bool(gateway.of("mm-po-1")), "reject")
    [r] = gateway.of("mm-po-1")
    assert (r.exec_type, r.status) == (ExecType.REJECTED, OrderStatus.REJECTED)
    # -2010 carries several rejects; its documented message names this one
    assert r.reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert r.reason_text.startswith("-2010 ") and "immediately match" in r.reason_text
    assert not gateway.sim.venue.open_orders(KEY)


async def test_insufficient_balance_is_rejected(gateway: GatewayHarness) -> None:
    gateway.send(order("mm-big-1", lots=10_000_000))   # 100 BTC at 64995 > 1M USDT
    await gateway.wait(lambda: bool(gateway.of("mm-big-1")), "reject")
    [r] = gateway.of("mm-big-1")
    assert r.exec_type is ExecType.REJECTED and r.reason_text.startswith("-2010 ")
    assert "insufficient balance" in r.reason_text
    assert r.reason is RejectReason.INSUFFICIENT_BALANCE


async def test_cancel_of_unknown_order_is_cancel_rejected(gateway: GatewayHarness) -> None:
    gateway.send(CancelOrder("never-placed", "binance", BTC))
    await gateway.wait(lambda: bool(gateway.of("never-placed")), "cancel reject")
    [r] = gateway.of("never-placed")
    assert (r.exec_type, r.reason) == (ExecType.CANCEL_REJECTED, RejectReason.UNKNOWN_ORDER)
    assert r.reason_text.startswith("-2011 ")


async def test_wrong_secret_is_an_auth_error(binance_sim: BinanceSim) -> None:
    adapter = make_gateway_adapter(None, KEY, "not-the-secret", "")
    h = GatewayHarness(binance_sim, adapter, await load_instruments(binance_sim, adapter))
    await h.start(expect_ready=False)
    try:
        await h.wait(lambda: any(isinstance(r, Control) and r.kind == "error"
                                 for r in h.records), "session refusal")
        err = next(r for r in h.records if isinstance(r, Control) and r.kind == "error")
        assert (err.detail["code"], err.detail["reason"]) == (-1022, RejectReason.AUTH)
        assert not h.ready.is_set()
        h.send(order("mm-auth-1"))
        await h.wait(lambda: bool(h.of("mm-auth-1")), "reject")
        [r] = h.of("mm-auth-1")
        assert (r.exec_type, r.reason) == (ExecType.REJECTED, RejectReason.AUTH)
    finally:
        await h.close()


async def test_unknown_api_key_is_an_auth_error(binance_sim: BinanceSim) -> None:
    adapter = make_gateway_adapter(None, "unknownKey123", SECRET, "")
    h = GatewayHarness(binance_sim, adapter, await load_instruments(binance_sim, adapter))
    await h.start(expect_ready=False)
    try:
        await h.wait(lambda: any(isinstance(r, Control) and r.kind == "error"
                                 for r in h.records), "session refusal")
        err = next(r for r in h.records if isinstance(r, Control) and r.kind == "error")
        assert (err.detail["code"], err.detail["reason"]) == (-2015, RejectReason.AUTH)
    finally:
        await h.close()


async def test_reconcile_open_orders_over_rest(gateway: GatewayHarness) -> None:
    placed = {f"mm-rec-{i}": MID[BTC] - 100 * (i + 1) for i in range(3)}
    for cid, px in placed.items():
        gateway.send(order(cid, ticks=px, lots=50 + len(cid)))
    gateway.send(order("mm-rec-eth", symbol="ETH/USDT", ticks=MID["ETH/USDT"] - 300, lots=300))
    await gateway.wait(lambda: all(gateway.of(c) for c in [*placed, "mm-rec-eth"]), "acks")
    adapter = gateway.adapter
    async with aiohttp.ClientSession() as http:
        payload = await fetch_json(http, gateway.sim.rest,
                                   adapter.open_orders_request(time.time_ns() // 1_000_000))
    reports = adapter.parse_open_orders(payload, time.time_ns())
    got = {r.client_id: r for r in reports}
    assert set(got) == {*placed, "mm-rec-eth"}, gateway.of("mm-rec-eth")
    for cid, px in placed.items():
        r = got[cid]
        assert (r.exec_type, r.status, r.symbol, r.side) == (ExecType.STATUS, OrderStatus.NEW,
                                                             BTC, Side.BUY)
        assert (r.price_ticks, r.lots, r.filled_lots) == (px, 50 + len(cid), 0)
        assert r.venue_order_id == gateway.of(cid)[0].venue_order_id
    assert got["mm-rec-eth"].symbol == "ETH/USDT"
    # the REST cancel-all sweep empties the symbol
    async with aiohttp.ClientSession() as http:
        body = await fetch_json(http, gateway.sim.rest, adapter.cancel_all_request(
            gateway.instruments[BTC], time.time_ns() // 1_000_000))
    assert {o["origClientOrderId"] for o in body} == set(placed)
    assert {o.client_id for o in gateway.sim.venue.open_orders(KEY)} == {"mm-rec-eth"}
    # a second sweep finds nothing: Binance's 400/-2011, which the adapter reads as "nothing
    # open", while another refusal (a bad signature) stays a failure
    async with aiohttp.ClientSession() as http:
        with pytest.raises(HttpStatusError) as empty:
            await fetch_json(http, gateway.sim.rest, adapter.cancel_all_request(
                gateway.instruments[BTC], time.time_ns() // 1_000_000))
        bad = adapter.cancel_all_request(gateway.instruments[BTC], time.time_ns() // 1_000_000)
        bad = dataclasses.replace(bad, params={**bad.params, "signature": "0" * 64})
        with pytest.raises(HttpStatusError) as refused:
            await fetch_json(http, gateway.sim.rest, bad)
    assert adapter.cancel_all_found_nothing(empty.value.status, empty.value.body)
    assert not adapter.cancel_all_found_nothing(refused.value.status, refused.value.body)


async def test_weight_limit_exceeded_is_rate_limited(gateway: GatewayHarness) -> None:
    front = gateway.sim.front
    used = front._weight_window("127.0.0.1").used(time.time_ns())
    front.weight_limit = used + 2          # room for two more requests this minute
    for i in range(3):
        gateway.send(order(f"mm-rl-{i}", ticks=MID[BTC] - 1000 - i))
    await gateway.wait(lambda: all(gateway.of(f"mm-rl-{i}") for i in range(3)), "answers")
    assert [gateway.of(f"mm-rl-{i}")[0].exec_type for i in range(3)] == \
        [ExecType.NEW, ExecType.NEW, ExecType.REJECTED]
    r = gateway.of("mm-rl-2")[0]
    assert r.reason is RejectReason.RATE_LIMITED and r.reason_text.startswith("-1003 ")
    assert any(isinstance(s, GatewayStatus) and s.state == "rate_limited"
               for s in gateway.reports)
    # the gateway now backs off locally without spending venue weight
    gateway.send(order("mm-rl-3"))
    [local] = gateway.of("mm-rl-3")
    assert local.reason is RejectReason.RATE_LIMITED and "gateway" in local.reason_text


async def test_order_count_limit_is_rate_limited(gateway: GatewayHarness) -> None:
    gateway.sim.front.orders_per_10s = 2
    for i in range(3):
        gateway.send(order(f"mm-oc-{i}", ticks=MID[BTC] - 2000 - i))
    await gateway.wait(lambda: all(gateway.of(f"mm-oc-{i}") for i in range(3)), "answers")
    r = gateway.of("mm-oc-2")[0]
    assert (r.exec_type, r.reason) == (ExecType.REJECTED, RejectReason.RATE_LIMITED)
    assert r.reason_text.startswith("-1015 ")


async def test_venue_rate_limits_clamp_the_gateway_budget(gateway: GatewayHarness) -> None:
    gateway.sim.front.orders_per_10s = 3
    gateway.send(order("mm-cl-0", ticks=MID[BTC] - 3000))
    gateway.send(order("mm-cl-1", ticks=MID[BTC] - 3001))
    await gateway.wait(lambda: all(gateway.of(f"mm-cl-{i}") for i in range(2)), "acks")
    # the venue said 2 of 3 are used: the bucket holds at most 1 token now
    assert gateway.core.bucket.tokens <= 1.0
    assert CROWD not in gateway.sim.front._orders


async def test_scenario_latency_and_a_lost_ack_on_the_wire(gateway: GatewayHarness) -> None:
    """The fault plan's one-way latency holds the answer back; a lost ack leaves the order
    live on the venue and the gateway learns it from the user-data stream."""
    venue = gateway.sim.venue
    venue.faults = FaultPlan({"binance": VenueFaults(latency=Latency("fixed", 60 * MS))})
    t0 = time.monotonic_ns()
    gateway.send(order("mm-lat-1"))
    await gateway.wait(lambda: bool(gateway.of("mm-lat-1")), "NEW")
    assert time.monotonic_ns() - t0 >= 60 * MS
    venue.faults = FaultPlan({"binance": VenueFaults(ack_loss=(Chance(1.0),))})
    gateway.send(order("mm-lost-1"))
    await gateway.wait(lambda: bool(gateway.of("mm-lost-1")), "NEW from the stream")
    assert gateway.of("mm-lost-1")[0].status is OrderStatus.NEW
    assert sum(c.out.acks_lost for c in gateway.sim.front.api) == 1
    assert "mm-lost-1" in {o.client_id for o in venue.open_orders(KEY, BTC)}
