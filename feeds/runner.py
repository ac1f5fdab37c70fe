"""Feed process (`hft:feed:<venue>`): one per venue, pinned by the supervisor.

A thin asyncio driver around `FeedCore`: it loads the venue's adapter
(`feeds/<venue>/adapter.py: make_feed_adapter(config)`), opens the adapter's WebSocket
connections with `feeds.ws.WsClient` (reconnect with jittered back-off, resubscribe on open,
app pings, lifetime rollover), stamps `ts_recv` as each frame arrives, fetches REST snapshots
for symbols that need one (gap, stale, first sync, OKX without a WS snapshot) and publishes
counters and heartbeats into the status table. Every venue rule lives in the adapter.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from feeds.adapter import FeedAdapter, HttpRequest, WsPlan
from feeds.feed_core import COUNTERS, FeedCore
from feeds.sim.endpoints import endpoints_for
from feeds.ws import WsClient, WsSettings
from pipeline import aio
from pipeline.errors import ProtocolError
from pipeline.messages import Record
from pipeline.process import ProcessContext

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 0.1
SNAPSHOT_RETRY_S = 1.0
GARBAGE_WINDOW_S = 5.0       # judge the stream's health over this window
GARBAGE_MIN_ERRORS = 50      # ...and reconnect when at least this many frames were bad
GARBAGE_SHARE = 0.5          # ...making up at least this share of what arrived


SNAPSHOT_CONN = "snapshot:"   # capture records of REST snapshots: conn = this + venue symbol


def capture_record(venue: str, conn: str, data: str | bytes, ts_recv: int) -> Record:
    """One raw frame for the writer's capture files (writer/capture.py record format)."""
    frame = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    return Record("capture", {"venue": venue, "conn": conn, "ts": ts_recv, "frame": frame})


def frame_handler(core: FeedCore, reply: Callable[[str], None], capture_q: Any = None,
                  venue: str = "", conn: str = "") -> Callable[[Any, int], None]:
    """What the feed runs for every frame of one market-data connection (`WsClient.on_frame`):
    `FeedCore`'s frame callback for that connection, which hands the frames owed back (pongs)
    to `reply`, behind the tee to the capture queue when capture is on. With capture off (the
    default) the callback itself, no wrapper call per frame. Module-level so that
    `bench/feed.py` measures this very function."""
    on_frame = core.make_on_frame(reply)
    if capture_q is None:
        return on_frame

    def tee(data: Any, ts_recv: int) -> None:
        # non-blocking: a full queue is a counted drop
        capture_q.put(capture_record(venue, conn, data, ts_recv))
        on_frame(data, ts_recv)

    return tee


def load_feed_adapter(venue: str, config: Any) -> FeedAdapter:
    module = importlib.import_module(f"feeds.{venue}.adapter")
    return module.make_feed_adapter(config)  # type: ignore[no-any-return]


class HttpStatusError(ProtocolError):
    """A REST answer other than 200: the status and the start of the body kept apart, so a
    caller can tell a venue's benign refusal (Binance -2011 on a cancel-all with nothing
    open) from a failure without matching on the message."""

    def __init__(self, path: str, status: int, body: bytes) -> None:
        super().__init__("rest", f"{path}: HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body[:4096]


async def fetch_json(http: aiohttp.ClientSession, base: str, req: HttpRequest) -> Any:
    async with http.request(req.method, base + req.path, params=req.params or None,
                            headers=req.headers or None, data=req.body or None,
                            timeout=aiohttp.ClientTimeout(total=10)) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise HttpStatusError(req.path, resp.status, body)
        return orjson.loads(body)


class FeedDriver:
    def __init__(self, ctx: ProcessContext, adapter: FeedAdapter, ring: Any, books: Any) -> None:
        self.ctx = ctx
        self.adapter = adapter
        cfg = ctx.config
        ex = getattr(cfg.exchanges, adapter.venue)
        self.endpoints = endpoints_for(cfg, adapter.venue)
        self.venue_symbols = [adapter.venue_symbol(s) for s in ex.symbols]
        self.core = FeedCore(adapter, list(enumerate(self.venue_symbols)), ring, books,
                             depth=cfg.pipeline.book_depth,
                             stale_ns=cfg.risk.stale_book_ms * 1_000_000)
        self.clients: list[WsClient] = []
        self.inflight: set[str] = set()
        # raw frames tee'd to the writer's capture files (`hft replay`), when capture is on
        self.capture_q = ctx.handles.extra.get("capture_queue")
        self.garbage_reconnects = 0
        self._window = (time.monotonic(), 0, 0)  # start, messages, parse errors
        self.stop = asyncio.Event()
        if ctx.status is not None:
            ctx.status.set_counter_names(list(COUNTERS))

    def _client(self, plan: WsPlan) -> WsClient:
        core = self.core
        settings = WsSettings(url=plan.url, app_ping=plan.app_ping,
                              app_ping_after_idle_s=plan.app_ping_after_idle_s,
                              protocol_ping_interval_s=plan.protocol_ping_interval_s,
                              idle_timeout_s=plan.idle_timeout_s,
                              max_lifetime_s=plan.max_lifetime_s)
        client: WsClient
        capture_q = self.capture_q
        venue = self.adapter.venue
        conn = plan.url.rsplit("/", 1)[-1][:64] or "ws"

        def reply(frame: str) -> None:
            asyncio.ensure_future(client.send(frame))

        on_frame = frame_handler(core, reply, capture_q, venue, conn)

        async def on_open(ws: Any) -> None:
            frames = plan.on_open_fn(int(time.time() * 1000)) if plan.on_open_fn else plan.on_open
            for frame in frames:
                await ws.send(frame)

        def on_close(reason: str) -> None:
            if not self.stop.is_set():
                log.warning("%s: market-data connection lost (%s): books marked syncing",
                            self.adapter.venue, reason)
                core.on_disconnect()

        client = WsClient(settings, on_frame=on_frame, on_open=on_open, on_close=on_close)
        return client

    async def _snapshot(self, http: aiohttp.ClientSession, venue_symbol: str) -> None:
        try:
            payload = await fetch_json(http, self.endpoints.rest,
                                       self.adapter.snapshot_request(venue_symbol))
            snap = self.adapter.parse_snapshot(venue_symbol, payload)
            ts = time.time_ns()
            if self.capture_q is not None:  # replay needs the snapshots the feed used
                self.capture_q.put(capture_record(self.adapter.venue,
                                                  SNAPSHOT_CONN + venue_symbol,
                                                  orjson.dumps(payload), ts))
            self.core.on_snapshot(snap, ts)
        except asyncio.CancelledError:
            raise
        except (TimeoutError, aiohttp.ClientError, ProtocolError, ValueError) as exc:
            log.warning("%s:%s snapshot failed (%s); retrying", self.adapter.venue, venue_symbol,
                        exc)
            await asyncio.sleep(SNAPSHOT_RETRY_S)
            self.core.pending_snapshots.add(venue_symbol)
        finally:
            self.inflight.discard(venue_symbol)

    def _check_garbage(self) -> None:
        """A venue that keeps sending frames we cannot parse gets a fresh connection, and
        the operator is told (error log); one bad frame is only counted and dropped."""
        start, msgs0, errs0 = self._window
        now = time.monotonic()
        if now - start < GARBAGE_WINDOW_S:
            return
        vals = self.core.counters.values
        msgs, errs = vals["messages"] - msgs0, vals["parse_errors"] - errs0
        self._window = (now, vals["messages"], vals["parse_errors"])
        if errs >= GARBAGE_MIN_ERRORS and errs >= GARBAGE_SHARE * max(msgs, 1):
            self.garbage_reconnects += 1
            log.error("%s: %d of %d frames unparseable in %.0fs: reconnecting (%d so far)",
                      self.adapter.venue, errs, msgs, now - start, self.garbage_reconnects)
            for c in self.clients:
                if c.ws is not None:
                    asyncio.ensure_future(c.ws.close())

    def _publish_counters(self) -> None:
        st = self.ctx.status
        if st is None:
            return
        vals = self.core.counters.values  # reconnects: FeedCore counts each lost connection
        for i, name in enumerate(COUNTERS):
            st.set(i, vals[name])

    async def run(self) -> None:
        plans = self.adapter.ws_plans(self.endpoints.ws_public, self.venue_symbols)
        self.clients = [self._client(p) for p in plans]
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.ensure_future(c.run(self.stop)) for c in self.clients]
            snaps: set[asyncio.Future[Any]] = set()
            try:
                while not self.ctx.stopping():
                    self.ctx.beat()
                    self.ctx.poll_commands(timeout=0)
                    now = time.time_ns()
                    self.core.check_stale(now)
                    self._check_garbage()
                    for vs in self.core.take_snapshot_requests():
                        if vs not in self.inflight:
                            self.inflight.add(vs)
                            t = asyncio.ensure_future(self._snapshot(http, vs))
                            snaps.add(t)
                            t.add_done_callback(snaps.discard)
                    self._publish_counters()
                    await asyncio.sleep(HOUSEKEEPING_S)
            finally:
                self.stop.set()
                for pending in list(snaps):
                    pending.cancel()
                await asyncio.gather(*tasks, *snaps, return_exceptions=True)
                self._publish_counters()


def main(ctx: ProcessContext) -> int:
    from shm.book import BookSlots
    from shm.ring import RingWriter

    try:
        adapter = load_feed_adapter(ctx.venue, ctx.config)
    except ModuleNotFoundError as exc:
        # A venue without an adapter must not crash-loop the supervisor: say so and idle.
        log.error("feed %s: no market-data adapter (%s); publishing nothing", ctx.venue, exc)
        ctx.run_loop()
        return 0
    ring = RingWriter.attach(ctx.handles.tick_rings[ctx.venue])
    books = BookSlots.attach(ctx.handles.book_segments[ctx.venue])
    driver = FeedDriver(ctx, adapter, ring, books)
    log.info("feed %s: %d symbols from %s", ctx.venue, len(driver.venue_symbols),
             driver.endpoints.ws_public)
    try:
        aio.run(driver.run())
    finally:
        ring.close()
        books.close()
    return 0
