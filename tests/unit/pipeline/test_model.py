"""Instrument: exact, direction-aware quantization and exact decimal strings on the wire."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.model import Instrument, RejectReason, Side, decimal_str, split_symbol

TICKS = [Decimal("0.01"), Decimal("0.1"), Decimal("0.00001"), Decimal("0.5"), Decimal(1),
         Decimal("0.0001")]


def _inst(tick: Decimal = Decimal("0.01"), lot: Decimal = Decimal("0.001")) -> Instrument:
    return Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", tick, lot,
                      min_qty=lot, min_notional=Decimal(5), max_qty=Decimal(100))


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
    assert decimal_str(Decimal(0)) == "0"


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
        _inst(Decimal(0))
    with pytest.raises(ValueError):
        split_symbol("BTCUSDT")
    assert split_symbol("eth/usdt".upper()) == ("ETH", "USDT")


# -- the integer forms of check / format_price / format_qty ----------------------------------------
steps = st.sampled_from(["0.1", "0.01", "1", "0.00000001", "5", "0.5", "0.010", "1E+1", "2.5",
                         "0.000001", "25", "0.0005"]).map(Decimal)
bounds = st.one_of(st.sampled_from(["0", "0.00001", "1", "-1", "0.00016", "3.33", "5", "10.5",
                                    "1E+3", "0E-8", "-0"]).map(Decimal),
                   st.decimals(min_value=-10**6, max_value=10**6, places=9,
                               allow_nan=False, allow_infinity=False))
counts = st.one_of(st.integers(-10, 10**6), st.integers(-10**30, 10**30),
                   st.sampled_from([0, 1, 10**27, 10**28, 2**63]))


@given(tick=steps, lot=steps, min_qty=bounds, min_notional=bounds,
       max_qty=st.one_of(st.none(), bounds), max_notional=st.one_of(st.none(), bounds),
       ticks=st.one_of(st.none(), counts), lots=counts)
def test_integer_filters_and_formats_equal_the_decimal_ones(
        tick: Decimal, lot: Decimal, min_qty: Decimal, min_notional: Decimal,
        max_qty: Decimal | None, max_notional: Decimal | None, ticks: int | None,
        lots: int) -> None:
    """`check` (integer bounds when exact) is `_check_decimal`; `format_price`/`format_qty`
    (string slicing when exact) are `decimal_str` of the Decimal value, for every instrument,
    however large or odd the counts."""
    i = Instrument("v", "A/B", "AB", "A", "B", tick, lot, min_qty=min_qty,
                   min_notional=min_notional, max_qty=max_qty, max_notional=max_notional)
    assert i.check(ticks, lots) is i._check_decimal(ticks, lots)
    for n in (lots, ticks if ticks is not None else 1):
        assert i.format_price(n) == decimal_str(i.ticks_to_price(n))
        assert i.format_qty(n) == decimal_str(i.lots_to_qty(n))


def test_odd_instruments_keep_the_decimal_path() -> None:
    """Values built by hand (ints, absurd exponents) are still answered, the Decimal way."""
    i = Instrument("v", "A/B", "AB", "A", "B", Decimal("1E-70"), Decimal(1))
    assert i._tick_c == 0 and i.format_price(3) == decimal_str(Decimal("3E-70"))
    j = Instrument("v", "A/B", "AB", "A", "B", Decimal("0.1"), Decimal(1),
                   min_qty=2)  # type: ignore[arg-type]
    assert j._lot_c == 0 and j.check(5, 1) is RejectReason.BAD_SIZE
