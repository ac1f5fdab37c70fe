"""Risk management: the pre-trade gate, the trading state machine and the kill switch.

Called by the engine loop (engine/main.py): `check` for every order between the OMS creating
it and the gateway queue (a `Denial` means: `oms.reject_local` and do not send); `on_equity`
with the portfolio's PnL on a timer; `on_venue_down` / `on_feed_stale` (and their `_up` / `_ok`
recoveries) from gateway status and the book staleness check; `kill` / `halt` / `resume` from
supervisor commands (CLI, control API). Every refusal is an explicit `Denial` record with a
typed reason, counted per reason; every state change is a `RiskEvent`, kept for the writer.

Limits come from `[risk]` (pipeline/config.py RiskConfig) and are converted once, per
instrument, into integer lots and ticks*lots, so the hot path compares ints only:
  * size and notional of the order;
  * price collar: |price - fair| / fair <= price_collar_bps;
  * positions, worst case: the current position plus every open order on the same side
    (pending ones included: they may fill) plus this order, per venue (in that venue's lots)
    and across venues (in a common unit per symbol: the finest lot of its venues);
  * open orders per venue (`max_open_orders`), the order rate (token bucket at the lower of
    `risk.max_orders_per_second` and `system.max_orders_per_second`; a token is spent only by
    an order that passed everything else), self-trade (the order would cross our own resting
    order on that venue and symbol), and an optional balances view.
States: ACTIVE; REDUCING (only orders that shrink |position| pass: the aggregate one when the
whole system reduces, the venue's when one venue does); HALTED (nothing passes). A trailing
drawdown breach moves ACTIVE -> REDUCING; a daily loss breach is a kill (HALTED, cancel
everywhere, then `confirm_flat` once the OMS shows zero open orders). Only `resume` leaves a
global HALTED; venue-level states recover by themselves when the venue or feed comes back.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import IntEnum
from importlib.util import find_spec
from typing import TYPE_CHECKING

from pipeline.config import RiskConfig, SystemConfig
from pipeline.hot_path import PURE_ENV, log_once, pure_requested
from pipeline.messages import NewOrder
from pipeline.model import Instrument, OrderType, Side

if TYPE_CHECKING:
    from engine.oms import OMS
    from engine.portfolio import Portfolio

log = logging.getLogger(__name__)

DAY_NS = 86_400 * 1_000_000_000


class DenyReason(IntEnum):
    MAX_ORDER_SIZE = 1
    MAX_NOTIONAL = 2
    PRICE_COLLAR = 3
    MAX_POSITION_VENUE = 4
    MAX_POSITION_TOTAL = 5
    MAX_OPEN_ORDERS = 6
    ORDER_RATE = 7
    SELF_TRADE = 8
    BALANCE = 9
    HALTED = 10
    REDUCING = 11
    UNKNOWN_INSTRUMENT = 12


class TradingState(IntEnum):
    ACTIVE = 0
    REDUCING = 1
    HALTED = 2


_ACTIVE, _REDUCING, _HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
_MARKET = OrderType.MARKET
GLOBAL = "*"  # scope of a system-wide state (venue scopes use the venue name)


@dataclass(frozen=True, slots=True)
class Denial:
    reason: DenyReason
    client_id: str
    venue: str
    symbol: str
    side: Side
    detail: str
    ts: int


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A state change (`kind="state"`) or the kill's confirmation (`kind="flat_confirmed"`).
    `cancel_all`: the engine must cancel every open order in `scope` (GLOBAL = all venues)."""

    ts: int
    kind: str
    scope: str
    old: TradingState
    new: TradingState
    reason: str
    cancel_all: bool = False


_PKey = tuple[str, str]          # (venue, symbol): a portfolio position
_OKey = tuple[str, str, Side]    # (venue, symbol, side): the OMS's open lots


class _Limits:
    """One instrument's limits in its own integer units."""

    __slots__ = ("agg", "max_lots", "max_notional", "max_pos_lots", "max_total", "mult", "unit")

    def __init__(self, inst: Instrument, risk: RiskConfig, common_unit: Decimal) -> None:
        self.unit = inst.tick_size * inst.lot_size
        self.max_lots = _floor(_dec(risk.max_order_size) / inst.lot_size)
        self.max_notional = _floor(_dec(risk.max_order_notional) / self.unit)   # ticks*lots
        self.max_pos_lots = _floor(_dec(risk.max_position_per_venue) / inst.lot_size)
        self.mult = int(inst.lot_size / common_unit)                            # lots -> common
        self.max_total = _floor(_dec(risk.max_position_total) / common_unit)
        # per side: this venue's (position key, open-lots key, mult) and the same for every
        # other venue of the symbol, filled in by RMS once all venues are known
        self.agg: dict[Side, tuple[_PKey, _OKey, int, tuple[tuple[_PKey, _OKey, int], ...]]] = {}


def _dec(x: float) -> Decimal:
    return Decimal(str(x))


def _decimals(d: Decimal) -> int:
    """Number of decimal places of a finite Decimal (0.00001 -> 5, 10 -> 0)."""
    e = d.normalize().as_tuple().exponent
    assert isinstance(e, int)
    return max(0, -e)


def _floor(d: Decimal) -> int:
    return int(d.to_integral_value(rounding=ROUND_FLOOR))


class RMS:
    """Pre-trade risk for the instruments it is given ({(venue, symbol): Instrument})."""

    def __init__(self, risk: RiskConfig, system: SystemConfig,
                 instruments: dict[tuple[str, str], Instrument], keep_denials: int = 10_000,
                 ) -> None:
        log_hot_path()   # the engine makes its RMS at start: say which check runs
        self.risk = risk
        self.instruments = instruments
        self.venues = sorted({v for v, _ in instruments})
        # common position unit per symbol: the finest lot among its venues (10**-e)
        self._limits: dict[tuple[str, str], _Limits] = {}
        for sym in sorted({s for _, s in instruments}):
            insts = [(v, i) for (v, s), i in sorted(instruments.items()) if s == sym]
            exp = max(_decimals(i.lot_size) for _, i in insts)
            unit = Decimal(1).scaleb(-exp)
            for v, i in insts:
                self._limits[(v, sym)] = _Limits(i, risk, unit)
            for v, _ in insts:
                self._limits[(v, sym)].agg = {
                    side: ((v, sym), (v, sym, side), self._limits[(v, sym)].mult,
                           tuple(((w, sym), (w, sym, side), self._limits[(w, sym)].mult)
                                 for w, _ in insts if w != v)) for side in Side}
        self._collar_bps = risk.price_collar_bps
        self._max_open = risk.max_open_orders
        # order-rate token bucket (tokens are orders); burst = one second's worth, at least 1
        self.rate = min(risk.max_orders_per_second, system.max_orders_per_second)
        self._rate_per_ns = self.rate / 1e9
        self._burst = max(1.0, self.rate)
        self._tokens = self._burst
        self._last_ns = -(1 << 62)  # the bucket starts full
        # balances view: (venue, symbol, side) -> capacity in ticks*lots (buy) or lots (sell)
        self.balances: dict[tuple[str, str], Decimal] = {}
        self._capacity: dict[tuple[str, str, int], int] = {}
        # states
        self.state = TradingState.ACTIVE
        self.venue_state: dict[str, TradingState] = {v: TradingState.ACTIVE for v in self.venues}
        self._venue_down: set[str] = set()
        self._feed_stale: set[str] = set()
        self.kill_pending = False
        self.events: list[RiskEvent] = []
        self._daily_loss = _dec(risk.daily_loss_limit)
        self._drawdown = _dec(risk.trailing_drawdown_limit)
        self.peak_equity: Decimal | None = None
        self.day_start_equity: Decimal | None = None
        self.last_equity: Decimal | None = None
        self._day = -1
        # denials
        self.denials: deque[Denial] = deque(maxlen=keep_denials)
        self.deny_counts: dict[DenyReason, int] = {r: 0 for r in DenyReason}
        self.passed = 0

    # -- pre-trade -----------------------------------------------------------------------------
    def check(self, order: NewOrder, fair_value_ticks: float | None, oms: OMS,
              portfolio: Portfolio, now_ns: int) -> Denial | None:
        """None if `order` may be sent, else the recorded `Denial`. `order` may already be
        registered in `oms` (created PENDING_NEW) or not yet: both are counted once."""
        venue = order.venue
        symbol = order.symbol
        state = self.state
        if state is _HALTED:
            return self._deny(DenyReason.HALTED, order, "trading halted", now_ns)
        vstate = self.venue_state.get(venue, _ACTIVE)
        if vstate is _HALTED:
            return self._deny(DenyReason.HALTED, order, f"{venue} halted", now_ns)
        key = (venue, symbol)
        lim = self._limits.get(key)
        if lim is None:
            return self._deny(DenyReason.UNKNOWN_INSTRUMENT, order, "no instrument", now_ns)
        lots = order.lots
        side = order.side
        if lots <= 0 or lots > lim.max_lots:
            return self._deny(DenyReason.MAX_ORDER_SIZE, order,
                              f"{lots} lots > max {lim.max_lots}" if lots > 0
                              else f"{lots} lots", now_ns)
        if not fair_value_ticks or fair_value_ticks <= 0:
            return self._deny(DenyReason.PRICE_COLLAR, order, "no fair value", now_ns)
        price = order.price_ticks
        if order.order_type is _MARKET:
            price = int(fair_value_ticks)
        if price * lots > lim.max_notional:
            return self._deny(DenyReason.MAX_NOTIONAL, order,
                              f"{price * lots} ticks*lots > max {lim.max_notional}", now_ns)
        if abs(price - fair_value_ticks) * 10_000.0 > self._collar_bps * fair_value_ticks:
            return self._deny(DenyReason.PRICE_COLLAR, order,
                              f"price {price} vs fair {fair_value_ticks:.2f} ticks: beyond "
                              f"{self._collar_bps} bps", now_ns)
        registered = order.client_id in oms.orders
        new_lots = 0 if registered else lots
        open_lots = oms.open_lots
        positions = portfolio.positions
        # worst case per venue and across venues (common unit), this order included once
        own_pkey, own_okey, own_mult, others = lim.agg[side]
        p = positions.get(own_pkey)
        pos = 0 if p is None else p.lots
        same_open = open_lots.get(own_okey, 0) + new_lots
        agg_pos = pos * own_mult
        agg_open = same_open * own_mult
        for pkey, okey, mult in others:
            p = positions.get(pkey)
            if p is not None:
                agg_pos += p.lots * mult
            agg_open += open_lots.get(okey, 0) * mult
        if vstate is _REDUCING and not _reduces(pos, side, same_open):
            return self._deny(DenyReason.REDUCING, order,
                              f"{venue} reducing: position {pos} lots", now_ns)
        if state is _REDUCING and not _reduces(agg_pos, side, agg_open):
            return self._deny(DenyReason.REDUCING, order,
                              f"reducing: aggregate position {agg_pos}", now_ns)
        n_open = oms.open_count.get(venue, 0) + (0 if registered else 1)
        if n_open > self._max_open:
            return self._deny(DenyReason.MAX_OPEN_ORDERS, order,
                              f"{n_open} open on {venue} > max {self._max_open}", now_ns)
        worst = pos + side * same_open
        if worst > lim.max_pos_lots or -worst > lim.max_pos_lots:
            return self._deny(DenyReason.MAX_POSITION_VENUE, order,
                              f"worst case {worst} lots > max {lim.max_pos_lots}", now_ns)
        worst = agg_pos + side * agg_open
        if worst > lim.max_total or -worst > lim.max_total:
            return self._deny(DenyReason.MAX_POSITION_TOTAL, order,
                              f"worst case {worst} > max {lim.max_total} (common units)",
                              now_ns)
        # self-trade: a buy at or above our lowest open ask, a sell at or below our best bid
        opp = oms.open_prices.get((venue, symbol, -side))
        if opp:
            own = min(opp) if side > 0 else max(opp)
            if (own <= price) if side > 0 else (own >= price):
                return self._deny(DenyReason.SELF_TRADE, order,
                                  f"crosses own {'ask' if side > 0 else 'bid'} at {own}",
                                  now_ns)
        if self._capacity:
            cap = self._capacity.get((venue, symbol, side))
            need = price * lots if side > 0 else lots
            if cap is not None and need > cap:
                return self._deny(DenyReason.BALANCE, order,
                                  f"needs {need} > available {cap} (units)", now_ns)
        # order-rate token bucket; the token is spent only by an order that passes
        last = self._last_ns
        tokens = self._tokens
        if now_ns > last:
            tokens += (now_ns - last) * self._rate_per_ns
            tokens = min(tokens, self._burst)
            self._last_ns = now_ns
        if tokens < 1.0:
            self._tokens = tokens
            return self._deny(DenyReason.ORDER_RATE, order, f"over {self.rate} orders/s",
                              now_ns)
        self._tokens = tokens - 1.0
        self.passed += 1
        return None

    def _deny(self, reason: DenyReason, order: NewOrder, detail: str, now_ns: int) -> Denial:
        d = Denial(reason, order.client_id, order.venue, order.symbol, order.side, detail,
                   now_ns)
        self.denials.append(d)
        self.deny_counts[reason] += 1
        return d

    # -- balances ------------------------------------------------------------------------------
    def set_balance(self, venue: str, asset: str, available: Decimal) -> None:
        """The venue's available amount of `asset` (funds of acked orders already excluded);
        from now on a buy needs its quote cost and a sell its base size within it."""
        self.balances[(venue, asset)] = available
        for (v, sym), inst in self.instruments.items():
            if v != venue:
                continue
            if inst.quote == asset:
                self._capacity[(v, sym, Side.BUY)] = _floor(available / self._limits[(v, sym)].unit)
            if inst.base == asset:
                self._capacity[(v, sym, Side.SELL)] = _floor(available / inst.lot_size)

    # -- states --------------------------------------------------------------------------------
    def _set(self, scope: str, new: TradingState, reason: str, now_ns: int,
             cancel_all: bool = False) -> RiskEvent | None:
        old = self.state if scope == GLOBAL else self.venue_state[scope]
        if old is new and not cancel_all:
            return None
        if scope == GLOBAL:
            self.state = new
        else:
            self.venue_state[scope] = new
        ev = RiskEvent(now_ns, "state", scope, old, new, reason, cancel_all)
        self.events.append(ev)
        return ev

    def kill(self, reason: str, now_ns: int) -> RiskEvent:
        """HALTED everywhere and cancel every open order; `confirm_flat` closes it."""
        self.kill_pending = True
        ev = self._set(GLOBAL, TradingState.HALTED, f"kill: {reason}", now_ns, cancel_all=True)
        assert ev is not None
        return ev

    def halt(self, reason: str, now_ns: int) -> RiskEvent | None:
        """No new orders; resting ones stay (use `kill` to pull them)."""
        return self._set(GLOBAL, TradingState.HALTED, f"halt: {reason}", now_ns)

    def reduce(self, reason: str, now_ns: int) -> RiskEvent | None:
        if self.state is TradingState.HALTED:
            return None
        return self._set(GLOBAL, TradingState.REDUCING, reason, now_ns)

    def resume(self, reason: str, now_ns: int) -> RiskEvent | None:
        """Back to ACTIVE (operator decision): the drawdown peak and the day's loss budget
        restart from the last equity, or the same breach would halt again at once."""
        self.kill_pending = False
        if self.last_equity is not None:
            self.peak_equity = self.last_equity
            self.day_start_equity = self.last_equity
        return self._set(GLOBAL, TradingState.ACTIVE, f"resume: {reason}", now_ns)

    def confirm_flat(self, n_open: int, now_ns: int) -> RiskEvent | None:
        """After a kill: once the OMS shows zero open orders, record the confirmation."""
        if not self.kill_pending or n_open:
            return None
        self.kill_pending = False
        ev = RiskEvent(now_ns, "flat_confirmed", GLOBAL, self.state, self.state,
                       "zero open orders")
        self.events.append(ev)
        return ev

    def on_equity(self, now_ns: int, equity: Decimal) -> list[RiskEvent]:
        """Feed PnL since start (realized + unrealized - fees, quote); applies the trailing
        drawdown (-> REDUCING) and the daily loss limit (-> kill). Days are UTC days of
        `now_ns`; the first equity seen in a day is its baseline."""
        out: list[RiskEvent] = []
        self.last_equity = equity
        day = now_ns // DAY_NS
        if day != self._day:
            self._day = day
            self.day_start_equity = equity
        if self.peak_equity is None or equity > self.peak_equity:
            self.peak_equity = equity
        assert self.day_start_equity is not None
        loss = self.day_start_equity - equity
        if loss >= self._daily_loss and self.state is not TradingState.HALTED:
            out.append(self.kill(f"daily loss {loss} >= {self._daily_loss}", now_ns))
            return out
        dd = self.peak_equity - equity
        if dd >= self._drawdown and self.state is TradingState.ACTIVE:
            ev = self._set(GLOBAL, TradingState.REDUCING,
                           f"trailing drawdown {dd} >= {self._drawdown}", now_ns)
            if ev is not None:
                out.append(ev)
        return out

    def _venue_eval(self, venue: str, reason: str, now_ns: int) -> RiskEvent | None:
        if venue not in self.venue_state:
            return None
        if venue in self._venue_down:
            new = TradingState.HALTED
        elif venue in self._feed_stale:
            new = TradingState.REDUCING
        else:
            new = TradingState.ACTIVE
        halting = new is TradingState.HALTED and self.venue_state[venue] is not new
        return self._set(venue, new, reason, now_ns, cancel_all=halting)

    def on_venue_down(self, venue: str, now_ns: int) -> list[RiskEvent]:
        """Order path to `venue` lost: that venue HALTED (cancel there once it is back; the
        venue's cancel-on-disconnect usually got there first). All venues lost: kill."""
        self._venue_down.add(venue)
        out = [e for e in (self._venue_eval(venue, f"{venue} down", now_ns),) if e]
        if self.venues and all(v in self._venue_down for v in self.venues) \
                and self.state is not TradingState.HALTED:
            out.append(self.kill("every venue is down", now_ns))
        return out

    def on_venue_up(self, venue: str, now_ns: int) -> RiskEvent | None:
        self._venue_down.discard(venue)
        return self._venue_eval(venue, f"{venue} up", now_ns)

    def on_feed_stale(self, venue: str, now_ns: int) -> list[RiskEvent]:
        """No fresh book from `venue` within stale_book_ms: that venue REDUCING (no fair
        value there). Every feed stale: kill."""
        self._feed_stale.add(venue)
        out = [e for e in (self._venue_eval(venue, f"{venue} feed stale", now_ns),) if e]
        if self.venues and all(v in self._feed_stale for v in self.venues) \
                and self.state is not TradingState.HALTED:
            out.append(self.kill("every feed is stale", now_ns))
        return out

    def on_feed_ok(self, venue: str, now_ns: int) -> RiskEvent | None:
        self._feed_stale.discard(venue)
        return self._venue_eval(venue, f"{venue} feed ok", now_ns)

    def snapshot(self) -> dict[str, object]:
        return {
            "state": self.state.name,
            "venues": {v: s.name for v, s in self.venue_state.items()},
            "kill_pending": self.kill_pending,
            "passed": self.passed,
            "denials": {r.name: n for r, n in self.deny_counts.items() if n},
            "peak_equity": str(self.peak_equity) if self.peak_equity is not None else None,
            "day_start_equity": (str(self.day_start_equity)
                                 if self.day_start_equity is not None else None),
            "rate_limit": self.rate,
        }


def _reduces(pos: int, s: int, same_side_open: int) -> bool:
    """True if a position `pos` with `same_side_open` lots working on side `s` (this order
    included) only moves toward zero, never through it."""
    if s > 0:
        return pos < 0 and pos + same_side_open <= 0
    return pos > 0 and pos - same_side_open >= 0


# -- the compiled check --------------------------------------------------------------------
# `engine/_rms_fast.pyx` (Cython, optional: setup.py COMPILED) holds the check's state as typed
# fields and a compiled `check` that only ever passes orders: whatever would be denied (or is
# unusual) goes to the pure `check` above on untouched state, so denials are the pure code's.
# `PureRMS` stays the pure class; HFT_PURE_PYTHON=1 keeps the pure path even when built.
PureRMS = RMS
HOT_PATH = "pure Python (engine._rms_fast not built)"
if pure_requested():
    HOT_PATH = f"pure Python ({PURE_ENV} set)"
elif find_spec("engine._rms_fast") is not None:
    try:
        from engine import _rms_fast  # type: ignore[attr-defined]  # (no stubs)
    except ImportError as e:  # a record layout it does not know: refused at its import
        HOT_PATH = f"pure Python (engine._rms_fast refused: {e})"
        log.warning("RMS: %s", HOT_PATH)
    else:
        class RMS(_rms_fast.RmsCore, PureRMS):  # type: ignore[no-redef]
            __doc__ = PureRMS.__doc__

        HOT_PATH = "compiled (engine._rms_fast)"


def log_hot_path() -> str:
    """Log (once per process) and return which pre-trade check runs."""
    return log_once(log, "RMS check path", HOT_PATH)
