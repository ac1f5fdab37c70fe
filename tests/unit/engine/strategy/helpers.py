"""Shared builders for the strategy tests: instruments, config and books at known prices."""
from __future__ import annotations

from decimal import Decimal

from engine.strategy.base import BookView
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from pipeline.config import MarketMakingConfig
from pipeline.model import Instrument

VENUES = ("binance", "okx", "gate")
SYM = "BTC/USDT"
SEC = 1_000_000_000


def instrument(venue: str, symbol: str = SYM, tick: str = "0.01", lot: str = "0.00001",
               **kw: object) -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(venue, symbol, base + quote, base, quote, Decimal(tick), Decimal(lot),
                      **kw)  # type: ignore[arg-type]


def instruments(venues: tuple[str, ...] = VENUES,
                symbols: tuple[str, ...] = (SYM,)) -> dict[tuple[str, str], Instrument]:
    return {(v, s): instrument(v, s) for v in venues for s in symbols}


def config(**kw: object) -> MarketMakingConfig:
    base: dict[str, object] = {"spread_bps": 10.0, "order_size": 0.001, "max_position": 0.01,
                               "layers": 2, "layer_spacing_bps": 5.0,
                               "requote_tolerance_bps": 2.0, "risk_aversion": 0.1,
                               "refresh_interval_ms": 250}
    base.update(kw)
    return MarketMakingConfig(**base)  # type: ignore[arg-type]


# sigma pinned at 2 bps/sqrt-s and tau at 10 s (no trades): gamma*sigma^2*tau = 4 bps per clip;
# tilts off so the fair value is the plain microprice
PARAMS = MarketMakerParams(min_volatility_bps=2.0, max_horizon_s=10.0, imbalance_weight_bps=0.0,
                           flow_weight_bps=0.0, gateways_up_at_start=True)


def book(bid: float = 99.51, ask: float = 100.51, bid_sz: float = 1.0, ask_sz: float = 1.0,
         synced: bool = True, ts: int = 0) -> BookView:
    """Two-level book: the best levels given, a second level one unit further out."""
    return BookView.from_levels([(bid, bid_sz), (bid - 1.0, bid_sz)],
                                [(ask, ask_sz), (ask + 1.0, ask_sz)], synced, ts)


def maker(cfg: MarketMakingConfig | None = None, params: MarketMakerParams = PARAMS,
          venues: tuple[str, ...] = VENUES, **book_kw: object) -> MarketMaker:
    """A maker with every venue's book set to `book(**book_kw)` at t=0."""
    mm = MarketMaker(cfg or config(), instruments(venues), params)
    for v in venues:
        mm.on_book(v, SYM, book(**book_kw), 0)  # type: ignore[arg-type]
    return mm
