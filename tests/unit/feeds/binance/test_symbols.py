"""Binance symbols: names both ways, exchangeInfo -> Instrument (both notional filter kinds),
and the simulator's exchangeInfo parsing back to the same instruments."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest

from feeds.binance.protocol import symbols as Y
from pipeline.errors import ProtocolError

from .conftest import BTCUSDT, ETHBTC, FIXTURES, LTCBTC


def doc_filters() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / "rest_filters.jsonl").read_text().splitlines()]


def entry(filters: list[dict[str, Any]], status: str = "TRADING") -> dict[str, Any]:
    return {"symbol": "ETHBTC", "status": status, "baseAsset": "ETH", "quoteAsset": "BTC",
            "baseAssetPrecision": 8, "quoteAssetPrecision": 8, "filters": filters}


def test_doc_filters_give_tick_lot_and_notional() -> None:
    [i] = Y.parse_instruments({"symbols": [entry(doc_filters())]})
    assert (i.symbol, i.venue_symbol, i.base, i.quote) == ("ETH/BTC", "ETHBTC", "ETH", "BTC")
    assert i.tick_size == Decimal("0.000001") and i.lot_size == Decimal("0.001")
    assert i.min_qty == Decimal("0.001") and i.max_qty == Decimal(100000)
    # NOTIONAL wins over MIN_NOTIONAL when both are present
    assert i.min_notional == Decimal(10) and i.max_notional == Decimal(10000)
    assert i.tradable and i.venue == "binance"


def test_min_notional_filter_alone() -> None:
    fs = [f for f in doc_filters() if f["filterType"] != "NOTIONAL"]
    [i] = Y.parse_instruments({"symbols": [entry(fs)]})
    assert i.min_notional == Decimal("0.001") and i.max_notional is None


def test_disabled_tick_falls_back_to_precision_and_status_sets_tradable() -> None:
    fs = [{"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"}]
    [i] = Y.parse_instruments({"symbols": [entry(fs, status="HALT")]})
    assert i.tick_size == Decimal("1E-8") and i.lot_size == Decimal("1E-8") and not i.tradable


@pytest.mark.parametrize("payload", [
    None, [], {"symbols": None}, {"symbols": [1]},
    {"symbols": [{"symbol": "X", "baseAsset": "A"}]},
    {"symbols": [entry([{"filterType": "PRICE_FILTER", "tickSize": 0.01}])]},
    {"symbols": [entry([{"filterType": "LOT_SIZE", "stepSize": "x", "minQty": "0",
                         "maxQty": "0"}])]},
])
def test_malformed_exchange_info_raises_protocol_error(payload: Any) -> None:
    with pytest.raises(ProtocolError):
        Y.parse_instruments(payload)


def test_encode_instruments_round_trips() -> None:
    body = Y.encode_instruments([BTCUSDT, ETHBTC, LTCBTC], server_time_ms=123)
    assert {"timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"} == set(body)
    back = Y.parse_instruments(orjson.loads(orjson.dumps(body)))
    for a, b in zip([BTCUSDT, ETHBTC, LTCBTC], back, strict=True):
        assert (b.symbol, b.venue_symbol, b.tick_size, b.lot_size, b.min_notional) == (
            a.symbol, a.venue_symbol, a.tick_size, a.lot_size, a.min_notional)
    f = body["symbols"][0]["filters"][0]
    assert f == {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
                 "maxPrice": "1000000.00000000", "tickSize": "0.01000000"}


def test_names_both_ways() -> None:
    assert Y.venue_symbol("btc/usdt") == "BTCUSDT"
    assert Y.stream_symbol("BTCUSDT") == "btcusdt"
    m = Y.SymbolMap([BTCUSDT, ETHBTC])
    assert m.internal("btcusdt") == "BTC/USDT" and m.venue("ETH/BTC") == "ETHBTC" and len(m) == 2
    with pytest.raises(ProtocolError):
        m.internal("DOGEUSDT")
    with pytest.raises(ProtocolError):
        Y.venue_symbol("BTCUSDT")
