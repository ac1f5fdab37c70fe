"""Depth levels of every venue, converted in C when they are plain: shared by the venues'
`protocol/market_fast.py`.

Book frames carry dozens of [price, size, ...] levels; checking each string with its own
regex call and converting it in a Python loop is most of a depth frame's parse time. Here the
level strings are joined and checked by ONE anchored match (a number pattern that cannot
contain the separator, and exactly one separator per field, so the join splits back into
the original strings) and
converted by `map(float, ...)` in C. Anything unusual returns None and the venue falls back
to its strict `_wire.levels`, which accepts or rejects with its precise message; for the
lists accepted here that returns the same floats.
"""
from __future__ import annotations

import re
from itertools import chain
from operator import itemgetter
from typing import Any

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
