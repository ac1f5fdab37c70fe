"""The engine's decision core: market data and execution reports in, orders out.

`engine/main.py` (the process) feeds it tick-ring rows, book-slot copies, execution reports,
gateway status and operator commands, and ships what it produces (`take()`): orders and
cancels per venue for the gateways, and records for the writer. No queues, shared memory or
clocks in here — time is an argument — so the whole chain strategy -> RMS -> OMS is testable
and benchmarkable in-process.

Flow per market-data batch: the strategy sees trades and the books that changed; for every
(venue, symbol) it wants quoted, `diff_quotes` against the OMS's open orders gives cancels
and new quotes; each new order is created in the OMS (PENDING_NEW) and passes the RMS gate or
is rejected locally with the denial recorded. Reports go through the OMS state machine; first
seen fills move the portfolio and the strategy's inventory. RMS state changes that demand it
(kill, daily loss) cancel everywhere, and the kill is confirmed once zero orders are open.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import ValidationError

from engine.client_ids import ClientIdFactory
from engine.oms import OMS, FillApplied, NeedsQuery, UnknownOrder
from engine.portfolio import Portfolio
from engine.rms import RMS, RiskEvent, TradingState
from engine.strategy.base import BookView, Quote
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.quotes import diff_quotes, make_live_order
from pipeline.config import Config, MarketMakingConfig, RiskConfig
from pipeline.histogram import Histogram
from pipeline.logging_setup import RateLimitedLog
from pipeline.messages import (
    CancelOrder,
    Command,
    ExecReport,
    ExecType,
    GatewayStatus,
    Heartbeat,
    InstrumentInfo,
    Record,
)
from pipeline.model import Instrument, OrderStatus, Side, TimeInForce
from pipeline.ratelimit import TokenBucket
from shm.layout import KIND_TRADE

log = logging.getLogger(__name__)

# enum members as module constants: `Enum.X` is a class-attribute lookup costing ~0.2 us on
# 3.11, and the per-tick path would pay it many times over
_BUY, _SELL = Side.BUY, Side.SELL
_SIDE_OF = {1: _BUY, -1: _SELL, 0: _BUY}   # ring `side` -> aggressor side (0: unknown)
_POST_ONLY = TimeInForce.POST_ONLY
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_HALTED = TradingState.HALTED
_ET_NEW, _ET_STATUS, _ET_REJECTED = ExecType.NEW, ExecType.STATUS, ExecType.REJECTED
SMALL_BATCH = 32   # tick batches up to this size are walked in Python (numpy's per-call
                   # overhead dominates small arrays); bigger ones column-wise in numpy

STATUS_QUERY_AFTER_NS = 3_000_000_000   # an order pending this long: ask the venue
BUDGET_SHARE = 0.9                      # keep headroom under the gateway's own bucket


def _layer_of(q: Any) -> int:
    return q.layer  # type: ignore[no-any-return]


@dataclass
class EngineStats:
    orders: int = 0
    cancels: int = 0
    rejects: int = 0
    local_rejects: int = 0
    fills: int = 0
    orphans_cancelled: int = 0
    reconcile_queries: int = 0
    requotes: int = 0
    ticks: int = 0
    volume: dict[str, Decimal] = field(default_factory=dict)    # quote volume per venue/symbol
    rejects_by_reason: dict[str, int] = field(default_factory=dict)


class EngineCore:
    def __init__(self, config: Config, start_ms: int) -> None:
        self.config = config
        self.venues = list(config.exchanges.enabled())
        # symbol ids are the index in each venue's configured symbol list (feeds use the same)
        self.symbols = {v: list(ex.symbols) for v, ex in config.exchanges.enabled().items()}
        self.instruments: dict[tuple[str, str], Instrument] = {}
        self.oms = OMS({v: ClientIdFactory(v, start_ms) for v in self.venues})
        self.portfolio = Portfolio()
        self.strategy: MarketMaker | None = None
        self.rms: RMS | None = None
        self.gateway_up: dict[str, bool] = dict.fromkeys(self.venues, False)
        self.out: dict[str, list[Any]] = {v: [] for v in self.venues}
        # set by the engine process: hand one market's orders and cancels to its gateway as
        # soon as that market is diffed (tick-to-order), instead of at the end of the step
        self.ship: Callable[[str, list[Any]], None] | None = None
        self.records: list[Record] = []
        self.stats = EngineStats()
        self.t2o_ns = Histogram()   # tick received by the feed -> order frame sent
        self.ack_ns = Histogram()   # order frame sent -> venue ack received
        self.tick_to_decision_ns = Histogram()  # feed receive -> engine decided
        self.decision_to_send_ns = Histogram()  # engine decided -> gateway wrote the frame
        self.budget: dict[str, TokenBucket] = {}  # each gateway's order budget, mirrored
        self.paced = 0
        self._listed: dict[str, set[str]] = {}   # venue -> client ids in its open-order list
        self._last_desired: dict[tuple[str, str], Any] = {}  # quotes the last diff aimed at
        self._dirty: set[tuple[str, str]] = set()  # markets whose orders changed since
        self._markets_of: dict[str, list[tuple[str, str]]] = {}  # symbol -> its markets
        self._tick_f: dict[tuple[str, str], float] = {}          # float tick size
        self._cid_of: dict[tuple[str, str], str] = {}  # (venue, venue order id) -> client id
        self.last_tick_recv: dict[tuple[str, str], int] = {}
        self._views: dict[tuple[str, str], BookView] = {}  # latest in-sync book per market
        self._record_seq = 0
        self._denial_log = RateLimitedLog(log, per_s=2.0)
        self._halt_reason = ""

    # -- setup -------------------------------------------------------------------------------
    def on_instrument(self, info: InstrumentInfo) -> None:
        if self.strategy is not None:
            return  # instruments are fixed once trading starts (a restart picks up changes)
        if info.venue in self.symbols and info.symbol in self.symbols[info.venue]:
            self.instruments[(info.venue, info.symbol)] = info.instrument()

    def complete(self) -> bool:
        return all((v, s) in self.instruments for v in self.venues for s in self.symbols[v])

    def start(self) -> None:
        """Build strategy and RMS over the instruments known now (all, or after a grace)."""
        if self.strategy is not None or not self.instruments:
            return
        missing = [f"{v}:{s}" for v in self.venues for s in self.symbols[v]
                   if (v, s) not in self.instruments]
        if missing:
            log.error("trading without %s: no instrument definition from the gateway",
                      ", ".join(missing))
        cfg = self.config
        for key, inst in self.instruments.items():
            self._markets_of.setdefault(key[1], []).append(key)
            self._tick_f[key] = float(inst.tick_size)
        self.start_strategy()
        self.rms = RMS(cfg.risk, cfg.system, dict(self.instruments))
        log.info("engine trading %d instrument(s) on %s", len(self.instruments),
                 ", ".join(sorted({v for v, _ in self.instruments})))

    def start_strategy(self) -> None:
        cfg = self.config
        # keep every quote (half-spread + skew + layers) inside the RMS price collar, so a
        # volatility spike widens quotes up to the collar instead of getting them denied
        mm = cfg.strategy.market_making
        collar = cfg.risk.price_collar_bps
        layers_bps = mm.layer_spacing_bps * (mm.layers - 1)
        room = max(collar * 0.8 - layers_bps, mm.spread_bps / 2.0)
        defaults = MarketMakerParams()
        params = dataclasses.replace(
            defaults, max_half_spread_bps=min(defaults.max_half_spread_bps, room * 0.7),
            max_skew_bps=min(defaults.max_skew_bps, room * 0.3))
        strat = MarketMaker(mm, dict(self.instruments), params,
                            stale_book_ms=cfg.risk.stale_book_ms)
        for v, up in self.gateway_up.items():
            strat.on_gateway(v, up)
        for (v, sym) in self.instruments:
            lots = self.portfolio.position_lots(v, sym)
            if lots:
                strat.on_position(v, sym, lots)
        self.strategy = strat

    @property
    def trading(self) -> bool:
        return self.strategy is not None

    # -- market data -------------------------------------------------------------------------
    def on_ticks(self, venue: str, rows: Any, now_ns: int) -> set[int]:
        """Tick-ring rows of one venue; returns the symbol ids touched. Small batches (the
        usual case: one or a few rows per wake-up) are walked as Python lists; big ones are
        handled column-wise in numpy, with a Python loop only over the trades."""
        names = self.symbols[venue]
        n = len(rows)
        self.stats.ticks += n
        nn = len(names)
        ltr = self.last_tick_recv
        if n <= SMALL_BATCH:
            sids = rows["symbol_id"].tolist()
            recv = rows["ts_recv"].tolist()
            latest: dict[int, int] = {}
            for sid, t in zip(sids, recv):
                if sid < nn and t > latest.get(sid, -1):
                    latest[sid] = t
            for sid, t in latest.items():
                ltr[(venue, names[sid])] = t
            touched = set(latest)
        else:
            sids_a = rows["symbol_id"]
            touched = {int(x) for x in np.unique(sids_a) if x < nn}
            recv_a = rows["ts_recv"]
            for sid in touched:
                ltr[(venue, names[sid])] = int(recv_a[sids_a == sid].max()) \
                    if len(touched) > 1 else int(recv_a.max())
        strat = self.strategy
        if strat is None:
            return touched
        kinds = rows["kind"]
        if KIND_TRADE in kinds.tolist() if n <= SMALL_BATCH else (kinds == KIND_TRADE).any():
            trades = rows[kinds == KIND_TRADE]
            for sid, px, sz, side in zip(trades["symbol_id"].tolist(), trades["price"].tolist(),
                                         trades["size"].tolist(), trades["side"].tolist()):
                if sid < nn:
                    strat.on_trade(venue, names[sid], px, sz, _SIDE_OF.get(side, _BUY), now_ns)
        return touched

    def on_book(self, venue: str, symbol_id: int, slot: Any, now_ns: int) -> None:
        sym = self.symbols[venue][symbol_id]
        key = (venue, sym)
        if self.strategy is not None and key in self.instruments:
            view = BookView.from_slot(slot)
            self.strategy.on_book(venue, sym, view, now_ns)
            if view.synced:  # marks are derived from it on the timer, not per update
                self._views[key] = view

    @property
    def books_seen(self) -> dict[tuple[str, str], tuple[float, float]]:
        """Best bid and ask of each market's latest in-sync book (for marks, live state)."""
        return {k: (float(v.bid_px[0]), float(v.ask_px[0])) for k, v in self._views.items()}

    # -- quoting -----------------------------------------------------------------------------
    def requote(self, now_ns: int, ticked: set[tuple[str, str]] | None = None,
                full: bool = False) -> None:
        """Bring quoted markets to what the strategy wants now: with `ticked` (the markets
        whose book just moved, maybe none), those, the markets with order changes since
        (reports) and whatever else the strategy's `desired_quotes_for` adds; without
        `ticked`, or with `full` (the timer), every market. Orders on markets in `ticked`
        carry that tick's `ts_recv` for tick-to-order latency; orders from timer-driven
        requotes carry none (they were not caused by a tick).

        The markets in `ticked` are diffed first, and with `ship` set each market's messages
        leave as soon as it is diffed: the order a tick caused does not wait for the other
        venues' requotes of the same step."""
        strat, rms = self.strategy, self.rms
        if strat is None or rms is None:
            return
        self.stats.requotes += 1
        last_desired, dirty = self._last_desired, self._dirty
        markets: set[tuple[str, str]] | None = None
        if not full and ticked is not None:
            markets = set(ticked)
            markets.update(dirty)
            if not markets:
                return
        if rms.state is _HALTED:
            desired: dict[tuple[str, str], Any] = {}
            keys: Any = self.instruments if markets is None else \
                [k for k in markets if k in self.instruments]
        elif markets is None:
            desired = strat.desired_quotes(now_ns)
            keys = self.instruments
        else:
            desired = strat.desired_quotes_for(now_ns, markets)
            keys = desired
        gateway_up = self.gateway_up
        if ticked and len(keys) > 1:
            keys = sorted(keys, key=ticked.__contains__, reverse=True)   # stable: ticked first
        ship, out = self.ship, self.out
        for key in keys:
            venue, symbol = key
            if not gateway_up.get(venue):
                continue
            qs = desired.get(key)
            # hot path: the same wanted quotes (the strategy hands back the very same object
            # when nothing in them changed) and no order change on this market since the
            # last diff found nothing to do -> nothing to do now (the timer re-diffs fully,
            # which is where requotes held back by refresh_interval_ms get their turn)
            if not full and key not in dirty and key in last_desired and \
                    last_desired[key] is qs:
                continue
            last_desired[key] = qs
            dirty.discard(key)
            self._diff(key, qs, now_ns, ticked)
            if ship is not None and out[venue]:
                msgs, out[venue] = out[venue], []
                ship(venue, msgs)

    def _diff(self, key: tuple[str, str], qs: Any, now_ns: int,
              ticked: set[tuple[str, str]] | None) -> None:
        """Cancel and place on one market so its orders become `qs` (None: pull all)."""
        strat, rms = self.strategy, self.rms
        assert strat is not None and rms is not None
        venue, symbol = key
        oms = self.oms
        book = oms.open_book(venue, symbol)
        live = [make_live_order(o.client_id, o.side, o.price_ticks, o.lots - o.filled_lots,
                                o.layer, o.ts_created)
                for o in book.values() if o.status is not _PENDING_CANCEL] if book else []
        if qs is None:
            cancel_ids, to_place = [o.client_id for o in live], list[Quote]()
        else:
            cancel_ids, to_place = diff_quotes(live, qs, strat.tolerance_ticks(venue, symbol),
                                               now_ns, strat.min_requote_ns)
        out = self.out[venue]
        for cid in cancel_ids:
            c = oms.request_cancel(cid, now_ns)
            if c is not None:
                out.append(c)
                self.stats.cancels += 1
        if not to_place:
            return
        st = strat.symbol_state(symbol)
        fair_ticks = st.fair / self._tick_f[key] if st is not None else None
        tick_recv = self.last_tick_recv.get(key, 0) if ticked and key in ticked else 0
        bucket = self.budget.get(venue)
        portfolio = self.portfolio
        if len(to_place) > 1:
            to_place = sorted(to_place, key=_layer_of)  # inner layers first
        for q in to_place:
            if bucket is not None and not bucket.take(now_ns):
                self.paced += 1  # over the venue's budget: try again next requote
                break
            msg = oms.create(venue, symbol, q.side, q.price_ticks, q.lots, _POST_ONLY, now_ns,
                             tick_recv, layer=q.layer)
            denial = rms.check(msg, fair_ticks, oms, portfolio, now_ns)
            if denial is not None:
                oms.reject_local(msg.client_id, now_ns)
                self.stats.local_rejects += 1
                self._denial_log.warning("risk denied %s %s %s: %s %s", venue, symbol,
                                         q.side.name, denial.reason.name, denial.detail)
                name = f"risk:{denial.reason.name}"
                self.stats.rejects_by_reason[name] = \
                    self.stats.rejects_by_reason.get(name, 0) + 1
                continue
            out.append(msg)
            self.stats.orders += 1

    # -- reports -----------------------------------------------------------------------------
    def on_message(self, msg: Any, now_ns: int) -> None:
        if isinstance(msg, ExecReport):
            self.on_report(msg, now_ns)
        elif isinstance(msg, GatewayStatus):
            self.on_gateway_status(msg, now_ns)
        elif isinstance(msg, InstrumentInfo):
            self.on_instrument(msg)

    def on_report(self, r: ExecReport, now_ns: int) -> None:
        et = r.exec_type
        if r.venue_order_id:
            key = (r.venue, r.venue_order_id)
            if r.client_id:
                self._cid_of[key] = r.client_id
            elif key in self._cid_of:  # a venue record naming the order by its id only
                r = dataclasses.replace(r, client_id=self._cid_of[key])
        if et is _ET_NEW:
            if r.ts_sent and r.ts_recv >= r.ts_sent:
                self.ack_ns.record(r.ts_recv - r.ts_sent)
                if r.ts_tick_recv and r.ts_sent >= r.ts_tick_recv:
                    self.t2o_ns.record(r.ts_sent - r.ts_tick_recv)
                    if r.ts_decision >= r.ts_tick_recv:  # where the time goes, hop by hop
                        self.tick_to_decision_ns.record(r.ts_decision - r.ts_tick_recv)
                        self.decision_to_send_ns.record(r.ts_sent - r.ts_decision)
        elif et is _ET_STATUS:
            self._listed.setdefault(r.venue, set()).add(r.client_id)
        elif et is _ET_REJECTED:
            self.stats.rejects += 1
            name = r.reason.name
            self.stats.rejects_by_reason[name] = self.stats.rejects_by_reason.get(name, 0) + 1
        for ev in self.oms.on_report(r):
            if isinstance(ev, FillApplied):
                self._fill(ev, now_ns)
            elif isinstance(ev, UnknownOrder):
                self._orphan(ev.report, now_ns)
            elif isinstance(ev, NeedsQuery):
                self._query(ev.order.venue, ev.order.symbol, ev.order.client_id)
        key = (r.venue, r.symbol)
        if key in self.instruments:
            self._dirty.add(key)

    def _fill(self, f: FillApplied, now_ns: int) -> None:
        inst = self.instruments.get((f.venue, f.symbol))
        if inst is None:
            log.error("fill on untraded %s:%s ignored by the portfolio", f.venue, f.symbol)
            return
        self.portfolio.apply_fill(f.venue, inst, f.side, f.price_ticks, f.lots, f.fee,
                                  f.fee_asset)
        if self.strategy is not None:
            self.strategy.on_fill(f.venue, f.symbol, f.side, f.price_ticks, f.lots, now_ns)
        self.stats.fills += 1
        key = f"{f.venue}:{f.symbol}"
        notional = inst.ticks_to_price(f.price_ticks) * inst.lots_to_qty(f.lots)
        self.stats.volume[key] = self.stats.volume.get(key, Decimal(0)) + notional

    def _orphan(self, r: ExecReport, now_ns: int) -> None:
        """A venue order the OMS does not know (found by reconciliation): cancel it."""
        if r.status.is_terminal or r.venue not in self.out or \
                r.exec_type not in (ExecType.STATUS, ExecType.NEW):
            return  # a fill of an order we do not know is money (applied), not an orphan
        self.stats.orphans_cancelled += 1
        log.warning("%s: orphan order %s (%s) found at the venue: cancelling", r.venue,
                    r.client_id or r.venue_order_id, r.symbol)
        self.out[r.venue].append(CancelOrder(r.client_id, r.venue, r.symbol, r.venue_order_id,
                                             now_ns))

    def _settle_unlisted(self, venue: str, now_ns: int) -> None:
        """Orders we hold open on `venue` that its open-order list did not include ended
        while we were not listening (filled, cancelled, or never arrived): ask for each,
        so the answer (and any missed fill the gateway recovers) settles it exactly once."""
        listed = self._listed.pop(venue, set())
        for o in self.oms.open_orders(venue):
            if o.client_id not in listed:
                self.stats.reconcile_queries += 1
                self._query(venue, o.symbol, o.client_id)

    def _query(self, venue: str, symbol: str, client_id: str) -> None:
        if venue in self.out:
            self.out[venue].append(Command("status", f"{symbol}|{client_id}"))

    def on_gateway_status(self, s: GatewayStatus, now_ns: int) -> None:
        if s.venue not in self.gateway_up:
            return
        up = s.state in ("reconciled",)
        down = s.state == "down"
        if s.state == "up":
            self._listed[s.venue] = set()  # the venue's open-order list follows
        if up:
            self._settle_unlisted(s.venue, now_ns)
        if up or down:
            self.gateway_up[s.venue] = up
            if self.strategy is not None:
                self.strategy.on_gateway(s.venue, up)
            if self.rms is not None:
                evs = self.rms.on_venue_down(s.venue, now_ns) if down else \
                    [e for e in [self.rms.on_venue_up(s.venue, now_ns)] if e is not None]
                self._risk_events(evs, now_ns)
        elif s.state == "budget":  # "rate/burst": pace our quotes to what the gateway may send
            try:
                rate, burst = (float(x) for x in s.detail.split("/"))
            except ValueError:
                log.error("%s: bad budget %r", s.venue, s.detail)
                return
            self.budget[s.venue] = TokenBucket(rate * BUDGET_SHARE, max(int(burst), 1), now_ns)
        elif s.state == "rate_limited":
            log.warning("%s rate-limited: %s", s.venue, s.detail)

    # -- risk, timers, commands --------------------------------------------------------------
    def _risk_events(self, events: list[RiskEvent], now_ns: int) -> None:
        for ev in events:
            log.warning("risk: %s %s -> %s (%s)", ev.scope, ev.old.name, ev.new.name, ev.reason)
            self._record("risk", {"scope": ev.scope, "kind": ev.kind, "old": ev.old.name,
                                  "new": ev.new.name, "reason": ev.reason}, now_ns)
            if ev.cancel_all:
                self.cancel_everywhere(ev.reason, now_ns, ev.scope)

    def cancel_everywhere(self, reason: str, now_ns: int, scope: str = "*") -> None:
        for venue in self.venues:
            if scope in ("*", venue):
                self.out[venue].append(self.oms.request_cancel_all(venue, now_ns, "", reason))

    def on_command(self, name: str, arg: str, now_ns: int) -> None:
        rms = self.rms
        if rms is None:
            if name in ("kill", "halt"):
                self.cancel_everywhere(name, now_ns)
            return
        if name == "kill":
            self._risk_events([rms.kill(arg or "operator", now_ns)], now_ns)
        elif name == "halt":
            self._risk_events([e for e in [rms.halt(arg or "operator", now_ns)] if e], now_ns)
            self.requote(now_ns)  # HALTED: pull every quote
        elif name == "resume":
            self._risk_events([e for e in [rms.resume(arg or "operator", now_ns)] if e], now_ns)
        elif name in ("params", "limits"):
            try:
                changes = json.loads(arg)
                if not isinstance(changes, dict) or not changes:
                    raise ValueError("expected a non-empty JSON object")
                if name == "params":
                    self.set_params(changes, now_ns)
                else:
                    self.set_limits(changes, now_ns)
            except (ValueError, TypeError, ValidationError) as exc:
                log.error("operator %s refused: %s", name, exc)
                self._record("risk", {"kind": f"{name}_refused", "reason": str(exc)[:300]},
                             now_ns)

    def set_params(self, changes: dict[str, Any], now_ns: int) -> None:
        """New strategy parameters (validated by the config model): the market maker is
        rebuilt on them and told the positions and gateway states it must know; its signal
        estimates restart (they re-warm within seconds)."""
        cfg = self.config
        mm = MarketMakingConfig.model_validate({**cfg.strategy.market_making.model_dump(),
                                                **changes})
        self.config = cfg.model_copy(update={"strategy": cfg.strategy.model_copy(
            update={"market_making": mm})})
        if self.strategy is None:
            return
        self.strategy = None
        self.start_strategy()
        self._last_desired.clear()
        log.warning("strategy parameters changed: %s", changes)
        self._record("risk", {"kind": "params", "reason": json.dumps(changes)}, now_ns)

    def set_limits(self, changes: dict[str, Any], now_ns: int) -> None:
        """New risk limits (validated by the config model): a new RMS on them takes over the
        old one's trading states, equity marks and denial history."""
        cfg = self.config
        risk = RiskConfig.model_validate({**cfg.risk.model_dump(), **changes})
        self.config = cfg.model_copy(update={"risk": risk})
        old = self.rms
        if old is None:
            return
        new = RMS(risk, cfg.system, dict(self.instruments))
        for attr in ("state", "venue_state", "_venue_down", "_feed_stale", "kill_pending",
                     "events", "peak_equity", "day_start_equity", "last_equity", "_day",
                     "denials", "deny_counts", "passed", "balances", "_capacity"):
            if hasattr(old, attr):
                setattr(new, attr, getattr(old, attr))
        self.rms = new
        log.warning("risk limits changed: %s", changes)
        self._record("risk", {"kind": "limits", "reason": json.dumps(changes)}, now_ns)

    def update_marks(self) -> None:
        """Portfolio marks (exact Decimals) from the latest mids: unrealized PnL and equity
        are read on the timer, so the per-update path only keeps the book view."""
        for (venue, sym), (bid, ask) in self.books_seen.items():
            self.portfolio.set_mark(venue, sym, Decimal(repr((bid + ask) / 2)))

    def on_timer(self, now_ns: int) -> None:
        self.update_marks()
        for cid in self.oms.in_flight_timeouts(now_ns, STATUS_QUERY_AFTER_NS):
            o = self.oms.get(cid)
            if o is not None:
                self._query(o.venue, o.symbol, cid)
        for venue in self.venues:
            self.out[venue].append(Heartbeat(now_ns))
        if self.rms is not None:
            self._risk_events(self.rms.on_equity(now_ns, self.portfolio.equity()), now_ns)
            ev = self.rms.confirm_flat(self.oms.n_open(), now_ns)
            if ev is not None:
                log.warning("kill confirmed: zero open orders on every venue")
                self._risk_events([ev], now_ns)

    def snapshot_records(self, now_ns: int) -> None:
        self.update_marks()
        self._record("pnl", {"realized": str(self.portfolio.realized()),
                             "fees": str(self.portfolio.fees()),
                             "unrealized": str(self.portfolio.unrealized()),
                             "equity": str(self.portfolio.equity())}, now_ns)
        self._record("position", {"positions": self.positions()}, now_ns)

    def _record(self, kind: str, body: dict[str, Any], now_ns: int) -> None:
        self._record_seq += 1
        self.records.append(Record(kind, {"source": "engine", "seq": self._record_seq,
                                          "ts": now_ns, **body}))

    # -- output ------------------------------------------------------------------------------
    def take(self) -> tuple[dict[str, list[Any]], list[Record]]:
        out = {v: msgs for v, msgs in self.out.items() if msgs}
        recs = self.records
        if out:
            self.out = {v: [] for v in self.venues}
        self.records = []
        return out, recs

    def positions(self) -> dict[str, str]:
        return {f"{v}:{s}": str(self.portfolio.position_qty(v, s))
                for (v, s) in sorted(self.instruments)}

    def summary(self) -> dict[str, Any]:
        self.update_marks()
        st = self.stats
        return {
            "orders": st.orders, "fills": st.fills, "cancels": st.cancels,
            "rejects": st.rejects + st.local_rejects, "venue_rejects": st.rejects,
            "risk_rejects": st.local_rejects, "rejects_by_reason": st.rejects_by_reason,
            "orphans_cancelled": st.orphans_cancelled,
            "reconcile_queries": st.reconcile_queries,
            "open_orders_at_exit": self.oms.n_open(),
            "volume": str(sum(st.volume.values(), Decimal(0))),
            "volume_by_market": {k: str(v) for k, v in st.volume.items()},
            "realized_pnl": str(self.portfolio.realized()),
            "fees": str(self.portfolio.fees()),
            "unrealized_pnl": str(self.portfolio.unrealized()),
            "position": self.positions(),
            "position_lots": {f"{v}:{s}": self.portfolio.position_lots(v, s)
                              for (v, s) in sorted(self.instruments)},
            "marks": {f"{v}:{s}": str(m) for (v, s), m in sorted(self.portfolio.marks.items())},
            "t2o_us": self.t2o_ns.summary_us() if self.t2o_ns.count else {},
            "order_ack_us": self.ack_ns.summary_us() if self.ack_ns.count else {},
            "paced_by_venue_budget": self.paced,
            "t2o_breakdown_us": {
                "tick_to_decision": self.tick_to_decision_ns.summary_us()
                if self.tick_to_decision_ns.count else {},
                "decision_to_send": self.decision_to_send_ns.summary_us()
                if self.decision_to_send_ns.count else {}},
            "ticks": st.ticks,
            "trading_state": self.rms.state.name if self.rms is not None else "NOT_STARTED",
            "oms": dict(self.oms.counters),
        }

