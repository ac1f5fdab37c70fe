"""A hostile signature (non-ASCII, wrong type) is a wrong signature, never an exception."""
from __future__ import annotations

from feeds.binance.protocol import signing as bn
from feeds.gate.protocol import signing as gt
from feeds.okx.protocol import signing as ok


def test_non_ascii_signatures_are_simply_invalid() -> None:
    assert bn.verify_rest("s", "a=1&signature=\u00e9\u00e9") is False
    assert gt.verify_rest("s", "GET", "/p", "", "", 1, "\u00e9") is False
    assert ok.verify_rest("s", "2026-01-01T00:00:00.000Z", "GET", "/p", "", "\u00e9") is False
    assert ok.verify_rest("s", "2026-01-01T00:00:00.000Z", "GET", "/p", "", 42) is False
