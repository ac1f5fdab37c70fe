"""Every asyncio process runs on uvloop unless HFT_EVENT_LOOP says otherwise."""
from __future__ import annotations

import asyncio

import pytest

from pipeline import aio


async def _loop_type() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HFT_EVENT_LOOP", raising=False)
    assert aio.loop_name() == "uvloop"
    assert aio.run(_loop_type()).startswith("uvloop")


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFT_EVENT_LOOP", "asyncio")
    assert aio.loop_name() == "asyncio"
    assert aio.run(_loop_type()).startswith("asyncio")


def test_run_returns_the_coroutine_result_and_propagates_errors() -> None:
    async def ok() -> int:
        await asyncio.sleep(0)
        return 7

    async def bad() -> None:
        raise ValueError("boom")

    assert aio.run(ok()) == 7
    with pytest.raises(ValueError, match="boom"):
        aio.run(bad())
