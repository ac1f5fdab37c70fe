"""What the per-venue order-path traces share (`okx_order_frames.py`,
`test_binance_order_path.py`, `test_gate_order_path.py`): a fixed clock, a socket stand-in,
a deterministic fault plan, and the crowd that moves the book between requests.

The crowd's draws from `rng` are part of each recorded digest: keep their order.
"""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from feeds.sim.matching import SimOrder
from feeds.sim.venue import CROWD, SimVenue
from pipeline.model import OrderType, RejectReason, Side, TimeInForce

T0 = 1_700_000_000_123_456_789


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        return self.t


class FakeWs:
    """Enough of an aiohttp WebSocketResponse for an `Outbox` that is never run."""

    closed = False
    _writer = None


class ScriptedFaults:
    """A deterministic stand-in for `FaultPlan`: every 7th new order is rate limited, every
    11th refused, every 5th ack lost; no latency."""

    def __init__(self) -> None:
        self.n_orders = 0
        self.n_acks = 0

    def latency_ns(self, venue: str) -> int:
        return 0

    def rate_limited(self, venue: str, now: int) -> bool:
        self.n_orders += 1
        return self.n_orders % 7 == 0

    def forced_reject(self, venue: str, now: int) -> RejectReason | None:
        return RejectReason.INSUFFICIENT_BALANCE if self.n_orders % 11 == 0 else None

    def should_drop_ack(self, venue: str, now: int) -> bool:
        self.n_acks += 1
        return self.n_acks % 5 == 0

    def ack_delay_ns(self, venue: str, now: int) -> int:
        return 0


class Crowd:
    """The background account's orders around each symbol's `mid` (ticks), sized in
    multiples of `lot`, its levels `step` ticks apart."""

    def __init__(self, symbols: Sequence[str], mid: Mapping[str, int], lot: Mapping[str, int],
                 step: Mapping[str, int]) -> None:
        self.symbols = list(symbols)
        self.mid, self.lot, self.step = mid, lot, step

    @staticmethod
    def order(venue: SimVenue, sym: str, side: Side, ticks: int, lots: int,
              tif: TimeInForce = TimeInForce.GTC) -> None:
        venue.submit(CROWD, sym, SimOrder(CROWD, "", side, ticks, lots, OrderType.LIMIT, tif))

    def seed(self, venue: SimVenue) -> None:
        """Twenty levels a side for every symbol."""
        for sym in self.symbols:
            mid, lot, step = self.mid[sym], self.lot[sym], self.step[sym]
            for i in range(1, 21):
                self.order(venue, sym, Side.BUY, mid - step * i, lot * (1 + i % 4))
                self.order(venue, sym, Side.SELL, mid + step * i, lot * (1 + i % 3))

    def move(self, venue: SimVenue, rng: random.Random) -> None:
        """One seeded change: a new resting order, a cancel, or a crossing IOC."""
        sym = rng.choice(self.symbols)
        mid, lot, step = self.mid[sym], self.lot[sym], self.step[sym]
        side = rng.choice((Side.BUY, Side.SELL))
        r = rng.random()
        if r < 0.5:
            off = rng.randint(1, 30) * step
            self.order(venue, sym, side, mid - off if side is Side.BUY else mid + off,
                       lot * rng.randint(1, 5))
        elif r < 0.8:
            opens = venue.open_orders(CROWD, sym)
            if opens:
                venue.cancel(CROWD, sym, rng.choice(opens).order_id)
        else:
            px = mid + 30 * step if side is Side.BUY else mid - 30 * step
            self.order(venue, sym, side, px, lot * rng.randint(1, 3), TimeInForce.IOC)
