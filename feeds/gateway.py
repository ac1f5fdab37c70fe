"""Gateway process (`hft:gateway:<venue>`): one per venue, pinned by the supervisor.

A thin asyncio driver around `GatewayCore`. The engine's faster-fifo queue wakes the event
loop itself (`MessageQueue.watch`: producers ring a socket the loop watches, so no thread
and no hand-off between threads sits on the order path, and an idle gateway uses ~0 CPU);
the loop takes the batch, encodes, signs and sends over the venue's WebSocket order API,
parses what comes back and returns `ExecReport`s to the engine (and, for persistence, to the
writer). The periodic timer also takes the queue, which bounds any missed wake-up.

On every (re)connect the session frames (login / private subscriptions) are sent and the
gateway reconciles: the venue's open orders go to the engine as STATUS reports, so the OMS
finds orphans and missed fills. While there is no session, orders are rejected at once with
VENUE_UNAVAILABLE instead of vanishing. The venue's dead-man switch (where it has one) is
re-armed periodically; our own fires when the engine's heartbeat stops.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections import deque
from typing import Any

import aiohttp

from feeds.adapter import GatewayAdapter, HttpRequest
from feeds.gateway_core import COUNTERS, GatewayCore, StatusQuery
from feeds.runner import HttpStatusError, fetch_json
from feeds.sim.endpoints import credentials_for, endpoints_for
from feeds.ws import WsClient, WsSettings
from pipeline import aio
from pipeline.errors import ProtocolError
from pipeline.gc_tuning import settle_after_startup
from pipeline.messages import (
    CancelAll,
    Command,
    ExecReport,
    GatewayStatus,
    InstrumentInfo,
    NewOrder,
    encode,
)
from pipeline.model import Instrument, RejectReason
from pipeline.process import ProcessContext

log = logging.getLogger(__name__)

TIMER_S = 0.05
RECONCILE_FILLS_WINDOW_MS = 10 * 60 * 1000  # fills this far before our start are re-sent
DEADMAN_TIMEOUT_S = 10      # venue-side cancel-all-after window, refreshed every third of it


def _why(exc: BaseException) -> str:
    """An exception for a log line: its message, or its type when it has none (a REST
    time-out is a bare `TimeoutError()`, which logged as "... failed: " with nothing)."""
    text = str(exc)
    return text if text else type(exc).__name__


def load_gateway_adapter(venue: str, config: Any) -> GatewayAdapter:
    module = importlib.import_module(f"feeds.{venue}.adapter")
    key, secret, passphrase = credentials_for(config, venue)
    return module.make_gateway_adapter(config, key, secret, passphrase)  # type: ignore


class GatewayDriver:
    def __init__(self, ctx: ProcessContext, adapter: GatewayAdapter) -> None:
        self.ctx = ctx
        self.adapter = adapter
        self.venue = adapter.venue
        self.endpoints = endpoints_for(ctx.config, self.venue)
        self.orders_q = ctx.handles.order_queues[self.venue]
        self.reports_q = ctx.handles.report_queue
        self.events_q = ctx.handles.event_queue
        self.core: GatewayCore | None = None
        self.client: WsClient | None = None
        self.session_up = False
        self.started_ms = int(time.time() * 1000)
        self.stop = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.http: aiohttp.ClientSession | None = None
        self._backlog: deque[str] = deque()   # frames waiting for socket room (_send)
        self._flush_scheduled = False         # a `_flush` is due this loop pass (_flush_soon)
        if ctx.status is not None:
            ctx.status.set_counter_names(list(COUNTERS))

    # -- plumbing ----------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        """Flush once the current loop pass ends, for every frame that arrived in it.

        One socket read often holds many venue frames (the venue answers a batch of orders
        together); flushing after each one put each frame's reports on the engine's queue on
        their own, and each put rings the engine's doorbell: a futex wake (or a datagram) per
        frame. In a live gateway at a few thousand orders/s those wakes were a quarter of the
        process's time. `call_soon` runs after the receive loop has taken every frame already
        read, and before the loop waits for more, so a lone frame's reports leave just as
        soon as before; only frames that arrived together now leave together."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_scheduled_pass)

    def _flush_scheduled_pass(self) -> None:
        self._flush_scheduled = False
        if self.core is not None:
            self._flush()

    def _flush(self) -> None:
        assert self.core is not None
        if self.core.rest_queries:
            queries, self.core.rest_queries = self.core.rest_queries, []
            for rid, q, inst in queries:
                asyncio.ensure_future(self._rest_status(rid, q, inst))
        frames, reports = self.core.take()
        if frames and self.client is not None:
            self._send(self.client, frames)
        if reports:
            data = [encode(r) for r in reports]  # once, for the engine's and the writer's queue
            self.reports_q.put_encoded(data)
            self.events_q.put_encoded([d for r, d in zip(reports, data)
                                       if type(r) is ExecReport])

    def _send(self, client: WsClient, frames: list[str]) -> None:
        """Write `frames` now while the socket has room; from the first that finds it full,
        they and every later frame wait in one backlog and leave in order (a cancel must
        never overtake the place it cancels)."""
        backlog = self._backlog
        i = 0
        if not backlog:
            while i < len(frames) and client.send_nowait(frames[i]):
                i += 1
            if i == len(frames):
                return
            asyncio.ensure_future(self._drain_backlog())
        backlog.extend(frames[i:])

    async def _drain_backlog(self) -> None:
        """Send the backlog in order, waiting for room; frames queued meanwhile join its end.
        Connection gone: dropped, and their pending requests time out into status queries as
        any unanswered request does."""
        backlog = self._backlog
        while backlog and self.client is not None:
            if not await self.client.send(backlog[0]):
                break
            backlog.popleft()
        backlog.clear()

    def _on_batch(self, msgs: list[Any]) -> None:
        core = self.core
        assert core is not None
        for m in msgs:
            if isinstance(m, NewOrder):
                if not self.session_up:
                    core._local_reject(m, RejectReason.VENUE_UNAVAILABLE, "no venue session")
                    continue
                core.place(m)
            elif isinstance(m, CancelAll):
                self._cancel_all(m.symbol, m.reason)
            elif isinstance(m, Command):
                if m.name == "instruments":  # a (re)started engine asks what we trade
                    self._announce_instruments()
                elif m.name == "status" and "|" in m.arg and self.session_up:
                    symbol, cid = m.arg.split("|", 1)
                    core.query_status(cid, symbol)
            else:
                core.on_message(m)
        self._flush()

    def _announce_instruments(self) -> None:
        if self.core is not None:
            b = self.core.bucket
            self.reports_q.put_many([InstrumentInfo.of(i)
                                     for i in self.core.instruments.values()] + [
                GatewayStatus(self.venue, "budget", f"{b.rate}/{int(b.burst)}", time.time_ns())])

    def _take_orders(self) -> None:
        """The engine's queue rang (or the timer fired): take everything it holds, in
        batches of at most `get_many`'s maximum, each handled at once."""
        if self.core is None:
            return
        while True:
            msgs, entries = self.orders_q.get_many_with_entries()
            if not entries:
                return
            self._on_batch(msgs)
            # the writer persists the orders (it keeps NewOrders and skips cancels and
            # heartbeats): the engine's bytes as they came, not each order encoded again
            self.events_q.put_raw(entries)

    async def _rest(self, req: HttpRequest) -> Any:
        assert self.http is not None
        return await fetch_json(self.http, self.endpoints.rest, req)

    def _cancel_all(self, symbol: str, reason: str) -> None:
        assert self.core is not None
        log.warning("%s: cancel all%s (%s)", self.venue, f" {symbol}" if symbol else "", reason)
        insts = self.core.cancel_all_local(symbol)
        for inst in insts:  # sweep over REST too: catches orders we do not know about
            req = self.adapter.cancel_all_request(inst, int(time.time() * 1000))
            if req is not None:
                asyncio.ensure_future(self._rest_cancel_all(req, inst))

    async def _rest_cancel_all(self, req: HttpRequest, inst: Instrument) -> None:
        """The REST sweep of one symbol; a venue's "nothing to cancel" answer is not a
        failure (an operator reading a kill's log must not see one that did not happen)."""
        try:
            await self._rest(req)
        except asyncio.CancelledError:
            raise
        except HttpStatusError as exc:
            empty = getattr(self.adapter, "cancel_all_found_nothing", None)
            if empty is not None and empty(exc.status, exc.body):
                log.info("%s: cancel-all %s: no open orders", self.venue, inst.symbol)
            else:
                log.warning("%s: cancel-all %s failed: %s", self.venue, inst.symbol, _why(exc))
        except (TimeoutError, aiohttp.ClientError, ProtocolError, ValueError) as exc:
            log.warning("%s: cancel-all %s failed: %s", self.venue, inst.symbol, _why(exc))

    async def _rest_quiet(self, req: HttpRequest, what: str) -> Any:
        try:
            return await self._rest(req)
        except asyncio.CancelledError:
            raise
        except (TimeoutError, aiohttp.ClientError, ProtocolError, ValueError) as exc:
            log.warning("%s: %s failed: %s", self.venue, what, _why(exc))
            return None

    async def _rest_status(self, rid: str, q: StatusQuery, inst: Instrument) -> None:
        """A status query for a venue with no WS order query (OKX): ask over REST and hand
        the answer to the core like a frame's. No answer: the request times out and the OMS
        asks again at its next in-flight check."""
        adapter: Any = self.adapter
        try:
            req = adapter.status_request(q.client_id, inst, int(time.time() * 1000))
            payload = await self._rest(req)
            records = adapter.parse_status(payload, rid, time.time_ns())
        except asyncio.CancelledError:
            raise
        except (TimeoutError, aiohttp.ClientError, ProtocolError, ValueError) as exc:
            log.warning("%s: status query for %s failed: %s", self.venue, q.client_id,
                        _why(exc))
            return
        if self.core is not None:
            self.core.on_rest_answer(rid, records, time.time_ns())
            self._flush()

    async def _recent_fills(self) -> list[Any]:
        """Our fills at the venue over the reconcile window: whatever was missed while this
        gateway was down or disconnected comes back here (the engine dedups by trade id)."""
        now_ms = int(time.time() * 1000)
        since = min(self.started_ms, now_ms) - RECONCILE_FILLS_WINDOW_MS
        out: list[Any] = []
        for req in self.adapter.recent_fills_requests(now_ms, since):
            payload = await self._rest_quiet(req, "recent fills")
            if payload is None:
                continue
            try:
                out += self.adapter.parse_recent_fills(payload, time.time_ns())
            except ProtocolError as exc:
                log.warning("%s: recent fills unreadable: %s", self.venue, exc)
        return out

    async def _reconcile(self) -> None:
        """Recent fills, then open orders from the venue -> reports; the engine's OMS
        applies missed fills once (trade ids) and settles every order the venue no longer
        lists (it asks for each)."""
        fills = await self._recent_fills()
        if fills:
            self.reports_q.put_many(fills)
            self.events_q.put_many(fills)
            log.info("%s: %d recent fill(s) replayed to the engine", self.venue, len(fills))
        payload = await self._rest_quiet(
            self.adapter.open_orders_request(int(time.time() * 1000)), "open orders")
        if payload is None:
            return
        try:
            reports = self.adapter.parse_open_orders(payload, time.time_ns())
        except ProtocolError as exc:
            log.warning("%s: open orders unreadable: %s", self.venue, exc)
            return
        self.reports_q.put_many(reports + [GatewayStatus(self.venue, "reconciled",
                                                         f"{len(reports)} open", time.time_ns())])
        log.info("%s: reconciled, %d open order(s) at the venue", self.venue, len(reports))

    # -- connection --------------------------------------------------------------------------
    def _make_client(self) -> WsClient:
        plan = self.adapter.ws_plan(self.endpoints.ws_private)
        settings = WsSettings(url=plan.url, app_ping=plan.app_ping,
                              app_ping_after_idle_s=plan.app_ping_after_idle_s,
                              protocol_ping_interval_s=plan.protocol_ping_interval_s,
                              idle_timeout_s=plan.idle_timeout_s,
                              max_lifetime_s=plan.max_lifetime_s)

        def on_frame(data: Any, ts_recv: int) -> None:
            assert self.core is not None
            for rec in self.core.on_frame(data, ts_recv):
                if getattr(rec, "kind", "") == "shutdown":
                    # the venue ended our private stream (Binance eventStreamTerminated,
                    # a maintenance notice): reconnect, which logs in and reconciles again
                    log.warning("%s: venue ended the session: reconnecting", self.venue)
                    if self.client is not None and self.client.ws is not None:
                        asyncio.ensure_future(self.client.ws.close())
                    continue
                if not self.session_up and self.adapter.session_ready(rec):
                    self.session_up = True
                    self.reports_q.put(GatewayStatus(self.venue, "up", "", ts_recv))
                    asyncio.ensure_future(self._reconcile())
            self._flush_soon()

        async def on_open(ws: Any) -> None:
            for f in self.adapter.session_frames(int(time.time() * 1000)):
                await ws.send(f)

        def on_close(reason: str) -> None:
            if self.session_up:
                self.session_up = False
                self.reports_q.put(GatewayStatus(self.venue, "down", reason[:200],
                                                 time.time_ns()))
            if self.core is not None:
                self.core.on_disconnect()

        return WsClient(settings, on_frame=on_frame, on_open=on_open, on_close=on_close)

    async def _load_instruments(self) -> dict[str, Any]:
        delay = 0.2
        while not self.ctx.stopping():
            try:
                payload = await self._rest(self.adapter.instruments_request())
                insts = self.adapter.parse_instruments(payload)
                return {i.symbol: i for i in insts}
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, ProtocolError, ValueError) as exc:
                log.warning("%s: instruments not loaded (%s); retrying", self.venue, exc)
                self.ctx.beat()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return {}

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        cfg = self.ctx.config
        async with aiohttp.ClientSession() as http:
            self.http = http
            instruments = await self._load_instruments()
            if self.ctx.stopping():
                return
            settle_after_startup()   # see pipeline.gc_tuning
            wanted = set(getattr(cfg.exchanges, self.venue).symbols)
            self.core = GatewayCore(self.adapter, {s: i for s, i in instruments.items()
                                                   if s in wanted},
                                    cfg.system.max_orders_per_second, time.time_ns,
                                    lambda: int(time.time() * 1000),
                                    enforce_venue_limits=cfg.system.enforce_venue_order_limits)
            self._announce_instruments()
            self.client = self._make_client()
            ws_task = asyncio.ensure_future(self.client.run(self.stop))
            watcher = self.orders_q.watch(self.loop, self._take_orders)
            last_deadman = 0.0
            try:
                while not self.ctx.stopping():
                    self.ctx.beat()
                    for cmd in self.ctx.poll_commands(timeout=0):
                        if getattr(cmd, "name", "") == "kill":
                            self._cancel_all("", "kill")
                    self._take_orders()   # bounds a missed wake-up
                    if self.core.on_timer(time.time_ns()):
                        self._cancel_all("", "engine heartbeat lost")
                    now = time.monotonic()
                    if self.session_up and now - last_deadman > DEADMAN_TIMEOUT_S / 3:
                        last_deadman = now
                        req = self.adapter.deadman_request(int(time.time() * 1000),
                                                           DEADMAN_TIMEOUT_S)
                        if req is not None:
                            asyncio.ensure_future(self._rest_quiet(req, "dead-man refresh"))
                    self._flush()
                    self._publish_counters()
                    await asyncio.sleep(TIMER_S)
            finally:
                if self.session_up:
                    self._cancel_all("", "gateway stopping")
                    self._flush()
                    await asyncio.sleep(0.3)  # let the cancels reach the venue and answer
                    self._flush()
                self.stop.set()
                watcher.close()
                await asyncio.gather(ws_task, return_exceptions=True)
                self._publish_counters()

    def _publish_counters(self) -> None:
        st = self.ctx.status
        if st is None or self.core is None:
            return
        for i, name in enumerate(COUNTERS):
            st.set(i, self.core.counters[name])


def main(ctx: ProcessContext) -> int:
    try:
        adapter = load_gateway_adapter(ctx.venue, ctx.config)
    except ModuleNotFoundError as exc:
        # No adapter for this venue yet: reject every order explicitly rather than crash-loop.
        log.error("gateway %s: no order adapter (%s); rejecting orders", ctx.venue, exc)
        return _reject_everything(ctx)
    driver = GatewayDriver(ctx, adapter)
    log.info("gateway %s: order API %s", ctx.venue, driver.endpoints.ws_private)
    aio.run(driver.run())
    return 0


def _reject_everything(ctx: ProcessContext) -> int:
    from pipeline.messages import ExecType
    from pipeline.model import OrderStatus

    orders = ctx.handles.order_queues[ctx.venue]
    reports = ctx.handles.report_queue

    def step(_cmds: list) -> None:
        for msg in orders.get_many():
            if isinstance(msg, NewOrder):
                reports.put(ExecReport(
                    venue=msg.venue, symbol=msg.symbol, client_id=msg.client_id,
                    venue_order_id="", exec_type=ExecType.REJECTED,
                    status=OrderStatus.REJECTED, side=msg.side, price_ticks=msg.price_ticks,
                    lots=msg.lots, reason=RejectReason.VENUE_UNAVAILABLE,
                    reason_text="gateway has no venue adapter", ts_recv=time.time_ns(),
                    ts_tick_recv=msg.ts_tick_recv, ts_decision=msg.ts_decision))

    ctx.run_loop(step, period_s=0.05)
    return 0
