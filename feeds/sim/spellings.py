"""Memo of how one instrument's prices and sizes are spelled on one venue's wire, for the
simulated venues' market-data push.

The engine speaks integer ticks and lots; every pushed depth level, best bid/offer and trade
turns them into the venue's decimal strings (a Decimal product, then the venue's formatter:
a few microseconds a number, most of a frame's cost). A simulated book reuses the same few
thousand prices and sizes over and over, and the spelling depends on the integer alone, so
each front-end keeps one `Spellings` per instrument: the venue's own formatter runs once per
distinct value and its result is reused, byte for byte. The memo is dropped whole when it
fills (a long run drifts through prices), as `feeds/binance/protocol/_wire.fmt8` does.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

MAX_ENTRIES = 1 << 16   # per instrument and kind: far more than a book's live prices


class Spellings:
    """`price(ticks)` / `qty(lots)`: the venue formatter's output for that integer."""

    __slots__ = ("_fmt_price", "_fmt_qty", "_price", "_qty")

    def __init__(self, fmt_price: Callable[[int], str], fmt_qty: Callable[[int], str]) -> None:
        self._fmt_price = fmt_price
        self._fmt_qty = fmt_qty
        self._price: dict[int, str] = {}
        self._qty: dict[int, str] = {}

    def price(self, ticks: int) -> str:
        s = self._price.get(ticks)
        if s is None:
            if len(self._price) >= MAX_ENTRIES:
                self._price.clear()
            s = self._price[ticks] = self._fmt_price(ticks)
        return s

    def qty(self, lots: int) -> str:
        s = self._qty.get(lots)
        if s is None:
            if len(self._qty) >= MAX_ENTRIES:
                self._qty.clear()
            s = self._qty[lots] = self._fmt_qty(lots)
        return s

    def levels(self, levels: Iterable[tuple[int, int]]) -> list[list[str]]:
        """[[price, qty], ...] spelled, in order (depth diffs and snapshots)."""
        px, qx = self.price, self.qty
        return [[px(p), qx(q)] for p, q in levels]
