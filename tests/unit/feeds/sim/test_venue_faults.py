"""SimVenue applies the fault plan's forced rejects and rate limits to client orders, with
the venue's own codes, and never to the background crowd."""
from __future__ import annotations

import time
from decimal import Decimal

from feeds.sim.faults import Chance, FaultPlan, ForcedReject, VenueFaults
from feeds.sim.matching import Accepted, Rejected
from feeds.sim.venue import CROWD, SimVenue
from pipeline.model import OrderType, RejectReason, Side, TimeInForce


def _order(venue: SimVenue, account: str):
    return venue.submit_wire(account, "BTC/USDT", client_id="c1", side=Side.BUY,
                             type=OrderType.LIMIT, tif=TimeInForce.GTC,
                             price=Decimal("60000"), qty=Decimal("0.001"))


def test_rate_limit_faults_reject_client_orders_with_the_venue_code() -> None:
    venue = SimVenue("binance", ["BTC/USDT"], {"k": "s"}, time.time_ns)
    venue.faults = FaultPlan({"binance": VenueFaults(
        rate_limits=(Chance(probability=1.0),))}, seed=1)
    ev = _order(venue, "k")
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.RATE_LIMITED
    assert ev[0].venue_code == venue.rules.rate_limited.code
    assert not any(isinstance(e, Rejected) for e in _order(venue, CROWD))  # never throttled
    assert len(venue.open_orders(CROWD)) == 1
    assert venue.injected_rejects == 1


def test_forced_rejects_use_the_reason_and_the_venue_reply() -> None:
    venue = SimVenue("okx", ["BTC/USDT"], {"k": "s"}, time.time_ns, {"k": "p"})
    venue.faults = FaultPlan({"okx": VenueFaults(rejects=(ForcedReject(
        Chance(probability=1.0), RejectReason.INSUFFICIENT_BALANCE),))}, seed=1)
    ev = _order(venue, "k")[0]
    assert ev.reason is RejectReason.INSUFFICIENT_BALANCE
    assert ev.venue_code == venue.rules.insufficient_balance.code


def test_no_plan_no_faults() -> None:
    venue = SimVenue("gate", ["BTC/USDT"], {"k": "s"}, time.time_ns)
    assert isinstance(_order(venue, "k")[0], Accepted)
