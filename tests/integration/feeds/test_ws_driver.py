"""The WebSocket driver against a real websockets server on loopback: frames and ts_recv,
resubscribe on every connection, reconnect after a drop, app-level ping when idle, idle
timeout, lifetime rollover and a prompt stop."""
from __future__ import annotations

import asyncio
import time

from websockets.asyncio.server import serve

from feeds.ws import Backoff, WsClient, WsSettings

FAST = Backoff(initial_s=0.01, max_s=0.05)


class Server:
    """Scripted peer: `mode` decides what each connection does."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections = 0
        self.received: list[str] = []

    async def handler(self, ws) -> None:
        self.connections += 1
        n = self.connections
        if self.mode == "drop_first":
            self.received.append(await ws.recv())
            await ws.send(f"hello{n}")
            if n == 1:
                await ws.close()
                return
            await ws.send(f"ack:sub:btc:{n}")
        async for msg in ws:
            self.received.append(msg)
            if msg == "ping" and self.mode != "silent":
                await ws.send("pong")
            elif msg.startswith("sub"):
                await ws.send(f"ack:{msg}:{n}")


async def run_client(server: Server, settings_kw: dict, until, timeout: float = 10.0):
    frames: list[tuple[str, int]] = []
    async with serve(server.handler, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        stop = asyncio.Event()

        async def on_open(ws) -> None:
            await ws.send("sub:btc")

        client = WsClient(WsSettings(url=f"ws://127.0.0.1:{port}", backoff=FAST, **settings_kw),
                          on_frame=lambda d, ts: frames.append((d, ts)), on_open=on_open, seed=1)
        task = asyncio.ensure_future(client.run(stop))
        deadline = time.monotonic() + timeout
        while not until(client, frames) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert until(client, frames), (client.counters, frames, server.received)
        stop.set()
        await asyncio.wait_for(task, 5.0)
    return client, frames


async def test_frames_are_stamped_and_resubscribed_after_a_drop():
    server = Server("drop_first")
    t0 = time.time_ns()
    client, frames = await run_client(server, {}, lambda c, f: any(d == "ack:sub:btc:2" for d, _ in f))
    assert [d for d, _ in frames][:1] == ["hello1"]
    assert ("hello2" in [d for d, _ in frames])
    assert all(ts >= t0 for _, ts in frames)
    assert client.counters.connects == 2 and client.counters.reconnects == 1
    assert server.received.count("sub:btc") == 2


async def test_app_ping_when_idle():
    server = Server("echo")
    client, frames = await run_client(server, {"app_ping": "ping", "app_ping_after_idle_s": 0.2},
                                      lambda c, f: any(d == "pong" for d, _ in f))
    assert "ping" in server.received
    assert client.counters.reconnects == 0


async def test_idle_timeout_reconnects():
    server = Server("silent")
    client, _ = await run_client(server, {"app_ping": "ping", "app_ping_after_idle_s": 0.1,
                                          "idle_timeout_s": 0.4},
                                 lambda c, f: c.counters.idle_timeouts >= 1 and c.counters.connects >= 2)
    assert client.counters.reconnects >= 1


async def test_lifetime_rollover_opens_a_fresh_connection():
    server = Server("echo")
    client, frames = await run_client(server, {"max_lifetime_s": 0.3},
                                      lambda c, f: c.counters.rollovers >= 2)
    assert client.counters.reconnects == 0  # a rollover is not a failure
    assert server.connections >= 3


async def test_unreachable_venue_backs_off_and_stops_promptly():
    stop = asyncio.Event()
    client = WsClient(WsSettings(url="ws://127.0.0.1:9", backoff=FAST, open_timeout_s=1),
                      on_frame=lambda d, ts: None, seed=2)
    task = asyncio.ensure_future(client.run(stop))
    while client.counters.errors < 3:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2.0)
    assert client.counters.connects == 0 and "ConnectionRefused" in client.counters.last_error


def test_backoff_grows_jittered_and_capped():
    import random
    b = Backoff(initial_s=0.1, max_s=1.0, multiplier=2.0, jitter=0.3)
    rng = random.Random(0)
    delays = [b.delay(a, rng) for a in range(1, 8)]
    assert 0.07 <= delays[0] <= 0.1
    assert 0.14 <= delays[1] <= 0.2
    assert all(0.7 <= d <= 1.0 for d in delays[4:])


async def test_send_nowait_writes_in_order_inside_the_callback_and_refuses_when_full():
    got: list[str] = []
    hold = asyncio.Event()

    async def handler(ws) -> None:
        await hold.wait()  # do not read until told: the client's buffer fills
        async for msg in ws:
            got.append(msg)

    async with serve(handler, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        opened = asyncio.Event()

        async def on_open(ws) -> None:
            opened.set()

        client = WsClient(WsSettings(url=f"ws://127.0.0.1:{port}", backoff=FAST),
                          on_frame=lambda d, ts: None, on_open=on_open, seed=1)
        assert client.send_nowait("before any connection") is False
        task = asyncio.ensure_future(client.run(stop))
        await asyncio.wait_for(opened.wait(), 5)
        assert client.ws is not None
        client.ws.transport.set_write_buffer_limits(high=64 * 1024)
        sent = 0
        while client.send_nowait(f"order-{sent}:" + "x" * 1000):  # synchronous, no task
            sent += 1
            assert sent < 100_000, "the buffer limit never refused a frame"
        assert sent > 0
        assert client.ws.transport.get_write_buffer_size() >= 64 * 1024
        hold.set()  # the peer reads; room comes back; the awaiting send takes over
        assert await client.send("last")
        deadline = time.monotonic() + 5
        while len(got) < sent + 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert [g.split(":")[0] for g in got] == [f"order-{i}" for i in range(sent)] + ["last"]
        assert client.send_nowait("after room") is True
        stop.set()
        await asyncio.wait_for(task, 5)
        assert client.send_nowait("after the close") is False
