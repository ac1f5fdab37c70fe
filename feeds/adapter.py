"""What a venue must provide for the generic feed process and gateway process to run it.

Each `feeds/<venue>/adapter.py` implements these protocols by wiring its sans-I/O `protocol/`
package; `feeds/runner.py`, `feeds/feed_core.py` and `feeds/gateway.py` know no venue. The
split keeps every venue rule in one place and lets the simulator, the live venue and replay
drive the very same parsing and book-sync code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.marketdata import BookSnapshot, DepthUpdate
from pipeline.model import Instrument


@dataclass(frozen=True)
class HttpRequest:
    """A REST call described as data (the driver owns the session, retries and clocks)."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class WsPlan:
    """One market-data connection: where to connect, what to send on open, keep-alive rules."""

    url: str
    on_open: tuple[str, ...] = ()          # frames to send after connecting (subscriptions)
    # or built fresh on every (re)connect from the wall clock in ms (venues that want a
    # request time within a window, e.g. Gate's `time`): takes precedence over `on_open`
    on_open_fn: Callable[[int], tuple[str, ...]] | None = None
    app_ping: str | None = None            # venue text ping when idle (OKX "ping")
    app_ping_after_idle_s: float = 20.0
    protocol_ping_interval_s: float | None = None
    idle_timeout_s: float = 60.0
    max_lifetime_s: float | None = None    # roll over before the venue's forced disconnect


class BookSyncLike(Protocol):
    """The per-symbol local-book state machine each venue's `protocol/book_sync.py` provides."""

    needs_snapshot: bool
    synced: bool
    book: Any  # feeds.book.L2Book

    def on_update(self, update: DepthUpdate) -> str: ...
    def on_snapshot(self, snapshot: BookSnapshot) -> None: ...
    def reset(self) -> None: ...


class FeedAdapter(Protocol):
    """A venue's market-data side. Optionally also the hot paths `FeedCore` tries first, each
    matching one frame shape as a whole and returning exactly what `parse` would produce, or
    None for any other frame (then `FeedCore` calls `parse`); they never raise:
    `parse_bbo_fast(frame)` -> `(venue_symbol, bid_px, bid_sz, ask_px, ask_sz, ts_event,
    update_id)`, `parse_trade_fast(frame)` -> `(venue_symbol, price, size, side (+1 buy / -1
    sell), ts_event, trade_id)`."""

    venue: str

    def venue_symbol(self, symbol: str) -> str:
        """Internal `BASE/QUOTE` -> the venue's spelling."""
    def instruments_request(self) -> HttpRequest: ...
    def parse_instruments(self, payload: Any) -> list[Instrument]: ...
    def ws_plans(self, ws_url: str, venue_symbols: list[str]) -> list[WsPlan]:
        """Connections (and their subscriptions) covering BBO, depth and trades."""
    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        """One frame -> BBO / Trade / DepthUpdate / BookSnapshot / Control records; raises
        `pipeline.errors.ProtocolError` on a malformed frame."""
    def new_book_sync(self, venue_symbol: str) -> BookSyncLike: ...
    def snapshot_request(self, venue_symbol: str) -> HttpRequest: ...
    def parse_snapshot(self, venue_symbol: str, payload: Any) -> BookSnapshot: ...
    def control_reply(self, control: Any) -> str | None:
        """A frame to send back for a control record (e.g. a pong to a server ping), or None."""


# -- order path --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ack:
    """The venue accepted request `req_id` (a place or a cancel) but said little else."""

    req_id: str
    venue_order_id: str = ""
    ts_event: int = 0


@dataclass(frozen=True, slots=True)
class Failure:
    """The venue refused request `req_id`; `reason` is classified from the venue's code."""

    req_id: str
    reason: Any  # pipeline.model.RejectReason
    code: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class RateInfo:
    """Usage the venue reported (Binance X-MBX-USED-WEIGHT / order counts in WS responses)."""

    kind: str          # "weight" | "orders"
    used: int
    limit: int
    window_s: float


class _AckDraft:
    """Mutable twin of `Ack` (same slots): a frozen dataclass's `__init__` costs a call per
    field, and every order brings an Ack or two (see `pipeline.messages.build_exec_report`)."""

    __slots__ = Ack.__slots__  # type: ignore[attr-defined]


class _RateInfoDraft:
    """Mutable twin of `RateInfo` (Binance reports usage on every response)."""

    __slots__ = RateInfo.__slots__  # type: ignore[attr-defined]


_new = object.__new__


def make_ack(req_id: str, venue_order_id: str = "", ts_event: int = 0) -> Ack:
    """`Ack(req_id, venue_order_id, ts_event)`, built by slot stores."""
    m: Any = _new(_AckDraft)
    m.req_id = req_id
    m.venue_order_id = venue_order_id
    m.ts_event = ts_event
    m.__class__ = Ack
    return m  # type: ignore[no-any-return]


def make_rate_info(kind: str, used: int, limit: int, window_s: float) -> RateInfo:
    """`RateInfo(kind, used, limit, window_s)`, built by slot stores."""
    m: Any = _new(_RateInfoDraft)
    m.kind = kind
    m.used = used
    m.limit = limit
    m.window_s = window_s
    m.__class__ = RateInfo
    return m  # type: ignore[no-any-return]


class GatewayAdapter(Protocol):
    venue: str
    order_rate_per_s: float     # the venue's own order limit (the gateway stays under it)
    order_burst: int

    def venue_symbol(self, symbol: str) -> str: ...
    def instruments_request(self) -> HttpRequest: ...
    def parse_instruments(self, payload: Any) -> list[Instrument]: ...
    def ws_plan(self, ws_private_url: str) -> WsPlan:
        """The order/private connection (keep-alive rules; frames are sent by session_frames)."""
    def session_frames(self, now_ms: int) -> list[str]:
        """Signed frames to send on every (re)connect: login, private subscriptions."""
    def session_ready(self, record: Any) -> bool:
        """True when `record` (from parse) says the session is logged in / subscribed."""
    def encode_place(self, order: Any, inst: Instrument, req_id: str, now_ms: int) -> str: ...
    def encode_cancel(self, cancel: Any, inst: Instrument, req_id: str, now_ms: int) -> str: ...
    def encode_status(self, client_id: str, inst: Instrument, req_id: str, now_ms: int) -> str: ...
    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        """-> ExecReport / Ack / Failure / RateInfo / Control; ProtocolError on garbage."""
    def open_orders_request(self, now_ms: int) -> HttpRequest: ...
    def parse_open_orders(self, payload: Any, ts_recv: int) -> list[Any]:
        """Open orders as ExecReports with exec_type STATUS."""
    def recent_fills_requests(self, now_ms: int, since_ms: int) -> list[HttpRequest]:
        """Our fills at the venue since `since_ms` (one request per symbol where needed)."""
    def parse_recent_fills(self, payload: Any, ts_recv: int) -> list[Any]:
        """TRADE ExecReports with trade ids (the engine applies each trade id once)."""
    def cancel_all_request(self, inst: Instrument, now_ms: int) -> HttpRequest | None: ...
    def deadman_request(self, now_ms: int, timeout_s: int) -> HttpRequest | None:
        """The venue's cancel-all-after / countdown, or None when the venue has none."""
