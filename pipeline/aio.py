"""How every asyncio process of ours runs its loop: on uvloop.

Feeds, gateways, the simulated venues and the CLI's asyncio commands are network-bound loops
whose per-frame cost is largely the event loop and its transports (readiness callbacks, socket
reads and writes, call_soon). uvloop (libuv, in Cython) does that work several times faster
than the standard library's selector loop, with the same API, so the code above it does not
change. `HFT_EVENT_LOOP=asyncio` picks the standard loop instead (a comparison, or a platform
uvloop does not support); uvloop missing falls back to it too.

Called by each process's entry point instead of `asyncio.run`.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for the standard loop."""
    if os.environ.get("HFT_EVENT_LOOP", "uvloop").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; other platforms
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop `loop_factory` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
