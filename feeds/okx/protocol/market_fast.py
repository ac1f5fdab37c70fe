"""The hot paths of the OKX feed: one `bbo-tbt` push -> a BBO row, or None.

Why it exists: best-bid/offer pushes (every 10 ms per instrument) are most of what a feed
receives, and the general parser (`market.parse_market`: JSON decode, strict per-field
readers, a `BBO` record) spends most of its time in Python-level checks. Here one precompiled
regular expression matches the *whole* frame against the exact shape OKX sends —
`{"arg":{"channel":"bbo-tbt","instId":..},"data":[{"asks":[[px,sz,"0",n]],"bids":[[..]],
"ts":"..","seqId":n}]}`, compact, one item, one level per side — and its groups are the
fields. The pattern admits only what `parse_market` accepts too (plain decimal strings of at
most 61 characters, times whose nanoseconds fit int64, sequence ids below 10**18), so for
every frame it matches the row equals `parse_market`'s `BBO` field for field (the same
`float()` of the same string: prices are bit-identical). Anything else — other channels,
several items, an empty side, exponents, whitespace, escapes, bytes — returns None and the
caller falls back to `parse_market`, which applies every rule and raises `ProtocolError` on
a malformed frame. Possessive quantifiers (`{1,30}+`): nothing here needs to backtrack.
`tests/unit/feeds/okx/test_market_fast.py` checks the equivalence on fuzzed frames.

Called by the feed: `FeedCore` tries the adapter's `parse_bbo_fast` before `parse`.
"""
from __future__ import annotations

import re
from typing import Any

from feeds.fast_paths import ID, MS_DIGITS, NS_PER_MS, NUM, BboRow, TradeRow, plain_levels

from . import _wire

_LEVEL = r'\[\[' + NUM + ',' + NUM + r',"[0-9]{1,20}+","[0-9]{1,20}+"\]\]'
_MS = '"' + MS_DIGITS + '"'  # a string of ms

_BBO_TBT_RE = re.compile(
    r'\{"arg":\{"channel":"bbo-tbt","instId":"([A-Z0-9-]{1,40}+)"\},"data":\[\{"asks":'
    + _LEVEL + ',"bids":' + _LEVEL + ',"ts":' + _MS + ',"seqId":' + ID + r"\}\]\}")
_BBO_TBT = _BBO_TBT_RE.fullmatch

# (name, pattern): the frame shape above, for the compiled hot path (`feeds/_bbo_fast.pyx`),
# which mirrors this very pattern and refuses to stand in once it differs
BBO_SHAPE = ("okx", _BBO_TBT_RE.pattern)


def parse_bbo_fast(frame: str | bytes) -> BboRow | None:
    """A `bbo-tbt` push -> its BBO row; None for anything else (the caller then runs
    `parse_market`). Never raises."""
    try:
        m = _BBO_TBT(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    inst, a, aq, b, bq, ts, seq = m.groups()
    return (inst, float(b), float(bq), float(a), float(aq), int(ts) * NS_PER_MS, int(seq))


# One trade per push, keys in the order OKX sends them; `count`, `source` and `seqId` are not
# read by parse_market (the symbol is the item's `instId`, as there).
_TRADES = re.compile(
    r'\{"arg":\{"channel":"trades","instId":"[A-Z0-9-]{1,40}+"\},"data":\[\{'
    r'"instId":"([A-Z0-9-]{1,40}+)","tradeId":"([0-9]{1,18}+)","px":' + NUM + ',"sz":' + NUM
    + r',"side":"(buy|sell)","ts":' + _MS + r',"count":"[0-9]{1,10}+","source":"[0-9]{1,3}+",'
    r'"seqId":(?:0|[1-9][0-9]{0,17}+)\}\]\}').fullmatch


def parse_trade_fast(frame: str | bytes) -> TradeRow | None:
    """A `trades` push -> its trade row; None for anything else (the caller then runs
    `parse_market`). Never raises."""
    try:
        m = _TRADES(frame)  # type: ignore[arg-type]
    except TypeError:  # bytes: the general parser takes those
        return None
    if m is None:
        return None
    inst, tid, px, sz, side, ts = m.groups()
    return (inst, float(px), float(sz), 1 if side == "buy" else -1, int(ts) * NS_PER_MS,
            int(tid))


# -- depth levels ------------------------------------------------------------------------------
def levels(v: Any, what: str) -> list[tuple[float, float]]:
    """`[[price, size, "0", count], ...]` -> float pairs, exactly as `_wire.levels` (ProtocolError
    too): plain levels converted in C (`feeds.fast_paths`), anything else the strict way."""
    out = plain_levels(v, 4)
    return out if out is not None else _wire.levels(v, what)
