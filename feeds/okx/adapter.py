"""OKX (v5 spot) wired into the generic feed and gateway processes.

`feeds/runner.py` calls `make_feed_adapter(config)` and `feeds/gateway.py` calls
`make_gateway_adapter(config, key, secret, passphrase)`; both get thin objects satisfying
`feeds.adapter.FeedAdapter` / `GatewayAdapter` by delegating to the sans-I/O codec in
`feeds/okx/protocol/`. Only glue lives here:

- feed: one `/ws/v5/public` connection carrying `bbo-tbt`, `books` and `trades` for every
  instrument, the text `ping` keep-alive (OKX closes a connection silent for 30 s), and the
  REST `GET /api/v5/market/books` bootstrap that `BookSync` uses when OKX sends no initial WS
  snapshot (being removed in 2026) or after a gap;
- gateway: `/ws/v5/private` with `login` and the `orders` subscription sent together on
  connect (see `session_frames`), WS trading ops keyed by `instIdCode`, and signed REST for
  reconciliation (`orders-pending`), the cancel-all sweep (`cancel-batch-orders`) and the
  dead-man switch (`cancel-all-after`).

Reports: a successful `order` op is an `Ack` (GatewayCore turns it into NEW); the `orders`
push for the same order's `live` state is then dropped, so NEW is reported once whichever
arrives first. Fills, cancels and venue-side cancels (post-only cancelSource 31 -> EXPIRED)
come from the pushes, deduplicated by OKX's rules (`PushDedup`). A request the codec refuses
to encode (a client id OKX would refuse, no instIdCode) goes out as a harmless text `ping`
and is answered with a local `Failure` when the next `pong` comes back, in band and in order.
OKX has no WS order query: `encode_status` uses the same in-band path and answers
TIMEOUT_UNKNOWN so the gateway closes the request; reconciliation (`orders-pending` after
every reconnect) is what settles an order's state.
"""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from feeds.adapter import Ack, Failure, HttpRequest, WsPlan
from feeds.okx.protocol import constants as c
from feeds.okx.protocol import market, orders, symbols
from feeds.okx.protocol.book_sync import BookSync
from feeds.okx.protocol.errors import classify
from feeds.okx.protocol.market_fast import BBO_SHAPE, parse_bbo_fast, parse_trade_fast
from feeds.okx.protocol.ops import OpResponse
from feeds.okx.protocol.orders_fast import OkxOrdersFast
from feeds.okx.protocol.requests_fast import cancel_args, op_frame, place_args
from feeds.okx.protocol.rest import RestRequest
from pipeline.errors import ProtocolError, VenueError
from pipeline.marketdata import BookSnapshot, Control
from pipeline.messages import CancelOrder, ExecReport, ExecType, NewOrder
from pipeline.model import TERMINAL_STATUSES, Instrument, RejectReason
from pipeline.ratelimit import bucket_under_window

PUBLIC_CHANNELS = (c.CH_BBO_TBT, c.CH_BOOKS, c.CH_TRADES)
# A response to a text ping arrives within a second on a healthy link; 30 s of silence is what
# the server itself tolerates, so a client that heard nothing for that long reconnects.
IDLE_TIMEOUT_S = c.IDLE_CLOSE_S
LOCAL_CODE = "local"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_http(req: RestRequest) -> HttpRequest:
    """The codec's request -> the driver's form. `path` carries the exact signed request path
    (query included) and `params` stays empty, so what is sent is what was signed."""
    return HttpRequest(req.method, req.request_path, {}, dict(req.headers), req.body)


def _plan(url: str, on_open: tuple[str, ...] = ()) -> WsPlan:
    return WsPlan(url=url, on_open=on_open, app_ping=market.build_ping(),
                  app_ping_after_idle_s=c.PING_AFTER_IDLE_S, protocol_ping_interval_s=None,
                  idle_timeout_s=IDLE_TIMEOUT_S, max_lifetime_s=None)


def _instruments_request() -> HttpRequest:
    return HttpRequest("GET", c.PATH_INSTRUMENTS, symbols.instruments_query())


# ============================================================================ feed
class OkxFeedAdapter:
    venue = c.VENUE
    # the hot paths FeedCore tries first: a whole BBO / trade frame -> its row (or None)
    parse_bbo_fast = staticmethod(parse_bbo_fast)
    parse_trade_fast = staticmethod(parse_trade_fast)
    bbo_shape = BBO_SHAPE  # what parse_bbo_fast matches: FeedCore may run it compiled

    def __init__(self, snapshot_depth: int = c.REST_BOOK_MAX_SZ) -> None:
        self.snapshot_depth = snapshot_depth

    def venue_symbol(self, symbol: str) -> str:
        return symbols.to_venue(symbol)

    def instruments_request(self) -> HttpRequest:
        return _instruments_request()

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        return symbols.parse_instruments(payload)

    def ws_plans(self, ws_url: str, venue_symbols: list[str]) -> list[WsPlan]:
        """One connection: OKX advises < 30 channels of 400-level books per connection, so
        larger symbol sets are split across connections of at most that many books each."""
        per = c.MAX_BOOK_CHANNELS_PER_CONNECTION
        plans = []
        for i in range(0, len(venue_symbols), per):
            chunk = venue_symbols[i:i + per]
            plans.append(_plan(ws_url, tuple(market.build_subscribe(chunk, PUBLIC_CHANNELS))))
        return plans

    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        return market.parse_market(frame, ts_recv)  # type: ignore[return-value]

    def new_book_sync(self, venue_symbol: str) -> BookSync:
        return BookSync(venue_symbol)

    def snapshot_request(self, venue_symbol: str) -> HttpRequest:
        return to_http(market.snapshot_request(venue_symbol, self.snapshot_depth))

    def parse_snapshot(self, venue_symbol: str, payload: Any) -> BookSnapshot:
        return market.parse_rest_snapshot(payload, venue_symbol)

    def control_reply(self, control: Any) -> str | None:
        """OKX never pings the client (the client pings with text `ping`): nothing owed."""
        return None


# ============================================================================ gateway
def _order_budget() -> tuple[float, int]:
    """OKX counts 60 places per 2 s (per instrument; the bucket is global, so conservative):
    a quarter of that as burst, the rest spread so no window sees more (`bucket_under_window`)."""
    lim = c.PLACE_LIMIT
    return bucket_under_window(lim.count, lim.window_s, 0.25)


class OkxGatewayAdapter:
    venue = c.VENUE
    order_rate_per_s, order_burst = _order_budget()
    max_place_batch = c.MAX_BATCH   # GatewayCore merges back-to-back places (batch-orders)
    max_cancel_batch = c.MAX_BATCH  # ... and back-to-back cancels (batch-cancel-orders)

    def __init__(self, api_key: str, secret: str, passphrase: str, *, demo: bool = False,
                 clock_ms: Callable[[], int] = _now_ms) -> None:
        self.creds = orders.Credentials(api_key, secret, passphrase)
        self.demo = demo
        self.clock_ms = clock_ms
        self.by_inst_id: dict[str, Instrument] = {}
        self.dedup = orders.PushDedup()
        self._logged_in = False
        self._subscribed = False
        self._sub_id = ""
        self._sessions = 0
        self._local: deque[Failure] = deque()            # answered at the next pong
        self._place_cid: dict[str, str] = {}             # req id -> client id (places)
        self._place_args: dict[str, str] = {}            # req id -> its order args (JSON)
        self._batches: dict[str, list[str]] = {}         # batch op id -> its places' req ids
        # req id -> its cancel args (JSON) and the order it names ("o"+ordId or "c"+clOrdId)
        self._cancel_args: dict[str, tuple[str, str]] = {}
        # batch op id -> (req id, named order) of each of its cancels
        self._cancel_batches: dict[str, list[tuple[str, str]]] = {}
        self._new_sent: OrderedDict[str, None] = OrderedDict()   # client ids whose NEW is out
        self._open: dict[str, OrderedDict[str, None]] = {}       # instId -> open ordIds
        self._fast = OkxOrdersFast()                     # the common frames, see orders_fast
        self._inst_id_of: dict[str, str] = {}            # symbol -> instId (to_venue, memo)

    def __repr__(self) -> str:
        return f"OkxGatewayAdapter({self.creds!r})"

    def _know(self, inst: Instrument) -> None:
        self.by_inst_id.setdefault(inst.venue_symbol, inst)

    # -- instruments ---------------------------------------------------------------------------
    def venue_symbol(self, symbol: str) -> str:
        return symbols.to_venue(symbol)

    def instruments_request(self) -> HttpRequest:
        return _instruments_request()

    def parse_instruments(self, payload: Any) -> list[Instrument]:
        insts = symbols.parse_instruments(payload)
        for i in insts:
            self.by_inst_id[i.venue_symbol] = i
        return insts

    # -- session -------------------------------------------------------------------------------
    def ws_plan(self, ws_private_url: str) -> WsPlan:
        return _plan(ws_private_url)

    def session_frames(self, now_ms: int) -> list[str]:
        """`login`, then the `orders` subscription in the same breath. OKX answers requests on
        a connection in order, and the subscribe is only valid once the login succeeded; the
        driver cannot yet send a frame in reaction to the login ack (it only asks
        `session_ready`), so both go together and `session_ready` waits for both answers."""
        self._sessions += 1
        self._logged_in = self._subscribed = False
        self._sub_id = f"sub{self._sessions}"
        self._local.clear()
        # requests of the dead connection are never answered (GatewayCore forgets them too)
        self._place_cid.clear()
        self._place_args.clear()
        self._batches.clear()
        self._cancel_args.clear()
        self._cancel_batches.clear()
        return [orders.build_login(self.creds, now_ms // 1000),
                orders.build_orders_subscribe(self._sub_id)]

    def session_ready(self, record: Any) -> bool:
        if isinstance(record, Control) and record.kind == "ack":
            d = record.detail if isinstance(record.detail, dict) else {}
            if d.get("event") == c.OP_LOGIN:
                self._logged_in = True
            elif d.get("event") == c.OP_SUBSCRIBE and \
                    d.get("arg", {}).get("channel") == c.CH_ORDERS:
                self._subscribed = True
        return self._logged_in and self._subscribed

    # -- orders --------------------------------------------------------------------------------
    def _refused(self, req_id: str, reason: RejectReason, text: str) -> str:
        self._local.append(Failure(req_id, reason, LOCAL_CODE, text[:200]))
        return market.build_ping()

    def encode_place(self, order: NewOrder, inst: Instrument, req_id: str, now_ms: int) -> str:
        """The `order` op; its args are kept (as JSON text) so back-to-back places can go out
        as one `batch-orders`. A limit order with plain ids is written by one f-string
        (`requests_fast`, the same bytes); anything else by the general builder."""
        self._know(inst)
        fast_args = place_args(order, inst)
        frame = None if fast_args is None else op_frame(req_id, c.OP_ORDER, fast_args)
        if fast_args is not None and frame is not None:
            args = fast_args
        else:
            try:
                d = orders.order_args(order, inst)
                frame = orders.build_op(req_id, c.OP_ORDER, [d])
            except ProtocolError as exc:
                reason = (RejectReason.BAD_SYMBOL if inst.venue_code is None
                          else RejectReason.OTHER)
                return self._refused(req_id, reason, f"not sent: {exc.what}")
            args = orders.args_json(d)
        self._place_cid[req_id] = order.client_id
        self._place_args[req_id] = args
        return frame

    def batch_places(self, req_ids: list[str]) -> str | None:
        """One `batch-orders` op for places already encoded one by one (same args, same
        client ids); its per-order results are answered per request id in `_batch_op`.
        None (GatewayCore then sends the frames one by one) when a place of the run was
        refused by the codec: its frame is the ping that answers it in band."""
        if not all(r in self._place_args for r in req_ids):
            return None
        bid = "b" + req_ids[0]
        self._batches[bid] = list(req_ids)
        args = [self._place_args.pop(r) for r in req_ids]
        frame = op_frame(bid, c.OP_BATCH_ORDERS, ",".join(args)) \
            if 1 <= len(args) <= c.MAX_BATCH else None
        if frame is None:  # the general builder refuses it as before
            return orders.build_op(bid, c.OP_BATCH_ORDERS, [orders.args_from_json(a) for a in args])
        return frame

    def encode_cancel(self, cancel: CancelOrder, inst: Instrument, req_id: str,
                      now_ms: int) -> str:
        """The `cancel-order` op; its args are kept (as JSON text) so back-to-back cancels
        can go out as one `batch-cancel-orders`."""
        self._know(inst)
        ref = ("o" + cancel.venue_order_id) if cancel.venue_order_id else ("c" + cancel.client_id)
        args = cancel_args(cancel, inst)
        frame = None if args is None else op_frame(req_id, c.OP_CANCEL_ORDER, args)
        if args is not None and frame is not None:
            self._cancel_args[req_id] = (args, ref)
            return frame
        try:
            d = orders.cancel_args(cancel, inst)
            frame = orders.build_op(req_id, c.OP_CANCEL_ORDER, [d])
            self._cancel_args[req_id] = (orders.args_json(d), ref)
            return frame
        except ProtocolError as exc:
            # an id OKX cannot hold was never placed there: the order is unknown to it
            reason = (RejectReason.BAD_SYMBOL if inst.venue_code is None
                      else RejectReason.UNKNOWN_ORDER)
            return self._refused(req_id, reason, f"not sent: {exc.what}")

    def batch_cancels(self, req_ids: list[str]) -> str | None:
        """One `batch-cancel-orders` op for cancels already encoded one by one (same args);
        answered per request id in `_batch_cancel_op`. None when a cancel of the run was
        refused by the codec (see `batch_places`)."""
        if not 1 <= len(req_ids) <= c.MAX_BATCH or \
                not all(r in self._cancel_args for r in req_ids):
            return None
        bid = "x" + req_ids[0]
        kept = [self._cancel_args.pop(r) for r in req_ids]
        self._cancel_batches[bid] = [(rid, ref) for rid, (_, ref) in zip(req_ids, kept,
                                                                          strict=True)]
        args = [a for a, _ in kept]
        frame = op_frame(bid, c.OP_BATCH_CANCEL_ORDERS, ",".join(args))
        if frame is None:  # an id OKX would refuse: the general builder says why
            return orders.build_op(bid, c.OP_BATCH_CANCEL_ORDERS,
                                   [orders.args_from_json(a) for a in args])
        return frame

    def encode_status(self, client_id: str, inst: Instrument, req_id: str, now_ms: int) -> str:
        """OKX has no WS order query: GatewayCore uses `status_request` (REST) instead. Were
        this called, the request is closed in band with TIMEOUT_UNKNOWN, never left open."""
        self._know(inst)
        return self._refused(req_id, RejectReason.TIMEOUT_UNKNOWN,
                             "OKX has no WebSocket order query; ask over REST")

    def status_request(self, client_id: str, inst: Instrument, now_ms: int) -> HttpRequest:
        """`GET /api/v5/trade/order` by clOrdId: the order's state when its outcome is unknown."""
        self._know(inst)
        return to_http(orders.rest_order(self.creds, now_ms, inst, client_id, demo=self.demo))

    def parse_status(self, payload: Any, req_id: str, ts_recv: int) -> list[Any]:
        """The order as a STATUS report, or a Failure for `req_id` with the venue's code
        (51603 "Order does not exist" -> UNKNOWN_ORDER)."""
        try:
            reports = orders.parse_order(payload, self.by_inst_id, ts_recv)
        except VenueError as exc:
            return [Failure(req_id, exc.reason, exc.code, exc.text)]
        for r in reports:
            self._track(r)
        return list(reports)

    def parse(self, frame: str | bytes, ts_recv: int) -> list[Any]:
        out: list[Any] = []
        recs = self._fast.parse(frame, ts_recv, self.by_inst_id)
        if recs is None:  # anything but the common frames, or odd: the strict parser decides
            recs = orders.parse_private(frame, ts_recv, self.by_inst_id)
        for rec in recs:
            if isinstance(rec, ExecReport):
                out.extend(self._push(rec))
            elif isinstance(rec, OpResponse):
                out.extend(self._op(rec))
            elif isinstance(rec, Control) and rec.kind == "pong":
                if self._local:
                    out.append(self._local.popleft())
                out.append(rec)
            else:
                out.append(rec)
        return out

    def _mark_new(self, client_id: str) -> bool:
        """True the first time a NEW is reported for `client_id`."""
        if not client_id:
            return True
        if client_id in self._new_sent:
            return False
        self._new_sent[client_id] = None
        if len(self._new_sent) > 100_000:
            self._new_sent.popitem(last=False)
        return True

    def _inst_id(self, symbol: str) -> str:
        """`venue_symbol`, memoised (every report is tracked by its instId)."""
        v = self._inst_id_of.get(symbol)
        if v is None:
            v = self.venue_symbol(symbol)
            if len(self._inst_id_of) >= 4096:
                self._inst_id_of.clear()
            self._inst_id_of[symbol] = v
        return v

    def _track(self, r: ExecReport) -> None:
        inst = self.by_inst_id.get(self._inst_id(r.symbol))
        if inst is None or not r.venue_order_id:
            return
        book = self._open.setdefault(inst.venue_symbol, OrderedDict())
        if r.status in TERMINAL_STATUSES:
            book.pop(r.venue_order_id, None)
        else:
            book[r.venue_order_id] = None

    def _push(self, r: ExecReport) -> list[Any]:
        if not self.dedup.accept(r):
            return []
        self._track(r)
        if r.exec_type is ExecType.NEW and not self._mark_new(r.client_id):
            return []
        return [r]

    def _op(self, r: OpResponse) -> list[Any]:
        rid = r.req_id
        batch = self._batches.pop(rid, None)
        if batch is not None:
            return self._batch_op(r, batch)
        cancels = self._cancel_batches.pop(rid, None)
        if cancels is not None:
            return self._batch_cancel_op(r, cancels)
        self._place_args.pop(rid, None)
        self._cancel_args.pop(rid, None)
        cid = self._place_cid.pop(rid, None)
        if r.reason is not RejectReason.NONE or not r.items:
            # the whole request failed (60013 invalid args, 50011 rate limit, ...)
            return [Failure(rid, classify(r.code), r.code, r.msg)]
        item = r.items[0]  # our ops carry one order each
        if not item.ok:
            return [Failure(rid, item.reason, item.s_code, item.s_msg)]
        if r.op == c.OP_ORDER and not self._mark_new(item.cl_ord_id or cid or ""):
            return []  # the `live` push already reported NEW and closed the request
        return [Ack(rid, item.ord_id, item.ts_event)]

    def _batch_op(self, r: OpResponse, rids: list[str]) -> list[Any]:
        """A `batch-orders` answer -> an Ack or Failure per place request (matched by
        clOrdId); a place the answer does not mention fails, never hangs."""
        cids = {rid: self._place_cid.pop(rid, "") for rid in rids}
        if r.reason is not RejectReason.NONE or not r.items:
            return [Failure(rid, classify(r.code), r.code, r.msg) for rid in rids]
        by_cid = {cid: rid for rid, cid in cids.items()}
        out: list[Any] = []
        for item in r.items:
            rid = by_cid.pop(item.cl_ord_id, None)
            if rid is None:
                continue
            if not item.ok:
                out.append(Failure(rid, item.reason, item.s_code, item.s_msg))
            elif self._mark_new(item.cl_ord_id):
                out.append(Ack(rid, item.ord_id, item.ts_event))
        out += [Failure(rid, RejectReason.OTHER, r.code, "no result in the batch answer")
                for rid in by_cid.values()]
        return out

    def _batch_cancel_op(self, r: OpResponse, sent: list[tuple[str, str]]) -> list[Any]:
        """A `batch-cancel-orders` answer -> an Ack or Failure per cancel request. OKX echoes
        each item's `ordId` and `clOrdId`, and a batch never holds one order twice, so an
        item is matched by whichever its request named; a cancel the answer does not
        mention fails, never hangs."""
        if r.reason is not RejectReason.NONE or not r.items:
            return [Failure(rid, classify(r.code), r.code, r.msg) for rid, _ in sent]
        by_ref = {ref: rid for rid, ref in sent}
        out: list[Any] = []
        for item in r.items:
            rid = by_ref.pop("o" + item.ord_id, None) if item.ord_id else None
            if rid is None and item.cl_ord_id:
                rid = by_ref.pop("c" + item.cl_ord_id, None)
            if rid is None:
                continue
            out.append(Ack(rid, item.ord_id, item.ts_event) if item.ok
                       else Failure(rid, item.reason, item.s_code, item.s_msg))
        out += [Failure(rid, RejectReason.OTHER, r.code, "no result in the batch answer")
                for rid in by_ref.values()]
        return out

    # -- REST ----------------------------------------------------------------------------------
    def open_orders_request(self, now_ms: int) -> HttpRequest:
        """`orders-pending` (newest first, up to 100: OKX pages older ones with `after`)."""
        return to_http(orders.rest_orders_pending(self.creds, now_ms, demo=self.demo))

    def parse_open_orders(self, payload: Any, ts_recv: int) -> list[Any]:
        reports = orders.parse_orders_pending(payload, self.by_inst_id, ts_recv)
        for r in reports:
            self._track(r)
            if r.client_id:
                self._new_sent.setdefault(r.client_id, None)
        return reports  # type: ignore[return-value]

    def recent_fills_requests(self, now_ms: int, since_ms: int) -> list[HttpRequest]:
        """`/api/v5/trade/fills` (the newest 100, last 3 days): missed fills on reconnect."""
        return [to_http(orders.rest_fills(self.creds, now_ms, demo=self.demo))]

    def parse_recent_fills(self, payload: Any, ts_recv: int) -> list[Any]:
        return orders.parse_fills(payload, self.by_inst_id, ts_recv)  # type: ignore

    def cancel_all_request(self, inst: Instrument, now_ms: int) -> HttpRequest | None:
        """Spot OKX has no cancel-all call: `cancel-batch-orders` for the (up to 20 newest)
        open orders of `inst` this adapter has seen (pushes and reconciliation); None when it
        knows of none."""
        self._know(inst)
        open_ids = list(self._open.get(inst.venue_symbol, ()))
        if not open_ids:
            return None
        batch = [(CancelOrder("", c.VENUE, inst.symbol, oid), inst)
                 for oid in open_ids[-c.MAX_BATCH:]]
        return to_http(orders.rest_cancel_batch(batch, self.creds, now_ms, demo=self.demo))

    def deadman_request(self, now_ms: int, timeout_s: int) -> HttpRequest | None:
        """`cancel-all-after`; OKX takes 0 (off) or 10-120 s, so the timeout is clamped."""
        t = int(timeout_s)
        if t != 0:
            t = min(max(t, c.CANCEL_ALL_AFTER_MIN_S), c.CANCEL_ALL_AFTER_MAX_S)
        return to_http(orders.rest_cancel_all_after(self.creds, now_ms, t, demo=self.demo))


# ============================================================================ factories
def make_feed_adapter(config: Any) -> OkxFeedAdapter:
    return OkxFeedAdapter()


def make_gateway_adapter(config: Any, api_key: str, secret: str,
                         passphrase: str) -> OkxGatewayAdapter:
    return OkxGatewayAdapter(api_key, secret, passphrase)
