"""The hot paths of the Gate feed: one `spot.book_ticker` push -> a BBO row, or None.

Why it exists: best-bid/offer pushes (~10 ms per pair) are most of what a feed receives, and
the general parser (`market.parse_market`: JSON decode, strict per-field readers, a `BBO`
record) spends most of its time in Python-level checks. Here one precompiled regular
expression matches the *whole* frame against the exact shape Gate sends —
`{"time":..,"time_ms":..,"channel":"spot.book_ticker","event":"update","result":{"t","u","s",
"b","B","a","A"}}` in that order, compact — and its groups are the fields. The pattern admits
only what `parse_market` accepts too (plain decimal strings of at most 61 characters, times
whose nanoseconds fit int64, ids below 10**18), so for every frame it matches the row equals
`parse_market`'s `BBO` field for field (the same `float()` of the same string: prices are
bit-identical). Anything else — another channel or event, an `error`, other key order,
exponents, whitespace, escapes, bytes — returns None and the caller falls back to
`parse_market`, which applies every rule and raises `ProtocolError` on a malformed frame.
Possessive quantifiers (`{1,30}+`): nothing here needs to backtrack.
`tests/unit/feeds/gate/test_market_fast.py` checks the equivalence on fuzzed frames.

Called by the feed: `FeedCore` tries the adapter's `parse_bbo_fast` before `parse`.
"""
from __future__ import annotations

import re
from typing import Any

from feeds.fast_paths import ID, MS_DIGITS, MS_INT, NS_PER_MS, NUM, BboRow, TradeRow, plain_levels

from . import _wire

_INT = r"(?:0|[1-9][0-9]{0,19}+)"                  # any JSON int of up to 20 digits, no sign

_BOOK_TICKER_RE = re.compile(
    r'\{"time":' + _INT + ',"time_ms":' + _INT
    + r',"channel":"spot\.book_ticker","event":"update","result":\{"t":' + MS_INT + ',"u":' + ID
    + r',"s":"([A-Z0-9_]{1,40}+)","b":' + NUM + ',"B":' + NUM + ',"a":' + NUM
    + ',"A":' + NUM + r"\}\}")
_BOOK_TICKER = _BOOK_TICKER_RE.fullmatch

# (name, pattern): the frame shape above, for the compiled hot path (`feeds/_bbo_fast.pyx`),
# which mirrors this very pattern and refuses to stand in once it differs
BBO_SHAPE = ("gate", _BOOK_TICKER_RE.pattern)


def parse_bbo_fast(frame: str | bytes) -> BboRow | None:
    """A `spot.book_ticker` update -> its BBO row; None for anything else (the caller then
    runs `parse_market`). Never raises."""
    try:
        m = _BOOK_TICKER(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    t, u, s, b, bq, a, aq = m.groups()
    return (s, float(b), float(bq), float(a), float(aq), int(t) * NS_PER_MS, int(u))


# `id_market` is the trade id parse_market uses (`id`, `create_time` and `range` are not
# read when it and `create_time_ms` are there). `create_time_ms` may carry sub-ms decimals:
# at most 9 here, so the truncated ns equal parse_market's `int(Decimal(ms) * 10**6)` exactly
# (12-13 + 9 digits stay within Decimal's 28).
_TRADES = re.compile(
    r'\{"time":' + _INT + ',"time_ms":' + _INT
    + r',"channel":"spot\.trades","event":"update","result":\{"id":' + _INT + ',"id_market":'
    + ID + ',"create_time":' + _INT + ',"create_time_ms":"' + MS_DIGITS
    + r'(?:\.([0-9]{1,9}+))?","side":"(buy|sell)","currency_pair":"([A-Z0-9_]{1,40}+)",'
    r'"amount":' + NUM + ',"price":' + NUM + r',"range":"[0-9]{1,20}+-[0-9]{1,20}+"\}\}'
).fullmatch


def parse_trade_fast(frame: str | bytes) -> TradeRow | None:
    """A `spot.trades` update -> its trade row; None for anything else (the caller then runs
    `parse_market`). Never raises."""
    try:
        m = _TRADES(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    tid, ms, frac, side, pair, amount, price = m.groups()
    ns = int(ms) * NS_PER_MS + (int(frac[:6].ljust(6, "0")) if frac else 0)
    return (pair, float(price), float(amount), 1 if side == "buy" else -1, ns, int(tid))


# -- depth levels ------------------------------------------------------------------------------
def levels(v: Any, what: str) -> list[tuple[float, float]]:
    """`[[price, amount], ...]` -> float pairs, exactly as `_wire.levels` (ProtocolError
    too): plain levels converted in C (`feeds.fast_paths`), anything else the strict way."""
    out = plain_levels(v, 2)
    return out if out is not None else _wire.levels(v, what)
