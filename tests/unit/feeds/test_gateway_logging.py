"""A failed REST call is logged with a reason a person can act on, even when the exception
carries no message (aiohttp's time-out is a bare `TimeoutError()`)."""
from __future__ import annotations

import logging

import pytest

from feeds.gateway import GatewayDriver


async def test_a_bare_timeout_is_logged_by_its_type(caplog: pytest.LogCaptureFixture) -> None:
    d = GatewayDriver.__new__(GatewayDriver)
    d.venue = "okx"

    async def times_out(req: object) -> object:
        raise TimeoutError

    async def refused(req: object) -> object:
        raise ValueError("venue said no")

    d._rest = times_out  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="feeds.gateway"):
        assert await d._rest_quiet(object(), "open orders") is None  # type: ignore[arg-type]
        d._rest = refused  # type: ignore[method-assign]
        assert await d._rest_quiet(object(), "fills") is None  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "okx: open orders failed: TimeoutError", "okx: fills failed: venue said no"]
