"""Multi-venue market maker: Avellaneda–Stoikov quotes around a cross-venue fair value.

Built by the engine from `[strategy.market_making]` and the instruments of every enabled
(venue, symbol); the engine feeds it events and asks `desired_quotes(now_ns)` each refresh.

Per symbol (shared by its venues):
- fair value = weighted mean of each usable venue's microprice (weight = venue weight /
  relative spread: a tight book says more), tilted by book imbalance and trade-flow
  imbalance, the tilt bounded by `max_tilt_bps`;
- sigma = mean EWMA volatility of the usable venues' log mids (config
  `volatility_halflife_ms`), trade arrival rate -> horizon tau, inventory q = the symbol's
  position summed over venues, in clips of `order_size`;
- Avellaneda–Stoikov reservation price and half-spread (formulas and units below), the
  half-spread floored at `spread_bps / 2`.
Per (venue, symbol):
- pulled (empty `QuoteSet`) when disabled, the gateway is down, or the book is missing, out
  of sync, one-sided or older than `stale_book_ms`;
- `layers` quotes per side, layer i `i * layer_spacing_bps` further out, `order_size` each;
- the side that adds to inventory shrinks to zero near `max_position`: its total quoted size
  on a venue is capped by both the venue's room (max_position - |venue position| that way)
  and the symbol's room split evenly over the quoting venues, so even if every quote on every
  venue filled, neither limit would be passed;
- quantized through the venue's `Instrument` (bids round down, asks up, sizes down), then
  clamped so that a bid is <= best ask - 1 tick and an ask >= best bid + 1 tick, and layers
  stay strictly behind each other. Quotes failing the instrument's filters are dropped.

Avellaneda–Stoikov, normalised to basis points of fair value s:
    r = s * (1 - q * gamma * sigma^2 * tau / 1e4)
    half-spread (bps) = gamma * sigma^2 * tau / 2 + ln(1 + gamma / k) / gamma
sigma in bps per sqrt-second, tau in seconds, q in clips of order_size (signed, long > 0),
gamma = risk_aversion per (bps * clip), k = fill-intensity decay per bps of distance
(lambda(delta) = A exp(-k delta)). tau = `horizon_trades` trades at the EWMA arrival rate,
clamped to [min_horizon_s, max_horizon_s] (max before any trade: a quiet market is the
riskier one to hold inventory in).
"""
from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from operator import mul as _mul
from typing import Any

import numpy as np

from engine.strategy.base import (
    EMPTY_QUOTES,
    BookView,
    QuoteSet,
    Strategy,
    VenueSymbol,
    frozen_twin,
    make_quote,
    make_quote_set,
)
from engine.strategy.signals import (
    ArrivalIntensity,
    EwmaVolatility,
    TradeFlowImbalance,
    microprice,
)
from pipeline.config import MarketMakingConfig
from pipeline.model import Instrument, Side

BPS = 1e4
NS_PER_MS = 1_000_000
_BUY, _SELL = Side.BUY, Side.SELL   # enum class attributes cost ~0.2 us per lookup on 3.11
_NO_LIMIT = 1 << 62


# -- Avellaneda–Stoikov (pure) -----------------------------------------------------------------
def reservation_offset_bps(q: float, gamma: float, sigma_bps: float, tau_s: float) -> float:
    """q * gamma * sigma^2 * tau: how far below fair (above, when short) quotes centre."""
    return q * gamma * sigma_bps * sigma_bps * tau_s


def as_half_spread_bps(gamma: float, sigma_bps: float, tau_s: float, k_per_bps: float) -> float:
    """gamma * sigma^2 * tau / 2 + ln(1 + gamma / k) / gamma."""
    return gamma * sigma_bps * sigma_bps * tau_s / 2.0 + math.log1p(gamma / k_per_bps) / gamma


def horizon_s(trade_rate: float, horizon_trades: float, min_s: float, max_s: float) -> float:
    """Time for `horizon_trades` trades at `trade_rate`/s, clamped; `max_s` when no rate."""
    if trade_rate <= 0.0:
        return max_s
    return min(max_s, max(min_s, horizon_trades / trade_rate))


@dataclass(frozen=True, slots=True)
class MarketMakerParams:
    """Model parameters `[strategy.market_making]` does not (yet) carry. Defaults are for a
    liquid spot pair (BTC/USDT: sigma ~ 1 bps/sqrt-s, tens of trades per second)."""

    k_per_bps: float = 0.5              # fill intensity halves every ~1.4 bps from fair
    horizon_trades: float = 100.0       # tau = time for this many market trades...
    min_horizon_s: float = 0.5          # ...but at least this
    max_horizon_s: float = 30.0         # ...and at most this (also before any trade)
    min_volatility_bps: float = 0.0     # floor on sigma (bps per sqrt-second)
    max_skew_bps: float = 100.0         # cap on |reservation - fair|
    max_half_spread_bps: float = 500.0  # cap on the A–S half-spread (vol spikes)
    flow_halflife_ms: int = 2_000       # trade-flow imbalance EWMA
    intensity_halflife_ms: int = 10_000  # trade arrival rate EWMA
    imbalance_levels: int = 5
    imbalance_decay: float = 0.5        # level i weighted decay**i
    imbalance_weight_bps: float = 1.0   # tilt per unit book imbalance
    flow_weight_bps: float = 1.0        # tilt per unit trade-flow imbalance
    max_tilt_bps: float = 2.0           # |imbalance + flow tilt| cap
    venue_weights: tuple[tuple[str, float], ...] = ()  # fair-value weight per venue (else 1)
    gateways_up_at_start: bool = False  # a gateway counts as down until reported up

    def __post_init__(self) -> None:
        if self.k_per_bps <= 0 or self.horizon_trades <= 0:
            raise ValueError("k_per_bps and horizon_trades must be positive")
        if not 0 < self.min_horizon_s <= self.max_horizon_s:
            raise ValueError("need 0 < min_horizon_s <= max_horizon_s")
        if self.flow_halflife_ms <= 0 or self.intensity_halflife_ms <= 0:
            raise ValueError("half-lives must be positive")
        if self.imbalance_levels < 1:
            raise ValueError("imbalance_levels must be >= 1")


@dataclass(frozen=True, slots=True)
class SymbolQuoteState:
    """What one `desired_quotes` call derived for a symbol (also for logs and tests)."""

    fair: float             # tilted fair value
    sigma_bps: float
    tau_s: float
    position: Decimal       # symbol position summed over venues, base units
    q_clips: float          # position / order_size
    reservation: float
    half_spread_bps: float  # after the spread_bps / 2 floor and the cap
    quoting_venues: int


_StateDraft = frozen_twin(SymbolQuoteState)
_new = object.__new__


def _state(fair: float, sigma: float, tau: float, position: Decimal, q: float,
           reservation: float, half: float, quoting: int) -> SymbolQuoteState:
    """`SymbolQuoteState(...)` built fast (one per symbol per requote; see `frozen_twin`)."""
    st: Any = _new(_StateDraft)
    st.fair = fair
    st.sigma_bps = sigma
    st.tau_s = tau
    st.position = position
    st.q_clips = q
    st.reservation = reservation
    st.half_spread_bps = half
    st.quoting_venues = quoting
    st.__class__ = SymbolQuoteState
    return st  # type: ignore[no-any-return]


def _ceil(d: Decimal) -> int:
    return int(d.to_integral_value(rounding=ROUND_CEILING))


def _floor(d: Decimal) -> int:
    return int(d.to_integral_value(rounding=ROUND_FLOOR))


def _decimals(d: Decimal) -> int:
    e = d.normalize().as_tuple().exponent
    assert isinstance(e, int)
    return max(0, -e)


class _Venue:
    """Per (venue, symbol) state. The instrument's filters are also kept as integer bounds
    on lots and ticks*lots, so checking a quote is integer compares (`Instrument.check`
    does Decimal arithmetic: same answers, many times the cost)."""

    __slots__ = ("ask_ticks", "bid_ticks", "book", "f_max_lots", "f_max_nt", "f_min_lots",
                 "f_min_nt", "imbalance", "inst", "inv_tick", "lot_u", "max_lots", "memo",
                 "memo_key", "memo_spec", "micro", "order_lots", "position", "tick",
                 "usable_book", "vol", "weight", "weight_now")

    def __init__(self, inst: Instrument, cfg: MarketMakingConfig, vol_halflife_ns: int,
                 weight: float) -> None:
        self.inst = inst
        self.book: BookView | None = None
        self.vol = EwmaVolatility(vol_halflife_ns)
        self.position = 0  # lots
        self.bid_ticks = 0  # venue BBO in ticks, cached per book update
        self.ask_ticks = 0
        self.tick = float(inst.tick_size)
        self.inv_tick = float(1 / inst.tick_size)   # as Instrument computes it
        self.order_lots = inst.qty_to_lots(cfg.order_size)
        self.max_lots = inst.qty_to_lots(cfg.max_position)
        self.weight = weight
        unit = inst.tick_size * inst.lot_size
        self.f_min_lots = max(1, _ceil(inst.min_qty / inst.lot_size))
        self.f_max_lots = (_floor(inst.max_qty / inst.lot_size) if inst.max_qty is not None
                           else _NO_LIMIT)
        self.f_min_nt = _ceil(inst.min_notional / unit)                    # ticks*lots
        self.f_max_nt = (_floor(inst.max_notional / unit) if inst.max_notional is not None
                         else _NO_LIMIT)
        self.lot_u = 1  # lot in its symbol's common position unit (set by MarketMaker)
        # derived from the book once per update, not once per desired_quotes call
        self.usable_book = False  # synced, two-sided, not crossed (staleness aside)
        self.micro = 0.0
        self.imbalance = 0.0
        self.weight_now = 0.0  # weight / relative spread
        # last quotes and the inputs they were built from: same inputs, same quotes
        self.memo_key: tuple[float, float, int, int, int, int] | None = None
        self.memo: QuoteSet = EMPTY_QUOTES
        self.memo_spec: tuple[tuple[int, ...], tuple[int, ...], int, int] | None = None

    def passes(self, ticks: int, lots: int) -> bool:
        """`inst.check(ticks, lots) is RejectReason.NONE`, in integers."""
        nt = ticks * lots
        return (ticks > 0 and self.f_min_lots <= lots <= self.f_max_lots
                and self.f_min_nt <= nt <= self.f_max_nt)


class _Symbol:
    """Per symbol state. The position is kept three ways, each for its reader: exact
    `Decimal` (reports), an int in the symbol's common unit (the finest of its venues' lots
    and of `max_position`: exact room arithmetic per quote) and a float (the A–S skew)."""

    __slots__ = ("flow", "intensity", "keys", "max_pos_u", "position", "position_f",
                 "position_u", "unit", "venues")

    def __init__(self, flow_halflife_ns: int, intensity_halflife_ns: int) -> None:
        self.keys: list[VenueSymbol] = []
        self.venues: list[_Venue] = []
        self.position = Decimal(0)  # summed over venues, base units, exact
        self.position_u = 0
        self.position_f = 0.0
        self.max_pos_u = 0
        self.unit = Decimal(1)
        self.flow = TradeFlowImbalance(flow_halflife_ns)
        self.intensity = ArrivalIntensity(intensity_halflife_ns)


class MarketMaker(Strategy):
    """Two-sided layered quotes on every (venue, symbol) in `instruments`."""

    def __init__(self, config: MarketMakingConfig, instruments: dict[VenueSymbol, Instrument],
                 params: MarketMakerParams | None = None, stale_book_ms: int = 5_000) -> None:
        self.config = config
        self.params = params or MarketMakerParams()
        self.stale_book_ns = stale_book_ms * NS_PER_MS
        self.min_requote_ns = config.refresh_interval_ms * NS_PER_MS
        p = self.params
        weights = dict(p.venue_weights)
        self._max_position = Decimal(str(config.max_position))
        self._venues: dict[VenueSymbol, _Venue] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._gateway_up: dict[str, bool] = {}
        for key, inst in instruments.items():
            venue, symbol = key
            if (inst.venue, inst.symbol) != key:
                raise ValueError(f"instrument {inst.venue}:{inst.symbol} filed under {key}")
            self._venues[key] = _Venue(inst, config, config.volatility_halflife_ms * NS_PER_MS,
                                       weights.get(venue, 1.0))
            sym = self._symbols.get(symbol)
            if sym is None:
                sym = self._symbols[symbol] = _Symbol(p.flow_halflife_ms * NS_PER_MS,
                                                      p.intensity_halflife_ms * NS_PER_MS)
            sym.keys.append(key)
            sym.venues.append(self._venues[key])
            self._gateway_up.setdefault(venue, p.gateways_up_at_start)
        for sym in self._symbols.values():
            exp = max([_decimals(self._max_position)] +
                      [_decimals(v.inst.lot_size) for v in sym.venues])
            sym.unit = Decimal(1).scaleb(-exp)
            sym.max_pos_u = int(self._max_position / sym.unit)
            for v in sym.venues:
                v.lot_u = int(v.inst.lot_size / sym.unit)
        self._last: dict[str, SymbolQuoteState] = {}
        # book imbalance level weights decay**i, computed once
        self._imb_w: list[float] = [p.imbalance_decay ** i for i in range(p.imbalance_levels)]

    # -- events --------------------------------------------------------------------------------
    def on_book(self, venue: str, symbol: str, book: BookView, now_ns: int) -> None:
        v = self._venues.get((venue, symbol))
        if v is None:
            return
        v.book = book
        bid_px, ask_px = book.bid_px, book.ask_px
        v.usable_book = False
        if not book.synced or not len(bid_px) or not len(ask_px):
            return
        bb, ba = float(bid_px[0]), float(ask_px[0])
        if bb < ba:
            v.usable_book = True
            bid_sz, ask_sz = book.bid_sz, book.ask_sz
            # Instrument.price_to_ticks(px) for a float px without a side, inlined
            v.bid_ticks = round(bb * v.inv_tick)
            v.ask_ticks = round(ba * v.inv_tick)
            v.micro = microprice(bb, float(bid_sz[0]), ba, float(ask_sz[0]))
            v.imbalance = self._imbalance(bid_sz, ask_sz)
            v.weight_now = v.weight * (bb + ba) / (ba - bb)  # venue weight / relative spread
            v.vol.update(0.5 * (bb + ba), now_ns)

    def _imbalance(self, bid_sz: np.ndarray, ask_sz: np.ndarray) -> float:
        """`book_imbalance(bid_sz, ask_sz, levels, decay)` with the level weights cached;
        a handful of levels are cheaper as Python floats than as two numpy calls."""
        w = self._imb_w
        n = len(w)
        b = sum(map(_mul, bid_sz[:n].tolist(), w))
        a = sum(map(_mul, ask_sz[:n].tolist(), w))
        total = b + a
        return (b - a) / total if total > 0.0 else 0.0

    def on_trade(self, venue: str, symbol: str, price: float, size: float, side: Side,
                 now_ns: int) -> None:
        sym = self._symbols.get(symbol)
        if sym is None or (venue, symbol) not in self._venues:
            return
        sym.flow.update(size, side, now_ns)
        sym.intensity.update(now_ns)

    def on_fill(self, venue: str, symbol: str, side: Side, price_ticks: int, lots: int,
                now_ns: int) -> None:
        v = self._venues.get((venue, symbol))
        if v is not None:
            self._set_position(v, symbol, v.position + int(side) * lots)

    def on_position(self, venue: str, symbol: str, lots: int) -> None:
        v = self._venues.get((venue, symbol))
        if v is not None:
            self._set_position(v, symbol, lots)

    def _set_position(self, v: _Venue, symbol: str, lots: int) -> None:
        sym = self._symbols[symbol]
        sym.position += v.inst.lots_to_qty(lots - v.position)
        sym.position_u += (lots - v.position) * v.lot_u
        sym.position_f = float(sym.position)
        v.position = lots

    def on_gateway(self, venue: str, up: bool) -> None:
        if venue in self._gateway_up:
            self._gateway_up[venue] = up

    # -- queries -------------------------------------------------------------------------------
    def position_qty(self, symbol: str) -> Decimal:
        """The symbol's position summed over venues, in base units (exact)."""
        return self._symbols[symbol].position

    def symbol_state(self, symbol: str) -> SymbolQuoteState | None:
        """The state the last `desired_quotes` call derived for `symbol` (None: not quoted)."""
        return self._last.get(symbol)

    def tolerance_ticks(self, venue: str, symbol: str) -> int:
        """`requote_tolerance_bps` of the last fair value, in the venue's ticks (>= 1)."""
        st = self._last.get(symbol)
        if st is None:
            return 1
        v = self._venues[(venue, symbol)]
        return max(1, int(self.config.requote_tolerance_bps * st.fair / BPS / v.tick))

    def _usable(self, v: _Venue, now_ns: int) -> bool:
        return (v.usable_book and v.book is not None
                and now_ns - v.book.ts_ns <= self.stale_book_ns)

    def _symbol_state(self, symbol: str, now_ns: int) -> SymbolQuoteState | None:
        cfg, p = self.config, self.params
        sym = self._symbols[symbol]
        w_sum = fv_sum = imb_sum = 0.0
        vols: list[float] = []
        quoting = 0
        gw = self._gateway_up
        oldest = now_ns - self.stale_book_ns
        for key, v in zip(sym.keys, sym.venues):
            book = v.book
            if not v.usable_book or book is None or book.ts_ns < oldest:  # `_usable`
                continue
            w = v.weight_now
            fv_sum += w * v.micro
            imb_sum += w * v.imbalance
            w_sum += w
            vol = v.vol
            if vol.samples:
                vols.append(math.sqrt(vol.variance))   # vol.value
            if gw[key[0]] and v.inst.tradable:
                quoting += 1
        if w_sum <= 0.0:
            return None
        tilt = p.imbalance_weight_bps * imb_sum / w_sum + p.flow_weight_bps * sym.flow.value
        tilt = max(-p.max_tilt_bps, min(p.max_tilt_bps, tilt))
        fair = fv_sum / w_sum * (1.0 + tilt / BPS)
        sigma = max(p.min_volatility_bps, BPS * sum(vols) / len(vols) if vols else 0.0)
        tau = horizon_s(sym.intensity.rate_at(now_ns), p.horizon_trades, p.min_horizon_s,
                        p.max_horizon_s)
        pos = sym.position
        q = sym.position_f / cfg.order_size
        gamma = cfg.risk_aversion
        skew = reservation_offset_bps(q, gamma, sigma, tau)
        skew = max(-p.max_skew_bps, min(p.max_skew_bps, skew))
        half = as_half_spread_bps(gamma, sigma, tau, p.k_per_bps)
        half = max(cfg.spread_bps / 2.0, min(p.max_half_spread_bps, half))
        return _state(fair, sigma, tau, pos, q, fair * (1.0 - skew / BPS), half, quoting)

    def desired_quotes(self, now_ns: int) -> dict[VenueSymbol, QuoteSet]:
        out = self._quotes(now_ns, self._symbols, None)
        return {k: out[k] for k in self._venues}   # every market, in instrument order

    def desired_quotes_for(self, now_ns: int,
                           markets: Collection[VenueSymbol]) -> dict[VenueSymbol, QuoteSet]:
        """Quotes for `markets` (the books that just moved, the markets whose orders
        changed) and for every other market of their symbols whose quotes the new fair value
        shifted by half the requote tolerance or more since they were last built. A book
        update moves its symbol's fair value on every venue but never another symbol's, and
        a small shift cannot move a resting quote past the tolerance: those markets wait for
        their own next update or the engine's timer."""
        return self._quotes(now_ns, {s for _, s in markets}, markets)

    def _quotes(self, now_ns: int, symbols: Collection[str],
                markets: Collection[VenueSymbol] | None) -> dict[VenueSymbol, QuoteSet]:
        out: dict[VenueSymbol, QuoteSet] = {}
        enabled = self.config.enabled
        gw = self._gateway_up
        drift_bps = self.config.requote_tolerance_bps / 2.0
        for symbol in symbols:
            sym = self._symbols.get(symbol)
            if sym is None:
                continue
            st = None
            if enabled:
                st = self._symbol_state(symbol, now_ns)
                if st is None:
                    self._last.pop(symbol, None)
                else:
                    self._last[symbol] = st
            for key, v in zip(sym.keys, sym.venues):
                if st is None or not gw[key[0]] or not v.inst.tradable or \
                        not self._usable(v, now_ns):
                    out[key] = EMPTY_QUOTES
                elif markets is None or key in markets or self._drifted(v, st, drift_bps):
                    out[key] = self._venue_quotes(v, st, sym)
        return out

    @staticmethod
    def _drifted(v: _Venue, st: SymbolQuoteState, drift_bps: float) -> bool:
        """Did this venue's quote prices (centre and width) move by `drift_bps` of fair
        value or more since they were last built, or were they never built?"""
        last = v.memo_key
        if last is None:
            return True
        res = st.reservation
        moved = abs(res - last[0]) + res * abs(st.half_spread_bps - last[1]) / BPS
        return moved * BPS >= drift_bps * st.fair

    # -- one venue -----------------------------------------------------------------------------
    @staticmethod
    def _room(v: _Venue, sym: _Symbol, sign: int, quoting: int) -> int:
        """Lots that may rest on side `sign` here without any limit being passed if all
        fill: min(venue room, symbol room / quoting venues) in this venue's lots. The
        symbol's room is exact in its common unit, so the floor division is exact too."""
        venue_room = v.max_lots - sign * v.position
        sym_room = sym.max_pos_u - sign * sym.position_u
        r = sym_room // (quoting * v.lot_u) if sym_room > 0 else 0
        r = venue_room if venue_room < r else r
        return r if r > 0 else 0

    def _venue_quotes(self, v: _Venue, st: SymbolQuoteState, sym: _Symbol) -> QuoteSet:
        """The venue's quote set; the same object as last time when nothing in it changed
        (the engine skips diffing an unchanged set by identity)."""
        cfg = self.config
        max_bid = v.ask_ticks - 1
        min_ask = v.bid_ticks + 1
        quoting = st.quoting_venues
        buy_room = self._room(v, sym, 1, quoting)
        sell_room = self._room(v, sym, -1, quoting)
        res, half = st.reservation, st.half_spread_bps
        memo_key = (res, half, buy_room, sell_room, max_bid, min_ask)
        if memo_key == v.memo_key:
            return v.memo
        v.memo_key = memo_key
        inv_tick = v.inv_tick
        spacing = cfg.layer_spacing_bps
        order_lots = v.order_lots
        bids: list[int] = []   # ticks, lots per layer
        asks: list[int] = []
        for side, room, out in ((_BUY, buy_room, bids), (_SELL, sell_room, asks)):
            prev = 0
            for layer in range(cfg.layers):
                lots = order_lots if order_lots < room else room
                if lots <= 0:
                    break
                dist = (half + layer * spacing) / BPS
                # Instrument.price_to_ticks(price, side) for a float price, inlined: snap
                # to the nearest tick within float noise, else bids down and asks up
                if side is _BUY:
                    q = res * (1.0 - dist) * inv_tick
                    ticks = round(q)
                    if abs(q - ticks) > 1e-11 * max(1.0, abs(q)):
                        ticks = math.floor(q)
                    if ticks > max_bid:
                        ticks = max_bid
                    if layer and ticks > prev - 1:
                        ticks = prev - 1
                else:
                    q = res * (1.0 + dist) * inv_tick
                    ticks = round(q)
                    if abs(q - ticks) > 1e-11 * max(1.0, abs(q)):
                        ticks = math.ceil(q)
                    if ticks < min_ask:
                        ticks = min_ask
                    if layer and ticks < prev + 1:
                        ticks = prev + 1
                if not v.passes(ticks, lots):
                    break
                out.append(ticks)
                out.append(lots)
                room -= lots
                prev = ticks
        spec = (tuple(bids), tuple(asks), max_bid, min_ask)
        if spec == v.memo_spec:
            return v.memo
        v.memo_spec = spec
        v.memo = make_quote_set(
            tuple([make_quote(_BUY, bids[i], bids[i + 1], i >> 1)
                   for i in range(0, len(bids), 2)]),
            tuple([make_quote(_SELL, asks[i], asks[i + 1], i >> 1)
                   for i in range(0, len(asks), 2)]),
            max_bid, min_ask)
        return v.memo
