"""Test data builders shared by the writer tests."""
from __future__ import annotations

import numpy as np

from shm.layout import TICK_DTYPE

DAY_NS = 86_400_000_000_000


def ticks(start: int, n: int, venue: int = 1, symbol: int = 7) -> np.ndarray:
    """BBOs with every third row a trade, filled as the feeds fill them: a BBO leaves side,
    price and size zero, a trade leaves the bid/ask zero (feeds.feed_core)."""
    b = np.zeros(n, dtype=TICK_DTYPE)
    ids = np.arange(start, start + n)
    trade = ids % 3 == 0
    b["kind"] = np.where(trade, 2, 1)
    b["venue"], b["symbol_id"] = venue, symbol
    b["update_id"] = ids
    b["ts_recv"] = 1_700_000_000_000_000_000 + ids * 1000
    b["ts_event"] = b["ts_recv"] - 5
    b["ts_pub"] = b["ts_recv"] + 7
    b["flags"] = np.where(ids % 5 == 0, 1, 0)
    px = 100.0 + ids * 0.01
    b["bid_px"] = np.where(trade, 0.0, px)
    b["ask_px"] = np.where(trade, 0.0, px + 0.01)
    b["bid_sz"] = b["ask_sz"] = np.where(trade, 0.0, 1.5)
    b["price"] = np.where(trade, px, 0.0)
    b["size"] = np.where(trade, 0.25, 0.0)
    b["side"] = np.where(trade, np.where(ids % 2 == 0, 1, -1), 0)
    return b


def odd_ticks(start: int) -> np.ndarray:
    """Rows that fit neither narrow table exactly, each for its own reason (every other field
    as a clean BBO or trade of `ticks` has it)."""
    b = ticks(start, 8)
    bbo, trade = b[b["kind"] == 1][0], b[b["kind"] == 2][0]
    out = np.array([bbo, bbo, trade, bbo, trade, bbo], dtype=TICK_DTYPE)
    out["update_id"] = np.arange(start, start + len(out))
    out["kind"][0] = 3                  # a kind with no table of its own
    out["price"][1] = 5.0               # a BBO carrying a price
    out["bid_px"][2] = 1.0              # a trade carrying a bid
    out["size"][3] = -0.0               # -0.0 is not all-zero bits
    out["ask_sz"][4] = np.nan           # neither is NaN
    out["side"][5] = 1                  # a BBO with a side
    return out
