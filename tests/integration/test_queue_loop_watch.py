"""An asyncio loop woken by a message queue (`MessageQueue.watch`, `shm.bell.LoopBell`): the
gateway's order-queue wake-up, with no thread between the queue and the loop."""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import time

import pytest

from pipeline.ipc import MessageQueue
from pipeline.messages import Heartbeat


def _produce(q: MessageQueue, n: int, gap_s: float) -> None:
    for i in range(n):
        assert q.put(Heartbeat(i))
        time.sleep(gap_s)


def _watch_forever(q: MessageQueue, ready: object) -> None:
    async def main() -> None:
        q.watch(asyncio.get_running_loop(), lambda: q.get_many())
        ready.set()  # type: ignore[attr-defined]
        await asyncio.sleep(3600)
    asyncio.run(main())


async def _collect(q: MessageQueue, n: int, timeout_s: float) -> tuple[list[int], object]:
    got: list[int] = []
    done = asyncio.Event()

    def on_ready() -> None:
        got.extend(m.ts for m in q.get_many())  # type: ignore[union-attr]
        if len(got) >= n:
            done.set()

    w = q.watch(asyncio.get_running_loop(), on_ready)
    try:
        await asyncio.wait_for(done.wait(), timeout_s)
    finally:
        w.close()
    return got, w


async def test_a_put_in_another_process_wakes_the_loop_without_polling() -> None:
    q = MessageQueue("watch.xproc", 1 << 16)
    p = mp.get_context("spawn").Process(target=_produce, args=(q, 50, 0.002))
    p.start()
    try:
        got, w = await _collect(q, 50, 30.0)
    finally:
        p.join(10)
        q.close()
    assert got == list(range(50))
    # woken by the producer's rings: there is no timer anywhere in this loop
    assert 1 <= w.wakeups <= 50   # type: ignore[attr-defined]


async def test_what_was_queued_before_the_watch_is_taken_at_start() -> None:
    q = MessageQueue("watch.before", 1 << 16)
    q.put_many([Heartbeat(1), Heartbeat(2)])
    try:
        got, w = await _collect(q, 2, 5.0)
    finally:
        q.close()
    assert got == [1, 2] and w.wakeups == 0   # type: ignore[attr-defined]


async def test_one_loop_consumer_per_queue_and_the_flag_follows_it() -> None:
    q = MessageQueue("watch.single", 1 << 16)
    loop = asyncio.get_running_loop()
    w = q.watch(loop, lambda: None)
    try:
        assert q._bell.loop_view[0] == 1
        with pytest.raises(OSError):
            q.watch(loop, lambda: None)
    finally:
        w.close()
    assert q._bell.loop_view[0] == 0
    sends = q._bell.loop_sends
    q.put(Heartbeat(0))
    assert q._bell.loop_sends == sends    # nobody to wake: no datagram
    w2 = q.watch(loop, lambda: None)       # the address is free again
    w2.close()
    q.close()


def test_a_killed_loop_consumer_never_makes_a_put_fail_and_its_restart_takes_over() -> None:
    ctx = mp.get_context("spawn")
    q = MessageQueue("watch.killed", 1 << 16)
    ready = ctx.Event()
    p = ctx.Process(target=_watch_forever, args=(q, ready))
    p.start()
    assert ready.wait(30)
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    assert q._bell.loop_view[0] == 1      # left up by the dead consumer
    for i in range(100):                   # refused sends are ignored, the puts succeed
        assert q.put(Heartbeat(i))
    assert [m.ts for m in q.get_many()] == list(range(100))

    async def restarted() -> list[int]:
        q.put(Heartbeat(7))
        got, _ = await _collect(q, 1, 5.0)
        return got

    assert asyncio.run(restarted()) == [7]
    q.close()
