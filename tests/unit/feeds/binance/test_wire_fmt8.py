"""`fmt8` memoises Decimals by value: the cached spelling must be exactly the computed one."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from feeds.binance.protocol import _wire as w
from pipeline.errors import ProtocolError


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    w._FMT8_CACHE.clear()


@pytest.mark.parametrize("value,expected", [
    (D("65000.1"), "65000.10000000"), (D("0.00001"), "0.00001000"),
    (D("1.234567891"), "1.234567891"), (D("12E+3"), "12000.00000000"), (7, "7.00000000"),
    ("0.5", "0.50000000"), (0.25, "0.25000000"), (D(0), "0.00000000"),
])
def test_spelling(value: object, expected: str) -> None:
    assert w.fmt8(value) == expected
    assert w.fmt8(value) == expected     # second call: from the cache where cached


def test_equal_values_share_one_spelling_and_negative_zero_keeps_its_sign() -> None:
    assert w.fmt8(D("1.0")) == w.fmt8(D("1.00000")) == w.fmt8(D(1)) == "1.00000000"
    assert w.fmt8(D(0)) == "0.00000000"
    assert w.fmt8(D("-0")) == "-0.00000000"       # zero is never cached: the sign survives
    assert w.fmt8(D(0)) == "0.00000000"


def test_cached_equals_computed_on_many_values_and_the_cache_stays_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(w, "_FMT8_CACHE_MAX", 1000)
    for i in range(0, 200_000, 7):
        d = D(i) * D("0.00000001") * (1 if i % 3 else -1)
        assert w.fmt8(d) == w._fmt8(d)
    assert 0 < len(w._FMT8_CACHE) <= w._FMT8_CACHE_MAX


@pytest.mark.parametrize("bad", [D("NaN"), D("sNaN"), D("Infinity"), True, float("inf")])
def test_non_numbers_still_refused(bad: object) -> None:
    with pytest.raises(ProtocolError):
        w.fmt8(bad)


@pytest.mark.parametrize("zero", ["0", "-0", "0E-7", "-0E-16", "0E+5", "0.00000", "-0.0"])
def test_zeros_of_any_exponent_are_spelled_as_computed(zero: str) -> None:
    """Zeros take a direct answer (most execution-report fields are one): it must be the
    computed spelling, sign included."""
    assert w.fmt8(D(zero)) == w._fmt8(D(zero))
    assert D(zero) not in w._FMT8_CACHE
