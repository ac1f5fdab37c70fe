"""A local L2 order book for one symbol, kept by each venue's book-sync logic.

Used by every venue's `protocol/book.py` sequencer (sans-I/O) and by the feed process, which
copies the top N levels into a shared-memory book slot after each applied update. Prices are
the floats parsed from the venue's decimal strings (the same string always yields the same
float, so level keys match the venue's exactly); sizes are absolute (a size of 0 deletes).

Sorted price lists are kept beside the level dicts (bisect inserts), so reading the top N is
a slice rather than a sort: the feed reads the top after every update.
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

Level = tuple[float, float]


class L2Book:
    """Bids and asks as price -> size maps with sorted price indexes."""

    __slots__ = ("_ask_keys", "_asks", "_bid_keys", "_bids", "last_id", "symbol", "ts_event")

    def __init__(self, symbol: str = "") -> None:
        self.symbol = symbol
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}
        self._bid_keys: list[float] = []  # negated prices, ascending => best bid first
        self._ask_keys: list[float] = []  # prices ascending => best ask first
        self.last_id = -1
        self.ts_event = 0

    # -- mutation ----------------------------------------------------------------------------
    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bid_keys.clear()
        self._ask_keys.clear()
        self.last_id = -1
        self.ts_event = 0

    def replace(self, bids: Iterable[Level], asks: Iterable[Level], last_id: int = -1) -> None:
        """Reset to a full snapshot (zero-size levels in a snapshot are ignored)."""
        self._bids = {p: s for p, s in bids if s > 0.0}
        self._asks = {p: s for p, s in asks if s > 0.0}
        self._bid_keys = sorted(-p for p in self._bids)
        self._ask_keys = sorted(self._asks)
        self.last_id = last_id

    def apply_bids(self, levels: Iterable[Level]) -> None:
        book, keys = self._bids, self._bid_keys
        for price, size in levels:
            if size > 0.0:
                if price not in book:
                    insort(keys, -price)
                book[price] = size
            elif price in book:
                del book[price]
                del keys[bisect_left(keys, -price)]

    def apply_asks(self, levels: Iterable[Level]) -> None:
        book, keys = self._asks, self._ask_keys
        for price, size in levels:
            if size > 0.0:
                if price not in book:
                    insort(keys, price)
                book[price] = size
            elif price in book:
                del book[price]
                del keys[bisect_left(keys, price)]

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        self.apply_bids(bids)
        self.apply_asks(asks)

    # -- reading -----------------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        if not self._bid_keys:
            return None
        p = -self._bid_keys[0]
        return p, self._bids[p]

    def best_ask(self) -> Level | None:
        if not self._ask_keys:
            return None
        p = self._ask_keys[0]
        return p, self._asks[p]

    def is_crossed(self) -> bool:
        """True when best bid >= best ask: an impossible book that must be resynced."""
        return bool(self._bid_keys and self._ask_keys
                    and -self._bid_keys[0] >= self._ask_keys[0])

    def top_bids(self, n: int) -> list[Level]:
        bids = self._bids
        return [(-k, bids[-k]) for k in self._bid_keys[:n]]

    def top_asks(self, n: int) -> list[Level]:
        asks = self._asks
        return [(k, asks[k]) for k in self._ask_keys[:n]]

    @property
    def depth(self) -> tuple[int, int]:
        return len(self._bids), len(self._asks)

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def __repr__(self) -> str:
        return (f"L2Book({self.symbol!r}, bids={len(self._bids)}, asks={len(self._asks)}, "
                f"last_id={self.last_id}, best={self.best_bid()}/{self.best_ask()})")
