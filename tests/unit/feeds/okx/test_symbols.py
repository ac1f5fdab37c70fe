"""instId naming and the instruments payload, both directions."""
from __future__ import annotations

from decimal import Decimal

import pytest

from feeds.okx.protocol import symbols
from pipeline.errors import ProtocolError, VenueError

from ._helpers import btc_usdt


def test_names_both_ways() -> None:
    assert symbols.to_internal("BTC-USDT") == "BTC/USDT"
    assert symbols.to_venue("btc/usdt") == "BTC-USDT"
    for bad in ("BTCUSDT", "BTC-USDT-SWAP", "-USDT", "BTC-", 7):
        with pytest.raises(ProtocolError):
            symbols.to_internal(bad)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        symbols.to_venue("BTC-USDT")


def test_instruments_round_trip_through_the_rest_shape() -> None:
    a = btc_usdt()
    b = symbols.parse_instruments(symbols.encode_instruments([a]))
    assert b == [a]


def test_parse_skips_non_spot_and_reads_state_and_null_code() -> None:
    body = symbols.encode_instruments([btc_usdt(code=None)])
    item = body["data"][0]
    item["state"] = "suspend"
    body["data"].append({**item, "instType": "SWAP", "instId": "BTC-USDT-SWAP"})
    [inst] = symbols.parse_instruments(body)
    assert inst.venue_code is None and not inst.tradable and inst.max_qty is None


def test_encoded_instrument_has_string_numbers_and_integer_code() -> None:
    item = symbols.encode_instrument(btc_usdt())
    assert item["instIdCode"] == 1000000000 and item["tickSz"] == "0.1"
    assert item["lotSz"] == "0.00000001" and item["minSz"] == "0.00001"
    assert item["state"] == "live" and item["instType"] == "SPOT"


def test_bad_payloads() -> None:
    good = symbols.encode_instruments([btc_usdt()])
    with pytest.raises(VenueError):
        symbols.parse_instruments({"code": "50011", "msg": "Rate limit", "data": []})
    for mutate in ({"tickSz": "0"}, {"lotSz": "-1"}, {"instIdCode": "x"}, {"baseCcy": "ETH"},
                   {"minSz": None}):
        item = {**good["data"][0], **mutate}
        with pytest.raises(ProtocolError):
            symbols.parse_instruments({"code": "0", "msg": "", "data": [item]})
    with pytest.raises(ProtocolError):
        symbols.parse_instruments("{")
    assert symbols.parse_instruments(b'{"code":"0","msg":"","data":[]}') == []
    assert Decimal(good["data"][0]["tickSz"]) == Decimal("0.1")
