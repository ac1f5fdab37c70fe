"""One simulated venue's state, shared by its wire front-end and the market model.

`SimVenue` owns the venue's instruments, accounts (one per API key, plus the background
crowd's unlimited account), a `MatchingEngine` per symbol, dead-man timers and the fault plan.
Every command (a client's order, the crowd's flow, a dead-man expiry) goes through
`dispatch`, which turns what the engines did into front-end calls: depth diffs with the
engine's sequence numbers, best-bid/offer changes, public trades, and private events for the
account that owns the order. The front-end (`feeds/sim/<venue>_front.py`) only translates
those calls and its requests to and from the venue's wire format with the venue's codec.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from feeds.sim.accounts import Accounts
from feeds.sim.instruments import listed
from feeds.sim.market import TopOfBook
from feeds.sim.matching import (
    Accepted,
    Canceled,
    Expired,
    Fill,
    MatchingEngine,
    Rejected,
    SimOrder,
    Trade,
)
from feeds.sim.venue_rules import rules_for
from pipeline.model import Instrument, RejectReason

log = logging.getLogger(__name__)
_PRIVATE = frozenset({Accepted, Rejected, Fill, Canceled, Expired})   # for the account's front

CROWD = "crowd"                      # the background participants' account
START_BALANCES = {"USDT": "1000000", "BTC": "20", "ETH": "300", "SOL": "5000", "BNB": "1000",
                  "XRP": "1000000", "DOGE": "5000000"}


@dataclass(frozen=True, slots=True)
class DepthChange:
    """What a venue publishes as one incremental depth message for one symbol."""

    instrument: Instrument
    first_seq: int          # Binance/Gate U; OKX prevSeqId is first_seq - 1
    last_seq: int           # Binance/Gate u; OKX seqId
    bids: list[tuple[int, int]]   # (price_ticks, total lots; 0 = level removed)
    asks: list[tuple[int, int]]
    ts_ns: int


class FrontEnd(Protocol):
    """What the hub calls on each front-end in `SimVenue.fronts`.

    Optional (a front may define them; one that does not gets every call, as before):
    `wants_depth(symbol) -> bool` and `wants_bbo(symbol) -> bool`. False promises that
    `on_depth` / `on_bbo` for that symbol would do nothing right now (no connection takes
    those pushes), so the hub skips the call and, when no front wants a depth diff, never
    builds the `DepthChange`: the order path's market-data fan-out then costs a lookup."""

    def on_depth(self, change: DepthChange) -> None: ...
    def on_bbo(self, inst: Instrument, bid: tuple[int, int] | None,
               ask: tuple[int, int] | None, seq: int, ts_ns: int) -> None: ...
    def on_trade(self, inst: Instrument, trade: Trade) -> None: ...
    def on_private(self, account: str, inst: Instrument, event: Any) -> None: ...


_Wants = Callable[[str], bool] | None   # a front's optional `wants_*` (None: always call)


class _Taps:
    """Each front's optional `wants_depth` / `wants_bbo` (None: always call), looked up once
    per change of `SimVenue.fronts` rather than per event (a missing attribute is a slow
    lookup). The `on_*` methods themselves are read at each call, so a front (or a test)
    may replace them at any time."""

    __slots__ = ("bbo", "depth", "fronts")

    def __init__(self, fronts: list[FrontEnd]) -> None:
        self.fronts = list(fronts)
        self.depth: list[tuple[FrontEnd, _Wants]] = [
            (f, getattr(f, "wants_depth", None)) for f in fronts]
        self.bbo: list[tuple[FrontEnd, _Wants]] = [
            (f, getattr(f, "wants_bbo", None)) for f in fronts]


class SimVenue:
    def __init__(self, venue: str, symbols: list[str] | tuple[str, ...],
                 api_keys: dict[str, str], clock: Callable[[], int],
                 passphrases: dict[str, str] | None = None) -> None:
        """`api_keys`: api key -> secret (OKX: plus `passphrases`: api key -> passphrase);
        each key gets its own funded account, named by the key."""
        self.venue = venue
        self.clock = clock
        self.rules = rules_for(venue)
        self.instruments = listed(venue, symbols)
        self.by_symbol = {i.symbol: i for i in self.instruments}
        self.by_venue_symbol = {i.venue_symbol: i for i in self.instruments}
        self.accounts = Accounts()
        self.accounts.open(CROWD, unlimited=True, quiet=True)
        self.api_keys = dict(api_keys)
        self.passphrases = dict(passphrases or {})
        for key in api_keys:
            self.accounts.open(key, {a: Decimal(v) for a, v in START_BALANCES.items()})
        self.engines = {i.symbol: MatchingEngine(i, self.rules, self.accounts)
                        for i in self.instruments}
        self.fronts: list[FrontEnd] = []
        self._taps = _Taps([])
        self.deadman: dict[str, int] = {}   # account -> cancel-all deadline (ns)
        self._best: dict[str, tuple[Any, Any]] = {}
        self._published_seq: dict[str, int] = {}  # last sequence covered by a depth message
        self.suppress_depth: set[str] = set()   # fault: symbols whose next diff is dropped
        self.stale: bool = False                # fault: market data silent
        self.faults: Any = None                 # feeds.sim.faults.FaultPlan, when scripted
        self.injected_rejects = 0

    # -- commands ----------------------------------------------------------------------------
    def submit(self, account: str, symbol: str, order: SimOrder) -> list[Any]:
        eng = self.engines[symbol]
        events = eng.submit(order, self.clock())
        self.dispatch(symbol, events)
        return events

    def submit_wire(self, account: str, symbol: str, **kw: Any) -> list[Any]:
        eng = self.engines[symbol]
        injected = self._injected_reject(account, symbol, kw.get("client_id", ""))
        if injected is not None:
            return [injected]  # each front answers a Rejected with the venue's own error
        events = eng.submit_wire(account, now_ns=self.clock(), **kw)
        self.dispatch(symbol, events)
        return events

    def place_wire(self, account: str, symbol: str, client_id: str, side: Any, type: Any,
                   tif: Any, price: Decimal | None, qty: Decimal | None,
                   quote_qty: Decimal | None = None) -> list[Any]:
        """`submit_wire` with the order's fields by position, in the engine's order: a
        front's order path calls this once per order, and the keyword form built and
        unpacked two dicts for it. Same fault-plan rejects, same dispatch."""
        if self.faults is not None:
            injected = self._injected_reject(account, symbol, client_id)
            if injected is not None:
                return [injected]
        eng = self.engines[symbol]
        events = eng.submit_wire(account, client_id, side, type, tif, price, qty, self.clock(),
                                 quote_qty)
        self.dispatch(symbol, events)
        return events

    def _injected_reject(self, account: str, symbol: str, client_id: str) -> Rejected | None:
        """The fault plan's forced rejects and rate-limit errors, as the venue would send
        them (its own code and message), for a client's new order."""
        plan = self.faults
        if plan is None or account == CROWD:
            return None
        now = self.clock()
        reason = RejectReason.RATE_LIMITED if plan.rate_limited(self.venue, now) else \
            plan.forced_reject(self.venue, now)
        if reason is None:
            return None
        reply = self.rules.reply_for(reason)
        self.injected_rejects += 1
        return Rejected(symbol, account, client_id, reply.reason, reply.code, reply.message, now)

    def cancel(self, account: str, symbol: str, ref: int | str) -> list[Any]:
        events = self.engines[symbol].cancel(account, ref, self.clock())
        self.dispatch(symbol, events)
        return events

    def cancel_all(self, account: str, symbol: str | None = None, cause: str = "cancel_all"
                   ) -> list[Any]:
        out: list[Any] = []
        for sym, eng in self.engines.items():
            if symbol is None or sym == symbol:
                events = eng.cancel_all(account, self.clock(), cause)  # type: ignore[arg-type]
                self.dispatch(sym, events)
                out.extend(events)
        return out

    def open_orders(self, account: str, symbol: str | None = None) -> list[Any]:
        return [o for s, e in self.engines.items() if symbol is None or s == symbol
                for o in e.open_orders(account)]

    def published_seq(self, symbol: str) -> int:
        """The sequence of the last depth change published for `symbol` — what a REST
        snapshot must carry so that diffs chain onto it."""
        return self._published_seq.get(symbol, self.engines[symbol].sequence)

    # -- time --------------------------------------------------------------------------------
    def check_deadman(self) -> None:
        now = self.clock()
        for account, deadline in list(self.deadman.items()):
            if deadline and now >= deadline:
                del self.deadman[account]
                log.info("%s: dead-man switch fired for %s", self.venue, account[:6])
                self.cancel_all(account, cause="deadman")

    # -- fan-out -----------------------------------------------------------------------------
    def taps(self) -> _Taps:
        """The fronts' optional `wants_*` lookups, redone whenever `fronts` changed (fronts
        register themselves by appending; a list compare of one or three items is cheap)."""
        taps = self._taps
        if taps.fronts != self.fronts:
            taps = self._taps = _Taps(self.fronts)
        return taps

    def dispatch(self, symbol: str, events: list[Any]) -> None:
        """Publish what an engine call did: depth, BBO, trades, then private events."""
        eng = self.engines[symbol]
        inst = eng.instrument
        bids, asks = eng.drain_depth()
        taps = self.taps()
        if bids or asks:
            # the market's per-change tops (Binance) go out in order below; the depth diff
            # must not push the final top ahead of them
            tops = self.rules.bbo_every_change and any(type(ev) is TopOfBook for ev in events)
            self._depth(eng, inst, bids, asks, self.clock(), taps, bbo=not tops)
        if not events:
            return
        for ev in events:   # the event classes are final: type() is isinstance() here
            kind = type(ev)
            if kind is Trade:
                if not self.stale:
                    for f in taps.fronts:
                        f.on_trade(inst, ev)
            elif kind is TopOfBook:
                self._top(inst, ev, taps)
            elif kind in _PRIVATE and ev.account != CROWD:
                for f in taps.fronts:
                    f.on_private(ev.account, inst, ev)

    def _top(self, inst: Instrument, top: TopOfBook, taps: _Taps | None = None) -> None:
        """One change of the top of book, pushed on its own (a venue whose BBO stream is
        real time); silent while the stream is stale, like the rest of the market data."""
        best = (top.bid, top.ask)
        if self.stale or self._best.get(inst.symbol) == best:
            return
        self._best[inst.symbol] = best
        symbol = inst.symbol
        for f, wants in (taps or self.taps()).bbo:
            if wants is None or wants(symbol):
                f.on_bbo(inst, top.bid, top.ask, top.seq, top.ts_ns)

    def _depth(self, eng: MatchingEngine, inst: Instrument, bids: list[tuple[int, int]],
               asks: list[tuple[int, int]], now: int, taps: _Taps | None = None, *,
               bbo: bool = True) -> None:
        """One depth diff (the engine's sequence range since the last one published) and,
        unless `bbo` is False, the best bid/offer if it moved. The sequence bookkeeping and
        the last-published best run whether or not anyone listens, so a connection that
        subscribes later sees diffs that chain and BBO pushes only on real changes."""
        symbol = inst.symbol
        last = eng.sequence
        first = self._published_seq.get(symbol, 0) + 1
        self._published_seq[symbol] = last
        if self.stale:
            return
        if symbol in self.suppress_depth:  # injected gap: this diff never goes out
            self.suppress_depth.discard(symbol)
            return
        taps = taps or self.taps()
        dc = None
        for f, wants in taps.depth:
            if wants is None or wants(symbol):
                if dc is None:
                    dc = DepthChange(inst, first, last, bids, asks, now)
                f.on_depth(dc)
        if not bbo:
            return
        best = eng.best()
        if self._best.get(symbol) != best:
            self._best[symbol] = best
            for f, wants in taps.bbo:
                if wants is None or wants(symbol):
                    f.on_bbo(inst, best[0], best[1], last, now)
