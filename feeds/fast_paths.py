"""What the venues' feed hot paths (`feeds/<venue>/protocol/market_fast.py`) share: the row
shapes they hand `FeedCore`, the regular-expression atoms their whole-frame patterns are built
from, and depth levels converted in C.

The atoms admit only what each venue's strict parser accepts too (plain decimal strings of at
most 61 characters, ids below 10**18, millisecond times whose nanoseconds fit int64), which is
what lets a fast path's row equal the strict parser's record field for field.

Depth levels: book frames carry dozens of [price, size, ...] levels; checking each string with
its own regex call and converting it in a Python loop is most of a depth frame's parse time.
`plain_levels` joins the level strings and checks them by ONE anchored match (a number pattern
that cannot contain the separator, and exactly one separator per field, so the join splits back
into the original strings) and converts them by `map(float, ...)` in C. Anything unusual returns
None and the venue falls back to its strict `_wire.levels`, which accepts or rejects with its
precise message; for the lists accepted here that returns the same floats.
"""
from __future__ import annotations

import re
from itertools import chain
from operator import itemgetter
from typing import Any, TypeVar

# (venue_symbol, bid_px, bid_sz, ask_px, ask_sz, ts_event ns, update_id)
BboRow = tuple[str, float, float, float, float, int, int]
# (venue_symbol, price, size, taker side +1 buy / -1 sell, ts_event ns, trade_id)
TradeRow = tuple[str, float, float, int, int, int]

NS_PER_MS = 1_000_000
# Regex atoms; possessive quantifiers (`{1,30}+`) because nothing here needs to backtrack.
NUM = r'"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)"'    # a plain decimal string, <= 61 chars (group)
ID = r"(0|[1-9][0-9]{0,17}+)"                     # a JSON int below 10**18, no sign (group)
MS_INT = r"(0|[1-9][0-9]{0,11}+|[1-8][0-9]{12}+)"  # JSON-int ms whose ns stay below 2**63 (group)
MS_DIGITS = r"([0-9]{1,12}+|[1-8][0-9]{12}+)"     # the same inside a string, digits (group)

_LEVEL_NUMS = re.compile(r"(?:[0-9]{1,30}+(?:\.[0-9]{1,30}+)?+,)*+").fullmatch
_flat = chain.from_iterable
_LIST = frozenset({list})
_pair = itemgetter(0, 1)


def plain_levels(v: Any, width: int) -> list[tuple[float, float]] | None:
    """`[[price, size, <width-2 more>], ...]` of plain number strings -> (price, size) float
    pairs; None when `v` is anything else (the caller's strict parser decides)."""
    if type(v) is not list or not set(map(type, v)) <= _LIST \
            or not set(map(len, v)) <= {width}:
        return None
    try:
        joined = ",".join(_flat(v)) + ","
    except TypeError:  # a level holds a non-string
        return None
    # one separator per field: a field holding the separator itself ("1,2") would otherwise
    # split into two valid-looking numbers
    if joined.count(",") != len(v) * width or _LEVEL_NUMS(joined) is None:
        return None
    it = map(float, _flat(v if width == 2 else map(_pair, v)))
    return list(zip(it, it))


# -- the order fast paths' per-instrument memos (`feeds/<venue>/protocol/orders_fast.py`) -------
MEMO_MAX = 4096   # entries per memo table; a full table is dropped whole


class InstrumentMemo:
    """One instrument's memo: wire string -> ticks (prices), -> lots (sizes), and for Gate
    (amount, left) -> filled lots; each value as the venue's strict conversion gave it."""

    __slots__ = ("filled", "inst", "lots", "ticks")

    def __init__(self, inst: Any) -> None:
        self.inst = inst
        self.ticks: dict[str, int] = {}
        self.lots: dict[str, int] = {}
        self.filled: dict[tuple[str, str], int] = {}


_V = TypeVar("_V")


def remember(table: dict[Any, _V], key: Any, value: _V) -> _V:
    """`table[key] = value` in a bounded memo; returns `value`."""
    if len(table) >= MEMO_MAX:
        table.clear()
    table[key] = value
    return value


def memo_for(memos: dict[str, InstrumentMemo], venue_symbol: str, inst: Any) -> InstrumentMemo:
    """The memo of `venue_symbol`; a re-listed instrument (another `Instrument` object)
    starts a fresh one."""
    g = memos.get(venue_symbol)
    if g is None or g.inst is not inst:
        if len(memos) >= MEMO_MAX:
            memos.clear()
        g = memos[venue_symbol] = InstrumentMemo(inst)
    return g
