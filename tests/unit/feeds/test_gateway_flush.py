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
    d._flush_scheduled = False
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


class CountingQueue(Queue):
    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def put_encoded(self, data: list[bytes]) -> bool:
        self.puts += 1
        return super().put_encoded(data)


def _ack(cid: str) -> ExecReport:
    return ExecReport("okx", "BTC/USDT", cid, "V" + cid, ExecType.NEW, OrderStatus.NEW,
                      Side.BUY, 10, 2)


async def test_frames_read_together_leave_in_one_put_after_the_pass() -> None:
    d, core, _, _, _ = driver()
    d.reports_q = q = CountingQueue()  # type: ignore[assignment]
    acks = [_ack(f"c{i}") for i in range(5)]
    for r in acks:   # five frames handled in one pass of the loop, as from one socket read
        core.reports.append(r)
        d._flush_soon()
    assert q.puts == 0          # nothing yet: the receive loop is still taking frames
    await asyncio.sleep(0)      # the pass ends: one flush for all of them, in order
    assert q.puts == 1 and [decode(b) for b in q.data] == acks
    core.reports.append(r := _ack("c9"))   # a lone frame later leaves on its own
    d._flush_soon()
    await asyncio.sleep(0)
    assert q.puts == 2 and decode(q.data[-1]) == r


async def test_a_scheduled_flush_after_the_core_is_gone_does_nothing() -> None:
    d, core, _, reports, _ = driver()
    core.reports.append(_ack("c1"))
    d._flush_soon()
    d.core = None   # the connection and its core went away before the pass ended
    await asyncio.sleep(0)
    assert reports.data == []


async def test_the_engines_orders_reach_the_writer_as_the_engine_sent_them() -> None:
    """The gateway hands the writer the order queue's entries as they came (no order encoded
    again); the writer keeps the NewOrders and skips what it does not store."""
    from pipeline.ipc import MessageQueue
    from pipeline.messages import CancelOrder, Heartbeat, NewOrder
    from writer.events import to_rows

    class Taking(Core):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[Any] = []

        def place(self, m: Any) -> None:
            self.seen.append(m)

        def on_message(self, m: Any) -> None:
            self.seen.append(m)

    d, _, _, _, _ = driver()
    d.core = core = Taking()  # type: ignore[assignment]
    d.session_up = True
    orders, events = MessageQueue("gw.orders", 1 << 20), MessageQueue("gw.events", 1 << 20)
    d.orders_q, d.events_q = orders, events  # type: ignore[assignment]
    try:
        sent = [NewOrder("o1", "okx", "BTC/USDT", Side.BUY, 10, 2),
                CancelOrder("o0", "okx", "BTC/USDT"), Heartbeat(5),
                NewOrder("o2", "okx", "BTC/USDT", Side.SELL, 11, 3)]
        assert orders.put_many(sent)
        d._take_orders()
        assert core.seen == sent
        entries = events.get_raw()
        rows: dict = {}
        assert to_rows(entries, rows) == 0
        assert [r[0] for r in rows["orders"]] == ["o1", "o2"] and list(rows) == ["orders"]
        d._take_orders()            # nothing more queued: nothing forwarded
        assert events.get_raw() == []
    finally:
        orders.close()
        events.close()
