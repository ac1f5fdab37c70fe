"""Test data builders shared by the writer tests."""
from __future__ import annotations

import numpy as np

from shm.layout import TICK_DTYPE


def ticks(start: int, n: int, venue: int = 1, symbol: int = 7) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    ids = np.arange(start, start + n)
    b["kind"] = np.where(ids % 3 == 0, 2, 1)
    b["venue"], b["symbol_id"] = venue, symbol
    b["update_id"] = ids
    b["ts_recv"] = 1_700_000_000_000_000_000 + ids * 1000
    b["ts_event"] = b["ts_recv"] - 5
    b["bid_px"] = 100.0 + ids * 0.01
    b["ask_px"] = b["bid_px"] + 0.01
    b["bid_sz"] = b["ask_sz"] = 1.5
    b["price"], b["size"] = b["bid_px"], 0.25
    return b
