"""Binance spot wired into the generic feed process and gateway process.

`feeds/runner.py` calls `make_feed_adapter(config)` and `feeds/gateway.py` calls
`make_gateway_adapter(config, api_key, secret, passphrase)`; both get objects implementing the
protocols of `feeds/adapter.py` by delegating to the sans-I/O codec in `protocol/`. Thin glue:
every wire rule (names, shapes, signing, sequencing, error codes) lives in the codec; this
module only keeps the little per-connection state the protocols need (which method a request
id was, which orders were already acknowledged).

Feed: one combined-stream connection per <= 1024 streams (`/stream?streams=...`, no control
frames to send, so nothing counts against the 5 msgs/s limit), `@bookTicker`, `@depth@100ms`
and `@trade` per symbol. Server pings (every 20 s) are answered by the websockets library; a
`LIST_SUBSCRIPTIONS` request after 30 s of silence proves the connection alive on a quiet
market (its answer resets the idle timer); connections roll over before the 24 h cut.

Gateway: the WS API (`/ws-api/v3`). Each connect sends `userDataStream.subscribe.signature`,
so executionReports arrive on the order connection itself; its success marks the session
ready. Order responses become `Ack`/`Failure` (request level, correlated by id); order state
comes from the user-data stream (`ExecReport`), except that the NEW of an order already
acknowledged by its response is not reported twice. `rateLimits` become `RateInfo`.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson

from feeds.adapter import Failure, HttpRequest, RateInfo, WsPlan, make_ack, make_rate_info
from feeds.binance.protocol import constants as C
from feeds.binance.protocol import market, orders, symbols
from feeds.binance.protocol.book_sync import BookSync
from feeds.binance.protocol.market_fast import BBO_SHAPE, parse_bbo_fast, parse_trade_fast
from feeds.binance.protocol.orders import (
    AccountPosition,
    BalanceDelta,
    InvalidOrder,
    RestRequest,
    WsApiResponse,
)
from feeds.binance.protocol.orders_fast import BinanceOrdersFast
from feeds.binance.protocol.requests_fast import BinanceSigner
from pipeline.errors import ProtocolError
from pipeline.marketdata import BookSnapshot, Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import Instrument
from pipeline.ratelimit import bucket_under_window

VENUE = C.VENUE
FEED_CHANNELS = (C.CH_BOOK_TICKER, C.CH_DEPTH_100MS, C.CH_TRADE)
SNAPSHOT_LIMIT = 1000              # weight 50; deep enough for any top-N we publish
KEEPALIVE_AFTER_IDLE_S = 30.0      # a LIST_SUBSCRIPTIONS / ping when the socket is this quiet
ROLLOVER_S = C.CONNECTION_LIFETIME_S - 15 * 60.0   # reconnect on our terms before the cut
# The ORDERS limiter allows ORDERS_PER_10S per 10 s window: a fifth of it as burst, the rest
# spread so that no window, however aligned, sees more (`bucket_under_window`).
ORDER_RATE_PER_S, ORDER_BURST = bucket_under_window(C.ORDERS_PER_10S, 10.0, 0.2)
_KEEPALIVE_ID = "keepalive"
_SESSION_PREFIX = "session"
_MAX_TRACKED = 4096
_RATE_KIND = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}
_I64 = 1 << 63


def _http(req: RestRequest) -> HttpRequest:
    return HttpRequest(req.method, req.path, dict(req.params), dict(req.headers))


# -- feed --------------------------------------------------------------------------------------
class BinanceFeedAdapter:
    venue = VENUE
    # the hot paths FeedCore tries first: a whole BBO / trade frame -> its row (or None)
    parse_bbo_fast = staticmethod(parse_bbo_fast)
    parse_trade_fast = staticmethod(parse_trade_fast)
    bbo_shape = BBO_SHAPE  # what parse_bbo_fast matches: FeedCore may run it compiled

    def __init__(self, snapshot_limit: int = SNAPSHOT_LIMIT,
                 channels: tuple[str, ...] = FEED_CHANNELS) -> None:
        market.depth_weight(snapshot_limit)  # refuses a limit the venue would refuse
        self.snapshot_limit = snapshot_limit
        self.channels = channels

    def venue_symbol(self, symbol: str) -> str:
        return symbols.venue_symbol(symbol)

    def instruments_request(self) -> HttpRequest:
        method, path = symbols.exchange_info_request()
        return HttpRequest(method, path)

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        return symbols.parse_instruments(payload)

    def ws_plans(self, ws_url: str, venue_symbols: list[str]) -> list[WsPlan]:
        names = [market.stream_name(s, ch) for s in venue_symbols for ch in self.channels]
        per = C.MAX_STREAMS_PER_CONNECTION
        keepalive = market.build_list_subscriptions(_KEEPALIVE_ID)
        return [WsPlan(url=market.stream_url(ws_url, names[i:i + per]), on_open=(),
                       app_ping=keepalive, app_ping_after_idle_s=KEEPALIVE_AFTER_IDLE_S,
                       protocol_ping_interval_s=None, idle_timeout_s=C.PONG_TIMEOUT_S,
                       max_lifetime_s=ROLLOVER_S)
                for i in range(0, len(names), per)]

    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        return list(market.parse_market(frame, ts_recv))

    def new_book_sync(self, venue_symbol: str) -> BookSync:
        return BookSync(venue_symbol)

    def snapshot_request(self, venue_symbol: str) -> HttpRequest:
        method, path, params = market.build_depth_request(venue_symbol, self.snapshot_limit)
        return HttpRequest(method, path, params)

    def parse_snapshot(self, venue_symbol: str, payload: Any) -> BookSnapshot:
        return market.parse_rest_snapshot(payload, venue_symbol)

    def control_reply(self, control: Any) -> str | None:
        # Server pings are protocol frames the websockets library answers itself; Binance
        # has no application-level ping to answer.
        return None


def make_feed_adapter(config: Any) -> BinanceFeedAdapter:
    return BinanceFeedAdapter()


# -- gateway -----------------------------------------------------------------------------------
@dataclass
class BinanceGatewayAdapter:
    api_key: str
    secret: str = field(repr=False)
    recv_window_ms: int | None = None
    venue: str = VENUE
    order_rate_per_s: float = ORDER_RATE_PER_S
    order_burst: int = ORDER_BURST

    def __post_init__(self) -> None:
        self.instruments: dict[str, Instrument] = {}          # venue symbol -> Instrument
        self._methods: OrderedDict[str, str] = OrderedDict()  # request id -> WS API method
        self._place_cid: dict[str, str] = {}                  # place request id -> client id
        self._local: dict[str, Failure] = {}                  # refused locally, answered in band
        self._acked: OrderedDict[str, None] = OrderedDict()   # client ids whose NEW went out
        self._session_ids = itertools.count(1)
        self._fast = BinanceOrdersFast()   # the common frames, see protocol/orders_fast.py
        self._signer = BinanceSigner(self.api_key, self.secret, self.recv_window_ms)

    def __repr__(self) -> str:
        return f"BinanceGatewayAdapter(api_key={self.api_key[:4]}…)"

    # -- instruments -------------------------------------------------------------------------
    def venue_symbol(self, symbol: str) -> str:
        return symbols.venue_symbol(symbol)

    def instruments_request(self) -> HttpRequest:
        method, path = symbols.exchange_info_request()
        return HttpRequest(method, path)

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        insts = symbols.parse_instruments(payload)
        for i in insts:
            self.instruments[i.venue_symbol] = i
        return insts

    # -- connection --------------------------------------------------------------------------
    def ws_plan(self, ws_private_url: str) -> WsPlan:
        return WsPlan(url=ws_private_url, app_ping=orders.build_ping(_KEEPALIVE_ID),
                      app_ping_after_idle_s=KEEPALIVE_AFTER_IDLE_S, protocol_ping_interval_s=None,
                      idle_timeout_s=C.PONG_TIMEOUT_S, max_lifetime_s=ROLLOVER_S)

    def session_frames(self, now_ms: int) -> list[str]:
        rid = f"{_SESSION_PREFIX}{next(self._session_ids)}"
        self._track(rid, C.WS_USER_DATA_SUBSCRIBE_SIGNATURE)
        return [orders.build_user_data_subscribe(self.api_key, self.secret, now_ms, rid,
                                                 recv_window=self.recv_window_ms)]

    def session_ready(self, record: Any) -> bool:
        return (isinstance(record, Control) and record.kind == "ack"
                and record.detail.get("method") == C.WS_USER_DATA_SUBSCRIBE_SIGNATURE)

    # -- requests ----------------------------------------------------------------------------
    def _track(self, rid: str, method: str) -> None:
        self._methods[rid] = method
        while len(self._methods) > _MAX_TRACKED:  # answers that never came (dead connection)
            old, _ = self._methods.popitem(last=False)
            self._place_cid.pop(old, None)
            self._local.pop(old, None)

    def _refused(self, rid: str, exc: InvalidOrder) -> str:
        """The codec will not put this request on the wire. GatewayCore expects a frame, so
        send a harmless `ping` under the same id and answer the request with a local Failure
        when its pong comes back (in band, in order, through `parse`)."""
        self._track(rid, C.WS_PING)
        self._local[rid] = Failure(rid, exc.reason, "local", str(exc)[:200])
        return orders.build_ping(rid)

    def encode_place(self, order: NewOrder, inst: Instrument, req_id: str, now_ms: int) -> str:
        self.instruments.setdefault(inst.venue_symbol, inst)
        # a limit order with plain ids: one f-string and a pre-keyed HMAC, the same bytes
        frame = self._signer.place(order, inst, now_ms, req_id)
        if frame is None:
            try:
                frame = orders.build_order_place(order, inst, self.api_key, self.secret,
                                                 now_ms, req_id, recv_window=self.recv_window_ms)
            except InvalidOrder as exc:
                return self._refused(req_id, exc)
        self._track(req_id, C.WS_ORDER_PLACE)
        self._place_cid[req_id] = order.client_id
        return frame

    def encode_cancel(self, cancel: CancelOrder, inst: Instrument, req_id: str,
                      now_ms: int) -> str:
        self.instruments.setdefault(inst.venue_symbol, inst)
        frame = self._signer.cancel(cancel, inst, now_ms, req_id)
        if frame is None:
            try:
                frame = orders.build_order_cancel(cancel, inst, self.api_key, self.secret,
                                                  now_ms, req_id, recv_window=self.recv_window_ms)
            except InvalidOrder as exc:
                return self._refused(req_id, exc)
        self._track(req_id, C.WS_ORDER_CANCEL)
        return frame

    def encode_status(self, client_id: str, inst: Instrument, req_id: str, now_ms: int) -> str:
        self.instruments.setdefault(inst.venue_symbol, inst)
        try:
            frame = orders.build_order_status(inst, self.api_key, self.secret, now_ms, req_id,
                                              client_id=client_id,
                                              recv_window=self.recv_window_ms)
        except InvalidOrder as exc:
            return self._refused(req_id, exc)
        self._track(req_id, C.WS_ORDER_STATUS)
        return frame

    # -- frames in ---------------------------------------------------------------------------
    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        out: list[Any] = []
        recs = self._fast.parse(frame, ts_recv, self.instruments)
        if recs is None:  # anything but the common frames, or odd: the strict parser decides
            recs = orders.parse_private(frame, ts_recv, self.instruments)
        for rec in recs:
            if isinstance(rec, WsApiResponse):
                out.extend(self._response(rec, ts_recv))
            elif isinstance(rec, ExecReport):
                if self._first_new(rec):
                    out.append(rec)
            elif isinstance(rec, AccountPosition):
                out.append(Control("balance", {"ts": rec.ts_event, "balances": [
                    (b.asset, str(b.free), str(b.locked)) for b in rec.balances]}))
            elif isinstance(rec, BalanceDelta):
                out.append(Control("balance", {"ts": rec.ts_event, "delta": (
                    rec.asset, str(rec.delta))}))
            else:
                out.append(rec)
        return out

    def _first_new(self, r: ExecReport) -> bool:
        """Report an order's NEW once: the place response (-> Ack -> NEW) or the stream's."""
        if r.exec_type is not ExecType.NEW:
            return True
        if r.client_id in self._acked:
            del self._acked[r.client_id]
            return False
        self._remember(r.client_id)
        return True

    def _remember(self, client_id: str) -> None:
        self._acked[client_id] = None
        while len(self._acked) > _MAX_TRACKED:
            self._acked.popitem(last=False)

    def _rate_info(self, resp: WsApiResponse) -> list[RateInfo]:
        out = []
        for rl in resp.rate_limits:
            kind = _RATE_KIND.get(rl.rate_limit_type)
            if kind is not None:
                out.append(make_rate_info(kind, rl.count, rl.limit, rl.window_s))
        return out

    @staticmethod
    def _order_ack(result: Any) -> tuple[str, str, int]:
        """`orders.parse_order_ack(result)` as (client id, order id, ts ns): plain values
        read directly, anything else by the strict reader (which raises on garbage)."""
        if type(result) is dict:
            cid, oid, t = (result.get("clientOrderId"), result.get("orderId"),
                           result.get("transactTime"))
            if type(cid) is str and type(oid) is int and -_I64 <= oid < _I64 \
                    and type(t) is int and 0 <= t < _I64:
                return cid, str(oid), t * 1_000_000
        ack = orders.parse_order_ack(result)
        return ack.client_id, ack.venue_order_id, ack.ts_event

    def _response(self, resp: WsApiResponse, ts_recv: int) -> list[Any]:
        out: list[Any] = list(self._rate_info(resp))
        rid = "" if resp.id is None else str(resp.id)
        method = self._methods.pop(rid, "")
        cid = self._place_cid.pop(rid, "")
        local = self._local.pop(rid, None)
        if local is not None:
            out.append(local)
            return out
        if rid == _KEEPALIVE_ID:
            out.append(Control("pong", {}))
            return out
        if not resp.ok:
            if method and method != C.WS_USER_DATA_SUBSCRIBE_SIGNATURE:
                out.append(Failure(rid, resp.reason, str(resp.error_code), resp.error_msg))
            else:  # the session itself was refused (bad key/signature/clock), or a stray id
                out.append(Control("error", {"id": rid, "method": method,
                                             "code": resp.error_code, "msg": resp.error_msg,
                                             "reason": resp.reason}))
            return out
        if method == C.WS_USER_DATA_SUBSCRIBE_SIGNATURE:
            sub = resp.result.get("subscriptionId") if isinstance(resp.result, dict) else None
            out.append(Control("ack", {"id": rid, "method": method, "subscriptionId": sub}))
        elif method == C.WS_ORDER_PLACE:
            ack_cid, ack_oid, ack_ts = self._order_ack(resp.result)
            if ack_cid in self._acked:  # the stream's NEW already went out
                del self._acked[ack_cid]
            else:
                self._remember(ack_cid or cid)
                out.append(make_ack(rid, ack_oid, ack_ts))
        elif method == C.WS_ORDER_CANCEL:
            # the request is answered; the order's CANCELED comes with the executionReport
            result = resp.result if isinstance(resp.result, dict) else {}
            oid = result.get("orderId")
            out.append(make_ack(rid, str(oid) if isinstance(oid, int) else ""))
        elif method == C.WS_ORDER_STATUS:
            out.append(make_ack(rid))
            out.extend(orders.response_reports(resp, method, self.instruments, ts_recv))
        elif method:
            out.extend(orders.response_reports(resp, method, self.instruments, ts_recv))
        else:
            out.append(Control("other", {"id": rid, "status": resp.status}))
        return out

    # -- REST --------------------------------------------------------------------------------
    def open_orders_request(self, now_ms: int) -> HttpRequest:
        return _http(orders.build_rest_open_orders(self.api_key, self.secret, now_ms,
                                                   recv_window=self.recv_window_ms))

    def parse_open_orders(self, payload: Any, ts_recv: int) -> list[Any]:
        return list(orders.parse_rest_open_orders(payload, self.instruments, ts_recv))

    def recent_fills_requests(self, now_ms: int, since_ms: int) -> list[HttpRequest]:
        """`myTrades` per traded symbol since `since_ms` (reconciliation on connect)."""
        return [_http(orders.build_rest_my_trades(vs, self.api_key, self.secret, now_ms,
                                                  start_time_ms=since_ms,
                                                  recv_window=self.recv_window_ms))
                for vs in sorted(self.instruments)]

    def parse_recent_fills(self, payload: Any, ts_recv: int) -> list[Any]:
        return list(orders.parse_rest_my_trades(payload, self.instruments, ts_recv))

    def cancel_all_request(self, inst: Instrument, now_ms: int) -> HttpRequest | None:
        return _http(orders.build_rest_cancel_all(inst.venue_symbol, self.api_key, self.secret,
                                                  now_ms, recv_window=self.recv_window_ms))

    def cancel_all_found_nothing(self, status: int, body: bytes) -> bool:
        """Binance answers `DELETE /api/v3/openOrders` on a symbol with no open orders with
        HTTP 400 and -2011 "Unknown order sent.": the sweep found nothing, not a failure."""
        if status != 400:
            return False
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return isinstance(payload, dict) and payload.get("code") == C.E_CANCEL_REJECTED

    def deadman_request(self, now_ms: int, timeout_s: int) -> HttpRequest | None:
        # Binance spot has no cancel-on-disconnect or countdown (EXCHANGES.md §1.8); the
        # gateway's own engine-heartbeat switch cancels explicitly instead.
        return None


def make_gateway_adapter(config: Any, api_key: str, secret: str,
                         passphrase: str = "") -> BinanceGatewayAdapter:
    if not api_key or not secret:
        raise ProtocolError(VENUE, "an API key and secret are required")
    return BinanceGatewayAdapter(api_key, secret)
