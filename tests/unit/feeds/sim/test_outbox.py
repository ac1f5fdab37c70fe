"""The simulated venues' send side over a real loopback WebSocket: frames keep their order,
arrive no earlier than the scenario's one-way latency, and order acks are delayed or lost
exactly when the fault plan says so."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feeds.sim.faults import MS, Chance, FaultPlan, Latency, VenueFaults
from feeds.sim.outbox import Outbox


@dataclass
class FakeVenue:
    """What an Outbox reads of a SimVenue: its name and its (swappable) fault plan."""

    faults: FaultPlan | None = None
    venue: str = "binance"


@dataclass
class Loop:
    venue: FakeVenue
    url: str
    boxes: list[Outbox] = field(default_factory=list)


@pytest.fixture
async def loop_server() -> AsyncIterator[Loop]:
    venue = FakeVenue()
    state = Loop(venue, "")

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        box = Outbox(ws, venue, limit=int(request.query.get("limit", "1000")))
        state.boxes.append(box)
        writer = asyncio.ensure_future(box.run())
        async for _ in ws:
            pass
        box.close()
        await writer
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    state.url = f"ws://127.0.0.1:{server.port}/ws"
    try:
        yield state
    finally:
        await server.close()


async def connect(lp: Loop, http: aiohttp.ClientSession, **query: str) -> Any:
    n = len(lp.boxes)
    ws = await http.ws_connect(lp.url, params=query)
    for _ in range(200):
        if len(lp.boxes) > n:
            break
        await asyncio.sleep(0.005)
    return ws


async def receive(ws: Any, n: int, timeout: float = 3.0) -> list[tuple[str, int]]:
    """n frames with their arrival time (monotonic ns)."""
    out = []
    for _ in range(n):
        msg = await asyncio.wait_for(ws.receive(), timeout)
        out.append((msg.data, time.monotonic_ns()))
    return out


def plan(**kw: Any) -> FaultPlan:
    return FaultPlan({"binance": VenueFaults(**kw)}, seed=7)


async def test_without_a_plan_frames_go_out_at_once_and_in_order(loop_server: Loop) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        t0 = time.monotonic_ns()
        for i in range(500):
            box.send(f"f{i}")
        got = await receive(ws, 500)
        assert [f for f, _ in got] == [f"f{i}" for i in range(500)]
        assert got[-1][1] - t0 < 500 * MS   # nothing held (a loose bound for a busy CI box)
        box.send_ack("ack")                  # no plan: an ack is just a frame
        assert (await receive(ws, 1))[0][0] == "ack"
        await ws.close()


async def test_latency_holds_every_frame_and_never_reorders(loop_server: Loop) -> None:
    loop_server.venue.faults = plan(latency=Latency("uniform", base_ns=40 * MS,
                                                    spread_ns=30 * MS))
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        sent = []
        for i in range(20):
            sent.append(time.monotonic_ns())
            box.send(f"f{i}")
            await asyncio.sleep(0.002)
        got = await receive(ws, 20)
        assert [f for f, _ in got] == [f"f{i}" for i in range(20)]
        lags = [arrived - t for (_, arrived), t in zip(got, sent, strict=True)]
        assert min(lags) >= 40 * MS            # never early
        assert len({lag // MS for lag in lags}) > 3  # drawn per frame, not one fixed delay
        await ws.close()


async def test_a_delayed_ack_is_overtaken_by_later_frames(loop_server: Loop) -> None:
    loop_server.venue.faults = plan(ack_delay=(Chance(1.0),),
                                    ack_delay_latency=Latency("fixed", 120 * MS))
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        t0 = time.monotonic_ns()
        box.send_ack("ack-1", "result-1")     # an order's answer: late
        box.send("push-1")                    # the private push of the same order: not held
        got = await receive(ws, 3)
        assert [f for f, _ in got] == ["push-1", "ack-1", "result-1"]
        assert got[1][1] - t0 >= 120 * MS and got[0][1] - t0 < 120 * MS
        assert box.acks_delayed == 1 and box.acks_lost == 0
        await ws.close()


async def test_a_lost_ack_never_arrives_but_later_frames_do(loop_server: Loop) -> None:
    loop_server.venue.faults = plan(ack_loss=(Chance(1.0),))
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        box.send_ack("ack-lost")
        box.send("push")
        loop_server.venue.faults = None       # plan lifted: the next ack goes through
        box.send_ack("ack-2")
        got = await receive(ws, 2)
        assert [f for f, _ in got] == ["push", "ack-2"]
        assert box.acks_lost == 1
        with pytest.raises(asyncio.TimeoutError):
            await receive(ws, 1, timeout=0.2)
        await ws.close()


async def test_ack_loss_draws_are_seeded_and_about_the_configured_share(
        loop_server: Loop) -> None:
    loop_server.venue.faults = plan(ack_loss=(Chance(0.25),))
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        for i in range(400):
            box.send_ack(f"a{i}")
        box.send("end")
        frames = []
        while not frames or frames[-1] != "end":
            frames.append((await receive(ws, 1))[0][0])
        assert len(frames) - 1 + box.acks_lost == 400
        assert 60 <= box.acks_lost <= 140
        await ws.close()


async def test_a_consumer_that_falls_too_far_behind_is_cut_off(loop_server: Loop) -> None:
    loop_server.venue.faults = plan(latency=Latency("fixed", 10_000 * MS))  # nothing leaves
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http, limit="50")
        box = loop_server.boxes[-1]
        for i in range(60):
            box.send(f"f{i}")
        assert box.closing
        box.send("after")                     # refused quietly once closing
        assert len(box._frames) == 50
        msg = await ws.receive(timeout=3)     # none of the held frames: the close frame
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008


async def test_a_draining_close_sends_what_is_queued_then_stops(loop_server: Loop) -> None:
    loop_server.venue.faults = plan(latency=Latency("fixed", 30 * MS))
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        for i in range(3):
            box.send(f"f{i}")
        box.close(drain=True)
        box.send("refused")
        await asyncio.wait_for(box.drained(), 2.0)
        assert [f for f, _ in await receive(ws, 3)] == ["f0", "f1", "f2"]
        with pytest.raises(asyncio.TimeoutError):
            await receive(ws, 1, timeout=0.1)
        await ws.close()


async def test_frames_go_straight_to_the_socket_whole_at_every_length_and_in_utf8(
        loop_server: Loop) -> None:
    """The writer frames text itself (RFC 6455 header lengths 7-bit, 16-bit and 64-bit) and
    writes bursts to the transport; a standard client (aiohttp's, which validates frames and
    UTF-8) reads every one intact, in order, interleaved with aiohttp's own pings."""
    payloads = ["", "x", "é" * 62, "a" * 125, "b" * 126, "c" * 65535, "d" * 65536,
                "€" * 30000, "z" * 200_000]
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        assert box._transport() is not None        # the direct path, not send_str
        for p in payloads:
            box.send(p)
        await loop_server.boxes[-1].ws.ping()
        for p in payloads * 3:
            box.send(p)
        got = await receive(ws, len(payloads) * 4)
        assert [f for f, _ in got] == payloads * 4
        await ws.close()


def test_ws_text_frame_headers() -> None:
    from feeds.sim.outbox import ws_text_frame
    assert ws_text_frame(b"hi") == b"\x81\x02hi"
    assert ws_text_frame(b"a" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert ws_text_frame(b"a" * 65536)[:10] == b"\x81\x7f" + (65536).to_bytes(8, "big")


async def test_a_slow_reader_is_paced_by_the_socket_buffer_not_cut(loop_server: Loop) -> None:
    """Megabytes queued faster than the client reads: the writer waits for the socket to
    drain instead of buffering without bound, and every frame still arrives."""
    big = "q" * 100_000
    async with aiohttp.ClientSession() as http:
        ws = await connect(loop_server, http)
        box = loop_server.boxes[-1]
        for _ in range(400):                # 40 MB: past HIGH_WATER and the kernel's buffers
            box.send(big)
        await asyncio.sleep(0.2)            # the client is not reading yet
        transport = box._transport()
        assert transport.get_write_buffer_size() < 2 << 20   # one burst past HIGH_WATER at most
        assert len(box._frames) > 0                          # the rest waits in the outbox
        got = await receive(ws, 400, timeout=30)
        assert all(f == big for f, _ in got) and not box.closing
        await ws.close()
