"""The private (order) WebSocket answers every request whatever the TCP segmentation: many
masked frames in one write, a frame split across writes, a fragmented message and a ping
between them are each answered, in order, with OKX's own replies. This is what a gateway
sending a burst of orders produces on the wire (one write per frame, coalesced by TCP).

Raw sockets and hand-made RFC 6455 frames, so the test controls the bytes exactly."""
from __future__ import annotations

import asyncio
import base64
import os
import struct
from urllib.parse import urlsplit

import orjson

from .conftest import OkxSim


def _frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """One client frame: masked, as RFC 6455 5.3 requires of a client."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _read_frame(r: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await r.readexactly(2)
    assert not b1 & 0x80, "server frames are unmasked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await r.readexactly(8))[0]
    assert b0 & 0x80, "the simulator sends whole messages"
    return b0 & 0x0F, await r.readexactly(n)


async def _connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    u = urlsplit(url)
    r, w = await asyncio.open_connection(u.hostname, u.port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    status = await r.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    return r, w


def _op(i: int) -> bytes:
    return orjson.dumps({"id": f"r{i}", "op": "order", "args": [{
        "instIdCode": 1, "tdMode": "cash", "clOrdId": f"c{i}", "side": "buy",
        "ordType": "limit", "px": "1", "sz": "1"}]})


async def test_coalesced_split_and_fragmented_frames_are_each_answered_in_order(
        okx_sim: OkxSim) -> None:
    r, w = await _connect(okx_sim.ws_private)
    try:
        burst = b"".join(_frame(_op(i)) for i in range(40))     # 40 requests, one write
        split = _frame(_op(40))
        ping = _frame(b"hello", opcode=0x9)
        first, rest = _op(41)[:20], _op(41)[20:]
        fragmented = _frame(first, fin=False) + _frame(rest, opcode=0x0)
        w.write(burst + split[:7])                               # frame 40 cut mid-header
        await w.drain()
        await asyncio.sleep(0.05)
        w.write(split[7:] + ping + fragmented + _frame(b"ping"))
        await w.drain()
        replies: list[dict[str, object]] = []
        pongs: list[bytes] = []
        text_pong = False
        while len(replies) < 42 or not pongs or not text_pong:
            opcode, data = await asyncio.wait_for(_read_frame(r), 5)
            if opcode == 0xA:
                pongs.append(data)
            elif data == b"pong":
                text_pong = True
            else:
                replies.append(orjson.loads(data))
        # not logged in: each trading op gets OKX's own refusal, echoing its id, in order
        assert [x["id"] for x in replies] == [f"r{i}" for i in range(42)]
        assert all(x["op"] == "order" and x["code"] == "60011" and x["data"] == []
                   for x in replies), replies[0]
        assert pongs == [b"hello"]
    finally:
        w.close()


async def test_a_bad_frame_among_good_ones_gets_an_error_and_the_rest_are_served(
        okx_sim: OkxSim) -> None:
    r, w = await _connect(okx_sim.ws_private)
    try:
        w.write(_frame(_op(1)) + _frame(b"{not json") + _frame(_op(2)))
        await w.drain()
        got = [orjson.loads((await asyncio.wait_for(_read_frame(r), 5))[1]) for _ in range(3)]
        assert got[0]["id"] == "r1" and got[2]["id"] == "r2"
        assert got[1]["event"] == "error" and got[1]["code"] == "60012"
        w.write(_frame(b"\xff\xfe", opcode=0x1))   # invalid UTF-8 in a text frame: 1007
        await w.drain()
        opcode, data = await asyncio.wait_for(_read_frame(r), 5)
        assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1007
    finally:
        w.close()
