"""EngineCore: the decision chain strategy -> RMS -> OMS and what it sends, on fabricated books
and execution reports (the process loop around it is exercised by the system tests)."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from engine.core import EngineCore
from feeds.sim.instruments import listed
from pipeline.config import parse_config
from pipeline.messages import (
    CancelAll,
    CancelOrder,
    ExecReport,
    ExecType,
    GatewayStatus,
    Heartbeat,
    InstrumentInfo,
    NewOrder,
    Record,
)
from pipeline.model import OrderStatus, RejectReason, Side, TimeInForce

T0 = 1_800_000_000_000_000_000


def _config(**mm):
    return parse_config({
        "exchanges": {"binance": {"enabled": False},
                      "okx": {"symbols": ["BTC/USDT"]},
                      "gate": {"symbols": ["BTC/USDT"]}},
        "strategy": {"market_making": {"spread_bps": 4, "layers": 1, **mm}},
        "risk": {"max_orders_per_second": 1000},
        "system": {"max_orders_per_second": 1000}})


def _slot(mid: float, tick: float, ts: int, ok: bool = True):
    bids = np.array([[mid - tick * (k + 1), 0.5] for k in range(20)])
    asks = np.array([[mid + tick * (k + 1), 0.5] for k in range(20)])
    return SimpleNamespace(bids=bids, asks=asks, ok=ok, ts_recv=ts)


def _core(up: tuple[str, ...] = ("okx", "gate"), **mm) -> EngineCore:
    core = EngineCore(_config(**mm), 1_700_000_000_000)
    for v in ("okx", "gate"):
        for i in listed(v, ["BTC/USDT"]):
            core.on_message(InstrumentInfo.of(i), T0)
    assert core.complete()
    core.start()
    for v in up:
        core.on_message(GatewayStatus(v, "reconciled", "", T0), T0)
    core.on_book("okx", 0, _slot(65000.0, 0.1, T0), T0)
    core.on_book("gate", 0, _slot(65000.0, 0.1, T0), T0)
    return core


def _orders(out, venue):
    return [m for m in out.get(venue, []) if isinstance(m, NewOrder)]


def _ack(o: NewOrder, status=OrderStatus.NEW, **kw) -> ExecReport:
    fields = {"venue": o.venue, "symbol": o.symbol, "client_id": o.client_id,
              "venue_order_id": "V" + o.client_id, "exec_type": ExecType.NEW, "status": status,
              "side": o.side, "price_ticks": o.price_ticks, "lots": o.lots,
              "ts_recv": T0 + 2_000_000, "ts_sent": T0 + 1_000_000, "ts_tick_recv": T0}
    fields.update(kw)
    return ExecReport(**fields)


def test_nothing_trades_before_the_instruments_are_known() -> None:
    core = EngineCore(_config(), 1)
    core.start()
    assert not core.trading
    core.requote(T0)
    assert core.take() == ({}, [])


def test_two_sided_post_only_quotes_around_fair_on_every_venue_that_is_up() -> None:
    core = _core(up=("gate",))
    core.requote(T0, {("gate", "BTC/USDT")})
    out, _ = core.take()
    assert "okx" not in out  # gateway not reconciled yet: no orders there
    orders = _orders(out, "gate")
    assert {o.side for o in orders} == {Side.BUY, Side.SELL}
    inst = core.instruments[("gate", "BTC/USDT")]
    for o in orders:
        assert o.tif is TimeInForce.POST_ONLY
        assert o.ts_tick_recv == 0  # no tick has been received yet: nothing to stamp
        px = float(inst.ticks_to_price(o.price_ticks))
        assert 0 < abs(px - 65000.0) / 65000.0 * 1e4 < 100  # inside the collar
        if o.side is Side.BUY:
            assert px < 65000.0
        else:
            assert px > 65000.0


def test_a_quiet_market_does_not_churn_orders() -> None:
    core = _core()
    core.requote(T0)
    first, _ = core.take()
    for o in _orders(first, "gate") + _orders(first, "okx"):
        core.on_report(_ack(o), T0)
    core.requote(T0 + 1_000_000_000)
    again, _ = core.take()
    assert _orders(again, "gate") == [] and not any(
        isinstance(m, CancelOrder) for m in again.get("gate", []))


def test_fills_move_the_portfolio_exactly_and_duplicates_are_ignored() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    buy = next(o for o in _orders(out, "gate") if o.side is Side.BUY)
    core.on_report(_ack(buy), T0)
    fill = _ack(buy, status=OrderStatus.PARTIALLY_FILLED, exec_type=ExecType.TRADE,
                filled_lots=400, last_lots=400, last_price_ticks=buy.price_ticks,
                fee=Decimal("0.052"), fee_asset="USDT", trade_id="T1", is_maker=True)
    core.on_report(fill, T0)
    core.on_report(fill, T0)  # the same trade again (response + push): counted once
    inst = core.instruments[("gate", "BTC/USDT")]
    assert core.portfolio.position_qty("gate", "BTC/USDT") == inst.lots_to_qty(400)
    assert core.stats.fills == 1
    assert core.portfolio.fees() == Decimal("0.052")
    assert Decimal(core.summary()["volume"]) == inst.ticks_to_price(buy.price_ticks) * \
        inst.lots_to_qty(400)


def test_latency_stamps_feed_the_histograms() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    core.on_report(_ack(_orders(out, "gate")[0]), T0)
    s = core.summary()
    assert s["order_ack_us"]["count"] == 1 and 900 <= s["order_ack_us"]["p50"] <= 1100
    assert s["t2o_us"]["count"] == 1 and 900 <= s["t2o_us"]["p50"] <= 1100


def test_an_orphan_found_at_the_venue_is_cancelled() -> None:
    core = _core()
    core.on_report(ExecReport("gate", "BTC/USDT", "t-someoneelse", "999", ExecType.STATUS,
                              OrderStatus.NEW, Side.SELL, 650500, 10), T0)
    out, _ = core.take()
    assert next(m for m in out["gate"] if isinstance(m, CancelOrder)).venue_order_id == "999"
    assert core.stats.orphans_cancelled == 1


def test_kill_cancels_everywhere_then_confirms_zero_open() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    placed = _orders(out, "gate") + _orders(out, "okx")
    for o in placed:
        core.on_report(_ack(o), T0)
    core.on_command("kill", "test", T0)
    out, recs = core.take()
    assert {type(m) for v in ("okx", "gate") for m in out[v]} >= {CancelAll}
    core.requote(T0 + 1)
    out, _ = core.take()
    assert not any(isinstance(m, NewOrder) for v in out for m in out[v])  # HALTED: nothing new
    for o in placed:
        core.on_report(_ack(o, status=OrderStatus.CANCELED, exec_type=ExecType.CANCELED), T0)
    core.on_timer(T0 + 2)
    _, recs = core.take()
    kinds = [r.body["kind"] for r in recs if isinstance(r, Record) and r.kind == "risk"]
    assert "flat_confirmed" in kinds and core.oms.n_open() == 0


def test_the_venue_budget_paces_new_orders() -> None:
    core = _core()
    core.on_message(GatewayStatus("gate", "budget", "1.0/1", T0), T0)
    core.requote(T0)
    out, _ = core.take()
    assert len(_orders(out, "gate")) == 1 and len(_orders(out, "okx")) == 2
    assert core.paced >= 1


def test_gateway_down_stops_new_orders_there() -> None:
    core = _core()
    core.on_message(GatewayStatus("okx", "down", "socket closed", T0), T0)
    core.requote(T0)
    out, _ = core.take()
    assert _orders(out, "okx") == [] and len(_orders(out, "gate")) == 2


def test_timer_sends_heartbeats_and_queries_stuck_orders() -> None:
    core = _core()
    core.requote(T0)
    core.take()
    core.on_timer(T0 + 4_000_000_000)
    out, _ = core.take()
    assert any(isinstance(m, Heartbeat) for m in out["gate"])
    queries = [m for m in out["gate"] if getattr(m, "name", "") == "status"]
    assert len(queries) == 2 and all("|" in q.arg for q in queries)


@pytest.mark.parametrize("reason", [RejectReason.POST_ONLY_WOULD_CROSS,
                                    RejectReason.INSUFFICIENT_BALANCE])
def test_venue_rejects_are_counted_by_reason(reason) -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    o = _orders(out, "gate")[0]
    core.on_report(_ack(o, exec_type=ExecType.REJECTED, status=OrderStatus.REJECTED,
                        reason=reason), T0)
    assert core.summary()["rejects_by_reason"] == {reason.name: 1}
    assert core.oms.get(o.client_id).status is OrderStatus.REJECTED


def test_after_a_reconnect_orders_the_venue_no_longer_lists_are_queried() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    placed = _orders(out, "gate")
    for o in placed:
        core.on_report(_ack(o), T0)
    core.on_message(GatewayStatus("gate", "down", "killed", T0), T0)
    core.on_message(GatewayStatus("gate", "up", "", T0), T0)
    still = placed[0]
    core.on_report(_ack(still, exec_type=ExecType.STATUS), T0)
    core.on_message(GatewayStatus("gate", "reconciled", "1 open", T0), T0)
    out, _ = core.take()
    queried = {m.arg.split("|")[1] for m in out.get("gate", []) if getattr(m, "name", "") == "status"}
    assert queried == {o.client_id for o in placed[1:]}
    assert core.stats.reconcile_queries == len(placed) - 1


def test_operator_params_rebuild_the_strategy_and_keep_the_inventory() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    buy = next(o for o in _orders(out, "gate") if o.side is Side.BUY)
    core.on_report(_ack(buy), T0)
    core.on_report(_ack(buy, status=OrderStatus.FILLED, exec_type=ExecType.TRADE,
                        filled_lots=buy.lots, last_lots=buy.lots,
                        last_price_ticks=buy.price_ticks, trade_id="T9"), T0)
    before = core.strategy.position_qty("BTC/USDT")
    core.on_command("params", '{"spread_bps": 20}', T0)
    assert core.config.strategy.market_making.spread_bps == 20
    assert core.strategy.position_qty("BTC/USDT") == before != 0
    core.on_command("params", '{"spread_bps": -1}', T0)   # invalid: refused, nothing changes
    assert core.config.strategy.market_making.spread_bps == 20
    _, recs = core.take()
    assert [r.body["kind"] for r in recs if r.kind == "risk"] == ["params", "params_refused"]


def test_operator_limits_replace_the_rms_and_keep_its_state() -> None:
    core = _core()
    core.on_command("halt", "test", T0)
    core.on_command("limits", '{"max_open_orders": 3}', T0)
    assert core.rms.risk.max_open_orders == 3
    assert core.rms.state.name == "HALTED"  # state carried over
    core.on_command("limits", '{"max_open_orders": "lots"}', T0)
    assert core.rms.risk.max_open_orders == 3


def test_each_market_ships_as_soon_as_it_is_diffed_the_ticked_one_first() -> None:
    """With `ship` set (the engine process wires it to the gateway queues) a requote hands
    each market's messages over right after that market's diff, the market whose book
    ticked before any other, so the order a tick caused waits for no other venue's work."""
    core = _core()
    shipped: list[tuple[str, list[object]]] = []
    core.ship = lambda venue, msgs: shipped.append((venue, list(msgs)))
    core.requote(T0)                       # the first full requote: both markets quote
    assert [v for v, _ in shipped] == ["okx", "gate"]    # instrument order, one batch each
    assert all(_orders({v: m}, v) for v, m in shipped)
    assert core.take() == ({}, [])         # nothing left behind for the end of the step
    shipped.clear()
    # gate's book moves far: gate (ticked) is diffed and shipped before okx (drifted)
    t = T0 + 2_000_000_000                 # past refresh_interval_ms: quotes may move
    core.on_book("okx", 0, _slot(65000.0, 0.1, t - 1_000_000), t - 1_000_000)
    core.on_book("gate", 0, _slot(65650.0, 0.1, t), t)
    core.requote(t, {("gate", "BTC/USDT")})
    assert [v for v, _ in shipped] == ["gate", "okx"]
    gate_msgs = shipped[0][1]
    assert any(isinstance(m, CancelOrder) for m in gate_msgs)
    assert any(isinstance(m, NewOrder) for m in gate_msgs)


def test_without_ship_everything_waits_for_take() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    assert set(out) == {"okx", "gate"} and _orders(out, "okx") and _orders(out, "gate")
