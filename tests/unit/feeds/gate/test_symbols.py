"""Gate currency pairs <-> instruments, both directions."""
from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from feeds.gate.protocol import symbols as sy
from pipeline.errors import ProtocolError

from .conftest import load


def test_pair_names() -> None:
    assert sy.to_internal("BTC_USDT") == "BTC/USDT" and sy.to_venue("btc/usdt") == "BTC_USDT"
    for bad in ("BTCUSDT", "A_B_C", "_USDT"):
        with pytest.raises(ProtocolError):
            sy.to_internal(bad)


def test_doc_example_becomes_an_exact_instrument() -> None:
    [inst] = sy.parse_instruments(orjson.loads(load("rest_currency_pair")))
    assert (inst.venue, inst.symbol, inst.venue_symbol, inst.base, inst.quote) == (
        "gate", "ETH/USDT", "ETH_USDT", "ETH", "USDT")
    assert inst.tick_size == Decimal("0.000001") and inst.lot_size == Decimal("0.001")
    assert inst.min_qty == Decimal("0.001") and inst.min_notional == Decimal("1.0")
    assert inst.max_qty == Decimal(10000) and inst.max_notional == Decimal(10000000)
    assert inst.tradable


def test_null_limits_and_one_way_status() -> None:
    d = orjson.loads(load("rest_currency_pair"))
    d.update(min_base_amount=None, max_quote_amount=None, trade_status="buyable")
    [inst] = sy.parse_instruments([d])
    assert inst.min_qty == 0 and inst.max_notional is None and not inst.tradable


def test_bad_entries_raise_or_are_skipped() -> None:
    good = orjson.loads(load("rest_currency_pair"))
    bad = dict(good, precision="six")
    with pytest.raises(ProtocolError):
        sy.parse_instruments([good, bad])
    assert len(sy.parse_instruments([good, bad, 7, dict(good, trade_status="x")],
                                    strict=False)) == 1


def test_encode_has_the_doc_keys_and_round_trips() -> None:
    doc = orjson.loads(load("rest_currency_pair"))
    [inst] = sy.parse_instruments(doc)
    [enc] = sy.encode_instruments([inst])
    assert list(enc) == list(doc)
    assert {k: type(v) for k, v in enc.items()} == {k: type(v) for k, v in doc.items()}
    assert sy.parse_instruments(orjson.loads(orjson.dumps([enc]))) == [inst]


def test_encode_refuses_non_power_of_ten_tick() -> None:
    from .conftest import instrument
    with pytest.raises(ProtocolError):
        sy.encode_instrument(instrument("X_Y", "0.5", "1"))
