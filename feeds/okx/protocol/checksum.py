"""OKX's legacy order-book CRC32 (EXCHANGES.md §2.3), for books whose `checksum` is non-zero.

Production has sent `checksum: 0` since 2026-06-23, but replays of older captures and the
simulator (which may emit real checksums) still carry one. `book_sync.BookSync` validates it
when non-zero; the simulator computes it with `checksum_of` over the very strings it sends.

Recipe: interleave the first 25 bids and 25 asks as `bid1px:bid1sz:ask1px:ask1sz:...`
(skipping missing entries on the shorter side), CRC32, read as a signed 32-bit integer.
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal

from pipeline.model import decimal_str

from .constants import CHECKSUM_LEVELS

StrLevel = Sequence[str]  # [price, size, ...] exactly as sent on the wire


def checksum_string(bids: Sequence[StrLevel], asks: Sequence[StrLevel],
                    depth: int = CHECKSUM_LEVELS) -> str:
    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    return ":".join(parts)


def crc32_signed(text: str) -> int:
    v = zlib.crc32(text.encode())
    return v - (1 << 32) if v >= 1 << 31 else v


def checksum_of(bids: Sequence[StrLevel], asks: Sequence[StrLevel]) -> int:
    """Checksum of levels given as the wire's strings, best first."""
    return crc32_signed(checksum_string(bids, asks))


def float_str(v: float) -> str:
    """A parsed float back to the shortest plain decimal string (`8477.0` -> `8477`).

    The local book holds floats, so the checksum is recomputed from them; this equals the
    venue's string whenever the venue sends normalised numbers (no trailing zeros), which OKX
    does. A venue string with trailing zeros (`0.5000`) cannot be recovered from a float.
    """
    return decimal_str(Decimal(repr(v)))


def checksum_of_floats(bids: Sequence[tuple[float, float]],
                       asks: Sequence[tuple[float, float]]) -> int:
    return checksum_of([(float_str(p), float_str(s)) for p, s in bids[:CHECKSUM_LEVELS]],
                       [(float_str(p), float_str(s)) for p, s in asks[:CHECKSUM_LEVELS]])
