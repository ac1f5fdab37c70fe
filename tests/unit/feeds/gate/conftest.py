"""Shared fixtures for the gate protocol tests: the doc's example frames and instruments."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.model import Instrument

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "gate"


def load(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def instrument(pair: str, tick: str, lot: str) -> Instrument:
    base, quote = pair.split("_")
    return Instrument(venue="gate", symbol=f"{base}/{quote}", venue_symbol=pair, base=base,
                      quote=quote, tick_size=Decimal(tick), lot_size=Decimal(lot))


@pytest.fixture
def btc() -> Instrument:
    return instrument("BTC_USDT", "0.1", "0.00001")


@pytest.fixture
def gt() -> Instrument:
    return instrument("GT_USDT", "0.0001", "0.01")


@pytest.fixture
def instruments(btc: Instrument, gt: Instrument) -> dict[str, Instrument]:
    return {btc.venue_symbol: btc, gt.venue_symbol: gt}
