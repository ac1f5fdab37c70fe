"""The simulated Binance spot venue's wire front-end: REST, market streams and WS API, one port.

`make_front(venue)` returns the front (registered in `venue.fronts`, so the hub's `dispatch`
reaches it) and an `aiohttp.web.Application` serving Binance's real wire protocol on the paths
of `feeds/sim/endpoints.py`: `/api/v3/...` REST, market streams at `/ws`, `/ws/<stream>` and
`/stream?streams=`, and the WebSocket API at `/ws-api/v3`. Every frame in or out goes through
the venue's own sans-I/O codec (`feeds/binance/protocol`), the same one the gateway uses; this
module only moves events between the hub and the sockets and keeps Binance's bookkeeping that
the matching engine has no notion of (request weight and order-count windows, user-data
subscriptions, execution ids, trade history).

Faithful where it matters to a client: signatures, timestamps and API keys are checked with
the codec and refused with Binance's codes; `lastUpdateId` of `/api/v3/depth` is the hub's
published depth sequence, so snapshot + diffs chain exactly as on the venue; every WS API
answer carries `rateLimits` and every REST answer `X-MBX-USED-WEIGHT-1M`; exceeding the
weight (HTTP 429 / -1003) or order-count (-1015) limits is refused the venue's way. A
malformed request gets Binance's error, never a traceback. Simplifications: each engine depth
change is sent as its own diff at once (no 100 ms conflation), and the unfilled-order count is
a plain count of new orders per window (no decrement on fills).
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import WSMsgType, web

from feeds.binance.protocol import constants as C
from feeds.binance.protocol import errors as E
from feeds.binance.protocol import market as M
from feeds.binance.protocol import order_server as OS
from feeds.binance.protocol import orders as O
from feeds.binance.protocol import symbols as S
from feeds.binance.protocol.signing import verify_rest
from feeds.sim.accounts import ZERO
from feeds.sim.matching import Accepted, Canceled, Expired, Fill, OrderView, Rejected, Trade
from feeds.sim.outbox import Outbox
from feeds.sim.spellings import Spellings
from feeds.sim.venue import DepthChange, SimVenue
from pipeline.errors import ProtocolError
from pipeline.model import Instrument, OrderStatus, OrderType, Side, TimeInForce

log = logging.getLogger(__name__)

MS = 1_000_000
MAX_QUEUED_FRAMES = 100_000          # a consumer this far behind is cut off, as Binance does
# order requests whose answer the fault plan may delay or lose (queries are answered at once)
ACK_FAULT_METHODS = frozenset({C.WS_ORDER_PLACE, C.WS_ORDER_CANCEL, C.WS_ORDER_CANCEL_REPLACE,
                               C.WS_OPEN_ORDERS_CANCEL_ALL})
MAX_TRADE_HISTORY = 10_000           # per account, for GET /api/v3/myTrades
_STREAM_KINDS = ("bookTicker", "depth", "depth@100ms", "trade")

# (status, code, msg) of a refusal; a success is (200, body)
Result = tuple[int, Any]


def _err(status: int, code: int, msg: str) -> Result:
    return status, E.encode_error_body(code, msg)


class _FixedWindow:
    """A counter over fixed windows of `window_ns` (Binance's intervals start on the clock)."""

    __slots__ = ("count", "key", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self.key = -1
        self.count = 0

    def _roll(self, now: int) -> None:
        k = now // self.window_ns
        if k != self.key:
            self.key, self.count = k, 0

    def used(self, now: int) -> int:
        k = now // self.window_ns   # `_roll`, written out: this runs several times a request
        if k != self.key:
            self.key, self.count = k, 0
        return self.count

    def add(self, now: int, n: int) -> int:
        k = now // self.window_ns
        if k != self.key:
            self.key, self.count = k, 0
        self.count += n
        return self.count

    def retry_after_ms(self, now: int) -> int:
        self._roll(now)
        return ((self.key + 1) * self.window_ns - now) // MS + 1


class _Conn:
    """One WebSocket: frames go out in order through its `Outbox` (latency and ack faults)."""

    def __init__(self, ws: web.WebSocketResponse, ip: str, venue: SimVenue) -> None:
        self.ws = ws
        self.ip = ip
        self.out = Outbox(ws, venue, limit=MAX_QUEUED_FRAMES, cut_code=1000, cut_message=b"")
        self.writer: asyncio.Task[None] | None = None

    @property
    def closing(self) -> bool:
        return self.out.closing

    def push(self, frame: str) -> None:
        self.out.send(frame)

    async def run_writer(self) -> None:
        await self.out.run()

    def close(self) -> None:
        """Venue-initiated disconnect: what is already queued goes out, then the close frame."""
        if not self.out.closing:
            self.out.close(drain=True)
            asyncio.ensure_future(self._close_when_drained())

    async def _close_when_drained(self) -> None:
        await self.out.drained()
        await self.ws.close()


class StreamConn(_Conn):
    def __init__(self, ws: web.WebSocketResponse, ip: str, venue: SimVenue,
                 combined: bool) -> None:
        super().__init__(ws, ip, venue)
        self.combined = combined
        self.subs: set[str] = set()
        self.second = -1
        self.in_second = 0


class ApiConn(_Conn):
    def __init__(self, ws: web.WebSocketResponse, ip: str, venue: SimVenue,
                 rate_limits: bool) -> None:
        super().__init__(ws, ip, venue)
        self.rate_limits = rate_limits
        self.subs: dict[int, str] = {}   # subscriptionId -> account
        self.sub_ids = itertools.count(0)


class _Live:
    """One live order's mirror for its `executionReport`s: the order in the venue's terms
    and, once a report without a fill needs it, the fields those reports share."""

    __slots__ = ("_template", "order")

    def __init__(self, order: O.VenueOrder) -> None:
        self.order = order
        self._template: dict[str, Any] | None = None

    def template(self) -> dict[str, Any]:
        t = self._template
        if t is None:
            t = self._template = OS.execution_template(self.order)
        return t


@dataclass
class _Held:
    """Private events raised while a request runs: they go out after its response."""

    events: list[tuple[str, Instrument, Any]] = field(default_factory=list)


# enum lookups by plain dicts: `TimeInForce[name]` and `status.name` are Python-level calls
_TIF_BY_NAME = {t.name: t for t in TimeInForce}
_STATUS_NAME = {s: s.name for s in OrderStatus}


def _bn_type(t: OrderType, tif: TimeInForce) -> str:
    if t is OrderType.MARKET:
        return "MARKET"
    return "LIMIT_MAKER" if tif is TimeInForce.POST_ONLY else "LIMIT"


def _bn_tif(t: OrderType, tif: TimeInForce) -> str:
    # Binance prints GTC for orders that have no time in force of their own
    return tif.name if t is OrderType.LIMIT and tif is not TimeInForce.POST_ONLY else "GTC"


_ZERO8 = M.fmt8(0)   # an empty side of @bookTicker
_E8 = 10 ** 8
_FAST_MAX = 10 ** 26   # n * step * 1e8 below this: exact in Decimal's 28 digits as well


def fmt8_of_multiple(step: Decimal) -> Callable[[int], str]:
    """`n -> M.fmt8(step * n)` for the integer ticks or lots of a tick/lot `step`: by integer
    arithmetic when `step` has at most 8 decimals (every listed instrument), where fmt8's
    result is the fixed 8-decimal spelling of an exact value (zero is "0.00000000"); any
    other case goes through fmt8 itself."""
    sign, digits, exp = step.as_tuple()
    if sign or not isinstance(exp, int) or exp < -8 or not step:
        return lambda n: M.fmt8(step * n)
    mult = int("".join(map(str, digits))) * 10 ** (exp + 8)   # step * 1e8, an integer

    def spell(n: int) -> str:
        if type(n) is not int or n < 0 or n * mult >= _FAST_MAX:
            return M.fmt8(step * n)
        v = n * mult
        return f"{v // _E8}.{v % _E8:08d}"

    return spell


class _MdStreams:
    """One instrument's market-data stream names and wire spellings, worked out once (every
    push used to rebuild the names and format each number through Decimal)."""

    __slots__ = ("bbo", "depth", "partial", "spell", "trade")

    def __init__(self, inst: Instrument) -> None:
        sym = inst.venue_symbol.lower()
        self.spell = Spellings(fmt8_of_multiple(inst.tick_size),
                               fmt8_of_multiple(inst.lot_size))
        self.depth = (f"{sym}@depth", f"{sym}@depth@100ms")
        self.partial = tuple((n, (f"{sym}@depth{n}", f"{sym}@depth{n}@100ms"))
                             for n in C.PARTIAL_DEPTH_LEVELS)
        self.bbo = (f"{sym}@bookTicker",)
        self.trade = (f"{sym}@trade",)


class BinanceFront:
    def __init__(self, venue: SimVenue, *, weight_limit: int = C.REQUEST_WEIGHT_PER_MINUTE,
                 orders_per_10s: int = C.ORDERS_PER_10S, orders_per_day: int = C.ORDERS_PER_DAY,
                 ping_interval_s: float = C.SERVER_PING_INTERVAL_S,
                 lifetime_s: float = C.CONNECTION_LIFETIME_S) -> None:
        self.venue = venue
        self.clock = venue.clock
        self.weight_limit = weight_limit
        self.orders_per_10s = orders_per_10s
        self.orders_per_day = orders_per_day
        self.ping_interval_s = ping_interval_s
        self.lifetime_s = lifetime_s
        self.streams: set[StreamConn] = set()
        self.api: set[ApiConn] = set()
        self._weight: dict[str, _FixedWindow] = {}
        self._orders: dict[str, tuple[_FixedWindow, _FixedWindow]] = {}
        self._live: dict[tuple[str, int], _Live] = {}   # mirror for executionReports
        self._trades: dict[str, deque[dict[str, Any]]] = {}
        self._cancel_cids: dict[tuple[str, int], str] = {}
        self._exec_ids = itertools.count(1)
        self._cids = itertools.count(1)
        self._held: _Held | None = None
        self.counters = {"rest": 0, "ws_api": 0, "stream_frames": 0, "errors": 0}
        self._md: dict[str, _MdStreams] = {}   # market-data push: names, spellings
        venue.fronts.append(self)

    # -- helpers -------------------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.clock() // MS

    def _gen_cid(self, prefix: str = "sim") -> str:
        return f"{prefix}{next(self._cids):019d}"

    def _published(self, symbol: str) -> int:
        # the last sequence a depth message covered (SimVenue has no public accessor yet)
        seqs = getattr(self.venue, "_published_seq", None)
        if isinstance(seqs, dict):
            return int(seqs.get(symbol, 0))
        return self.venue.engines[symbol].sequence

    def _weight_window(self, ip: str) -> _FixedWindow:
        w = self._weight.get(ip)
        if w is None:
            w = self._weight[ip] = _FixedWindow(60_000 * MS)
        return w

    def _spend(self, ip: str, weight: int) -> bool:
        w = self._weight_window(ip)
        now = self.clock()
        if w.used(now) + weight > self.weight_limit:
            return False
        w.add(now, weight)
        return True

    def _order_windows(self, account: str) -> tuple[_FixedWindow, _FixedWindow]:
        ow = self._orders.get(account)
        if ow is None:
            ow = self._orders[account] = (_FixedWindow(10_000 * MS),
                                          _FixedWindow(86_400_000 * MS))
        return ow

    def _rate_limits(self, ip: str, account: str = "", orders: bool = False
                     ) -> list[O.RateLimit]:
        now = self.clock()
        out = []
        if orders and account:
            s10, day = self._order_windows(account)
            out += [O.RateLimit("ORDERS", "SECOND", 10, self.orders_per_10s, s10.used(now)),
                    O.RateLimit("ORDERS", "DAY", 1, self.orders_per_day, day.used(now))]
        out.append(O.RateLimit("REQUEST_WEIGHT", "MINUTE", 1, self.weight_limit,
                               self._weight_window(ip).used(now)))
        return out

    def _limit_items(self, ip: str, account: str = "", orders: bool = False
                     ) -> list[dict[str, Any]]:
        """`_rate_limits`, already encoded (`OS.rate_limit_item`): what every WS API answer
        carries, without a `RateLimit` object per entry in between."""
        now = self.clock()
        w = self._weight.get(ip) or self._weight_window(ip)
        weight = OS.rate_limit_item("REQUEST_WEIGHT", "MINUTE", 1, self.weight_limit,
                                   w.used(now))
        if orders and account:
            s10, day = self._orders.get(account) or self._order_windows(account)
            return [OS.rate_limit_item("ORDERS", "SECOND", 10, self.orders_per_10s,
                                      s10.used(now)),
                    OS.rate_limit_item("ORDERS", "DAY", 1, self.orders_per_day, day.used(now)),
                    weight]
        return [weight]

    def _too_much_weight(self, ip: str) -> tuple[int, int, str, int]:
        retry = self._weight_window(ip).retry_after_ms(self.clock())
        return (C.HTTP_RATE_LIMITED, C.E_TOO_MANY_REQUESTS,
                E.MSG_TOO_MANY_REQUESTS_WS.format(limit=self.weight_limit), retry)

    def _account_for(self, api_key: str) -> str | None:
        return api_key if api_key in self.venue.api_keys else None

    def _inst(self, venue_symbol: str) -> Instrument | None:
        return self.venue.by_venue_symbol.get(venue_symbol)

    def _venue_order(self, v: OrderView, inst: Instrument) -> O.VenueOrder:
        status = v.status.name
        return O.VenueOrder(
            symbol=inst.venue_symbol, order_id=v.order_id, client_id=v.client_id, side=v.side,
            order_type=_bn_type(v.type, v.tif), time_in_force=_bn_tif(v.type, v.tif),
            price=inst.ticks_to_price(v.price_ticks) if v.price_ticks is not None else Decimal(0),
            orig_qty=inst.lots_to_qty(v.lots), executed_qty=inst.lots_to_qty(v.filled_lots),
            cum_quote=v.cum_quote, status=status, time_ns=v.created_ns,
            update_ns=v.updated_ns, working_ns=v.created_ns)

    def _spelled(self, v: OrderView, inst: Instrument
                 ) -> tuple[str, str, str, str, str, str, str, str]:
        """(price, origQty, executedQty, cummulativeQuoteQty, status, timeInForce, type, side)
        of `v` as `_venue_order` + the codec's encoders spell them: the price and sizes from
        their integer ticks and lots through the instrument's memo (`fmt8` of the same
        Decimal), not a Decimal product and `fmt8` each time."""
        sp = self._md_for(inst).spell
        return (sp.price(v.price_ticks) if v.price_ticks is not None else _ZERO8,
                sp.qty(v.lots), sp.qty(v.filled_lots), M.fmt8(v.cum_quote), _STATUS_NAME[v.status],
                _bn_tif(v.type, v.tif), _bn_type(v.type, v.tif),
                "BUY" if v.side is Side.BUY else "SELL")

    # -- hub callbacks (FrontEnd) --------------------------------------------------------------
    def _fan_out(self, names: tuple[str, ...], payload: Callable[[], str]) -> None:
        frame: str | None = None
        for c in self.streams:
            for name in names:
                if name in c.subs:
                    if frame is None:
                        frame = payload()
                    c.push(M.wrap_combined(name, frame) if c.combined else frame)
                    self.counters["stream_frames"] += 1
                    break

    def _md_for(self, inst: Instrument) -> _MdStreams:
        md = self._md.get(inst.symbol)
        if md is None:
            md = self._md[inst.symbol] = _MdStreams(inst)
        return md

    def wants_depth(self, symbol: str) -> bool:
        """The hub's optional question (`feeds.sim.venue.FrontEnd`): False promises that
        `on_depth` for `symbol` would push nothing now, so the hub skips the call (and the
        `DepthChange`) on every book change. Exact and cheap: no market-stream connection."""
        return bool(self.streams)

    def wants_bbo(self, symbol: str) -> bool:
        """As `wants_depth`, for `on_bbo`."""
        return bool(self.streams)

    def on_depth(self, change: DepthChange) -> None:
        if not self.streams:   # nobody to push to (a hub that does not ask `wants_depth`)
            return
        inst = change.instrument
        md = self._md_for(inst)
        sp = md.spell

        def diff() -> str:
            return M.encode_depth_update_spelled(
                inst.venue_symbol, change.first_seq, change.last_seq, sp.levels(change.bids),
                sp.levels(change.asks), change.ts_ns)

        self._fan_out(md.depth, diff)
        for n, names in md.partial:
            self._fan_out(names, functools.partial(self._partial, inst, n, change.last_seq))

    def _partial(self, inst: Instrument, n: int, last_seq: int) -> str:
        sp = self._md_for(inst).spell
        bids, asks = self.venue.engines[inst.symbol].depth(n)
        return M.encode_partial_depth_spelled(last_seq, sp.levels(bids), sp.levels(asks))

    def _levels(self, inst: Instrument, n: int
                ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        b, a = self.venue.engines[inst.symbol].depth(n)
        px, qx = inst.ticks_to_price, inst.lots_to_qty
        return [(px(p), qx(q)) for p, q in b], [(px(p), qx(q)) for p, q in a]

    def on_bbo(self, inst: Instrument, bid: tuple[int, int] | None,
               ask: tuple[int, int] | None, seq: int, ts_ns: int) -> None:
        if not self.streams:
            return
        md = self._md_for(inst)
        sp = md.spell

        def frame() -> str:
            bp, bq = (sp.price(bid[0]), sp.qty(bid[1])) if bid else (_ZERO8, _ZERO8)
            ap, aq = (sp.price(ask[0]), sp.qty(ask[1])) if ask else (_ZERO8, _ZERO8)
            return M.encode_bbo_spelled(inst.venue_symbol, bp, bq, ap, aq, seq)

        self._fan_out(md.bbo, frame)

    def on_trade(self, inst: Instrument, trade: Trade) -> None:
        if not self.streams:
            return
        md = self._md_for(inst)
        sp = md.spell
        self._fan_out(md.trade, lambda: M.encode_trade_spelled(
            inst.venue_symbol, trade.trade_id, sp.price(trade.price_ticks), sp.qty(trade.lots),
            trade.taker_side, trade.ts_ns, self.clock()))

    def on_private(self, account: str, inst: Instrument, event: Any) -> None:
        if isinstance(event, Fill):
            hist = self._trades.setdefault(account, deque(maxlen=MAX_TRADE_HISTORY))
            hist.append(O.encode_my_trade(
                inst.venue_symbol, event.trade_id, event.order_id,
                inst.ticks_to_price(event.price_ticks), inst.lots_to_qty(event.lots), event.fee,
                event.fee_asset, event.ts_ns, event.side is Side.BUY, event.is_maker))
        if self._held is not None:
            self._held.events.append((account, inst, event))
        else:
            self._emit_private(account, inst, event)

    # -- user data stream ----------------------------------------------------------------------
    def _emit_private(self, account: str, inst: Instrument, ev: Any) -> None:
        """One private event to the account's user-data subscriptions: an `executionReport`
        and the `outboundAccountPosition` of the pair's two assets. The bookkeeping (order
        mirror, execution and cancel ids) runs whether or not anyone listens; the frames are
        only built for a subscriber."""
        subs = [(c, sid) for c in self.api for sid, who in c.subs.items() if who == account]
        now = self.clock()
        body = self._execution_report(account, inst, ev, now, bool(subs))
        if body is None:
            return
        acct = self.venue.accounts[account]
        free, locked = acct.available, acct.locked
        position = O.encode_account_position(now, now, [
            (a, free.get(a, ZERO), locked.get(a, ZERO)) for a in (inst.base, inst.quote)])
        event, balances = OS.dumps(body), OS.dumps(position)   # once for every subscriber
        for c, sid in subs:
            c.push(OS.encode_user_event_json(sid, event))
            c.push(OS.encode_user_event_json(sid, balances))

    def _execution_report(self, account: str, inst: Instrument, ev: Any, now: int,
                          encode: bool = True) -> dict[str, Any] | None:
        """Update the order mirror for `ev`; its `executionReport` body when `encode` (None
        for an event that has none). Reports without a fill are copies of the order's
        template (`OS.execution_template`), the same object `encode_execution_report` makes."""
        if type(ev) is Rejected:
            return None  # a refused request is answered by its response only
        key = (account, ev.order_id)
        if type(ev) is Accepted:
            o = O.VenueOrder(
                symbol=inst.venue_symbol, order_id=ev.order_id, client_id=ev.client_id,
                side=ev.side, order_type=_bn_type(ev.type, ev.tif),
                time_in_force=_bn_tif(ev.type, ev.tif),
                price=inst.ticks_to_price(ev.price_ticks) if ev.price_ticks is not None
                else Decimal(0), orig_qty=inst.lots_to_qty(ev.lots), time_ns=ev.ts_ns,
                update_ns=ev.ts_ns, working_ns=ev.ts_ns)
            new = self._live[key] = _Live(o)
            eid = next(self._exec_ids)
            if not encode:
                return None
            return OS.encode_plain_execution(new.template(), o, "NEW", now, ev.ts_ns, eid,
                                             o.client_id)
        live = self._live.get(key)
        if live is None:  # an order from before this front attached: rebuild it from the engine
            view = self.venue.engines[inst.symbol].get(account, ev.order_id)
            if view is None:
                return None
            live = _Live(self._venue_order(view, inst))
        o = live.order
        if type(ev) is Fill:
            price, qty = inst.ticks_to_price(ev.price_ticks), inst.lots_to_qty(ev.lots)
            o.executed_qty = inst.lots_to_qty(ev.cum_lots)
            o.cum_quote += price * qty
            o.status = "FILLED" if ev.leaves_lots == 0 else "PARTIALLY_FILLED"
            o.update_ns = ev.ts_ns
            if ev.leaves_lots == 0:
                self._live.pop(key, None)
            eid = next(self._exec_ids)
            if not encode:
                return None
            return O.encode_execution_report(
                o, "TRADE", now, ev.ts_ns, execution_id=eid, last_qty=qty,
                last_price=price, commission=ev.fee, commission_asset=ev.fee_asset,
                trade_id=ev.trade_id, is_maker=ev.is_maker)
        if isinstance(ev, (Canceled, Expired)):
            self._live.pop(key, None)
            o.status = ev.venue_code
            o.update_ns = ev.ts_ns
            if isinstance(ev, Canceled):
                cid = self._cancel_cids.pop(key, "") or self._gen_cid("cancel")
                eid = next(self._exec_ids)
                if not encode:
                    return None
                return OS.encode_plain_execution(live.template(), o, "CANCELED", now,
                                                 ev.ts_ns, eid, cid, o.client_id)
            x = "TRADE_PREVENTION" if ev.cause == "stp" else "EXPIRED"
            eid = next(self._exec_ids)
            if not encode:
                return None
            return OS.encode_plain_execution(live.template(), o, x, now, ev.ts_ns, eid,
                                             o.client_id)
        return None

    def _flush(self, held: _Held) -> None:
        for account, inst, ev in held.events:
            self._emit_private(account, inst, ev)

    # -- requests shared by REST and the WS API ------------------------------------------------
    def execute(self, account: str, tr: Any) -> tuple[Result, _Held]:
        """Run one authenticated request; private events it raises are held for the caller
        to send after the response."""
        held = _Held()
        self._held = held
        try:
            return self._execute(account, tr), held
        finally:
            self._held = None

    def _execute(self, account: str, tr: Any) -> Result:
        if isinstance(tr, O.AccountRequest):
            acct = self.venue.accounts[account]
            bals = [(a, b.available, b.locked) for a, b in acct.snapshot().items()]
            return 200, O.encode_account(bals, self.clock(), maker_rate=self.venue.rules.maker_fee,
                                         taker_rate=self.venue.rules.taker_fee)
        if isinstance(tr, O.OpenOrdersRequest):
            if tr.symbol:
                inst = self._inst(tr.symbol)
                if inst is None:
                    return _err(400, C.E_BAD_SYMBOL, E.MSG_BAD_SYMBOL)
                insts = [inst]
            else:
                insts = list(self.venue.instruments)
            return 200, [O.encode_open_order(self._venue_order(v, i)) for i in insts
                         for v in self.venue.engines[i.symbol].open_orders(account)]
        inst = self._inst(tr.symbol)
        if inst is None:
            return _err(400, C.E_BAD_SYMBOL, E.MSG_BAD_SYMBOL)
        eng = self.venue.engines[inst.symbol]
        if isinstance(tr, O.PlaceRequest):
            return self._place(account, inst, tr)
        if isinstance(tr, O.CancelRequest):
            ref: int | str = tr.order_id if tr.order_id is not None else tr.orig_client_id
            view = eng.get(account, ref)
            if view is not None and tr.order_id is not None and tr.orig_client_id \
                    and view.client_id != tr.orig_client_id:
                view = None
            if view is None or view.status.is_terminal:
                return _err(400, C.E_CANCEL_REJECTED, E.MSG_UNKNOWN_ORDER)
            cid = tr.new_client_id or self._gen_cid("cancel")
            self._cancel_cids[(account, view.order_id)] = cid
            events = self.venue.cancel(account, inst.symbol, view.order_id)
            done = next((e for e in events if isinstance(e, (Canceled, Expired))), None)
            if done is None:
                self._cancel_cids.pop((account, view.order_id), None)
                return _err(400, C.E_CANCEL_REJECTED, E.MSG_UNKNOWN_ORDER)
            after = eng.get(account, view.order_id) or view
            price, orig, executed, cum_quote, status, tif, otype, side = \
                self._spelled(after, inst)
            return 200, OS.encode_cancel_report_spelled(
                inst.venue_symbol, after.client_id, after.order_id, cid, done.ts_ns // MS, price,
                orig, executed, cum_quote, status, tif, otype, side)
        if isinstance(tr, O.CancelAllRequest):
            opens = eng.open_orders(account)
            if not opens:
                return _err(400, C.E_CANCEL_REJECTED, E.MSG_UNKNOWN_ORDER)
            cids = {v.order_id: self._gen_cid("cancel") for v in opens}
            for oid, cid in cids.items():
                self._cancel_cids[(account, oid)] = cid
            events = self.venue.cancel_all(account, inst.symbol)
            out = []
            for e in events:
                if isinstance(e, (Canceled, Expired)) and e.order_id in cids:
                    v = eng.get(account, e.order_id)
                    if v is not None:
                        out.append(O.encode_cancel_report(self._venue_order(v, inst), e.ts_ns,
                                                          cids[e.order_id]))
            return 200, out
        if isinstance(tr, O.StatusRequest):
            ref = tr.order_id if tr.order_id is not None else tr.orig_client_id
            view = eng.get(account, ref)
            if view is None:
                return _err(400, C.E_NO_SUCH_ORDER, E.MSG_NO_SUCH_ORDER)
            return 200, O.encode_open_order(self._venue_order(view, inst))
        if isinstance(tr, O.TradesRequest):
            hist = [t for t in self._trades.get(account, ()) if t["symbol"] == inst.venue_symbol
                    and (tr.order_id is None or t["orderId"] == tr.order_id)
                    and (tr.from_id is None or t["id"] >= tr.from_id)]
            return 200, hist[:tr.limit] if tr.from_id is not None else hist[-tr.limit:]
        return _err(400, C.E_ILLEGAL_CHARS, "Unknown method.")

    def _place(self, account: str, inst: Instrument, tr: O.PlaceRequest) -> Result:
        now = self.clock()
        s10, day = self._order_windows(account)
        if s10.used(now) >= self.orders_per_10s or day.used(now) >= self.orders_per_day:
            return _err(C.HTTP_RATE_LIMITED, C.E_TOO_MANY_NEW_ORDERS,
                        f"Too many new orders; current limit is {self.orders_per_10s} orders "
                        "per 10 SECOND.")
        if tr.order_type == "LIMIT":
            otype, tif = OrderType.LIMIT, _TIF_BY_NAME[tr.time_in_force]
        elif tr.order_type == "LIMIT_MAKER":
            otype, tif = OrderType.LIMIT, TimeInForce.POST_ONLY
        else:
            otype, tif = OrderType.MARKET, TimeInForce.IOC
        if tr.req.method == C.WS_ORDER_TEST:
            return 200, {}
        s10.add(now, 1)
        day.add(now, 1)
        cid = tr.client_id or self._gen_cid()
        events = self.venue.place_wire(account, inst.symbol, cid, tr.side, otype, tif, tr.price,
                                       tr.quantity)   # `submit_wire`, by position
        for e in events:
            if isinstance(e, Rejected):
                code = int(e.venue_code)
                status = C.HTTP_RATE_LIMITED if code in (C.E_TOO_MANY_NEW_ORDERS,
                                                         C.E_TOO_MANY_REQUESTS) else 400
                return _err(status, code, e.message)
        acc = next((e for e in events if isinstance(e, Accepted)), None)
        if acc is None:
            return _err(500, C.E_UNKNOWN, E.MSG_UNKNOWN)
        view = self.venue.engines[inst.symbol].get(account, acc.order_id)
        if view is None:
            return _err(500, C.E_UNKNOWN, E.MSG_UNKNOWN)
        sym, transact_ms = inst.venue_symbol, acc.ts_ns // MS
        if tr.resp_type == "ACK":
            return 200, OS.encode_order_ack_spelled(sym, view.order_id, view.client_id,
                                                    transact_ms)
        body = OS.encode_order_result_spelled(
            sym, view.order_id, view.client_id, transact_ms, *self._spelled(view, inst),
            working_ms=view.created_ns // MS if view.created_ns else -1)
        if tr.resp_type == "RESULT":
            return 200, body
        body["fills"] = OS.encode_fills(
            [O.Fill(inst.ticks_to_price(f.price_ticks), inst.lots_to_qty(f.lots), f.fee,
                    f.fee_asset, f.trade_id)
             for f in events if isinstance(f, Fill) and f.order_id == acc.order_id
             and f.account == account])
        return 200, body

    # -- WebSocket API -------------------------------------------------------------------------
    def _ws_weight(self, tr: Any) -> int:
        if isinstance(tr, O.OpenOrdersRequest) and not tr.symbol:
            return C.WEIGHT_OPEN_ORDERS_ALL
        return C.METHOD_WEIGHTS.get(tr.req.method, 1)

    def on_api_frame(self, conn: ApiConn, data: str) -> None:
        self.counters["ws_api"] += 1
        try:
            tr = O.decode_ws_request(data)
        except O.RequestError as exc:
            self.counters["errors"] += 1
            self._spend(conn.ip, 1)
            conn.push(exc.encode(self._rate_limits(conn.ip) if conn.rate_limits else None))
            return
        req = tr.req
        want_limits = conn.rate_limits and req.params.get("returnRateLimits") is not False

        def limits(account: str = "", orders: bool = False) -> list[dict[str, Any]] | None:
            return self._limit_items(conn.ip, account, orders) if want_limits else None

        if not self._spend(conn.ip, self._ws_weight(tr)):
            status, code, msg, retry = self._too_much_weight(conn.ip)
            conn.push(OS.encode_ws_refusal(req.id, status, code, msg, limits(),
                                          data={"retryAfter": self.now_ms() + retry}))
            return
        m = req.method
        if m not in ACK_FAULT_METHODS and self._session_request(conn, tr, m, limits):
            return
        account, refusal = self._authenticate_ws(req)
        if refusal is not None:
            self.counters["errors"] += 1
            status, body = refusal
            conn.push(OS.encode_ws_refusal(req.id, status, body["code"], body["msg"], limits()))
            return
        assert account is not None
        if m == C.WS_USER_DATA_SUBSCRIBE_SIGNATURE:
            sid = next((s for s, a in conn.subs.items() if a == account), None)
            if sid is None:
                sid = next(conn.sub_ids)
                conn.subs[sid] = account
            conn.push(OS.encode_ws_answer(req.id, O.encode_subscribe_result(sid), limits()))
            return
        (status, body), held = self.execute(account, tr)
        is_place = type(tr) is O.PlaceRequest
        if status == 200:
            frame = OS.encode_ws_answer(req.id, body, limits(account, is_place))
        else:
            self.counters["errors"] += 1
            frame = OS.encode_ws_refusal(req.id, status, body["code"], body["msg"],
                                        limits(account, is_place))
        if m in ACK_FAULT_METHODS:
            conn.out.send_ack(frame)   # the fault plan may delay or lose an order's answer
        else:
            conn.push(frame)
        self._flush(held)

    def _session_request(self, conn: ApiConn, tr: Any, m: str,
                         limits: Callable[[], list[dict[str, Any]] | None]) -> bool:
        """Answer the requests that need no signature (ping, time, session and unsubscribe
        calls): True when `m` was one of them. Order requests never are, and skip this."""
        req = tr.req
        if m == C.WS_PING:
            conn.push(OS.encode_ws_answer(req.id, {}, limits()))
        elif m == C.WS_TIME:
            conn.push(OS.encode_ws_answer(req.id, {"serverTime": self.now_ms()}, limits()))
        elif m in (C.WS_SESSION_LOGON, C.WS_USER_DATA_SUBSCRIBE):
            # session.logon takes Ed25519 keys only; the simulator's keys are HMAC
            conn.push(OS.encode_ws_refusal(req.id, 400, C.E_UNAUTHORIZED, E.MSG_UNAUTHORIZED,
                                          limits()))
        elif m in (C.WS_SESSION_STATUS, C.WS_SESSION_LOGOUT):
            conn.push(OS.encode_ws_answer(req.id, {
                "apiKey": None, "authorizedSince": None, "connectedSince": None,
                "returnRateLimits": conn.rate_limits, "serverTime": self.now_ms(),
                "userDataStream": bool(conn.subs)}, limits()))
        elif m == C.WS_SESSION_SUBSCRIPTIONS:
            conn.push(OS.encode_ws_answer(req.id, [{"subscriptionId": s} for s in conn.subs],
                                         limits()))
        elif m == C.WS_USER_DATA_UNSUBSCRIBE:
            sid = getattr(tr, "subscription_id", None)
            if sid is None:
                conn.subs.clear()
            else:
                conn.subs.pop(sid, None)
            conn.push(OS.encode_ws_answer(req.id, {}, limits()))
        else:
            return False
        return True

    def _authenticate_ws(self, req: O.WsRequest) -> tuple[str | None, Result | None]:
        account = self._account_for(req.api_key)
        if account is None:
            return None, _err(401, C.E_REJECTED_MBX_KEY, E.MSG_BAD_KEY)
        if not req.timestamp_ok(self.now_ms()):
            return None, _err(400, C.E_INVALID_TIMESTAMP, E.MSG_TIMESTAMP)
        if not req.verify(self.venue.api_keys[account]):
            return None, _err(400, C.E_INVALID_SIGNATURE, E.MSG_BAD_SIGNATURE)
        return account, None

    async def ws_api(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=self.ping_interval_s, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = ApiConn(ws, request.remote or "", self.venue, request.query.get("returnRateLimits") != "false")
        self._spend(conn.ip, C.WS_API_CONNECT_WEIGHT)
        await self._serve(conn, self.api, lambda data: self.on_api_frame(conn, data))
        return ws

    # -- market streams ------------------------------------------------------------------------
    def on_stream_frame(self, conn: StreamConn, data: str) -> None:
        sec = self.clock() // 1_000_000_000
        if sec != conn.second:
            conn.second, conn.in_second = sec, 0
        conn.in_second += 1
        if conn.in_second > C.MAX_INCOMING_MSGS_PER_S:
            log.info("binance sim: %s sent more than %d msgs/s: disconnected", conn.ip,
                     C.MAX_INCOMING_MSGS_PER_S)
            conn.close()
            return
        try:
            sr = M.decode_stream_request(data)
        except M.StreamRequestError as exc:
            conn.push(M.encode_stream_error(exc.code, exc.msg, exc.req_id))
            return
        if sr.method == C.M_SUBSCRIBE:
            if len(conn.subs | set(sr.params)) > C.MAX_STREAMS_PER_CONNECTION:
                conn.push(M.encode_stream_error(C.STREAM_ERR_INVALID_REQUEST,
                                                "Invalid request: too many streams", sr.id))
                return
            conn.subs.update(sr.params)
            conn.push(M.encode_subscribe_ack(sr.id))
        elif sr.method == C.M_UNSUBSCRIBE:
            conn.subs.difference_update(sr.params)
            conn.push(M.encode_subscribe_ack(sr.id))
        elif sr.method == C.M_LIST_SUBSCRIPTIONS:
            conn.push(M.encode_subscribe_ack(sr.id, sorted(conn.subs)))
        elif sr.method == C.M_SET_PROPERTY:
            if len(sr.params) != 2 or sr.params[0] != "combined" \
                    or not isinstance(sr.params[1], bool):
                conn.push(M.encode_stream_error(C.STREAM_ERR_UNKNOWN_PROPERTY,
                                                "Unknown property", sr.id))
                return
            conn.combined = sr.params[1]
            conn.push(M.encode_subscribe_ack(sr.id))
        else:  # GET_PROPERTY
            if list(sr.params) != ["combined"]:
                conn.push(M.encode_stream_error(C.STREAM_ERR_UNKNOWN_PROPERTY,
                                                "Unknown property", sr.id))
                return
            conn.push(M.encode_subscribe_ack(sr.id, conn.combined))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        combined = request.path.startswith(C.PATH_WS_COMBINED)
        if combined:
            names = [n for n in request.query.get("streams", "").split("/") if n]
        else:
            names = [n for n in request.match_info.get("streams", "").split("/") if n]
        if len(names) > C.MAX_STREAMS_PER_CONNECTION or any("@" not in n or len(n) > 200
                                                            for n in names):
            return web.json_response(E.encode_error_body(C.E_ILLEGAL_CHARS,
                                                         "Invalid stream name."), status=400)
        ws = web.WebSocketResponse(heartbeat=self.ping_interval_s, max_msg_size=1 << 16)
        await ws.prepare(request)
        conn = StreamConn(ws, request.remote or "", self.venue, combined)
        conn.subs.update(names)
        await self._serve(conn, self.streams, lambda data: self.on_stream_frame(conn, data))
        return ws

    async def _serve(self, conn: Any, registry: set[Any], on_text: Callable[[str], None]
                     ) -> None:
        registry.add(conn)
        conn.writer = asyncio.ensure_future(conn.run_writer())
        loop = asyncio.get_running_loop()
        lifetime = loop.call_later(self.lifetime_s, conn.close)
        try:
            async for msg in conn.ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        on_text(msg.data)
                    except Exception:  # the front must never die on client input
                        log.exception("binance sim: request handling failed")
                        self.counters["errors"] += 1
                        conn.push(O.encode_ws_error(None, 500, C.E_UNKNOWN, E.MSG_UNKNOWN))
                elif msg.type == WSMsgType.BINARY:
                    conn.push(M.encode_stream_error(C.STREAM_ERR_INVALID_JSON,
                                                    "Invalid JSON: binary frame"))
        finally:
            lifetime.cancel()
            registry.discard(conn)
            conn.out.close()
            if conn.writer is not None:
                await asyncio.gather(conn.writer, return_exceptions=True)

    def drop_connections(self) -> Awaitable[Any]:
        """Fault injection: close every WebSocket (streams and WS API) with a close frame.
        Returns an awaitable that completes when the close handshakes are done."""
        conns = list(self.streams) + list(self.api)
        for c in conns:
            c.out.close()
        return asyncio.gather(*(c.ws.close(code=1001, message=b"server going away")
                                for c in conns), return_exceptions=True)

    def announce_shutdown(self) -> None:
        """Binance's `serverShutdown` notice to every stream connection."""
        payload = M.encode_server_shutdown(self.clock())
        for c in list(self.streams):
            c.push(M.wrap_combined(C.STREAM_SERVER_SHUTDOWN, payload) if c.combined else payload)

    # -- REST ----------------------------------------------------------------------------------
    def _json(self, ip: str, result: Result, extra: dict[str, str] | None = None
              ) -> web.Response:
        status, body = result
        headers = {C.HEADER_USED_WEIGHT_1M: str(self._weight_window(ip).used(self.clock()))}
        if extra:
            headers.update(extra)
        if status >= 400:
            self.counters["errors"] += 1
        return web.Response(body=orjson.dumps(body), status=status, headers=headers,
                            content_type="application/json")

    def _limited(self, ip: str) -> web.Response:
        status, code, msg, retry = self._too_much_weight(ip)
        return self._json(ip, _err(status, code, msg),
                          {C.HEADER_RETRY_AFTER: str(max(1, retry // 1000))})

    async def rest_ping(self, request: web.Request) -> web.Response:
        ip = request.remote or ""
        if not self._spend(ip, C.WEIGHT_PING):
            return self._limited(ip)
        return self._json(ip, (200, {}))

    async def rest_time(self, request: web.Request) -> web.Response:
        ip = request.remote or ""
        if not self._spend(ip, C.WEIGHT_TIME):
            return self._limited(ip)
        return self._json(ip, (200, {"serverTime": self.now_ms()}))

    async def rest_exchange_info(self, request: web.Request) -> web.Response:
        ip = request.remote or ""
        if not self._spend(ip, C.WEIGHT_EXCHANGE_INFO):
            return self._limited(ip)
        insts = list(self.venue.instruments)
        wanted: list[str] = []
        q = request.query
        if "symbol" in q:
            wanted = [q["symbol"]]
        elif "symbols" in q:
            try:
                parsed = orjson.loads(q["symbols"])
            except orjson.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, list) or not all(isinstance(s, str) for s in parsed):
                return self._json(ip, _err(400, C.E_ILLEGAL_CHARS,
                                           "Illegal characters found in parameter 'symbols'."))
            wanted = parsed
        if wanted:
            if any(self._inst(s) is None for s in wanted):
                return self._json(ip, _err(400, C.E_BAD_SYMBOL, E.MSG_BAD_SYMBOL))
            insts = [i for i in insts if i.venue_symbol in wanted]
        limits = S.encode_rate_limits(self.orders_per_10s, self.orders_per_day,
                                      self.weight_limit)
        return self._json(ip, (200, S.encode_instruments(insts, self.now_ms(), limits)))

    async def rest_depth(self, request: web.Request) -> web.Response:
        ip = request.remote or ""
        q = request.query
        raw = q.get("limit", str(C.DEPTH_LIMIT_DEFAULT))
        if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
            return self._json(ip, _err(400, C.E_ILLEGAL_CHARS,
                                       "Illegal characters found in parameter 'limit'."))
        limit = min(int(raw), C.DEPTH_LIMIT_MAX)
        if not self._spend(ip, M.depth_weight(limit)):
            return self._limited(ip)
        if not q.get("symbol"):
            return self._json(ip, _err(400, C.E_MANDATORY_PARAM,
                                       "Mandatory parameter 'symbol' was not sent, was "
                                       "empty/null, or malformed."))
        inst = self._inst(q["symbol"])
        if inst is None:
            return self._json(ip, _err(400, C.E_BAD_SYMBOL, E.MSG_BAD_SYMBOL))
        bids, asks = self._levels(inst, limit)
        return self._json(ip, (200, M.encode_rest_snapshot(self._published(inst.symbol),
                                                           bids, asks)))

    async def rest_signed(self, request: web.Request) -> web.Response:
        ip = request.remote or ""
        self.counters["rest"] += 1
        raw_query = request.rel_url.raw_query_string
        body = ""
        if request.can_read_body:
            try:
                body = (await request.read()).decode()
            except UnicodeDecodeError:
                return self._json(ip, _err(400, C.E_ILLEGAL_CHARS, "Malformed request."))
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, max_num_fields=64) + \
                parse_qsl(body, keep_blank_values=True, max_num_fields=64)
        except ValueError:
            return self._json(ip, _err(400, C.E_ILLEGAL_CHARS, "Malformed request."))
        params = dict(pairs)
        try:
            tr = O.decode_rest_request(request.method, request.path, params)
        except O.RequestError as exc:
            self._spend(ip, 1)
            return self._json(ip, _err(exc.status, exc.code, exc.msg))
        weight = self._ws_weight(tr)
        if not self._spend(ip, weight):
            return self._limited(ip)
        api_key = request.headers.get(C.HEADER_API_KEY, "")
        if not api_key:
            return self._json(ip, _err(401, C.E_BAD_API_KEY_FMT, E.MSG_BAD_KEY_FORMAT))
        account = self._account_for(api_key)
        if account is None:
            return self._json(ip, _err(401, C.E_REJECTED_MBX_KEY, E.MSG_BAD_KEY))
        if not tr.req.timestamp_ok(self.now_ms()):
            return self._json(ip, _err(400, C.E_INVALID_TIMESTAMP, E.MSG_TIMESTAMP))
        if not verify_rest(self.venue.api_keys[account], raw_query, body):
            return self._json(ip, _err(400, C.E_INVALID_SIGNATURE, E.MSG_BAD_SIGNATURE))
        result, held = self.execute(account, tr)
        extra = None
        if isinstance(tr, O.PlaceRequest):
            s10, day = self._order_windows(account)
            now = self.clock()
            extra = {C.HEADER_ORDER_COUNT_10S: str(s10.used(now)),
                     C.HEADER_ORDER_COUNT_1D: str(day.used(now))}
        response = self._json(ip, result, extra)
        self._flush(held)
        return response

    # -- app -----------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[_never_a_traceback])
        r = app.router
        r.add_get(C.PATH_PING, self.rest_ping)
        r.add_get(C.PATH_TIME, self.rest_time)
        r.add_get(C.PATH_EXCHANGE_INFO, self.rest_exchange_info)
        r.add_get(C.PATH_DEPTH, self.rest_depth)
        for method, path in C.REST_METHODS:
            r.add_route(method, path, self.rest_signed)
        r.add_get(C.PATH_WS_RAW, self.stream)
        r.add_get(C.PATH_WS_RAW + "/{streams:.+}", self.stream)
        r.add_get(C.PATH_WS_COMBINED, self.stream)
        r.add_get(C.PATH_WS_API, self.ws_api)

        async def _closing(_app: web.Application) -> None:
            await self.drop_connections()

        app.on_shutdown.append(_closing)
        return app


@web.middleware
async def _never_a_traceback(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                             ) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except (ProtocolError, ValueError) as exc:
        log.info("binance sim: bad request %s %s: %s", request.method, request.path, exc)
        return web.json_response(E.encode_error_body(C.E_ILLEGAL_CHARS, "Malformed request."),
                                 status=400)
    except Exception:
        log.exception("binance sim: %s %s failed", request.method, request.path)
        return web.json_response(E.encode_error_body(C.E_UNKNOWN, E.MSG_UNKNOWN), status=500)


def make_front(venue: SimVenue, **kw: Any) -> tuple[BinanceFront, web.Application]:
    """The Binance front for `venue` (registered in `venue.fronts`) and its aiohttp app."""
    front = BinanceFront(venue, **kw)
    return front, front.make_app()
