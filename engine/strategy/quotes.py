"""Requote decisions: which live orders to cancel and which quotes to place (pure).

Called by the engine loop for each (venue, symbol) after `Strategy.desired_quotes`: venues
rate-limit order entry, and every cancel/replace spends that budget and loses queue priority,
so a live order is left alone unless the desired quote moved enough to matter.

Rules, per (side, layer) — the identity of a quote:
1. A live order that would now cross — beyond the set's `max_bid_ticks` / `min_ask_ticks`
   (the venue's best ask - 1 / best bid + 1), or through one of our own desired or kept
   quotes on the other side — is always pulled (and its desired quote placed).
2. A live order with no desired quote (side pulled, layer dropped, venue pulled, duplicate) is
   cancelled at once: pulling is a risk action and is never throttled.
3. Otherwise a live order is replaced only if its price moved by >= `tolerance_ticks` (at least
   1) or its size changed, *and* it has rested at least `min_requote_ns` (0 = no minimum).
4. A desired quote with no live order is placed.
Outputs are deterministic: cancels in the live orders' order, placements bids then asks, by
layer.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.strategy.base import Quote, QuoteSet
from pipeline.model import Side


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """A working order the OMS holds for a (venue, symbol); pending-cancel ones excluded.
    `lots` is the remaining (unfilled) size."""

    client_id: str
    side: Side
    price_ticks: int
    lots: int
    layer: int
    placed_ns: int


def _crosses_book(o: LiveOrder, desired: QuoteSet) -> bool:
    if o.side == Side.BUY:
        return desired.max_bid_ticks > 0 and o.price_ticks > desired.max_bid_ticks
    return desired.min_ask_ticks > 0 and o.price_ticks < desired.min_ask_ticks


def diff_quotes(current: Sequence[LiveOrder], desired: QuoteSet, tolerance_ticks: int,
                now_ns: int, min_requote_ns: int = 0) -> tuple[list[str], list[Quote]]:
    """(client ids to cancel, quotes to place) that turn `current` into `desired`."""
    tol = max(1, tolerance_ticks)
    wanted: dict[tuple[int, int], Quote] = {(int(q.side), q.layer): q for q in desired.quotes}
    min_desired_ask = min((q.price_ticks for q in desired.asks), default=None)
    max_desired_bid = max((q.price_ticks for q in desired.bids), default=None)

    kept: dict[tuple[int, int], LiveOrder] = {}
    for o in current:
        key = (int(o.side), o.layer)
        q = wanted.get(key)
        if q is None or key in kept or _crosses_book(o, desired):
            continue
        if o.side == Side.BUY:
            if min_desired_ask is not None and o.price_ticks >= min_desired_ask:
                continue
        elif max_desired_bid is not None and o.price_ticks <= max_desired_bid:
            continue
        moved = abs(o.price_ticks - q.price_ticks) >= tol or o.lots != q.lots
        if moved and now_ns - o.placed_ns >= min_requote_ns:
            continue
        kept[key] = o

    # Kept orders are each within tolerance of their own desired quote, so a kept bid and a
    # kept ask can still cross each other; pull both sides of any such pair.
    kept_bids = [o for o in kept.values() if o.side == Side.BUY]
    kept_asks = [o for o in kept.values() if o.side == Side.SELL]
    if kept_bids and kept_asks:
        lowest_ask = min(o.price_ticks for o in kept_asks)
        highest_bid = max(o.price_ticks for o in kept_bids)
        for o in kept_bids:
            if o.price_ticks >= lowest_ask:
                del kept[(int(o.side), o.layer)]
        for o in kept_asks:
            if o.price_ticks <= highest_bid:
                del kept[(int(o.side), o.layer)]

    kept_ids = {o.client_id for o in kept.values()}
    to_cancel = [o.client_id for o in current if o.client_id not in kept_ids]
    to_place = [q for q in desired.quotes if (int(q.side), q.layer) not in kept]
    return to_cancel, to_place
