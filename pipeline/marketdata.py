"""Normalized market-data records produced by every venue's sans-I/O parser.

Parsers in `feeds/<venue>/protocol/market.py` turn one wire frame into these; the feed
process turns them into ring rows (`shm.layout.TICK_DTYPE`) and book-slot writes. Prices and
sizes are float64 here (market data is for fast math; money on orders is exact), parsed from
the venue's decimal strings, so the same string always gives the same float and a local book
keyed by price compares exactly with the venue's.

Symbols here are the venue's own spelling (`BTCUSDT`, `BTC-USDT`, `BTC_USDT`); the feed maps
them to internal symbol ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.model import Side

Level = tuple[float, float]  # (price, size); size 0.0 deletes the level in an update


@dataclass(slots=True)
class BBO:
    """Best bid/offer. `update_id` is the venue's book update id (0 when the venue has none)."""

    venue_symbol: str
    bid_px: float
    bid_sz: float
    ask_px: float
    ask_sz: float
    ts_event: int  # venue time, ns (0 when the venue sends none, e.g. Binance bookTicker)
    update_id: int = 0


@dataclass(slots=True)
class Trade:
    """One public trade; `side` is the taker (aggressor) side."""

    venue_symbol: str
    price: float
    size: float
    side: Side
    ts_event: int
    trade_id: int


@dataclass(slots=True)
class DepthUpdate:
    """An incremental (or snapshot) L2 update.

    Sequencing fields, by venue:
    - Binance / Gate: `first_id` = U, `last_id` = u (`prev_id` unused, -1).
    - OKX: `prev_id` = prevSeqId (-1 on a snapshot), `last_id` = seqId, `first_id` unused.
    `is_snapshot` marks a full book (replace, not apply).
    """

    venue_symbol: str
    bids: list[Level]
    asks: list[Level]
    ts_event: int
    first_id: int = -1
    last_id: int = -1
    prev_id: int = -1
    is_snapshot: bool = False
    checksum: int = 0


@dataclass(slots=True)
class BookSnapshot:
    """A REST (or WS partial-depth) full book with its sequence id."""

    venue_symbol: str
    bids: list[Level]
    asks: list[Level]
    last_id: int
    ts_event: int = 0


@dataclass(slots=True)
class Control:
    """Non-data frames a feed must act on: subscription acks, errors, pongs, server notices."""

    kind: str  # "ack" | "error" | "pong" | "ping" | "shutdown" | "notice" | "other"
    detail: dict = field(default_factory=dict)
