"""The hot paths of the Binance feed: one `@bookTicker` frame -> a BBO row, or None.

Why it exists: best-bid/offer frames are most of what a feed receives, and the general parser
(`market.parse_market`: JSON decode, strict per-field readers, a `BBO` record) spends most of
its time in Python-level checks. Here one precompiled regular expression matches the *whole*
frame against the exact shape Binance sends — the combined-stream envelope around
`{"u","s","b","B","a","A"}` in that order, compact — and its groups are the fields. The
pattern admits only what `parse_market` accepts too (plain decimal strings of at most 61
characters, ids below 10**18, symbols of letters and digits), so for every frame it matches
the row equals `parse_market`'s `BBO` field for field (the same `float()` of the same string:
prices are bit-identical). Anything else — another event, other key order, extra keys,
whitespace, escapes, big numbers, bytes — returns None and the caller falls back to
`parse_market`, which applies every rule and raises `ProtocolError` on a malformed frame.
Possessive quantifiers (`{1,30}+`) because nothing here ever needs to backtrack, and the
engine then skips saving backtrack state (a third faster).
`tests/unit/feeds/binance/test_market_fast.py` checks the equivalence on fuzzed frames.

Called by the feed: `FeedCore` tries the adapter's `parse_bbo_fast` before `parse`.
"""
from __future__ import annotations

import re
from typing import Any

from feeds.fast_paths import ID, MS_INT, NS_PER_MS, NUM, BboRow, TradeRow, plain_levels

from . import _wire

_BOOK_TICKER_RE = re.compile(
    r'\{"stream":"[a-z0-9]{1,40}+@bookTicker","data":\{"u":' + ID
    + r',"s":"([A-Z0-9]{1,40}+)","b":' + NUM + ',"B":' + NUM + ',"a":' + NUM
    + ',"A":' + NUM + r"\}\}")
_BOOK_TICKER = _BOOK_TICKER_RE.fullmatch

# (name, pattern): the frame shape above, for the compiled hot path (`feeds/_bbo_fast.pyx`),
# which mirrors this very pattern and refuses to stand in once it differs
BBO_SHAPE = ("binance", _BOOK_TICKER_RE.pattern)


def parse_bbo_fast(frame: str | bytes) -> BboRow | None:
    """A combined-stream `@bookTicker` frame -> its BBO row; None for anything else (the
    caller then runs `parse_market`). Never raises."""
    try:
        m = _BOOK_TICKER(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    u, s, b, bq, a, aq = m.groups()
    return (s, float(b), float(bq), float(a), float(aq), 0, int(u))


# `m`: the buyer was the maker, so the taker sold. `E` and `M` are not read by parse_market.
_TRADE = re.compile(
    r'\{"stream":"[a-z0-9]{1,40}+@trade","data":\{"e":"trade","E":(?:0|[1-9][0-9]{0,19}+),'
    r'"s":"([A-Z0-9]{1,40}+)","t":' + ID + ',"p":' + NUM + ',"q":' + NUM + ',"T":' + MS_INT
    + r',"m":(true|false),"M":(?:true|false)\}\}').fullmatch


def parse_trade_fast(frame: str | bytes) -> TradeRow | None:
    """A combined-stream `@trade` frame -> its trade row; None for anything else (the caller
    then runs `parse_market`). Never raises."""
    try:
        m = _TRADE(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    s, t, p, q, ts, maker = m.groups()
    return (s, float(p), float(q), -1 if maker == "true" else 1, int(ts) * NS_PER_MS, int(t))


# -- depth levels ------------------------------------------------------------------------------
def levels(v: Any, what: str) -> list[tuple[float, float]]:
    """`[[price, qty], ...]` -> float pairs, exactly as `_wire.levels` (ProtocolError
    too): plain levels converted in C (`feeds.fast_paths`), anything else the strict way."""
    out = plain_levels(v, 2)
    return out if out is not None else _wire.levels(v, what)
