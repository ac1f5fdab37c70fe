"""The gateway driver's send path: frames go out synchronously while the socket has room;
once one finds it full, it and every later frame wait in one backlog and leave in order (a
cancel must never overtake the place it cancels), and reports are encoded once for both the
engine's and the writer's queue."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from feeds.gateway import GatewayDriver
from pipeline.messages import ExecReport, ExecType, GatewayStatus, decode
from pipeline.model import OrderStatus, Side


class Client:
    def __init__(self) -> None:
        self.room = True
        self.wire: list[str] = []
        self.awaited = 0

    def send_nowait(self, f: str) -> bool:
        if not self.room:
            return False
        self.wire.append(f)
        return True

    async def send(self, f: str) -> bool:
        self.awaited += 1
        await asyncio.sleep(0)
        self.wire.append(f)
        return True


class Core:
    def __init__(self) -> None:
        self.rest_queries: list[Any] = []
        self.frames: list[str] = []
        self.reports: list[Any] = []

    def take(self) -> tuple[list[str], list[Any]]:
        out = self.frames, self.reports
        self.frames, self.reports = [], []
        return out


class Queue:
    def __init__(self) -> None:
        self.data: list[bytes] = []

    def put_encoded(self, data: list[bytes]) -> bool:
        self.data.extend(data)
        return True


def driver() -> tuple[GatewayDriver, Core, Client, Queue, Queue]:
    d = GatewayDriver.__new__(GatewayDriver)
    core, client, reports, events = Core(), Client(), Queue(), Queue()
    d.core, d.client, d.reports_q, d.events_q = core, client, reports, events  # type: ignore
    d._backlog = deque()
    return d, core, client, reports, events


async def test_frames_leave_synchronously_while_there_is_room() -> None:
    d, core, client, _, _ = driver()
    core.frames = ["place-1", "place-2"]
    d._flush()
    assert client.wire == ["place-1", "place-2"] and client.awaited == 0


async def test_a_full_socket_queues_the_rest_and_later_frames_keep_their_order() -> None:
    d, core, client, _, _ = driver()
    core.frames = ["place-1"]
    d._flush()
    client.room = False
    core.frames = ["place-2", "place-3"]
    d._flush()
    client.room = True  # room is back before the backlog's task runs
    core.frames = ["cancel-2"]
    d._flush()  # must not overtake place-2 and place-3
    assert client.wire == ["place-1"]
    for _ in range(10):
        await asyncio.sleep(0)
    assert client.wire == ["place-1", "place-2", "place-3", "cancel-2"]
    assert not d._backlog
    core.frames = ["place-4"]
    d._flush()
    assert client.wire[-1] == "place-4"


async def test_reports_go_to_the_engine_and_exec_reports_to_the_writer() -> None:
    d, core, _, reports, events = driver()
    r = ExecReport("okx", "BTC/USDT", "c1", "V1", ExecType.NEW, OrderStatus.NEW, Side.BUY, 10, 2)
    s = GatewayStatus("okx", "up", "", 1)
    core.reports = [r, s]
    d._flush()
    assert [decode(b) for b in reports.data] == [r, s]
    assert [decode(b) for b in events.data] == [r]
