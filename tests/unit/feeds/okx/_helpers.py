"""Shared test helpers: fixture loading and a BTC-USDT instrument like OKX's."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.model import Instrument

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "okx"


def text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def load(name: str) -> Any:
    return json.loads(text(name))


def btc_usdt(code: int | None = 1000000000) -> Instrument:
    return Instrument(venue="okx", symbol="BTC/USDT", venue_symbol="BTC-USDT", base="BTC",
                      quote="USDT", tick_size=Decimal("0.1"), lot_size=Decimal("0.00000001"),
                      min_qty=Decimal("0.00001"), venue_code=code)
