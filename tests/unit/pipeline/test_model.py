"""Instrument: exact, direction-aware quantization and exact decimal strings on the wire."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.model import Instrument, RejectReason, Side, decimal_str, split_symbol

TICKS = [Decimal("0.01"), Decimal("0.1"), Decimal("0.00001"), Decimal("0.5"), Decimal("1"),
         Decimal("0.0001")]


def _inst(tick: Decimal = Decimal("0.01"), lot: Decimal = Decimal("0.001")) -> Instrument:
    return Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", tick, lot,
                      min_qty=lot, min_notional=Decimal("5"), max_qty=Decimal("100"))


def test_bid_rounds_down_ask_rounds_up_nearest_without_side() -> None:
    i = _inst()
    assert i.price_to_ticks("100.016", Side.BUY) == 10001
    assert i.price_to_ticks("100.011", Side.SELL) == 10002
    assert i.price_to_ticks("100.016") == 10002
    assert i.price_to_ticks(100.016, Side.BUY) == 10001
    assert i.price_to_ticks(100.011, Side.SELL) == 10002


@given(st.sampled_from(TICKS), st.integers(min_value=1, max_value=10**9))
def test_float_prices_on_the_grid_land_exactly_on_their_tick(tick: Decimal, n: int) -> None:
    i = _inst(tick)
    price = float(tick * n)
    for side in (Side.BUY, Side.SELL, None):
        assert i.price_to_ticks(price, side) == n == i.price_to_ticks(Decimal(str(price)), side)


@given(st.sampled_from(TICKS), st.floats(min_value=1e-3, max_value=1e7, allow_nan=False))
def test_float_fast_path_never_makes_a_quote_more_aggressive(tick: Decimal, price: float) -> None:
    i = _inst(tick)
    bid, ask = i.price_to_ticks(price, Side.BUY), i.price_to_ticks(price, Side.SELL)
    exact = Decimal(str(price))
    tol = exact * Decimal("1e-11") + Decimal("1e-30")
    assert i.ticks_to_price(bid) <= exact + tol
    assert i.ticks_to_price(ask) >= exact - tol
    assert 0 <= ask - bid <= 1
    assert bid == i.price_to_ticks(exact, Side.BUY) or abs(
        i.ticks_to_price(bid) - exact) <= tol


def test_exact_strings_on_the_wire() -> None:
    i = _inst(Decimal("0.01"), Decimal("0.00001"))
    assert i.format_price(6543210) == "65432.1"
    assert i.format_qty(123) == "0.00123"
    assert decimal_str(Decimal("1E+2")) == "100"
    assert decimal_str(Decimal("0.00100")) == "0.001"
    assert decimal_str(Decimal("0")) == "0"


def test_sizes_round_down_never_up() -> None:
    i = _inst()
    assert i.qty_to_lots("0.0019") == 1
    assert i.qty_to_lots(0.002) == 2


def test_filters_are_typed() -> None:
    i = _inst()
    assert i.check(10000, 1000) is RejectReason.NONE            # 1 BTC at 100
    assert i.check(10000, 0) is RejectReason.BAD_SIZE
    assert i.check(10000, 1) is RejectReason.BAD_SIZE            # notional 0.1 < 5
    assert i.check(0, 100) is RejectReason.BAD_PRICE
    assert i.check(10000, 200_000) is RejectReason.BAD_SIZE      # over max qty
    assert i.check(None, 10) is RejectReason.NONE                # market: size only


def test_bad_instruments_and_symbols_are_refused() -> None:
    with pytest.raises(ValueError):
        _inst(Decimal("0"))
    with pytest.raises(ValueError):
        split_symbol("BTCUSDT")
    assert split_symbol("eth/usdt".upper()) == ("ETH", "USDT")
