"""Each signal formula against hand-computed numbers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.strategy.signals import (
    ArrivalIntensity,
    EwmaVolatility,
    TradeFlowImbalance,
    book_imbalance,
    decay_factor,
    microprice,
)
from pipeline.model import Side

SEC = 1_000_000_000


def test_microprice_leans_toward_the_thin_side() -> None:
    # (100 * 1 + 101 * 3) / 4: a thin ask is about to be lifted
    assert microprice(100.0, 3.0, 101.0, 1.0) == pytest.approx(100.75)
    assert microprice(100.0, 1.0, 101.0, 3.0) == pytest.approx(100.25)
    assert microprice(100.0, 2.0, 101.0, 2.0) == pytest.approx(100.5)


def test_microprice_without_sizes_is_the_mid() -> None:
    assert microprice(100.0, 0.0, 102.0, 0.0) == 101.0


def test_book_imbalance_over_levels() -> None:
    bids = np.array([3.0, 1.0, 100.0])
    asks = np.array([1.0, 1.0, 100.0])
    assert book_imbalance(bids, asks, levels=1) == pytest.approx(0.5)       # (3-1)/4
    assert book_imbalance(bids, asks, levels=2) == pytest.approx(1 / 3)     # (4-2)/6
    # weights 1, 0.5: B = 3.5, A = 1.5 -> 2/5
    assert book_imbalance(bids, asks, levels=2, decay=0.5) == pytest.approx(0.4)


def test_book_imbalance_sign_and_empty() -> None:
    assert book_imbalance(np.array([1.0]), np.array([3.0])) == pytest.approx(-0.5)
    assert book_imbalance(np.array([]), np.array([])) == 0.0
    assert book_imbalance(np.array([2.0]), np.array([])) == 1.0


def test_decay_factor_halves_per_halflife() -> None:
    assert decay_factor(SEC, SEC) == 0.5
    assert decay_factor(3 * SEC, SEC) == 0.125
    assert decay_factor(0, SEC) == 1.0
    assert decay_factor(-5, SEC) == 1.0


def test_trade_flow_imbalance_decays_with_time() -> None:
    f = TradeFlowImbalance(halflife_ns=SEC)
    assert f.value == 0.0
    f.update(2.0, Side.BUY, 0)
    assert f.value == 1.0
    f.update(1.0, Side.SELL, SEC)          # buy decayed to 1.0, sell 1.0
    assert f.buy == pytest.approx(1.0) and f.sell == pytest.approx(1.0)
    assert f.value == pytest.approx(0.0)
    f.update(1.0, Side.BUY, SEC)           # same instant: no further decay
    assert f.value == pytest.approx(1 / 3)  # (2 - 1) / 3


def test_ewma_volatility_on_a_known_series() -> None:
    v = EwmaVolatility(halflife_ns=SEC)
    v.update(100.0, 0)
    assert v.value == 0.0 and v.samples == 0
    v.update(101.0, SEC)                   # first sample sets the variance: r^2 / 1 s
    s1 = math.log(1.01) ** 2
    assert v.variance == pytest.approx(s1)
    v.update(100.0, 3 * SEC)               # dt = 2 s: sample r^2 / 2, weight 1 - 2^-2
    s2 = math.log(100 / 101) ** 2 / 2
    assert v.variance == pytest.approx(0.25 * s1 + 0.75 * s2)
    assert v.value == pytest.approx(0.0078664, rel=1e-4)


def test_ewma_volatility_is_per_sqrt_second_whatever_the_sampling() -> None:
    """A walk of +-0.1% per second sampled every 1 s, or +-0.2% per 4 s, is 0.1%/sqrt(s)."""
    fast, slow = EwmaVolatility(10 * SEC), EwmaVolatility(10 * SEC)
    p = 100.0
    for i in range(50):
        fast.update(p * math.exp(0.001 * (i % 2)), i * SEC)
    for i in range(50):
        slow.update(p * math.exp(0.002 * (i % 2)), 4 * i * SEC)
    assert fast.value == pytest.approx(0.001, rel=1e-9)
    assert slow.value == pytest.approx(0.001, rel=1e-9)


def test_ewma_volatility_ignores_same_time_and_bad_prices_but_keeps_the_anchor() -> None:
    v = EwmaVolatility(SEC)
    v.update(100.0, 0)
    v.update(150.0, 0)       # same instant: ignored, anchor stays at 100 @ 0
    v.update(0.0, SEC)       # not a price
    v.update(float("nan"), SEC)
    v.update(101.0, SEC)
    assert v.samples == 1
    assert v.variance == pytest.approx(math.log(1.01) ** 2)


def test_arrival_intensity_rate() -> None:
    a = ArrivalIntensity(halflife_ns=SEC)
    assert a.rate_at(0) == 0.0 and not a.seen
    a.update(0)
    assert a.rate_at(0) == pytest.approx(math.log(2))       # 1 * ln2 / 1 s
    assert a.rate_at(SEC) == pytest.approx(math.log(2) / 2)
    a.update(SEC)
    assert a.value == pytest.approx(1.5 * math.log(2))


def test_arrival_intensity_tracks_a_steady_rate() -> None:
    a = ArrivalIntensity(halflife_ns=5 * SEC)
    step = SEC // 10                                        # 10 trades per second
    for i in range(600):
        a.update(i * step)
    assert a.rate_at(599 * step + step // 2) == pytest.approx(10.0, rel=0.03)


@pytest.mark.parametrize("cls", [TradeFlowImbalance, EwmaVolatility, ArrivalIntensity])
def test_halflife_must_be_positive(cls: type) -> None:
    with pytest.raises(ValueError):
        cls(0)
