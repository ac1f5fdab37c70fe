"""Market signals that feed the market maker's fair value and spread (pure, float64).

Called by `engine.strategy.market_maker.MarketMaker` on every book and trade event; usable by
any other strategy. Stateless signals are functions; stateful ones are small classes with
`update(...)` and `value`, decaying with *elapsed time* (int ns), not with event count, so
a burst of updates and a quiet minute weigh the way wall time says they should.

- `microprice`: size-weighted mid of the best levels — leans toward the side more likely to be
  taken next (a thin ask gets lifted: price moves up).
- `book_imbalance`: (bid depth - ask depth) / total over the top levels, in [-1, 1].
- `TradeFlowImbalance`: EWMA of signed aggressor volume, as (buy - sell) / (buy + sell).
- `EwmaVolatility`: EWMA of squared log-mid returns per second -> sigma per sqrt-second.
- `ArrivalIntensity`: EWMA trade arrival rate, trades per second.
"""
from __future__ import annotations

import math

import numpy as np

from pipeline.model import Side

NS_PER_S = 1_000_000_000
LN2 = math.log(2.0)


def decay_factor(dt_ns: int, halflife_ns: int) -> float:
    """Weight left on old information after `dt_ns`: 2^(-dt/halflife) (1 when dt <= 0)."""
    if dt_ns <= 0:
        return 1.0
    return 2.0 ** (-dt_ns / halflife_ns)


def microprice(bid_px: float, bid_sz: float, ask_px: float, ask_sz: float) -> float:
    """(bid * ask_size + ask * bid_size) / (bid_size + ask_size); the mid when both sizes
    are zero."""
    total = bid_sz + ask_sz
    if total <= 0.0:
        return 0.5 * (bid_px + ask_px)
    return (bid_px * ask_sz + ask_px * bid_sz) / total


def book_imbalance(bid_sz: np.ndarray, ask_sz: np.ndarray, levels: int = 5,
                   decay: float = 1.0) -> float:
    """(B - A) / (B + A) over the top `levels`, level i weighted by decay**i; 0 when empty.

    +1 means all resting size is on the bid (buy pressure), -1 all on the ask.
    """
    nb = min(levels, len(bid_sz))
    na = min(levels, len(ask_sz))
    if decay == 1.0:
        b = float(np.sum(bid_sz[:nb]))
        a = float(np.sum(ask_sz[:na]))
    else:
        w = decay ** np.arange(max(nb, na), dtype=np.float64)
        b = float(np.dot(bid_sz[:nb], w[:nb]))
        a = float(np.dot(ask_sz[:na], w[:na]))
    total = b + a
    if total <= 0.0:
        return 0.0
    return (b - a) / total


def log_return(p0: float, p1: float) -> float:
    return math.log(p1 / p0)


class TradeFlowImbalance:
    """Exponentially decayed aggressor volume; `value` = (buy - sell) / (buy + sell).

    Both sides decay by the same factor, so the ratio only moves on trades; `buy` / `sell`
    are the decayed volumes as of the last update.
    """

    __slots__ = ("buy", "halflife_ns", "last_ns", "sell")

    def __init__(self, halflife_ns: int) -> None:
        if halflife_ns <= 0:
            raise ValueError("halflife_ns must be positive")
        self.halflife_ns = halflife_ns
        self.buy = 0.0
        self.sell = 0.0
        self.last_ns: int | None = None

    def update(self, size: float, side: Side, now_ns: int) -> None:
        if self.last_ns is not None:
            f = decay_factor(now_ns - self.last_ns, self.halflife_ns)
            self.buy *= f
            self.sell *= f
        if self.last_ns is None or now_ns > self.last_ns:
            self.last_ns = now_ns
        if side is Side.BUY:
            self.buy += size
        else:
            self.sell += size

    @property
    def value(self) -> float:
        total = self.buy + self.sell
        return (self.buy - self.sell) / total if total > 0.0 else 0.0


class EwmaVolatility:
    """Time-aware EWMA volatility of log returns, per sqrt-second.

    Each update with a later timestamp contributes the sample r^2 / dt_s (an unbiased
    per-second variance for a random walk, whatever the sampling rate), blended in with
    weight 1 - 2^(-dt/halflife). The first sample sets the variance outright (no zero prior to
    bias it down). An update at the same or an earlier timestamp is ignored and keeps the
    anchor, so the next later one sees the whole move. `value` = sqrt(variance); 0 until two
    prices at different times have been seen.
    """

    __slots__ = ("halflife_ns", "last_ns", "last_price", "samples", "variance")

    def __init__(self, halflife_ns: int) -> None:
        if halflife_ns <= 0:
            raise ValueError("halflife_ns must be positive")
        self.halflife_ns = halflife_ns
        self.variance = 0.0
        self.last_price = 0.0
        self.last_ns = 0
        self.samples = 0

    def update(self, price: float, now_ns: int) -> None:
        if price <= 0.0 or not math.isfinite(price):
            return
        if self.last_price == 0.0:
            self.last_price, self.last_ns = price, now_ns
            return
        dt = now_ns - self.last_ns
        if dt <= 0:
            return
        r = math.log(price / self.last_price)
        sample = r * r * NS_PER_S / dt
        if self.samples == 0:
            self.variance = sample
        else:
            a = 1.0 - 2.0 ** (-dt / self.halflife_ns)
            self.variance += a * (sample - self.variance)
        self.samples += 1
        self.last_price, self.last_ns = price, now_ns

    @property
    def value(self) -> float:
        return math.sqrt(self.variance)


class ArrivalIntensity:
    """EWMA trade arrival rate in trades per second.

    A decayed event count c (each trade adds 1, c halves every halflife) normalised by the
    kernel's mass: rate = c * ln2 / halflife_s, which is unbiased for a steady Poisson rate.
    `rate_at(now_ns)` decays the count to `now_ns` without recording an event.
    """

    __slots__ = ("count", "halflife_ns", "last_ns")

    def __init__(self, halflife_ns: int) -> None:
        if halflife_ns <= 0:
            raise ValueError("halflife_ns must be positive")
        self.halflife_ns = halflife_ns
        self.count = 0.0
        self.last_ns: int | None = None

    def update(self, now_ns: int, n: float = 1.0) -> None:
        if self.last_ns is not None and now_ns > self.last_ns:
            self.count *= decay_factor(now_ns - self.last_ns, self.halflife_ns)
            self.last_ns = now_ns
        elif self.last_ns is None:
            self.last_ns = now_ns
        self.count += n

    def rate_at(self, now_ns: int) -> float:
        if self.last_ns is None:
            return 0.0
        c = self.count * decay_factor(now_ns - self.last_ns, self.halflife_ns)
        return c * LN2 * NS_PER_S / self.halflife_ns

    @property
    def value(self) -> float:
        """Rate as of the last trade."""
        return self.rate_at(self.last_ns) if self.last_ns is not None else 0.0

    @property
    def seen(self) -> bool:
        return self.last_ns is not None
