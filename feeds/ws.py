"""The asyncio WebSocket driver every feed and gateway connection runs on.

Venue rules differ (Binance: the server pings every 20 s and drops connections at 24 h; OKX:
the client sends the text `ping` when idle < 30 s; Gate: protocol pings plus an optional
`spot.ping`), so the driver takes them as `WsSettings` and keeps the loop itself generic:

- connect with a timeout, run the caller's `on_open` (subscribe, login) on every connection;
- hand each frame to `on_frame(data, ts_recv_ns)`, stamping `ts_recv` as the frame arrives;
- application-level ping when idle, and a reconnect when nothing arrives for `idle_timeout_s`;
- reconnect with jittered exponential back-off on any failure, reset after a healthy spell;
- roll over to a fresh connection before the venue's forced disconnect (`max_lifetime_s`).

Protocol knowledge stays in each venue's sans-I/O `protocol/`; this module only moves bytes.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter fraction: delay in [d*(1-jitter), d]."""

    initial_s: float = 0.1
    max_s: float = 10.0
    multiplier: float = 2.0
    jitter: float = 0.3

    def delay(self, attempt: int, rng: random.Random) -> float:
        d = min(self.initial_s * self.multiplier ** max(attempt - 1, 0), self.max_s)
        return d * (1.0 - self.jitter * rng.random())


@dataclass(frozen=True)
class WsSettings:
    url: str
    open_timeout_s: float = 10.0
    protocol_ping_interval_s: float | None = None  # None: answer server pings only
    app_ping: str | bytes | None = None            # e.g. OKX "ping"
    app_ping_after_idle_s: float = 20.0
    idle_timeout_s: float = 60.0                   # nothing received this long -> reconnect
    max_lifetime_s: float | None = None            # roll over before the venue's forced cut
    backoff: Backoff = Backoff()
    healthy_after_s: float = 30.0                  # a connection alive this long resets back-off
    max_frame_bytes: int = 16 << 20


@dataclass
class WsCounters:
    connects: int = 0
    reconnects: int = 0
    rollovers: int = 0
    messages: int = 0
    bytes: int = 0
    idle_timeouts: int = 0
    errors: int = 0
    last_error: str = ""
    last_recv_ns: int = 0


OnOpen = Callable[[ClientConnection], Awaitable[None]]
OnFrame = Callable[[Any, int], None]


@dataclass
class WsClient:
    """One logical connection that stays up until `stop` is set."""

    settings: WsSettings
    on_frame: OnFrame
    on_open: OnOpen | None = None
    on_close: Callable[[str], None] | None = None
    seed: int | None = None
    counters: WsCounters = field(default_factory=WsCounters)
    ws: ClientConnection | None = None

    async def send(self, data: str | bytes) -> bool:
        """Send on the current connection; False when there is none (caller decides)."""
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(data)
        except websockets.ConnectionClosed:
            return False
        return True

    def send_nowait(self, data: str | bytes) -> bool:
        """Write one frame now, inside the caller's callback, when the socket takes it without
        waiting: the connection is open, no fragmented send is in progress and the transport's
        buffer is under its high-water mark. False: not sent (the caller falls back to `send`,
        which waits for room or for the close).

        Why: `send` is a coroutine, so a caller outside one schedules a task per frame and
        the frame leaves on a later loop iteration. On the order path that task is ~10 us
        of CPU and a loop pass of latency per order; this is one synchronous write. It uses
        only the connection's sans-I/O `protocol` and `send_data`, as `send` does."""
        ws = self.ws
        if ws is None or ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
            return False
        transport = ws.transport
        if transport.is_closing() or \
                transport.get_write_buffer_size() >= transport.get_write_buffer_limits()[1]:
            return False
        if isinstance(data, str):
            ws.protocol.send_text(data.encode())
        else:
            ws.protocol.send_binary(data)
        ws.send_data()
        return True

    async def run(self, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed)
        attempt = 0
        s = self.settings
        while not stop.is_set():
            started = time.monotonic()
            reason = "closed"
            try:
                async with connect(s.url, open_timeout=s.open_timeout_s,
                                   ping_interval=s.protocol_ping_interval_s,
                                   ping_timeout=s.protocol_ping_interval_s,
                                   max_size=s.max_frame_bytes, compression=None) as ws:
                    self.ws = ws
                    self.counters.connects += 1
                    if self.on_open is not None:
                        await self.on_open(ws)
                    reason = await self._pump(ws, stop, started)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                self.counters.errors += 1
                self.counters.last_error = reason
            finally:
                self.ws = None
            if self.on_close is not None:
                self.on_close(reason)
            if stop.is_set():
                break
            if reason == "rollover":
                self.counters.rollovers += 1
                attempt = 0
                continue
            self.counters.reconnects += 1
            attempt = 1 if time.monotonic() - started >= s.healthy_after_s else attempt + 1
            delay = s.backoff.delay(attempt, rng)
            log.warning("%s: %s; reconnecting in %.2fs (attempt %d)", s.url, reason, delay, attempt)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _pump(self, ws: ClientConnection, stop: asyncio.Event, started: float) -> str:
        """Receive until the connection ends. The receive loop itself is bare (no per-frame
        task or timeout object: this is the tick hot path); a watchdog task beside it sends
        application pings, enforces the idle timeout and the lifetime, and honours `stop`,
        by closing the connection when it must end."""
        c = self.counters
        state = {"last_rx": time.monotonic(), "reason": ""}
        watchdog = asyncio.ensure_future(self._watchdog(ws, stop, started, state))
        try:
            async for data in ws:
                ts_recv = time.time_ns()
                state["last_rx"] = time.monotonic()
                c.messages += 1
                c.bytes += len(data)
                c.last_recv_ns = ts_recv
                self.on_frame(data, ts_recv)
        except websockets.ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
        if state["reason"]:
            return str(state["reason"])
        rcvd = ws.close_code
        return f"connection closed ({rcvd if rcvd is not None else 'no close frame'})"

    async def _watchdog(self, ws: ClientConnection, stop: asyncio.Event, started: float,
                        state: dict[str, Any]) -> None:
        s = self.settings
        pinged_at = 0.0
        tick = min(1.0, s.app_ping_after_idle_s / 4, s.idle_timeout_s / 4)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick)
            except TimeoutError:
                pass
            now = time.monotonic()
            idle = now - state["last_rx"]
            if stop.is_set():
                state["reason"] = "stopped"
            elif s.max_lifetime_s is not None and now - started >= s.max_lifetime_s:
                state["reason"] = "rollover"
            elif idle >= s.idle_timeout_s:
                self.counters.idle_timeouts += 1
                state["reason"] = f"no data for {idle:.1f}s"
            elif s.app_ping is not None and idle >= s.app_ping_after_idle_s \
                    and pinged_at < state["last_rx"]:
                pinged_at = now
                try:
                    await ws.send(s.app_ping)
                except websockets.ConnectionClosed:
                    return
                continue
            else:
                continue
            await ws.close()
            return
