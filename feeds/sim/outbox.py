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
drains every frame already queued before it yields, so a fan-out burst costs one wake-up,
not one per frame. asyncio's timers resolve to about a millisecond (epoll), so a latency
shorter than that is honoured at that granularity: a frame is never sent early.

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
    async def run(self) -> None:
        frames = self._frames
        ws = self.ws
        wake = self._wake
        try:
            while not self._abort:
                if not frames:
                    if self.closing:
                        return
                    wake.clear()
                    await wake.wait()
                    continue
                due, frame = frames[0]
                if due:
                    wait = due - time.monotonic_ns()
                    if wait > 0:   # held for latency; an abort cuts the wait short
                        wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), wait / 1e9)
                        continue
                frames.popleft()
                if ws.closed:
                    return
                try:
                    await ws.send_str(frame)
                except (ConnectionError, RuntimeError):
                    return
        finally:
            self._finished.set()
