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
from dataclasses import dataclass
from decimal import Decimal

from engine.strategy.base import EMPTY_QUOTES, BookView, Quote, QuoteSet, Strategy, VenueSymbol
from engine.strategy.signals import (
    ArrivalIntensity,
    EwmaVolatility,
    TradeFlowImbalance,
    book_imbalance,
    microprice,
)
from pipeline.config import MarketMakingConfig
from pipeline.model import Instrument, RejectReason, Side

BPS = 1e4
NS_PER_MS = 1_000_000


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


class _Venue:
    """Per (venue, symbol) state."""

    __slots__ = ("ask_ticks", "bid_ticks", "book", "imbalance", "inst", "max_lots", "memo",
                 "memo_key", "micro", "order_lots", "position", "tick", "usable_book", "vol",
                 "weight", "weight_now")

    def __init__(self, inst: Instrument, cfg: MarketMakingConfig, vol_halflife_ns: int,
                 weight: float) -> None:
        self.inst = inst
        self.book: BookView | None = None
        self.vol = EwmaVolatility(vol_halflife_ns)
        self.position = 0  # lots
        self.bid_ticks = 0  # venue BBO in ticks, cached per book update
        self.ask_ticks = 0
        self.tick = float(inst.tick_size)
        self.order_lots = inst.qty_to_lots(cfg.order_size)
        self.max_lots = inst.qty_to_lots(cfg.max_position)
        self.weight = weight
        # derived from the book once per update, not once per desired_quotes call
        self.usable_book = False  # synced, two-sided, not crossed (staleness aside)
        self.micro = 0.0
        self.imbalance = 0.0
        self.weight_now = 0.0  # weight / relative spread
        # last quotes and the inputs they were built from: same inputs, same quotes
        self.memo_key: tuple[float, float, int, int, int, int] | None = None
        self.memo: QuoteSet = EMPTY_QUOTES


class _Symbol:
    __slots__ = ("flow", "intensity", "keys", "position")

    def __init__(self, flow_halflife_ns: int, intensity_halflife_ns: int) -> None:
        self.keys: list[VenueSymbol] = []
        self.position = Decimal(0)  # summed over venues, base units, exact
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
            self._gateway_up.setdefault(venue, p.gateways_up_at_start)
        self._last: dict[str, SymbolQuoteState] = {}

    # -- events --------------------------------------------------------------------------------
    def on_book(self, venue: str, symbol: str, book: BookView, now_ns: int) -> None:
        v = self._venues.get((venue, symbol))
        if v is None:
            return
        v.book = book
        bb, ba = book.best_bid, book.best_ask
        v.usable_book = book.synced and book.two_sided and bb < ba
        if v.usable_book:
            p = self.params
            v.bid_ticks = v.inst.price_to_ticks(bb)
            v.ask_ticks = v.inst.price_to_ticks(ba)
            v.micro = microprice(bb, book.best_bid_size, ba, book.best_ask_size)
            v.imbalance = book_imbalance(book.bid_sz, book.ask_sz, p.imbalance_levels,
                                         p.imbalance_decay)
            v.weight_now = v.weight * (bb + ba) / (ba - bb)  # venue weight / relative spread
            v.vol.update(0.5 * (bb + ba), now_ns)

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
        self._symbols[symbol].position += v.inst.lots_to_qty(lots - v.position)
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
        for key in sym.keys:
            v = self._venues[key]
            if not self._usable(v, now_ns):
                continue
            w = v.weight_now
            fv_sum += w * v.micro
            imb_sum += w * v.imbalance
            w_sum += w
            if v.vol.samples:
                vols.append(v.vol.value)
            if self._gateway_up[key[0]] and v.inst.tradable:
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
        q = float(pos) / cfg.order_size
        gamma = cfg.risk_aversion
        skew = reservation_offset_bps(q, gamma, sigma, tau)
        skew = max(-p.max_skew_bps, min(p.max_skew_bps, skew))
        half = as_half_spread_bps(gamma, sigma, tau, p.k_per_bps)
        half = max(cfg.spread_bps / 2.0, min(p.max_half_spread_bps, half))
        return SymbolQuoteState(fair, sigma, tau, pos, q, fair * (1.0 - skew / BPS), half, quoting)

    def desired_quotes(self, now_ns: int) -> dict[VenueSymbol, QuoteSet]:
        out: dict[VenueSymbol, QuoteSet] = {}
        states: dict[str, SymbolQuoteState | None] = {}
        if self.config.enabled:
            for symbol in self._symbols:
                st = states[symbol] = self._symbol_state(symbol, now_ns)
                if st is None:
                    self._last.pop(symbol, None)
                else:
                    self._last[symbol] = st
        for key, v in self._venues.items():
            st = states.get(key[1])
            if (st is None or not self._gateway_up[key[0]] or not v.inst.tradable
                    or not self._usable(v, now_ns)):
                out[key] = EMPTY_QUOTES
            else:
                out[key] = self._venue_quotes(v, st)
        return out

    # -- one venue -----------------------------------------------------------------------------
    def _room_lots(self, v: _Venue, st: SymbolQuoteState, side: Side) -> int:
        """Lots that may rest on `side` here without any limit being passed if all fill."""
        sign = int(side)
        venue_room = v.max_lots - sign * v.position
        sym_room = (self._max_position - sign * st.position) / st.quoting_venues
        return max(0, min(venue_room, v.inst.qty_to_lots(sym_room) if sym_room > 0 else 0))

    def _venue_quotes(self, v: _Venue, st: SymbolQuoteState) -> QuoteSet:
        cfg = self.config
        inst = v.inst
        max_bid = v.ask_ticks - 1
        min_ask = v.bid_ticks + 1
        rooms = {Side.BUY: self._room_lots(v, st, Side.BUY),
                 Side.SELL: self._room_lots(v, st, Side.SELL)}
        memo_key = (st.reservation, st.half_spread_bps, rooms[Side.BUY], rooms[Side.SELL],
                    max_bid, min_ask)
        if memo_key == v.memo_key:
            return v.memo
        sides: dict[Side, list[Quote]] = {Side.BUY: [], Side.SELL: []}
        for side in (Side.BUY, Side.SELL):
            room = rooms[side]
            prev = 0
            for layer in range(cfg.layers):
                lots = min(v.order_lots, room)
                if lots <= 0:
                    break
                dist = (st.half_spread_bps + layer * cfg.layer_spacing_bps) / BPS
                if side is Side.BUY:
                    ticks = min(inst.price_to_ticks(st.reservation * (1.0 - dist), side),
                                max_bid)
                    if layer:
                        ticks = min(ticks, prev - 1)
                else:
                    ticks = max(inst.price_to_ticks(st.reservation * (1.0 + dist), side),
                                min_ask)
                    if layer:
                        ticks = max(ticks, prev + 1)
                if inst.check(ticks, lots) is not RejectReason.NONE:
                    break
                sides[side].append(Quote(side, ticks, lots, layer))
                room -= lots
                prev = ticks
        v.memo_key = memo_key
        v.memo = QuoteSet(tuple(sides[Side.BUY]), tuple(sides[Side.SELL]), max_bid, min_ask)
        return v.memo
