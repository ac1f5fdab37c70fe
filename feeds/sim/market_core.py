# cython: annotation_typing=False
"""Seeded background market of one simulated venue: the crowd our strategy trades against.

`feeds/sim/server.py` builds one `MarketSimulator` per venue and drives it with
`advance_to(now_ns)`; benchmarks drive it with `step(n)`. Every background order goes through
the venue's `MatchingEngine`s, so our strategy's resting quotes are filled by the same flow
that moves the public book, and our takers hit the background's levels.

Per symbol: a latent mid in ticks (geometric Brownian motion with drift plus Poisson jumps,
float — it is a model, not money), and a Poisson stream of arrivals at `rate_hz` per symbol.
Each arrival is a market order (probability `market_share`, its side leaning towards the
latent mid so the public book follows it), a cancel, or a passive limit placement an
exponentially distributed number of ticks behind the mid (never through the opposite best). Cancels grow with the number of resting orders, which keeps the book near
`target_orders` per side; a cancel removes the one farther from the mid of two random resting
orders, so stale far quotes die first. After every arrival each side is topped up to
`min_levels` levels, so the book always shows at least that many. On a venue whose BBO stream is pushed on
every change (Binance), each arrival that changed a symbol's top of book also yields a
`TopOfBook`, so the front-end can push one frame per change as the venue does. Determinism: all randomness
comes from one `numpy.random.Generator` per symbol, spawned from `seed`, and arrivals of
different symbols are processed in time order (ties by symbol order).

This file is also compiled (Cython, `market_core.pxd`: typed fields and locals, C calls into
the compiled engine); `feeds/sim/market.py` picks the active one. Keep the arithmetic in the
order written: both paths must draw and compute exactly the same numbers.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import ROUND_CEILING
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from feeds.sim import fast
from feeds.sim.accounts import Accounts
from feeds.sim.events import Event, SymbolParams, TopOfBook
from feeds.sim.venue_rules import VenueRules
from pipeline.model import Instrument, OrderType, Side, TimeInForce

if TYPE_CHECKING:
    from feeds.sim.matching_core import MatchingEngine

BACKGROUND = "__market__"
_BUF = 2048
_BUY, _SELL = Side.BUY, Side.SELL
_LIMIT, _MARKET = OrderType.LIMIT, OrderType.MARKET
_GTC, _IOC = TimeInForce.GTC, TimeInForce.IOC


_new = object.__new__
_set = object.__setattr__   # how dataclasses' own __init__ fills a frozen instance


def _new_top(symbol: str, seq: int, bid: tuple[int, int] | None, ask: tuple[int, int] | None,
             ts_ns: int) -> TopOfBook:
    """`TopOfBook(...)`, equal in every field, without the generated `__init__`'s
    interpreted per-field calls (one of these per arrival that moves the top)."""
    t = _new(TopOfBook)
    _set(t, "symbol", symbol)
    _set(t, "seq", seq)
    _set(t, "bid", bid)
    _set(t, "ask", ask)
    _set(t, "ts_ns", ts_ns)
    return t  # type: ignore[no-any-return]


class _Rand:
    """Pre-drawn blocks of uniforms, normals and exponentials (one numpy call per block).
    The blocks stay float64 arrays (the compiled twin reads them as C doubles through typed
    memoryviews); `float()` gives the pure path the same values as Python floats."""

    __slots__ = ("_in", "_iu", "_ix", "_n", "_rng", "_u", "_x")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._u = self._n = self._x = np.empty(0)
        self._iu = self._in = self._ix = _BUF

    def u(self) -> float:
        if self._iu == _BUF:
            self._u = self._rng.random(_BUF)
            self._iu = 0
        i = self._iu
        self._iu = i + 1
        return float(self._u[i])

    def n(self) -> float:
        if self._in == _BUF:
            self._n = self._rng.standard_normal(_BUF)
            self._in = 0
        i = self._in
        self._in = i + 1
        return float(self._n[i])

    def x(self) -> float:
        if self._ix == _BUF:
            self._x = self._rng.standard_exponential(_BUF)
            self._ix = 0
        i = self._ix
        self._ix = i + 1
        return float(self._x[i])


class _Symbol:
    """One symbol's latent mid, arrival clock and the background's resting orders."""

    def __init__(self, engine: MatchingEngine, p: SymbolParams, rng: np.random.Generator,
                 start_ns: int) -> None:
        inst = engine.instrument
        self.engine = engine
        self.p = p
        self.r = _Rand(rng)
        self.mid0 = float(p.mid / inst.tick_size)
        self.log_ret = 0.0
        self.mid = self.mid0
        self.last_ns = start_ns
        self.next_ns = start_ns
        self.sigma = p.vol_bps * 1e-4
        self.mu = p.drift_bps * 1e-4
        self.jump = p.jump_bps * 1e-4
        self.jump_rate_hz = float(p.jump_rate_hz)
        self.market_share = float(p.market_share)
        self.target2 = 2 * p.target_orders
        self.min_levels = p.min_levels
        self.depth = p.depth_ticks if p.depth_ticks is not None else max(2.0, self.mid0 * 3e-5)
        # smallest size the venue accepts: the quantity floor, and notional in tick*lot units
        unit = inst.tick_size * inst.lot_size
        self.min_lots = max(1, int((inst.min_qty / inst.lot_size).to_integral_value(
            rounding=ROUND_CEILING)))
        self.min_units = int((inst.min_notional / unit).to_integral_value(
            rounding=ROUND_CEILING))
        self.size = p.size_lots or 5 * max(self.min_lots,
                                           -(-self.min_units // max(1, int(self.mid0))))
        self.has_max = inst.max_qty is not None
        self.max_lots = int(inst.max_qty / inst.lot_size) if inst.max_qty is not None else 0
        # resting background orders: parallel id/price lists with swap-remove
        self.ids: list[int] = []
        self.prices: list[int] = []
        self.pos: dict[int, int] = {}
        self.top: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None)

    def evolve(self, now_ns: int) -> None:
        dt = (now_ns - self.last_ns) * 1e-9
        self.last_ns = now_ns
        if dt <= 0:
            return
        s = self.sigma
        lr = self.log_ret + (self.mu - 0.5 * s * s) * dt + s * math.sqrt(dt) * self.r.n()
        if self.r.u() < self.jump_rate_hz * dt:
            lr += self.jump * self.r.n()
        self.log_ret = lr
        self.mid = self.mid0 * math.exp(lr)

    def lots(self, price: int, scale: float) -> int:
        lots = int(self.size * scale) + 1
        floor = max(-(-self.min_units // price), self.min_lots)
        lots = max(lots, floor)
        if self.has_max and lots > self.max_lots:
            lots = self.max_lots
        return lots

    def track(self, order_id: int, price: int) -> None:
        self.pos[order_id] = len(self.ids)
        self.ids.append(order_id)
        self.prices.append(price)

    def untrack_at(self, i: int) -> None:
        last = len(self.ids) - 1
        self.pos.pop(self.ids[i], None)
        if i != last:
            self.ids[i] = self.ids[last]
            self.prices[i] = self.prices[last]
            self.pos[self.ids[i]] = i
        self.ids.pop()
        self.prices.pop()


class MarketSimulator:
    """Background order flow for every symbol of one venue, through its matching engines."""

    def __init__(self, instruments: Sequence[Instrument], rules: VenueRules,
                 accounts: Accounts, params: Mapping[str, SymbolParams], *, seed: int,
                 rate_hz: float = 50.0, start_ns: int = 0, prefill: bool = True,
                 order_ids: Iterator[int] | None = None,
                 engines: Mapping[str, MatchingEngine] | None = None) -> None:
        if rate_hz <= 0:
            raise ValueError("rate_hz must be positive")
        if BACKGROUND not in accounts:
            accounts.open(BACKGROUND, unlimited=True, quiet=True)
        self.rules = rules
        self.top_events = rules.bbo_every_change
        self.accounts = accounts
        self.rate_hz = rate_hz
        self.now_ns = start_ns
        self.arrivals = 0
        ids = order_ids if order_ids is not None else itertools.count(1)
        self.engines: dict[str, MatchingEngine] = {}
        self._syms: list[_Symbol] = []
        rngs = np.random.SeedSequence(seed).spawn(len(instruments))
        for inst, ss in zip(instruments, rngs):
            if inst.symbol not in params:
                raise KeyError(f"no market parameters for {inst.symbol}")
            eng = (engines[inst.symbol] if engines is not None
                   else fast.core("matching").MatchingEngine(inst, rules, accounts,
                                                             order_ids=ids))
            self.engines[inst.symbol] = eng
            sym = _Symbol(eng, params[inst.symbol], np.random.default_rng(ss), start_ns)
            sym.top = eng.best()
            self._syms.append(sym)
        self._heap: list[tuple[int, int]] = []
        self._mean_gap_ns = 1e9 / rate_hz
        for i, s in enumerate(self._syms):
            s.next_ns = start_ns + self._gap(s)
            heappush(self._heap, (s.next_ns, i))
        if prefill:
            self.prefill(start_ns)

    # -- queries --------------------------------------------------------------------------------
    def engine(self, symbol: str) -> MatchingEngine:
        return self.engines[symbol]

    def mid_ticks(self, symbol: str) -> float:
        """The latent mid (the model's fair price), in ticks."""
        return self._syms[self._index(symbol)].mid

    # -- driving --------------------------------------------------------------------------------
    def prefill(self, now_ns: int) -> list[Event]:
        """Seed every symbol's book: `min_levels` + 5 populated levels each side of the mid."""
        out: list[Any] = []
        for s in self._syms:
            n = s.min_levels + 5
            bid0 = math.floor(s.mid) - 1
            ask0 = math.ceil(s.mid) + 1
            for k in range(n):
                if bid0 - k > 0:
                    self._place(s, _BUY, bid0 - k, 0.5 + s.r.x(), now_ns, out)
                if ask0 + k > 0:
                    self._place(s, _SELL, ask0 + k, 0.5 + s.r.x(), now_ns, out)
            s.top = s.engine.best()   # published with the prefill's depth, not as a change
        return out

    def advance_to(self, now_ns: int) -> list[Event | TopOfBook]:
        """Process every arrival up to and including `now_ns`; the events our accounts and
        the public tape see (trades, our fills and cancels, and on a venue that pushes every
        change of its best bid/offer a `TopOfBook` after each arrival that changed it), in
        time order."""
        out: list[Event | TopOfBook] = []
        heap = self._heap
        while heap and heap[0][0] <= now_ns:
            self._next(out)
        self.now_ns = max(self.now_ns, now_ns)
        return out

    def step(self, n: int) -> list[Event | TopOfBook]:
        """Process the next `n` arrivals whatever their times (benchmarks, fast replays)."""
        out: list[Event | TopOfBook] = []
        for _ in range(n):
            self.now_ns = self._next(out)
        return out

    # -- internals ------------------------------------------------------------------------------
    def _next(self, out: list[Event | TopOfBook]) -> int:
        """The earliest pending arrival: process it, schedule that symbol's next; its time."""
        t, i = heappop(self._heap)
        s = self._syms[i]
        self._arrive(s, t, out)
        if self.top_events:
            self._note_top(s, t, out)
        s.next_ns = t + self._gap(s)
        heappush(self._heap, (s.next_ns, i))
        return t

    def _index(self, symbol: str) -> int:
        for i, s in enumerate(self._syms):
            if s.engine.symbol == symbol:
                return i
        raise KeyError(symbol)

    def _note_top(self, s: _Symbol, now_ns: int, out: list[Event | TopOfBook]) -> None:
        eng = s.engine
        top = eng.best_if_changed(s.top)
        if top is not None:
            s.top = top
            out.append(_new_top(eng.symbol, eng.sequence, top[0], top[1], now_ns))

    def _gap(self, s: _Symbol) -> int:
        return max(1, int(s.r.x() * self._mean_gap_ns))

    def _arrive(self, s: _Symbol, now_ns: int, out: list[Event | TopOfBook]) -> None:
        self.arrivals += 1
        s.evolve(now_ns)
        r = s.r
        u = r.u()
        if u < s.market_share:
            self._market(s, now_ns, out)
        else:
            n = len(s.ids)
            if n and r.u() < n / (n + s.target2):
                self._cancel(s, now_ns, out)
            else:
                # passive: queue at or behind the mid, never through the opposite best
                bid, ask = s.engine.best_prices()
                d = int(r.x() * s.depth)
                if r.u() < 0.5:
                    side = _BUY
                    ref = math.ceil(s.mid) - 1
                    price = (ref if ask is None else min(ref, ask - 1)) - d
                else:
                    side = _SELL
                    ref = math.floor(s.mid) + 1
                    price = (ref if bid is None else max(ref, bid + 1)) + d
                if price > 0:
                    self._place(s, side, price, r.x(), now_ns, out)
        self._top_up(s, now_ns, out)

    def _place(self, s: _Symbol, side: Side, price: int, scale: float, now_ns: int,
               out: list[Event | TopOfBook]) -> None:
        eng = s.engine
        out += eng.submit_order(BACKGROUND, "", side, price, s.lots(price, scale), _LIMIT,
                                _GTC, now_ns)
        oid = eng.last_order_id
        if eng.is_open(oid) and oid not in s.pos:
            s.track(oid, price)

    def _market(self, s: _Symbol, now_ns: int, out: list[Event | TopOfBook]) -> None:
        # informed flow: buys are likelier while the book sits below the latent mid, which
        # is how the public book follows the mid (price discovery through trades)
        eng = s.engine
        bid, ask = eng.best_prices()
        lean = 0.0
        if bid is not None and ask is not None:
            lean = math.tanh((s.mid - (bid + ask) * 0.5) / s.depth)
        side = _BUY if s.r.u() < 0.5 + 0.45 * lean else _SELL
        ref = max(1, int(s.mid))
        lots = s.lots(ref, s.r.x() * 2.0)
        out += eng.submit_order(BACKGROUND, "", side, None, lots, _MARKET, _IOC, now_ns)

    def _cancel(self, s: _Symbol, now_ns: int, out: list[Event | TopOfBook]) -> None:
        eng = s.engine
        while s.ids:
            n = len(s.ids)
            i = int(s.r.u() * n)
            j = int(s.r.u() * n)
            mid = s.mid
            k = i if abs(s.prices[i] - mid) >= abs(s.prices[j] - mid) else j
            oid = s.ids[k]
            s.untrack_at(k)
            if eng.is_open(oid):
                out += eng.cancel(BACKGROUND, oid, now_ns)
                return

    def _top_up(self, s: _Symbol, now_ns: int, out: list[Event | TopOfBook]) -> None:
        eng = s.engine
        need = s.min_levels
        for side in (_BUY, _SELL):
            missing = need - eng.level_count(side)
            if missing <= 0:
                continue
            # fewer than `need` levels: the farthest one is the edge to extend from
            edge = eng.worst(side)
            if edge is None:
                edge = math.floor(s.mid) if side is _BUY else math.ceil(s.mid)
            step = -1 if side is _BUY else 1
            for k in range(1, missing + 1):
                price = edge + step * k
                if price <= 0:
                    break
                self._place(s, side, price, 0.5 + s.r.x(), now_ns, out)
