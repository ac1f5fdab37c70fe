"""The engine's live state as one document, published into a shared-memory snapshot slot.

`hft top` and the Prometheus exporter (in the supervisor) read it; the engine writes it a few
times a second from its timer path, never per order or per tick. Everything an operator asks
of a running system is in it: trading state and recent risk events, per venue/symbol the book's
best bid/ask, our best resting quotes, position, realized/unrealized PnL and volume, order and
reject counts (rejects by reason), and the tick-to-order / order-to-ack histograms as their raw
log-bucket arrays (mergeable, so the exporter computes any percentile or bucket it wants).
Money stays exact: decimal strings.
"""
from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import orjson

from engine.core import EngineCore
from pipeline.model import Side
from shm.snapshot import SnapshotSlot, SnapshotTooLarge

RISK_EVENTS_KEPT = 10


def live_state(core: EngineCore, now_ns: int) -> dict[str, Any]:
    core.update_marks()
    pf = core.portfolio
    markets = []
    for (venue, symbol), inst in sorted(core.instruments.items()):
        book = core.books_seen.get((venue, symbol))
        open_orders = core.oms.open_book(venue, symbol).values()
        bids = [o.price_ticks for o in open_orders if o.side is Side.BUY]
        asks = [o.price_ticks for o in open_orders if o.side is Side.SELL]
        pos = pf.positions.get((venue, symbol))
        mark = pf.marks.get((venue, symbol))
        markets.append({
            "venue": venue, "symbol": symbol,
            "bid": book[0] if book else 0.0, "ask": book[1] if book else 0.0,
            "quote_bid": str(inst.ticks_to_price(max(bids))) if bids else "",
            "quote_ask": str(inst.ticks_to_price(min(asks))) if asks else "",
            "open_orders": len(bids) + len(asks),
            "position": str(pf.position_qty(venue, symbol)),
            "realized": str(pos.realized_quote if pos else Decimal(0)),
            "unrealized": str(pos.unrealized_quote(mark) if pos else Decimal(0)),
            "fees": str(pos.fees if pos else Decimal(0)),
            "volume": str(core.stats.volume.get(f"{venue}:{symbol}", Decimal(0))),
            "gateway_up": core.gateway_up.get(venue, False)})
    rms = core.rms
    events = rms.events[-RISK_EVENTS_KEPT:] if rms is not None else []
    return {
        "ts": now_ns,
        "trading_state": rms.state.name if rms is not None else "NOT_STARTED",
        "orders": core.stats.orders, "fills": core.stats.fills, "cancels": core.stats.cancels,
        "venue_rejects": core.stats.rejects, "risk_rejects": core.stats.local_rejects,
        "rejects_by_reason": dict(core.stats.rejects_by_reason),
        "open_orders": core.oms.n_open(),
        "realized": str(pf.realized()), "unrealized": str(pf.unrealized()),
        "fees": str(pf.fees()), "equity": str(pf.equity()),
        "markets": markets,
        "risk_events": [{"ts": e.ts, "scope": e.scope, "kind": e.kind, "old": e.old.name,
                         "new": e.new.name, "reason": e.reason} for e in events],
        "histograms_ns": {"tick_to_order": core.t2o_ns.a.tolist(),
                          "order_ack": core.ack_ns.a.tolist()},
    }


class LiveStatePublisher:
    """Writes `live_state` into the run's snapshot slot (created by the supervisor)."""

    def __init__(self, segment: str) -> None:
        self.slot = SnapshotSlot.attach(segment)
        self.errors = 0

    def publish(self, core: EngineCore, now_ns: int | None = None) -> None:
        doc = orjson.dumps(live_state(core, time.time_ns() if now_ns is None else now_ns))
        try:
            self.slot.write(doc)
        except SnapshotTooLarge:
            self.errors += 1  # counted; the previous document stays readable

    def close(self) -> None:
        self.slot.close()


def read_live_state(segment: str) -> dict[str, Any] | None:
    """For readers (top, exporter): the latest document, or None."""
    slot = SnapshotSlot.attach(segment)
    try:
        raw = slot.read()
    finally:
        slot.close()
    return orjson.loads(raw) if raw else None
