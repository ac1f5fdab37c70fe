"""Shared fixtures: the doc's example frames (tests/fixtures/binance) and test instruments."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline.model import Instrument

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "binance"
VECTORS = FIXTURES / "signing_vectors.json"  # byte copy of the shared protocols file


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


def inst(vs: str, base: str, quote: str, tick: str, lot: str, **kw: Any) -> Instrument:
    return Instrument("binance", f"{base}/{quote}", vs, base, quote, Decimal(tick), Decimal(lot),
                      **kw)


BTCUSDT = inst("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", min_qty=Decimal("0.00001"),
               min_notional=Decimal(5))
ETHBTC = inst("ETHBTC", "ETH", "BTC", "0.0000001", "0.0001")
LTCBTC = inst("LTCBTC", "LTC", "BTC", "0.000001", "0.001")
INSTRUMENTS = {i.venue_symbol: i for i in (BTCUSDT, ETHBTC, LTCBTC)}


@pytest.fixture
def instruments() -> dict[str, Instrument]:
    return dict(INSTRUMENTS)
