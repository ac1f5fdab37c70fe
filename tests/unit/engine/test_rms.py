"""RMS: each pre-trade check with its denial reason, the trading states and the kill switch."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.oms import OMS
from engine.portfolio import Portfolio
from engine.rms import DAY_NS, GLOBAL, RMS, DenyReason, RiskEvent, TradingState
from pipeline.config import RiskConfig, SystemConfig
from pipeline.messages import ExecType, NewOrder
from pipeline.model import OrderStatus, OrderType, Side, TimeInForce
from tests.unit.engine.helpers import SYM, instruments, make_oms, report

FAIR = 6_000_000.0          # 60,000.00 USDT in 0.01 ticks
PX = 6_000_000
B, S = Side.BUY, Side.SELL
INSTS = instruments()       # binance lot 1e-5, okx 1e-8, gate 1e-4
NOW = 10**15
BIG = 1e9


class Rig:
    def __init__(self, **risk: Any) -> None:
        base: dict[str, Any] = {"max_orders_per_second": BIG}
        base.update(risk)
        sys_rate = base.pop("system_rate", BIG)
        self.rms = RMS(RiskConfig(**base), SystemConfig(max_orders_per_second=sys_rate), INSTS)
        self.oms: OMS = make_oms()
        self.pf = Portfolio()

    def order(self, side: Side = B, lots: int = 100, price: int = PX, venue: str = "binance",
              register: bool = True, symbol: str = SYM) -> NewOrder:
        if register:
            return self.oms.create(venue, symbol, side, price, lots, TimeInForce.POST_ONLY, NOW)
        return NewOrder("", venue, symbol, side, price, lots)

    def check(self, o: NewOrder, fair: float | None = FAIR, now: int = NOW) -> DenyReason | None:
        """The engine's flow: a denied order is rejected locally and never sent."""
        d = self.rms.check(o, fair, self.oms, self.pf, now)
        if d is None:
            return None
        if o.client_id:
            assert self.oms.reject_local(o.client_id, now) is not None
        return d.reason

    def fill(self, venue: str, side: Side, lots: int, price: int = PX) -> None:
        self.pf.apply_fill(venue, INSTS[(venue, SYM)], side, price, lots)


def test_an_order_within_every_limit_passes() -> None:
    r = Rig()
    assert r.check(r.order()) is None
    assert r.rms.passed == 1 and sum(r.rms.deny_counts.values()) == 0


def test_max_order_size() -> None:
    r = Rig(max_order_size=0.01)            # 1000 binance lots
    assert r.check(r.order(lots=1000)) is None
    assert r.check(r.order(lots=1001)) is DenyReason.MAX_ORDER_SIZE
    assert r.check(r.order(lots=0)) is DenyReason.MAX_ORDER_SIZE


def test_max_notional_in_exact_units() -> None:
    r = Rig(max_order_notional=600.0)       # 0.01 BTC at 60,000 is exactly 600
    assert r.check(r.order(lots=1000)) is None
    assert r.check(r.order(lots=1000, price=PX + 1)) is DenyReason.MAX_NOTIONAL


def test_price_collar_against_fair_value() -> None:
    r = Rig(price_collar_bps=100.0)         # 1% = 60,000 ticks
    assert r.check(r.order(price=PX - 60_000)) is None
    assert r.check(r.order(price=PX - 60_001)) is DenyReason.PRICE_COLLAR
    assert r.check(r.order(side=S, price=PX + 60_001)) is DenyReason.PRICE_COLLAR
    assert r.check(r.order(), fair=None) is DenyReason.PRICE_COLLAR
    assert r.check(r.order(), fair=0.0) is DenyReason.PRICE_COLLAR


def test_market_orders_are_valued_at_fair_value() -> None:
    r = Rig(max_order_notional=600.0)
    o = NewOrder("", "binance", SYM, B, 0, 1000, OrderType.MARKET, TimeInForce.IOC)
    assert r.check(o) is None
    assert r.check(o, fair=FAIR + 1) is DenyReason.MAX_NOTIONAL


def test_max_position_per_venue_counts_position_and_open_orders_on_that_side() -> None:
    r = Rig(max_position_per_venue=0.02, max_order_size=0.02,   # 2000 binance lots
            max_order_notional=BIG)
    r.fill("binance", B, 1000)
    assert r.check(r.order(lots=600)) is None                   # 1000 + 600 open
    assert r.check(r.order(lots=400)) is None                   # + 400 = 2000: at the limit
    assert r.check(r.order(lots=1)) is DenyReason.MAX_POSITION_VENUE
    # the sell side is measured on its own: long 1000 - 2000 sold = -1000
    assert r.check(r.order(side=S, lots=2000, price=PX + 1)) is None
    assert r.check(r.order(side=S, lots=1001, price=PX + 1)) is DenyReason.MAX_POSITION_VENUE


def test_max_position_total_across_venues_in_a_common_unit() -> None:
    r = Rig(max_position_per_venue=0.05, max_position_total=0.03, max_order_size=0.05,
            max_order_notional=BIG)
    r.fill("okx", B, 1_000_000)        # 0.01 BTC on okx (lot 1e-8)
    r.fill("gate", B, 100)             # 0.01 BTC on gate (lot 1e-4)
    assert r.check(r.order(lots=1000)) is None                  # 0.01 more on binance: 0.03
    assert r.check(r.order(lots=1)) is DenyReason.MAX_POSITION_TOTAL
    assert r.check(r.order(venue="gate", side=S, lots=500, price=PX + 1)) is None


def test_max_open_orders_per_venue() -> None:
    r = Rig(max_open_orders=2)
    assert r.check(r.order()) is None
    assert r.check(r.order(side=S, price=PX + 1)) is None
    assert r.check(r.order(side=S, price=PX + 2)) is DenyReason.MAX_OPEN_ORDERS
    assert r.check(r.order(venue="okx")) is None


def test_order_rate_token_bucket_uses_the_lower_limit_and_the_injected_clock() -> None:
    r = Rig(max_orders_per_second=50.0, system_rate=5.0)
    assert r.rms.rate == 5.0
    results = [r.check(r.order(lots=1, register=False)) for _ in range(6)]
    assert results == [None] * 5 + [DenyReason.ORDER_RATE]
    assert r.check(r.order(lots=1, register=False), now=NOW + 199_999_999) is \
        DenyReason.ORDER_RATE
    assert r.check(r.order(lots=1, register=False), now=NOW + 200_000_000) is None


def test_a_denied_order_spends_no_rate_token() -> None:
    r = Rig(max_orders_per_second=1.0)
    assert r.check(r.order(lots=10**6)) is DenyReason.MAX_ORDER_SIZE
    assert r.check(r.order()) is None


def test_self_trade_against_our_own_resting_order() -> None:
    r = Rig()
    ask = r.order(side=S, price=PX + 10)
    assert r.check(ask) is None
    assert r.check(r.order(price=PX + 10)) is DenyReason.SELF_TRADE
    assert r.check(r.order(price=PX + 9)) is None
    assert r.check(r.order(venue="okx", price=PX + 10)) is None   # other venue: no match
    r.oms.on_report(report(ask, ExecType.CANCELED, OrderStatus.CANCELED))
    assert r.check(r.order(price=PX + 10)) is None


def test_self_trade_uses_our_best_own_price_across_several_resting_orders() -> None:
    r = Rig()
    a1, a2 = r.order(side=S, price=PX + 10), r.order(side=S, price=PX + 10)
    a3 = r.order(side=S, price=PX + 30)
    assert r.oms.best_own_price("binance", SYM, S) == PX + 10
    r.oms.on_report(report(a1, ExecType.CANCELED, OrderStatus.CANCELED))
    assert r.check(r.order(price=PX + 10)) is DenyReason.SELF_TRADE   # a2 still rests there
    r.oms.on_report(report(a2, ExecType.CANCELED, OrderStatus.CANCELED))
    assert r.oms.best_own_price("binance", SYM, S) == PX + 30
    assert r.check(r.order(price=PX + 29)) is None
    assert r.check(r.order(price=PX + 30)) is DenyReason.SELF_TRADE
    bid = r.order(price=PX - 5)
    assert r.check(r.order(side=S, price=PX - 5)) is DenyReason.SELF_TRADE
    r.oms.on_report(report(a3, ExecType.CANCELED, OrderStatus.CANCELED))
    r.oms.on_report(report(bid, ExecType.CANCELED, OrderStatus.CANCELED))
    assert r.oms.best_own_price("binance", SYM, S) is None
    assert not r.oms.open_prices[("binance", SYM, S)]


def test_balance_view_is_optional_and_checked_per_side() -> None:
    r = Rig()
    assert r.check(r.order(lots=1000)) is None                    # no view: not checked
    r.rms.set_balance("binance", "USDT", Decimal(100))
    assert r.check(r.order(lots=166)) is None                     # 99.6 USDT
    assert r.check(r.order(lots=167)) is DenyReason.BALANCE       # 100.2 USDT
    r.rms.set_balance("binance", "BTC", Decimal("0.001"))
    assert r.check(r.order(side=S, lots=100, price=PX + 1)) is None
    assert r.check(r.order(side=S, lots=101, price=PX + 1)) is DenyReason.BALANCE


def test_unknown_instrument() -> None:
    r = Rig()
    assert r.check(r.order(symbol="ETH/USDT")) is DenyReason.UNKNOWN_INSTRUMENT


def test_registered_or_not_the_order_is_counted_once() -> None:
    for register in (True, False):
        r = Rig(max_position_per_venue=0.001, max_open_orders=1)  # 100 binance lots
        assert r.check(r.order(lots=100, register=register)) is None, register
        r2 = Rig(max_position_per_venue=0.001)
        assert r2.check(r2.order(lots=101, register=register)) is \
            DenyReason.MAX_POSITION_VENUE


def test_denial_record_and_counts() -> None:
    r = Rig(max_order_size=0.01)
    o = r.order(lots=5000)
    d = r.rms.check(o, FAIR, r.oms, r.pf, NOW + 5)
    assert d is not None and d.reason is DenyReason.MAX_ORDER_SIZE
    assert (d.client_id, d.venue, d.symbol, d.side, d.ts) == (o.client_id, "binance", SYM, B,
                                                              NOW + 5)
    assert "5000" in d.detail
    assert r.rms.denials[-1] is d and r.rms.deny_counts[DenyReason.MAX_ORDER_SIZE] == 1
    assert r.rms.snapshot()["denials"] == {"MAX_ORDER_SIZE": 1}
    assert r.oms.reject_local(o.client_id, NOW) is not None


# -- states -------------------------------------------------------------------------------------
def test_halt_denies_everything_and_resume_restores() -> None:
    r = Rig()
    ev = r.rms.halt("operator", NOW)
    assert ev is not None and ev.new is TradingState.HALTED and not ev.cancel_all
    assert r.check(r.order()) is DenyReason.HALTED
    r.rms.resume("operator", NOW)
    assert r.check(r.order()) is None


def test_kill_halts_asks_to_cancel_everywhere_and_confirms_zero_open() -> None:
    r = Rig()
    o = r.order()
    ev = r.rms.kill("manual", NOW)
    assert ev.scope == GLOBAL and ev.new is TradingState.HALTED and ev.cancel_all
    assert r.check(r.order()) is DenyReason.HALTED
    for v in r.rms.venues:
        r.oms.request_cancel_all(v, NOW)
    assert r.rms.confirm_flat(r.oms.n_open(), NOW) is None        # one still open
    r.oms.on_report(report(o, ExecType.CANCELED, OrderStatus.CANCELED))
    done = r.rms.confirm_flat(r.oms.n_open(), NOW + 1)
    assert done is not None and done.kind == "flat_confirmed"
    assert r.rms.confirm_flat(0, NOW + 2) is None                 # once
    assert [e.kind for e in r.rms.events] == ["state", "flat_confirmed"]


def test_reducing_lets_only_orders_that_shrink_the_aggregate_position() -> None:
    r = Rig()
    r.fill("binance", B, 500)
    r.fill("okx", B, 500_000)          # long 0.01 in total
    r.rms.reduce("manual", NOW)
    assert r.check(r.order(lots=1)) is DenyReason.REDUCING
    assert r.check(r.order(side=S, lots=500, price=PX + 1)) is None
    assert r.check(r.order(side=S, venue="okx", lots=500_000, price=PX + 1)) is None
    # both open sells would take the aggregate to zero: one more lot would flip it
    assert r.check(r.order(side=S, lots=1, price=PX + 1)) is DenyReason.REDUCING


def test_trailing_drawdown_reduces_and_daily_loss_kills() -> None:
    r = Rig(trailing_drawdown_limit=250.0, daily_loss_limit=500.0)
    day0 = 20_000 * DAY_NS
    assert r.rms.on_equity(day0, Decimal(0)) == []
    assert r.rms.on_equity(day0 + 1, Decimal(300)) == []           # new peak, up on the day
    (ev,) = r.rms.on_equity(day0 + 2, Decimal(50))                  # 250 off the peak
    assert ev.new is TradingState.REDUCING and "drawdown" in ev.reason
    assert r.rms.on_equity(day0 + 3, Decimal(-100)) == []           # already reducing
    (kill,) = r.rms.on_equity(day0 + 4, Decimal(-500))              # 500 down on the day
    assert kill.new is TradingState.HALTED and kill.cancel_all and r.rms.kill_pending
    assert r.rms.on_equity(day0 + 5, Decimal(-900)) == []           # halted stays halted


def test_a_new_day_resets_the_daily_baseline_but_not_a_halt() -> None:
    r = Rig(trailing_drawdown_limit=10_000.0, daily_loss_limit=500.0)
    day0 = 20_000 * DAY_NS
    r.rms.on_equity(day0, Decimal(0))
    assert r.rms.on_equity(day0 + DAY_NS - 1, Decimal(-499)) == []
    assert r.rms.on_equity(day0 + DAY_NS, Decimal(-600)) == []      # new day: baseline -600
    assert r.rms.day_start_equity == Decimal(-600)
    (kill,) = r.rms.on_equity(day0 + DAY_NS + 1, Decimal(-1100))
    assert kill.new is TradingState.HALTED
    assert r.rms.on_equity(2 * DAY_NS + day0, Decimal(-1100)) == []
    assert r.rms.state is TradingState.HALTED


def test_resume_restarts_the_drawdown_peak_from_the_last_equity() -> None:
    r = Rig(trailing_drawdown_limit=100.0)
    r.rms.on_equity(NOW, Decimal(500))
    r.rms.on_equity(NOW + 1, Decimal(400))
    assert r.rms.state is TradingState.REDUCING
    r.rms.resume("ok", NOW + 2)
    assert r.rms.on_equity(NOW + 3, Decimal(350)) == []
    assert r.rms.state is TradingState.ACTIVE


def test_venue_down_halts_that_venue_and_recovery_restores_it() -> None:
    r = Rig()
    (ev,) = r.rms.on_venue_down("okx", NOW)
    assert (ev.scope, ev.new, ev.cancel_all) == ("okx", TradingState.HALTED, True)
    assert r.check(r.order(venue="okx")) is DenyReason.HALTED
    assert r.check(r.order()) is None
    up = r.rms.on_venue_up("okx", NOW + 1)
    assert up is not None and up.new is TradingState.ACTIVE
    assert r.check(r.order(venue="okx")) is None


def test_stale_feed_puts_that_venue_in_reducing_on_its_own_position() -> None:
    r = Rig()
    r.fill("gate", S, 10)
    r.rms.on_feed_stale("gate", NOW)
    assert r.rms.venue_state["gate"] is TradingState.REDUCING
    assert r.check(r.order(venue="gate", side=S, lots=1, price=PX + 1)) is DenyReason.REDUCING
    assert r.check(r.order(venue="gate", lots=10)) is None
    assert r.check(r.order()) is None                               # binance unaffected
    r.rms.on_feed_ok("gate", NOW + 1)
    assert r.rms.venue_state["gate"] is TradingState.ACTIVE


@pytest.mark.parametrize("hook", ["on_venue_down", "on_feed_stale"])
def test_losing_every_venue_or_feed_kills(hook: str) -> None:
    r = Rig()
    events: list[RiskEvent] = []
    for v in ("binance", "okx", "gate"):
        events += getattr(r.rms, hook)(v, NOW)
    assert events[-1].scope == GLOBAL and events[-1].cancel_all
    assert r.rms.state is TradingState.HALTED and r.rms.kill_pending
