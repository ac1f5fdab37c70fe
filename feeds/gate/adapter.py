"""Gate (APIv4 spot) wired into the generic feed and gateway processes.

`feeds/runner.py` calls `make_feed_adapter(config)` and `feeds/gateway.py` calls
`make_gateway_adapter(config, key, secret, passphrase)`; both get thin objects that satisfy
`feeds.adapter.FeedAdapter` / `GatewayAdapter` by delegating to the sans-I/O codec in
`feeds/gate/protocol/`. What lives here is only the glue the protocols ask for:

- feed: one connection carrying `spot.book_ticker`, `spot.order_book_update` (100ms) and
  `spot.trades` for every pair, the `spot.ping` keep-alive, the REST `order_book?with_id=true`
  snapshot that `BookSync` chains the diffs onto;
- gateway: the WS trading API (`spot.login` then `spot.order_place` / `spot.order_cancel` /
  `spot.order_status` keyed by the gateway's request ids, which Gate takes verbatim as
  `req_id`), the signed `spot.orders` + `spot.usertrades` subscriptions, and the signed REST
  calls for reconciliation, cancel-all and the `countdown_cancel_all` dead-man switch.

Reports: the trading API's place result is the order's NEW (or its terminal state when it
finished at once); `spot.orders` pushes give cumulative state (put/update/finish) and
`spot.usertrades` the individual fills, so one order yields both a response and stream
reports for the same transition, as on every venue with a private stream. A successful
cancel or status answer also yields an `Ack` so the gateway closes that request.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from feeds.adapter import Failure, HttpRequest, WsPlan, make_ack, make_rate_info
from feeds.gate.protocol import market, orders, symbols
from feeds.gate.protocol.book_sync import BookSync
from feeds.gate.protocol.constants import (
    ALL_PAIRS,
    CH_BOOK_TICKER,
    CH_LOGIN,
    CH_ORDER_BOOK_UPDATE,
    CH_ORDER_PLACE,
    CH_ORDERS,
    CH_TRADES,
    CH_USERTRADES,
    KEEPALIVE,
    LIMITS,
    VENUE,
)
from feeds.gate.protocol.errors import classify
from feeds.gate.protocol.market_fast import BBO_SHAPE, parse_bbo_fast, parse_trade_fast
from feeds.gate.protocol.orders_fast import GateOrdersFast
from feeds.gate.protocol.reports import RepeatFilter
from feeds.gate.protocol.requests_fast import cancel_frame, place_frame
from feeds.gate.protocol.rest import RestRequest, public_request
from feeds.gate.protocol.signing import Credentials
from pipeline.marketdata import BookSnapshot, Control
from pipeline.messages import CancelOrder, ExecReport, NewOrder
from pipeline.model import Instrument
from pipeline.ratelimit import bucket_under_window

PUBLIC_CHANNELS = (CH_BOOK_TICKER, CH_ORDER_BOOK_UPDATE, CH_TRADES)
PRIVATE_SUBSCRIPTIONS = (CH_ORDERS, CH_USERTRADES)


def _now_s() -> int:
    return time.time_ns() // 1_000_000_000


def to_http(req: RestRequest) -> HttpRequest:
    """The codec's signed request -> the driver's form. The query is split in its signed
    order; Gate pair names, ints and `true` need no URL escaping, so the sent query string is
    byte-identical to the signed one."""
    params: dict[str, str] = {}
    if req.query:
        for part in req.query.split("&"):
            k, _, v = part.partition("=")
            params[k] = v
    return HttpRequest(req.method, req.path, params, dict(req.headers), req.body)


def _ping_frame(clock_s: Callable[[], int]) -> str:
    return market.build_ping(clock_s())


def _plan(url: str, on_open: tuple[str, ...], clock_s: Callable[[], int]) -> WsPlan:
    return WsPlan(url=url, on_open=on_open, app_ping=_ping_frame(clock_s),
                  app_ping_after_idle_s=KEEPALIVE.app_ping_after_idle_s,
                  protocol_ping_interval_s=None,  # the server pings; websockets answers
                  idle_timeout_s=KEEPALIVE.idle_timeout_s,
                  max_lifetime_s=KEEPALIVE.max_lifetime_s)


# ============================================================================ feed
class GateFeedAdapter:
    venue = VENUE
    # the hot paths FeedCore tries first: a whole BBO / trade frame -> its row (or None)
    parse_bbo_fast = staticmethod(parse_bbo_fast)
    parse_trade_fast = staticmethod(parse_trade_fast)
    bbo_shape = BBO_SHAPE  # what parse_bbo_fast matches: FeedCore may run it compiled

    def __init__(self, clock_s: Callable[[], int] = _now_s) -> None:
        self.clock_s = clock_s

    def venue_symbol(self, symbol: str) -> str:
        return symbols.to_venue(symbol)

    def instruments_request(self) -> HttpRequest:
        return to_http(public_request("GET", symbols.instruments_path()))

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        return symbols.parse_instruments(payload, strict=False)

    def ws_plans(self, ws_url: str, venue_symbols: list[str]) -> list[WsPlan]:
        frames = market.build_subscribe(venue_symbols, PUBLIC_CHANNELS, 1, self.clock_s())
        return [_plan(ws_url, tuple(frames), self.clock_s)]

    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        return market.parse_market(frame, ts_recv)  # type: ignore[return-value]

    def new_book_sync(self, venue_symbol: str) -> BookSync:
        return BookSync(venue_symbol)

    def snapshot_request(self, venue_symbol: str) -> HttpRequest:
        return to_http(market.build_snapshot_request(venue_symbol))

    def parse_snapshot(self, venue_symbol: str, payload: Any) -> BookSnapshot:
        return market.parse_rest_snapshot(payload, venue_symbol)

    def control_reply(self, control: Any) -> str | None:
        """Gate's server pings are protocol-level (answered by the WS library); `spot.pong` is
        the answer to *our* ping, so no application reply is ever owed."""
        return None


# ============================================================================ gateway
class GateGatewayAdapter:
    venue = VENUE
    # Gate counts places per second: a fifth of that as burst, the rest spread so that no
    # second of Gate's sees more (`bucket_under_window`; a full-rate bucket plus a burst of 5
    # let 15 into one second)
    order_rate_per_s, order_burst = bucket_under_window(LIMITS.ws_order_place_per_s, 1.0, 0.2)

    def __init__(self, api_key: str, secret: str, clock_s: Callable[[], int] = _now_s) -> None:
        self.creds = Credentials(api_key, secret)
        self.clock_s = clock_s
        self.by_pair: dict[str, Instrument] = {}
        self._login_id = ""
        self._logged_in = False
        self._subscribed: set[str] = set()
        self._fast = GateOrdersFast()   # the common frames, see protocol/orders_fast.py
        self._repeats = RepeatFilter()   # each step is answered twice: report it once

    def __repr__(self) -> str:
        return f"GateGatewayAdapter({self.creds!r})"

    def _know(self, inst: Instrument) -> None:
        self.by_pair.setdefault(inst.venue_symbol, inst)

    # -- instruments ---------------------------------------------------------------------------
    def venue_symbol(self, symbol: str) -> str:
        return symbols.to_venue(symbol)

    def instruments_request(self) -> HttpRequest:
        return to_http(public_request("GET", symbols.instruments_path()))

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        insts = symbols.parse_instruments(payload, strict=False)
        for i in insts:
            self.by_pair[i.venue_symbol] = i
        return insts

    # -- session -------------------------------------------------------------------------------
    def ws_plan(self, ws_private_url: str) -> WsPlan:
        return _plan(ws_private_url, (), self.clock_s)

    def session_frames(self, now_ms: int) -> list[str]:
        """Login (trading API) plus the signed private subscriptions for every pair."""
        now_s = now_ms // 1000
        self._login_id = f"login-{now_ms}"
        self._logged_in = False
        self._subscribed = set()
        frames = [orders.build_login(self.creds, self._login_id, now_s)]
        for i, ch in enumerate(PRIVATE_SUBSCRIPTIONS, start=1):
            frames.append(orders.build_private_subscribe(ch, [ALL_PAIRS], self.creds, i, now_s))
        return frames

    def session_ready(self, record: Any) -> bool:
        """True once the login succeeded and both private channels are subscribed."""
        if not isinstance(record, Control):
            return False
        d = record.detail if isinstance(record.detail, dict) else {}
        if record.kind == "login" and d.get("request_id") == self._login_id:
            self._logged_in = True
        elif record.kind == "ack" and d.get("event") == "subscribe" \
                and d.get("channel") in PRIVATE_SUBSCRIPTIONS:
            self._subscribed.add(d["channel"])
        return self._logged_in and self._subscribed.issuperset(PRIVATE_SUBSCRIPTIONS)

    # -- orders --------------------------------------------------------------------------------
    def encode_place(self, order: NewOrder, inst: Instrument, req_id: str, now_ms: int) -> str:
        self._know(inst)
        # a limit order with plain ids: one f-string (`requests_fast`, the same bytes)
        frame = place_frame(order, inst, req_id, now_ms // 1000)
        return frame if frame is not None else \
            orders.build_order_place(order, inst, req_id, now_ms // 1000)

    def encode_cancel(self, cancel: CancelOrder, inst: Instrument, req_id: str,
                      now_ms: int) -> str:
        self._know(inst)
        frame = cancel_frame(cancel, inst, req_id, now_ms // 1000)
        return frame if frame is not None else \
            orders.build_order_cancel(cancel, inst, req_id, now_ms // 1000)

    def encode_status(self, client_id: str, inst: Instrument, req_id: str, now_ms: int) -> str:
        self._know(inst)
        return orders.build_order_status(inst.venue_symbol, orders.to_text(client_id), req_id,
                                         now_ms // 1000)

    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        out: list[Any] = []
        recs = self._fast.parse(frame, ts_recv, self.by_pair)
        if recs is None:  # anything but the common frames, or odd: the strict parser decides
            recs = orders.parse_private(frame, ts_recv, self.by_pair)
        accept = self._repeats.accept
        for rec in recs:
            if isinstance(rec, orders.ApiResponse):
                out.extend(r for r in self._api(rec, ts_recv)
                           if type(r) is not ExecReport or accept(r))
            elif type(rec) is not ExecReport or accept(rec):
                out.append(rec)
        return out

    def _api(self, r: orders.ApiResponse, ts_recv: int) -> list[Any]:
        if r.channel == CH_LOGIN:
            if r.ok:
                return [Control("login", {"request_id": r.request_id})]
            return [Control("error", {"channel": r.channel, "request_id": r.request_id,
                                      "status": r.status, "label": r.err_label,
                                      "message": r.err_message,
                                      "reason": classify(r.err_label)})]
        out: list[Any] = []
        if r.channel == CH_ORDER_PLACE and r.ratelimit_limit and r.ratelimit_remain is not None:
            out.append(make_rate_info("orders", r.ratelimit_limit - r.ratelimit_remain,
                                      r.ratelimit_limit, 1.0))
        if not r.ok:
            out.append(Failure(r.request_id, r.reason, r.err_label, r.err_message))
            return out
        if r.ack:
            return out  # the request echo; the result follows
        reports = self._fast.api_result_reports(r, self.by_pair, ts_recv)
        if reports is None:
            reports = orders.api_result_reports(r, self.by_pair, ts_recv)
        if r.channel != CH_ORDER_PLACE or not reports:
            vid = ""
            if isinstance(r.result, dict) and r.result.get("id") is not None:
                vid = str(r.result["id"])
            out.append(make_ack(r.request_id, vid, r.response_time_ns))
        out.extend(reports)
        return out

    # -- REST ----------------------------------------------------------------------------------
    def open_orders_request(self, now_ms: int) -> HttpRequest:
        return to_http(orders.rest_open_orders(self.creds, now_ms // 1000))

    def parse_open_orders(self, payload: Any, ts_recv: int) -> list[Any]:
        return orders.parse_open_orders(payload, self.by_pair, ts_recv)  # type: ignore

    def recent_fills_requests(self, now_ms: int, since_ms: int) -> list[HttpRequest]:
        """`/spot/my_trades` per traded pair since `since_ms`: missed fills on reconnect."""
        return [to_http(orders.rest_my_trades(self.creds, now_ms // 1000, pair, limit=1000,
                                              from_s=since_ms // 1000))
                for pair in sorted(self.by_pair)]

    def parse_recent_fills(self, payload: Any, ts_recv: int) -> list[Any]:
        return orders.parse_my_trades(payload, self.by_pair, ts_recv)  # type: ignore

    def cancel_all_request(self, inst: Instrument, now_ms: int) -> HttpRequest | None:
        self._know(inst)
        return to_http(orders.rest_cancel_all(self.creds, now_ms // 1000, inst.venue_symbol))

    def deadman_request(self, now_ms: int, timeout_s: int) -> HttpRequest | None:
        """`POST /spot/countdown_cancel_all` for every pair (Gate's minimum is 5 s)."""
        timeout = max(int(timeout_s), LIMITS.countdown_min_timeout_s)
        return to_http(orders.rest_countdown_cancel_all(self.creds, now_ms // 1000, timeout))


# ============================================================================ factories
def make_feed_adapter(config: Any) -> GateFeedAdapter:
    return GateFeedAdapter()


def make_gateway_adapter(config: Any, api_key: str, secret: str,
                         passphrase: str = "") -> GateGatewayAdapter:
    """Gate keys have no passphrase; it is accepted for the common factory signature."""
    return GateGatewayAdapter(api_key, secret)
