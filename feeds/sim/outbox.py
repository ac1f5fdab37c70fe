"""The send side of one simulated-venue WebSocket: ordered, bounded, and as slow as the
scenario says.

Every front-end (Binance, OKX, Gate) sends through an `Outbox` so the fault plan's network
behaviour is applied in one place, the same way on every venue:

- **one-way latency**: each frame is held for a draw from the venue's latency distribution
  and never overtakes the frame ahead of it (TCP keeps order), so a burst arrives as a
  burst, late;
- **delayed acks**: an order response the plan delays is scheduled on its own (the matching
  engine answered late; frames queued after it are not held back by it);
- **lost acks**: the response is never sent (the order still happened and its private
  events still go out) — the client's in-flight timeout and status query must cope.

With no fault plan (scenario "ideal") frames go out at once and nothing is drawn. The writer
takes every frame already due in one pass and hands them to the socket as one write: each
becomes a complete RFC 6455 text frame (server frames are unmasked: a 2-10 byte header and
the UTF-8 payload), joined and written to the connection's transport at once. Why not
`send_str` per frame: aiohttp's per-frame send (header, write, drain check, an await) cost
~40 us a frame on this VM, more than the market model and the encoders together, and made
the simulator the bottleneck of every benchmark; one `transport.write` per burst costs a few
microseconds a frame. Frames stay whole, so aiohttp's own control frames (pings, the close)
interleave between ours, never inside one. When the transport's buffer passes `HIGH_WATER`
the writer waits for it to drain below `LOW_WATER` (a client that reads slowly is paced,
and one that stops is cut off as below). If the aiohttp connection exposes no transport
(not a real aiohttp WebSocket), frames go out through `send_str` one by one.
asyncio's timers resolve to about a millisecond (epoll), so a latency shorter than that is
honoured at that granularity: a frame is never sent early.

A client that stops reading is cut off once `limit` frames are waiting: the outbox stops and
closes the socket with the venue's own close code, as a real venue drops a slow consumer
rather than buffering without bound.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, ws: web.WebSocketResponse, venue: Any, *, limit: int,
                 cut_code: int = 1008, cut_message: bytes = b"slow consumer") -> None:
        """`venue` is the `SimVenue`: its `faults` (a `FaultPlan` or None) is read per frame,
        so a plan installed after the connection opened applies to it too. `cut_code` and
        `cut_message` close a consumer that fell `limit` frames behind."""
        self.ws = ws
        self.venue = venue
        self.limit = limit
        self.cut_code = cut_code
        self.cut_message = cut_message
        self.closing = False
        self.acks_lost = 0
        self.acks_delayed = 0
        self._frames: deque[tuple[int, str]] = deque()   # (due, monotonic ns; frame)
        self._last_due = 0
        self._wake = asyncio.Event()
        self._abort = False
        self._finished = asyncio.Event()

    # -- producers ----------------------------------------------------------------------------
    def send(self, frame: str) -> None:
        """Queue `frame`; it goes out after the venue's one-way latency, in order."""
        if self.closing:
            return
        if len(self._frames) >= self.limit:
            self._cut_off()
            return
        plan = self.venue.faults
        due = 0
        if plan is not None:
            lat = plan.latency_ns(self.venue.venue)
            if lat > 0:
                due = max(time.monotonic_ns() + lat, self._last_due)
                self._last_due = due
        self._frames.append((due, frame))
        self._wake.set()

    def _cut_off(self) -> None:
        log.warning("%s sim: client not reading (%d frames queued): disconnecting",
                    self.venue.venue, len(self._frames))
        self.close()
        asyncio.ensure_future(self.ws.close(code=self.cut_code, message=self.cut_message))

    def send_ack(self, *frames: str) -> None:
        """Send the response(s) to an order request, unless the plan delays or loses them."""
        plan = self.venue.faults
        if plan is None:
            for f in frames:
                self.send(f)
            return
        now = time.time_ns()
        name = self.venue.venue
        if plan.should_drop_ack(name, now):
            self.acks_lost += 1
            log.info("%s sim: order ack lost (fault plan)", name)
            return
        delay = plan.ack_delay_ns(name, now)
        if delay <= 0:
            for f in frames:
                self.send(f)
            return
        self.acks_delayed += 1
        loop = asyncio.get_running_loop()
        for f in frames:
            loop.call_later(delay / 1e9, self.send, f)

    def close(self, *, drain: bool = False) -> None:
        """Take no new frames. `drain=False` (the connection is gone or being cut): the writer
        returns at once. `drain=True` (a venue-initiated disconnect, e.g. a rate limit): the
        frames already queued still go out, after their latency, then the writer returns —
        await `drained()` before closing the socket."""
        self.closing = True
        if not drain:
            self._abort = True
        self._wake.set()

    async def drained(self) -> None:
        """Wait until the writer has returned."""
        await self._finished.wait()

    # -- the writer task ---------------------------------------------------------------------
    def _transport(self) -> Any:
        """The socket under the aiohttp WebSocket, once it is prepared (None: use send_str).
        Duck-typed: uvloop's transports are not `asyncio.WriteTransport` subclasses."""
        writer = getattr(self.ws, "_writer", None)
        t = getattr(writer, "transport", None)
        ok = all(callable(getattr(t, m, None)) for m in ("write", "is_closing",
                                                          "get_write_buffer_size"))
        return t if ok else None

    async def run(self) -> None:
        frames = self._frames
        ws = self.ws
        wake = self._wake
        transport = self._transport()
        try:
            while not self._abort:
                if not frames:
                    if self.closing:
                        return
                    wake.clear()
                    await wake.wait()
                    continue
                due = frames[0][0]
                if due:
                    wait = due - time.monotonic_ns()
                    if wait > 0:   # held for latency; an abort cuts the wait short
                        wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), wait / 1e9)
                        continue
                if ws.closed:
                    return
                if transport is None:
                    frame = frames.popleft()[1]
                    try:
                        await ws.send_str(frame)
                    except (ConnectionError, RuntimeError):
                        return
                    continue
                if transport.is_closing():
                    return
                transport.write(_take_due(frames))
                if transport.get_write_buffer_size() > HIGH_WATER:
                    await self._drained_below(transport, LOW_WATER)
        finally:
            self._finished.set()

    async def _drained_below(self, transport: Any, low: int) -> None:
        """Wait (polling, ~1 ms) until the socket buffer is under `low`, the connection goes
        or the outbox is aborted. Only a client reading slower than we produce gets here."""
        while (transport.get_write_buffer_size() > low and not transport.is_closing()
               and not self._abort):
            await asyncio.sleep(DRAIN_POLL_S)


HIGH_WATER = 1 << 20     # bytes buffered in the socket before the writer waits
LOW_WATER = 256 << 10    # ... until the buffer is back under this
DRAIN_POLL_S = 0.001


def ws_text_frame(payload: bytes) -> bytes:
    """One complete, final, unmasked WebSocket text frame (RFC 6455 5.2) carrying `payload`."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


def _take_due(frames: deque[tuple[int, str]], max_bytes: int = HIGH_WATER) -> bytes:
    """Pop the frames at the head of `frames` that are due now, up to about `max_bytes`, as
    one byte string of WebSocket frames (the head frame is known to be due)."""
    now = 0
    out = []
    size = 0
    while frames and size < max_bytes:
        due = frames[0][0]
        if due:
            if not now:
                now = time.monotonic_ns()
            if due > now:
                break
        f = ws_text_frame(frames.popleft()[1].encode())
        size += len(f)
        out.append(f)
    return b"".join(out)
