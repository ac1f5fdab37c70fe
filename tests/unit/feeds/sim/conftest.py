"""Shared fixtures for the simulated-venue core tests: one BTC/USDT per venue, two funded
accounts, and an engine factory."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D

import pytest

from feeds.sim.accounts import Accounts
from feeds.sim.matching import MatchingEngine
from feeds.sim.venue_rules import RULES, VenueRules
from pipeline.model import Instrument

FUNDS = {"USDT": D(1000000), "BTC": D(10)}


def btc_usdt(venue: str = "binance") -> Instrument:
    return Instrument(venue, "BTC/USDT", "BTCUSDT", "BTC", "USDT", tick_size=D("0.01"),
                      lot_size=D("0.0001"), min_qty=D("0.0001"), min_notional=D(5),
                      max_qty=D(100))


def make_engine(venue: str = "binance", rules: VenueRules | None = None,
                accounts: Accounts | None = None) -> MatchingEngine:
    if accounts is None:
        accounts = Accounts()
        for name in ("a", "b", "c"):
            accounts.open(name, FUNDS)
    return MatchingEngine(btc_usdt(venue), rules or RULES[venue], accounts)


@pytest.fixture
def engine_for() -> Callable[..., MatchingEngine]:
    return make_engine
