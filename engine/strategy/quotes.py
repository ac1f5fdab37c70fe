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
from typing import Any

from engine.strategy.base import Quote, QuoteSet, frozen_twin
from pipeline.model import Side

_BUY = Side.BUY  # `Side.BUY` is a class-attribute lookup costing ~0.2 us on 3.11


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


_LiveOrderDraft = frozen_twin(LiveOrder)
_new = object.__new__


def make_live_order(client_id: str, side: Side, price_ticks: int, lots: int, layer: int,
                    placed_ns: int) -> LiveOrder:
    """`LiveOrder(...)` built fast (see `frozen_twin`): the engine builds one per working
    order of a market each time it diffs that market."""
    o: Any = _new(_LiveOrderDraft)
    o.client_id = client_id
    o.side = side
    o.price_ticks = price_ticks
    o.lots = lots
    o.layer = layer
    o.placed_ns = placed_ns
    o.__class__ = LiveOrder
    return o  # type: ignore[no-any-return]


def diff_quotes(current: Sequence[LiveOrder], desired: QuoteSet, tolerance_ticks: int,
                now_ns: int, min_requote_ns: int = 0) -> tuple[list[str], list[Quote]]:
    """(client ids to cancel, quotes to place) that turn `current` into `desired`.

    Keys are (side, layer) with the `Side` member itself (an IntEnum hashes as its int)."""
    tol = max(1, tolerance_ticks)
    bids, asks = desired.bids, desired.asks
    quotes = bids + asks
    wanted: dict[tuple[Side, int], Quote] = {(q.side, q.layer): q for q in quotes}
    min_desired_ask = min([q.price_ticks for q in asks]) if asks else None
    max_desired_bid = max([q.price_ticks for q in bids]) if bids else None
    max_bid, min_ask = desired.max_bid_ticks, desired.min_ask_ticks

    kept: dict[tuple[Side, int], LiveOrder] = {}
    for o in current:
        key = (o.side, o.layer)
        q = wanted.get(key)
        if q is None or key in kept:
            continue
        px = o.price_ticks
        if o.side is _BUY:
            if (max_bid > 0 and px > max_bid) or \
                    (min_desired_ask is not None and px >= min_desired_ask):
                continue  # crosses the book or our own desired asks
        elif (min_ask > 0 and px < min_ask) or \
                (max_desired_bid is not None and px <= max_desired_bid):
            continue
        moved = abs(px - q.price_ticks) >= tol or o.lots != q.lots
        if moved and now_ns - o.placed_ns >= min_requote_ns:
            continue
        kept[key] = o

    # Kept orders are each within tolerance of their own desired quote, so a kept bid and a
    # kept ask can still cross each other; pull both sides of any such pair.
    kept_bids = [o for o in kept.values() if o.side is _BUY]
    if kept_bids and len(kept_bids) < len(kept):
        kept_asks = [o for o in kept.values() if o.side is not _BUY]
        lowest_ask = min([o.price_ticks for o in kept_asks])
        highest_bid = max([o.price_ticks for o in kept_bids])
        for o in kept_bids:
            if o.price_ticks >= lowest_ask:
                del kept[(o.side, o.layer)]
        for o in kept_asks:
            if o.price_ticks <= highest_bid:
                del kept[(o.side, o.layer)]

    if len(kept) == len(current):
        to_cancel: list[str] = []
    else:
        kept_ids = {o.client_id for o in kept.values()}
        to_cancel = [o.client_id for o in current if o.client_id not in kept_ids]
    to_place = [q for q in quotes if (q.side, q.layer) not in kept]
    return to_cancel, to_place
