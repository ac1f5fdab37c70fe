"""The simulated Gate venue's wire front-end: Gate APIv4 REST and `/ws/v4/` on one port.

`make_front(venue)` returns the `FrontEnd` the `SimVenue` hub dispatches to and the aiohttp
application serving it (the sim process, or a test, runs it on loopback). Everything on the
wire is produced and read by the Gate codec (`feeds/gate/protocol/`): this module only moves
frames, checks credentials with the codec's signing functions, and routes requests to the
order desk (`feeds/sim/gate_orders.py`) and the hub.

Served (paths as live, REST under `/api/v4`):
- public REST: currency pairs, `order_book` (its `id` is the hub's published depth sequence,
  so Gate's snapshot+diff recipe chains exactly), `spot/time`, `spot/currencies`, and an empty
  `margin/currency_pairs` (ccxt reads it while loading spot markets);
- signed REST: create / get / cancel one order, cancel all, open orders, orders by status,
  `my_trades`, `spot/accounts` (balances), `account/detail`, `countdown_cancel_all`
  (`SimVenue.deadman[account] = deadline_ns`);
- WS public channels `spot.book_ticker`, `spot.order_book_update` (U/u from the hub's
  `DepthChange.first_seq/last_seq`), `spot.trades`, `spot.ping`/`spot.pong`, with
  subscribe/unsubscribe acks and Gate's numbered errors;
- WS private channels `spot.orders`, `spot.usertrades` (channel `auth` verified), pushed only to
  the sessions of the account that owns the order;
- WS trading API: `spot.login` (INVALID_KEY / INVALID_SIGNATURE / REQUEST_EXPIRED as Gate
  answers), `spot.order_place` (ack, then result), `spot.order_cancel`,
  `spot.order_cancel_ids`, `spot.order_cancel_cp`, `spot.order_status`, `spot.order_list`.

Robustness: any client input that does not decode gets Gate's own error (REST label body, WS
subscribe error code, or trading-API `errs`), never a traceback; an unexpected exception while
serving one request is logged and answered as a server error, and the connection lives on.
A client that stops reading is disconnected once its send queue is full.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_plus

import orjson
from aiohttp import WSMsgType, web

from feeds.gate.protocol import market as gm
from feeds.gate.protocol import order_server as gs
from feeds.gate.protocol import symbols as gsym
from feeds.gate.protocol.constants import (
    ALL_PAIRS,
    API_PREFIX,
    CH_BOOK_TICKER,
    CH_ORDER_BOOK_UPDATE,
    CH_ORDER_LIST,
    CH_ORDERS,
    CH_TRADES,
    CH_USERTRADES,
    EV_SUBSCRIBE,
    LIMITS,
    ORDER_BOOK_UPDATE_INTERVAL,
    PATH_ACCOUNT_DETAIL,
    PATH_ACCOUNTS,
    PATH_COUNTDOWN_CANCEL_ALL,
    PATH_CURRENCIES,
    PATH_CURRENCY_PAIRS,
    PATH_MARGIN_CURRENCY_PAIRS,
    PATH_MY_TRADES,
    PATH_OPEN_ORDERS,
    PATH_ORDER_BOOK,
    PATH_ORDERS,
    PATH_TIME,
    TEXT_DEFAULT_REST,
    TEXT_DEFAULT_WS,
    WS_ERR_AUTH,
    WS_ERR_INVALID_ARGUMENT,
    WS_ERR_INVALID_BODY,
    WS_ERR_SERVER,
)
from feeds.gate.protocol.errors import encode_rest_error, http_status
from feeds.gate.protocol.signing import verify_rest, verify_ws_channel
from feeds.sim.gate_orders import DeskError, GateOrderDesk, PrivatePush
from feeds.sim.matching import Trade
from feeds.sim.outbox import Outbox
from feeds.sim.spellings import Spellings
from feeds.sim.venue import DepthChange, SimVenue
from pipeline.errors import ProtocolError
from pipeline.model import Instrument, Side, decimal_str

log = logging.getLogger(__name__)

WS_PATH = "/ws/v4/"
SEND_QUEUE_MAX = 20_000
MAX_REST_DEPTH = 1000
_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000
PUBLIC_CHANNELS = (CH_BOOK_TICKER, CH_ORDER_BOOK_UPDATE, CH_TRADES)
PRIVATE_CHANNELS = (CH_ORDERS, CH_USERTRADES)


ORDER_REQUESTS = (gs.PlaceRequest, gs.CancelRequest, gs.CancelPairRequest, gs.CancelIdsRequest)


class Session:
    """One WebSocket connection: its subscriptions, its login and an ordered send `Outbox`."""

    def __init__(self, ws: web.WebSocketResponse, n: int, venue: SimVenue) -> None:
        self.ws = ws
        self.out = Outbox(ws, venue, limit=SEND_QUEUE_MAX)   # 1008 "slow consumer"
        self.public: dict[str, set[str]] = {c: set() for c in PUBLIC_CHANNELS}
        self.private: dict[str, tuple[str, set[str]]] = {}   # channel -> (account, pairs)
        self.account: str | None = None                       # trading-API login
        self.info = gs.HeaderInfo(client_id=f"127.0.0.1-0x{n:x}", conn_id=f"{n:016x}",
                                  conn_trace_id=f"{n:032x}", trace_id=f"{n:032x}")
        self.place_window = (0, 0)  # (second, orders placed in it)
        self.answer: list[str] | None = None  # collecting an order request's answer frames

    def send(self, frame: str) -> None:
        if self.answer is not None:
            self.answer.append(frame)
        else:
            self.out.send(frame)


class GateFront:
    def __init__(self, venue: SimVenue, *, order_rate_limits: bool = True) -> None:
        self.venue = venue
        self.order_rate_limits = order_rate_limits   # False: benchmarks (no 10/s cap)
        self.desk = GateOrderDesk(venue)
        self.sessions: set[Session] = set()
        self._n = itertools.count(1)
        self._held: list[tuple[Session, str]] | None = None
        self._spellings: dict[str, Spellings] = {}   # market-data push
        venue.fronts.append(self)

    def now(self) -> int:
        return self.venue.clock()

    # -- delivery ------------------------------------------------------------------------------
    def _deliver(self, s: Session, frame: str) -> None:
        if self._held is not None:
            self._held.append((s, frame))
        else:
            s.send(frame)

    def _hold(self) -> None:
        """Pushes caused by a request go out after its reply (Gate answers, then streams)."""
        self._held = []

    def _release(self) -> None:
        held, self._held = self._held or [], None
        for s, frame in held:
            s.send(frame)

    # -- hub callbacks (FrontEnd) --------------------------------------------------------------
    def _subscribers(self, channel: str, pair: str) -> list[Session]:
        return [s for s in self.sessions if pair in s.public[channel]]

    def _spell(self, inst: Instrument) -> Spellings:
        """`inst.format_price` / `format_qty`, memoised (see feeds/sim/spellings.py)."""
        sp = self._spellings.get(inst.symbol)
        if sp is None:
            sp = self._spellings[inst.symbol] = Spellings(inst.format_price, inst.format_qty)
        return sp

    def _anyone_on(self, channel: str, symbol: str) -> bool:
        """Whether some session takes `channel` pushes for `symbol` (what `_subscribers`
        would find), asked on every book change: a plain loop, no list built."""
        inst = self.venue.by_symbol.get(symbol)
        if inst is None:
            return True   # not a listed symbol: let the call decide
        pair = inst.venue_symbol
        for s in self.sessions:
            if pair in s.public[channel]:
                return True
        return False

    def wants_depth(self, symbol: str) -> bool:
        """The hub's optional question (`feeds.sim.venue.FrontEnd`): False promises that
        `on_depth` for `symbol` would push nothing now (no session subscribed to its
        `spot.order_book_update`), so the hub skips the call and the `DepthChange`."""
        return self._anyone_on(CH_ORDER_BOOK_UPDATE, symbol)

    def wants_bbo(self, symbol: str) -> bool:
        """As `wants_depth`, for `on_bbo` (`spot.book_ticker`)."""
        return self._anyone_on(CH_BOOK_TICKER, symbol)

    def on_depth(self, change: DepthChange) -> None:
        inst = change.instrument
        subs = self._subscribers(CH_ORDER_BOOK_UPDATE, inst.venue_symbol)
        if not subs:
            return
        sp = self._spell(inst)
        frame = gm.encode_order_book_update_spelled(
            inst.venue_symbol, change.first_seq, change.last_seq, sp.levels(change.bids),
            sp.levels(change.asks), change.ts_ns, self.now())
        for s in subs:
            self._deliver(s, frame)

    def on_bbo(self, inst: Instrument, bid: tuple[int, int] | None,
               ask: tuple[int, int] | None, seq: int, ts_ns: int) -> None:
        subs = self._subscribers(CH_BOOK_TICKER, inst.venue_symbol)
        if not subs:
            return
        sp = self._spell(inst)
        bp, bs = (sp.price(bid[0]), sp.qty(bid[1])) if bid is not None else ("0", "0")
        ap, as_ = (sp.price(ask[0]), sp.qty(ask[1])) if ask is not None else ("0", "0")
        frame = gm.encode_bbo_spelled(inst.venue_symbol, bp, bs, ap, as_, seq, ts_ns,
                                      self.now())
        for s in subs:
            self._deliver(s, frame)

    def on_trade(self, inst: Instrument, trade: Trade) -> None:
        subs = self._subscribers(CH_TRADES, inst.venue_symbol)
        if not subs:
            return
        sp = self._spell(inst)
        frame = gm.encode_trade_spelled(inst.venue_symbol, trade.trade_id,
                                        sp.price(trade.price_ticks), sp.qty(trade.lots),
                                        trade.taker_side, trade.ts_ns, self.now(),
                                        global_id=self.desk.trade_wire_id(inst, trade.trade_id))
        for s in subs:
            self._deliver(s, frame)

    def on_private(self, account: str, inst: Instrument, event: Any) -> None:
        # each push is encoded right away (`_push_private`), before anything else can change
        # the order: no snapshot copy is needed
        for push in self.desk.on_event(account, inst, event, snapshot=False):
            self._push_private(push)

    def _push_private(self, p: PrivatePush) -> None:
        frame: str | None = None
        for s in self.sessions:
            sub = s.private.get(p.channel)
            if sub is None or sub[0] != p.account:
                continue
            if ALL_PAIRS not in sub[1] and p.currency_pair not in sub[1]:
                continue
            if frame is None:
                if p.order is not None:
                    frame = gs.encode_orders_push_items([self.desk.push_item(p.order, p.event)],
                                                        self.now())
                else:
                    assert p.fill is not None
                    frame = gs.encode_usertrades_push([p.fill], self.now())
            self._deliver(s, frame)

    # -- faults --------------------------------------------------------------------------------
    def drop_connections(self) -> Awaitable[None]:
        """Close every WebSocket with a close frame (1012 service restart). Returns an
        awaitable that completes when the close handshakes are done; it need not be awaited."""
        sessions = list(self.sessions)
        for s in sessions:
            s.out.close()

        async def close_all() -> None:
            await asyncio.gather(*(s.ws.close(code=1012, message=b"server restart")
                                   for s in sessions), return_exceptions=True)
        return asyncio.ensure_future(close_all())

    # ========================================================================== WebSocket
    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=1 << 20)
        await ws.prepare(request)
        s = Session(ws, next(self._n), self.venue)
        self.sessions.add(s)
        writer = asyncio.ensure_future(s.out.run())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(s, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    s.send(gm.encode_subscribe_error("", "", WS_ERR_INVALID_BODY,
                                                     "binary frames are not accepted",
                                                     self.now()))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sessions.discard(s)
            s.out.close()
            await asyncio.gather(writer, return_exceptions=True)
        return ws

    def _on_text(self, s: Session, data: str) -> None:
        self._hold()
        try:
            self._dispatch_text(s, data)
        except Exception:  # one bad request must never take the connection or the venue down
            log.exception("gate sim: error serving a WS request")
            s.send(gm.encode_subscribe_error("", "", WS_ERR_SERVER, "Server error", self.now()))
        finally:
            self._release()

    def _dispatch_text(self, s: Session, data: str) -> None:
        now = self.now()
        try:
            req = gs.decode_ws_request(data)
        except ProtocolError as exc:
            s.send(self._bad_frame(data, str(exc), now))
            return
        if isinstance(req, gm.PingRequest):
            s.send(gm.encode_pong(req.time))
        elif isinstance(req, gm.ChannelRequest):
            self._on_channel(s, req, now)
        else:
            self._on_api(s, req, now)

    def _bad_frame(self, data: str, why: str, now: int) -> str:
        """Gate's error for an undecodable frame: trading-API style if it claims to be one."""
        try:
            d = orjson.loads(data)
        except orjson.JSONDecodeError:
            d = None
        if not isinstance(d, dict):
            return gm.encode_subscribe_error("", "", WS_ERR_INVALID_BODY,
                                             "Invalid request body", now)
        ch, ev = d.get("channel"), d.get("event")
        channel = ch if isinstance(ch, str) else ""
        event = ev if isinstance(ev, str) else ""
        if event == "api":
            p = d.get("payload")
            rid = p.get("req_id") if isinstance(p, dict) else None
            return gs.encode_api_error(rid if isinstance(rid, str) else "", channel,
                                       "INVALID_ARGUMENT", why[:200], now)
        rid = d.get("id")
        return gm.encode_subscribe_error(channel, event, WS_ERR_INVALID_ARGUMENT, why[:200],
                                         now, rid if isinstance(rid, int)
                                         and not isinstance(rid, bool) else None)

    # -- subscriptions -------------------------------------------------------------------------
    def _on_channel(self, s: Session, req: gm.ChannelRequest, now: int) -> None:
        def fail(code: int, msg: str) -> None:
            s.send(gm.encode_subscribe_error(req.channel, req.event, code, msg, now, req.id))

        sub = req.event == EV_SUBSCRIBE
        if req.channel in PUBLIC_CHANNELS:
            if req.channel == CH_ORDER_BOOK_UPDATE:
                if len(req.payload) != 2 or req.payload[1] != ORDER_BOOK_UPDATE_INTERVAL:
                    fail(WS_ERR_INVALID_ARGUMENT, "payload must be [pair, \"100ms\"]")
                    return
                pairs = [req.payload[0]]
            else:
                pairs = list(req.payload)
            if not pairs or any(p not in self.venue.by_venue_symbol for p in pairs):
                fail(WS_ERR_INVALID_ARGUMENT, "unknown currency pair")
                return
            target = s.public[req.channel]
            if sub:
                target.update(pairs)
            else:
                target.difference_update(pairs)
            s.send(gm.encode_subscribe_ack(req.channel, req.event, now, req.id))
            return
        if req.channel in PRIVATE_CHANNELS:
            account = self._channel_auth(req, now)
            if account is None:
                fail(WS_ERR_AUTH, "Authentication failed")
                return
            pairs = list(req.payload)
            if not pairs or any(p != ALL_PAIRS and p not in self.venue.by_venue_symbol
                                for p in pairs):
                fail(WS_ERR_INVALID_ARGUMENT, "unknown currency pair")
                return
            if sub:
                held = s.private.get(req.channel)
                keep = held[1] if held is not None and held[0] == account else set()
                s.private[req.channel] = (account, keep | set(pairs))
            else:
                held = s.private.get(req.channel)
                if held is not None:
                    left = held[1] - set(pairs)
                    if left:
                        s.private[req.channel] = (held[0], left)
                    else:
                        del s.private[req.channel]
            s.send(gm.encode_subscribe_ack(req.channel, req.event, now, req.id))
            return
        fail(WS_ERR_INVALID_ARGUMENT, f"unsupported channel {req.channel:.40}")

    def _channel_auth(self, req: gm.ChannelRequest, now: int) -> str | None:
        secret = self.venue.api_keys.get(req.auth_key)
        if secret is None or not req.auth_sign:
            return None
        if abs(now // _NS_PER_S - req.time) > LIMITS.request_time_skew_s:
            return None
        if not verify_ws_channel(secret, req.channel, req.event, req.time, req.auth_sign):
            return None
        return req.auth_key

    # -- trading API ---------------------------------------------------------------------------
    def _api_error(self, s: Session, req: gs.ApiRequest, label: str, message: str, now: int,
                   rate: gs.RateLimitInfo | None = None) -> None:
        s.send(gs.encode_api_error(req.req_id, req.channel, label, message, now, info=s.info,
                                   rate=rate))

    def _on_api(self, s: Session, req: gs.ApiRequest, now: int) -> None:
        if isinstance(req, gs.LoginRequest):
            err = self._check_api_key(req.api_key, req.timestamp, now)
            secret = self.venue.api_keys.get(req.api_key)
            if err is None and (secret is None or not gs.verify_api_signature(req, secret)):
                err = ("INVALID_SIGNATURE", "Signature mismatch")
            if err is not None:
                self._api_error(s, req, err[0], err[1], now)
                return
            s.account = req.api_key
            s.send(gs.encode_login_result(req.req_id, req.api_key,
                                          str(self.desk.uids.get(req.api_key, 0)), now,
                                          info=s.info))
            return
        account = s.account
        if req.signature:  # the official SDK signs each request instead of (or after) login
            err = self._check_api_key(req.api_key, req.timestamp, now)
            secret = self.venue.api_keys.get(req.api_key)
            if err is None and (secret is None or not gs.verify_api_signature(req, secret)):
                err = ("INVALID_SIGNATURE", "Signature mismatch")
            if err is not None:
                self._api_error(s, req, err[0], err[1], now)
                return
            account = req.api_key
        if account is None:
            self._api_error(s, req, "INVALID_KEY", "Not logged in", now)
            return
        exp = req.exptime_ms
        if exp is not None and now // _NS_PER_MS > exp:
            self._api_error(s, req, "REQUEST_EXPIRED", "Request expired (x-gate-exptime)", now)
            return
        self.desk.default_text = TEXT_DEFAULT_WS
        if isinstance(req, ORDER_REQUESTS):
            # the fault plan may delay or lose an order request's answer (ack and result)
            s.answer = []
            try:
                self._on_order_request(s, account, req, now)
            finally:
                frames, s.answer = s.answer, None
                s.out.send_ack(*frames)
        elif isinstance(req, gs.StatusRequest):
            self._reply_order(s, req, self.desk.status(account, req.currency_pair, req.order_id),
                              now)
        elif req.channel == CH_ORDER_LIST:
            self._on_order_list(s, account, req, now)
        else:
            self._api_error(s, req, "INVALID_PARAM_VALUE",
                            f"channel {req.channel:.40} is not supported", now)

    def _on_order_request(self, s: Session, account: str, req: gs.ApiRequest, now: int
                          ) -> None:
        if isinstance(req, gs.PlaceRequest):
            self._on_place(s, account, req, now)
        elif isinstance(req, gs.CancelRequest):
            self._reply_order(s, req, self.desk.cancel(account, req.currency_pair, req.order_id),
                              now)
        elif isinstance(req, gs.CancelPairRequest):
            res = self.desk.cancel_all(account, req.currency_pair, req.side)
            if isinstance(res, DeskError):
                self._api_error(s, req, res.label, res.message, now)
            else:
                s.send(gs.encode_api_result(req.req_id, req.channel,
                                            [gs.encode_order_ws(o) for o in res], now,
                                            info=s.info))
        elif isinstance(req, gs.CancelIdsRequest):
            items = []
            for pair, oid in req.items:
                r = self.desk.cancel(account, pair, oid)
                items.append((pair, oid, not isinstance(r, DeskError)))
            s.send(gs.encode_api_result(req.req_id, req.channel,
                                        gs.encode_cancel_ids_result(items), now, info=s.info))

    def _check_api_key(self, key: str, timestamp: str, now: int) -> tuple[str, str] | None:
        if key not in self.venue.api_keys:
            return ("INVALID_KEY", "Invalid key provided")
        ts = _seconds(timestamp)
        if ts is None or abs(Decimal(now) / _NS_PER_S - ts) > LIMITS.request_time_skew_s:
            return ("REQUEST_EXPIRED", "Request timestamp is far from the server time")
        return None

    def _rate(self, s: Session, now: int) -> tuple[gs.RateLimitInfo, bool]:
        """Gate's WS place/amend limit: 10 per second per connection's account."""
        sec = now // _NS_PER_S
        window, used = s.place_window
        if window != sec:
            window, used = sec, 0
        limit = LIMITS.ws_order_place_per_s
        allowed = used < limit or not self.order_rate_limits
        if allowed:
            used += 1
        s.place_window = (window, used)
        return gs.RateLimitInfo(limit, (sec + 1) * 1000, max(limit - used, 0)), allowed

    def _on_place(self, s: Session, account: str, req: gs.PlaceRequest, now: int) -> None:
        rate, allowed = self._rate(s, now)
        if not allowed:
            self._api_error(s, req, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded (211)",
                            now, gs.RateLimitInfo(rate.limit, rate.reset_ms))
            return
        s.send(gs.encode_api_ack(req, now, info=s.info, rate=rate))
        if req.batch:
            results = []
            for p in req.orders:
                r = self.desk.place(account, p)
                if isinstance(r, DeskError):
                    results.append({"text": p.text, "succeeded": False, "label": r.label,
                                    "message": r.message})
                else:
                    results.append(dict(self.desk.order_ws(r), succeeded=True))
            s.send(gs.encode_api_result(req.req_id, req.channel, results, self.now(),
                                        info=s.info, rate=rate))
            return
        r = self.desk.place(account, req.orders[0])
        if isinstance(r, DeskError):
            self._api_error(s, req, r.label, r.message, self.now(), rate)
        else:
            s.send(gs.encode_api_result(req.req_id, req.channel, self.desk.order_ws(r),
                                        self.now(), info=s.info, rate=rate))

    def _reply_order(self, s: Session, req: gs.ApiRequest, r: Any, now: int) -> None:
        if isinstance(r, DeskError):
            self._api_error(s, req, r.label, r.message, now)
        else:
            s.send(gs.encode_api_result(req.req_id, req.channel, self.desk.order_ws(r), now,
                                        info=s.info))

    def _on_order_list(self, s: Session, account: str, req: gs.ApiRequest, now: int) -> None:
        p = req.req_param if isinstance(req.req_param, dict) else {}
        pair, status = p.get("currency_pair"), p.get("status", "open")
        if not isinstance(pair, str) or status not in ("open", "finished"):
            self._api_error(s, req, "INVALID_PARAM_VALUE", "currency_pair and status required",
                            now)
            return
        res = (self.desk.open_orders(account, pair) if status == "open"
               else self.desk.finished_orders(account, pair))
        if isinstance(res, DeskError):
            self._api_error(s, req, res.label, res.message, now)
        else:
            s.send(gs.encode_api_result(req.req_id, req.channel,
                                        [gs.encode_order_ws(o) for o in res], now, info=s.info))

    # ========================================================================== REST
    def _json(self, body: Any, status: int = 200) -> web.Response:
        return web.Response(body=orjson.dumps(body), status=status,
                            content_type="application/json")

    def _error(self, label: str, message: str) -> web.Response:
        return self._json(encode_rest_error(label, message), http_status(label))

    def _auth(self, request: web.Request, body: str) -> str | web.Response:
        """The account of a signed request, or Gate's 401 answer."""
        key, ts, sign = (request.headers.get("KEY"), request.headers.get("Timestamp"),
                         request.headers.get("SIGN"))
        if not key or not ts or not sign:
            return self._error("MISSING_REQUIRED_HEADER", "Missing required header: KEY, "
                               "Timestamp or SIGN")
        err = self._check_api_key(key, ts, self.now())
        if err is not None:
            return self._error(*err)
        secret = self.venue.api_keys[key]
        path = request.raw_path.split("?", 1)[0]
        raw_q = request.query_string
        for q in dict.fromkeys((raw_q, unquote_plus(raw_q))):
            if verify_rest(secret, request.method, path, q, body, ts, sign):
                return key
        return self._error("INVALID_SIGNATURE", "Signature mismatch")

    async def _guard(self, request: web.Request, handler: Any, signed: bool) -> web.Response:
        try:
            body = (await request.read()).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            return self._error("INVALID_REQUEST_BODY", "body is not UTF-8")
        account = None
        if signed:
            auth = self._auth(request, body)
            if isinstance(auth, web.Response):
                return auth
            account = auth
        self._hold()
        try:
            self.desk.default_text = TEXT_DEFAULT_REST
            return handler(request, account, body)  # type: ignore[no-any-return]
        except ProtocolError as exc:
            return self._error("INVALID_PARAM_VALUE", str(exc)[:200])
        except Exception:
            log.exception("gate sim: error serving %s %s", request.method, request.path)
            return self._error("SERVER_ERROR", "Internal server error")
        finally:
            self._release()

    def route(self, handler: Any, signed: bool = False) -> Any:
        async def h(request: web.Request) -> web.Response:
            return await self._guard(request, handler, signed)
        return h

    # -- public --------------------------------------------------------------------------------
    def get_pairs(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        return self._json(gsym.encode_instruments(self.venue.instruments))

    def get_pair(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        inst = self.desk.instrument(request.match_info["pair"])
        if isinstance(inst, DeskError):
            return self._error(inst.label, inst.message)
        return self._json(gsym.encode_instrument(inst))

    def get_currencies(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        assets = sorted({a for i in self.venue.instruments for a in (i.base, i.quote)})
        return self._json([{"currency": a, "name": a, "delisted": False,
                            "withdraw_disabled": False, "withdraw_delayed": False,
                            "deposit_disabled": False, "trade_disabled": False,
                            "fixed_rate": "", "chain": a,
                            "chains": [{"name": a, "addr": "", "withdraw_disabled": False,
                                        "withdraw_delayed": False,
                                        "deposit_disabled": False}]}
                           for a in assets])

    def get_margin_pairs(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        return self._json([])  # the simulated venue trades spot only

    def get_time(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        return self._json({"server_time": self.now() // _NS_PER_MS})

    def get_order_book(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        q = request.query
        inst = self.desk.instrument(q.get("currency_pair"))
        if isinstance(inst, DeskError):
            return self._error(inst.label, inst.message)
        limit_s = q.get("limit", "10")
        if not limit_s.isdigit() or not 1 <= int(limit_s) <= MAX_REST_DEPTH:
            return self._error("INVALID_PARAM_VALUE", f"Invalid parameter `limit`: {limit_s:.20}")
        interval = q.get("interval", "0")
        if interval != "0":
            return self._error("INVALID_PARAM_VALUE", "only interval=0 is simulated")
        eng = self.venue.engines[inst.symbol]
        bids, asks = eng.depth(int(limit_s))
        now = self.now()
        body = gm.encode_rest_snapshot(self.published_seq(inst.symbol), _levels(inst, bids),
                                       _levels(inst, asks), now)
        if q.get("with_id", "false").lower() != "true":
            del body["id"]
        return self._json(body)

    def published_seq(self, symbol: str) -> int:
        """The last depth sequence the hub published for `symbol` (diffs continue at +1)."""
        seqs = getattr(self.venue, "_published_seq", None)
        if isinstance(seqs, dict):
            return int(seqs.get(symbol, self.venue.engines[symbol].sequence))
        return self.venue.engines[symbol].sequence

    # -- signed --------------------------------------------------------------------------------
    def get_account_detail(self, request: web.Request, account: str, _b: str) -> web.Response:
        return self._json({"user_id": self.desk.uids.get(account, 0), "ip_whitelist": [],
                           "currency_pairs": [], "key": {"mode": 1}, "tier": 0})

    def get_accounts(self, request: web.Request, account: str, _b: str) -> web.Response:
        acct = self.venue.accounts.get(account)
        want = request.query.get("currency")
        assets = sorted(set(acct.available) | set(acct.locked)) if acct is not None else []
        out = []
        for a in assets:
            if want and a != want.upper():
                continue
            b = acct.balance(a)  # type: ignore[union-attr]
            out.append({"currency": a, "available": decimal_str(b.available),
                        "locked": decimal_str(b.locked), "update_id": 0})
        return self._json(out)

    def post_order(self, request: web.Request, account: str, body: str) -> web.Response:
        try:
            d = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._error("INVALID_REQUEST_BODY", "body is not JSON")
        params = gs.decode_place_params(d)
        r = self.desk.place(account, params)
        if isinstance(r, DeskError):
            return self._error(r.label, r.message)
        if params.action_mode == "ACK":
            return self._json({"id": r.id, "text": r.text, "amend_text": r.amend_text}, 201)
        return self._json(gs.encode_order_rest(r), 201)

    def get_orders(self, request: web.Request, account: str, _b: str) -> web.Response:
        q = request.query
        pair, status = q.get("currency_pair"), q.get("status")
        if pair is None or status not in ("open", "finished"):
            return self._error("MISSING_REQUIRED_PARAM", "currency_pair and status required")
        res = (self.desk.open_orders(account, pair) if status == "open"
               else self.desk.finished_orders(account, pair))
        if isinstance(res, DeskError):
            return self._error(res.label, res.message)
        res = _page(res, q)
        return self._json([gs.encode_order_rest(o) for o in res])

    def get_open_orders(self, request: web.Request, account: str, _b: str) -> web.Response:
        res = self.desk.open_orders(account)
        assert not isinstance(res, DeskError)
        return self._json(gs.encode_open_orders(res))

    def get_order(self, request: web.Request, account: str, _b: str) -> web.Response:
        pair = request.query.get("currency_pair")
        if pair is None:
            return self._error("MISSING_REQUIRED_PARAM", "currency_pair required")
        r = self.desk.status(account, pair, request.match_info["order_id"])
        if isinstance(r, DeskError):
            return self._error(r.label, r.message)
        return self._json(gs.encode_order_rest(r))

    def delete_order(self, request: web.Request, account: str, _b: str) -> web.Response:
        pair = request.query.get("currency_pair")
        if pair is None:
            return self._error("MISSING_REQUIRED_PARAM", "currency_pair required")
        r = self.desk.cancel(account, pair, request.match_info["order_id"])
        if isinstance(r, DeskError):
            return self._error(r.label, r.message)
        return self._json(gs.encode_order_rest(r))

    def delete_orders(self, request: web.Request, account: str, _b: str) -> web.Response:
        q = request.query
        side_s = q.get("side")
        if side_s not in (None, "", "buy", "sell"):
            return self._error("INVALID_PARAM_VALUE", f"Invalid side {side_s:.10}")
        side = None if not side_s else (Side.BUY if side_s == "buy" else Side.SELL)
        res = self.desk.cancel_all(account, q.get("currency_pair") or None, side)
        if isinstance(res, DeskError):
            return self._error(res.label, res.message)
        return self._json([dict(gs.encode_order_rest(o), succeeded=True) for o in res])

    def get_my_trades(self, request: web.Request, account: str, _b: str) -> web.Response:
        pair = request.query.get("currency_pair")
        fills = _page(self.desk.my_trades(account, pair), request.query)
        return self._json(gs.encode_my_trades(fills))

    def post_countdown(self, request: web.Request, account: str, body: str) -> web.Response:
        try:
            d = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._error("INVALID_REQUEST_BODY", "body is not JSON")
        if not isinstance(d, dict) or "timeout" not in d:
            return self._error("MISSING_REQUIRED_PARAM", "timeout required")
        t = d["timeout"]
        if isinstance(t, bool) or not isinstance(t, int) or t < 0 or (
                0 < t < LIMITS.countdown_min_timeout_s):
            return self._error("INVALID_PARAM_VALUE",
                               f"timeout must be 0 or >= {LIMITS.countdown_min_timeout_s}")
        if d.get("currency_pair") not in (None, ""):
            # the hub keeps one countdown per account (every pair)
            return self._error("INVALID_PARAM_VALUE",
                               "per-pair countdown is not simulated; omit currency_pair")
        if t == 0:
            self.venue.deadman.pop(account, None)
            return self._json(gs.encode_countdown(0))
        deadline = self.now() + t * _NS_PER_S
        self.venue.deadman[account] = deadline
        return self._json(gs.encode_countdown(deadline))


# -- helpers -----------------------------------------------------------------------------------
def _levels(inst: Instrument, levels: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [(inst.format_price(p), inst.format_qty(q)) for p, q in levels]


def _seconds(ts: str) -> Decimal | None:
    """`Timestamp` as Gate accepts it: integer seconds, or the SDK's fractional seconds."""
    if not isinstance(ts, str) or not 0 < len(ts) <= 24:
        return None
    try:
        d = Decimal(ts)
    except InvalidOperation:
        return None
    return d if d.is_finite() and d >= 0 else None


def _page(items: list[Any], q: Any) -> list[Any]:
    def num(name: str, default: int) -> int:
        v = q.get(name)
        return int(v) if isinstance(v, str) and v.isdigit() and 0 < int(v) < 10**6 else default
    limit = min(num("limit", 100), 1000)
    page = num("page", 1)
    return items[(page - 1) * limit: page * limit]


def make_front(venue: SimVenue, *, order_rate_limits: bool = True
               ) -> tuple[GateFront, web.Application]:
    """The Gate front-end for `venue` (registered in `venue.fronts`) and its aiohttp app."""
    front = GateFront(venue, order_rate_limits=order_rate_limits)
    app = web.Application(client_max_size=1 << 20)
    r = front.route
    api = API_PREFIX
    app.router.add_get(WS_PATH, front.ws_handler)
    app.router.add_get(api + PATH_CURRENCY_PAIRS, r(front.get_pairs))
    app.router.add_get(api + PATH_CURRENCY_PAIRS + "/{pair}", r(front.get_pair))
    app.router.add_get(api + PATH_CURRENCIES, r(front.get_currencies))
    app.router.add_get(api + PATH_MARGIN_CURRENCY_PAIRS, r(front.get_margin_pairs))
    app.router.add_get(api + PATH_TIME, r(front.get_time))
    app.router.add_get(api + PATH_ORDER_BOOK, r(front.get_order_book))
    app.router.add_get(api + PATH_ACCOUNT_DETAIL, r(front.get_account_detail, True))
    app.router.add_get(api + PATH_ACCOUNTS, r(front.get_accounts, True))
    app.router.add_post(api + PATH_ORDERS, r(front.post_order, True))
    app.router.add_get(api + PATH_ORDERS, r(front.get_orders, True))
    app.router.add_delete(api + PATH_ORDERS, r(front.delete_orders, True))
    app.router.add_get(api + PATH_ORDERS + "/{order_id}", r(front.get_order, True))
    app.router.add_delete(api + PATH_ORDERS + "/{order_id}", r(front.delete_order, True))
    app.router.add_get(api + PATH_OPEN_ORDERS, r(front.get_open_orders, True))
    app.router.add_get(api + PATH_MY_TRADES, r(front.get_my_trades, True))
    app.router.add_post(api + PATH_COUNTDOWN_CANCEL_ALL, r(front.post_countdown, True))
    return front, app
