"""The one small exception tree every package raises from.

Why a shared tree: feeds, gateways, the simulator and the engine must tell "this frame is
garbage" (count it, drop it, keep going) apart from "the venue said no" (a typed reject) and
from "our book lost its chain" (resync one symbol) without string matching. Venue codecs raise
these; the asyncio drivers catch them by class.
"""
from __future__ import annotations

from pipeline.model import RejectReason


class HftError(Exception):
    """Root of every error this project raises on purpose."""


class ProtocolError(HftError):
    """A frame or payload that does not follow the venue's wire format.

    Callers drop the frame and count it; `venue` and `what` make the counter and the
    (rate-limited) log line specific without echoing the whole hostile payload.
    """

    def __init__(self, venue: str, what: str) -> None:
        super().__init__(f"{venue}: {what}")
        self.venue = venue
        self.what = what


class SequenceGap(HftError):
    """An order-book update does not chain onto the local book: resync that symbol only."""

    def __init__(self, venue: str, symbol: str, expected: int, got: int) -> None:
        super().__init__(f"{venue}:{symbol}: sequence gap, expected {expected}, got {got}")
        self.venue = venue
        self.symbol = symbol
        self.expected = expected
        self.got = got


class VenueError(HftError):
    """The venue answered with an error code; `reason` is its classification (by code)."""

    def __init__(self, venue: str, code: str, reason: RejectReason, text: str = "") -> None:
        super().__init__(f"{venue}: error {code} ({reason.name}){': ' + text if text else ''}")
        self.venue = venue
        self.code = code
        self.reason = reason
        self.text = text
