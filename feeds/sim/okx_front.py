"""The simulated OKX (v5 spot) venue's wire front-end: REST, `/ws/v5/public`, `/ws/v5/private`.

`make_front(venue, disable_ws_snapshot)` returns the front (registered in `venue.fronts`, so
the hub's `dispatch` reaches it) and an aiohttp application serving OKX's real wire protocol
on one port, on the paths of `feeds/sim/endpoints.py`. Every frame in or out is read and
written by the OKX codec (`feeds/okx/protocol/`), the one the feed and gateway use; this
module moves events between the hub and the sockets and keeps the bookkeeping the matching
engine has no notion of (OKX order ids and order records for pushes, fills, tickers, logins).

Served:
- REST public: `/api/v5/public/instruments` (spot; other `instType`s are empty), and
  `/api/v5/market/books` whose `seqId` is the hub's published depth sequence, so OKX's REST
  bootstrap chains onto the WS updates exactly;
- REST signed (OK-ACCESS-* headers verified with the codec, OKX's 501xx codes on failure):
  `trade/order`, `batch-orders`, `cancel-order`, `cancel-batch-orders`, `orders-pending`,
  `fills`, `account/balance`, `cancel-all-after` (`SimVenue.deadman[account]`, 0 disarms);
- WS public: subscribe/unsubscribe acks and errors (60012/60013/60018, 64003 for the VIP
  channels), `bbo-tbt`, `tickers`, `books` (snapshot on subscribe unless disabled, then
  updates with seqId = `DepthChange.last_seq`, prevSeqId = `first_seq - 1`, checksum 0),
  `books5`, `trades`, text `ping` -> `pong`;
- WS private: `login` (60004/60005/60006/60007/60024 as OKX answers), `orders` subscription
  (60011 before login; channel-conn-count after the ack), `order`, `batch-orders`,
  `cancel-order`, `batch-cancel-orders` keyed by `instIdCode`, and `orders` pushes (live,
  fills with tradeId/fillPx/fillSz/fillFee, cancels with cancelSource: 1 user, 31 post-only
  would take, 14 IOC remainder, 20 cancel-all-after).

Requests on a connection are served in order, so a client may send `login` and the `orders`
subscription back to back. Pushes caused by a request are sent after its reply. Any input that
does not decode gets OKX's own error, never a traceback; an unexpected exception while serving
one request is logged and answered with a server error, and the connection lives on.
Simplifications: no 100 ms conflation of `books` (one update per engine change), no rate limits
on trading ops, order ids are `instIdCode * 10**12 + engine order id`.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from feeds.okx.protocol import constants as c
from feeds.okx.protocol import market as m
from feeds.okx.protocol import order_server as osrv
from feeds.okx.protocol import orders as o
from feeds.okx.protocol import symbols as sym
from feeds.okx.protocol.errors import RequestError, encode_rest_error, encode_ws_error, http_status
from feeds.okx.protocol.ops import OpItem
from feeds.okx.protocol.signing import Credentials, parse_iso_timestamp, verify_rest
from feeds.sim.matching import Accepted, Canceled, Expired, Fill, Rejected, Trade
from feeds.sim.outbox import Outbox
from feeds.sim.spellings import Spellings
from feeds.sim.venue import DepthChange, SimVenue
from pipeline.model import Instrument, OrderType, Side, TimeInForce

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
ORD_ID_BASE = 10**12
SEND_QUEUE_MAX = 50_000
MAX_FILLS = 10_000            # per account, for GET /api/v5/trade/fills
MAX_DONE = 10_000             # finished order records kept
SUPPORTED_PUBLIC = frozenset({c.CH_BBO_TBT, c.CH_TICKERS, c.CH_BOOKS, c.CH_BOOKS5, c.CH_TRADES})
ORDERS_INST_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"})

_ORD_TYPE = {"limit": (OrderType.LIMIT, TimeInForce.GTC),
             "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
             "ioc": (OrderType.LIMIT, TimeInForce.IOC), "fok": (OrderType.LIMIT, TimeInForce.FOK),
             "market": (OrderType.MARKET, TimeInForce.IOC)}


_NONE: list[Any] = []   # no subscriber (shared, never mutated)
_ZERO = Decimal(0)
_CANCEL_FAILED = ("Cancellation failed as the order has been filled, canceled or does not "
                  "exist.")


def ord_id_of(inst: Instrument, order_id: int) -> str:
    return str((inst.venue_code or 0) * ORD_ID_BASE + order_id)


def split_ord_id(ord_id: str) -> tuple[int, int]:
    n = int(ord_id)
    return n // ORD_ID_BASE, n % ORD_ID_BASE


# (type, tif) of a limit order -> OKX ordType (a market order is "market" whatever its tif)
_ORD_TYPE_NAME = {(OrderType.LIMIT, TimeInForce.GTC): "limit",
                  (OrderType.LIMIT, TimeInForce.POST_ONLY): "post_only",
                  (OrderType.LIMIT, TimeInForce.IOC): "ioc",
                  (OrderType.LIMIT, TimeInForce.FOK): "fok"}


def _ord_type(type_: OrderType, tif: TimeInForce) -> str:
    if type_ is OrderType.MARKET:
        return "market"
    return {TimeInForce.GTC: "limit", TimeInForce.POST_ONLY: "post_only",
            TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}[tif]


class Session:
    """One WebSocket connection: its subscriptions, login and an ordered send `Outbox`."""

    def __init__(self, ws: web.WebSocketResponse, n: int, private: bool,
                 venue: SimVenue) -> None:
        self.ws = ws
        self.private = private
        self.conn_id = f"{n:08x}"
        self.out = Outbox(ws, venue, limit=SEND_QUEUE_MAX, cut_code=4005,
                          cut_message=b"buffer full")
        self.public: dict[str, set[str]] = {ch: set() for ch in SUPPORTED_PUBLIC}
        self.account: str | None = None
        self.orders_sub: dict[str, None] | None = None   # instId filters ("" = every one)

    def send(self, frame: str) -> None:
        self.out.send(frame)


class _Sessions(set["Session"]):
    """The front's connections: a set that reports its changes (`on_change`), so the
    subscriber index built from it (`OkxFront._index`) is dropped when one comes or goes.
    Tests and benchmarks add and discard sessions directly, so the report comes from here
    rather than from the WS handler."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self.on_change = on_change

    def add(self, s: Session) -> None:
        self.on_change()
        super().add(s)

    def discard(self, s: object) -> None:
        self.on_change()
        super().discard(s)

    def remove(self, s: Session) -> None:
        self.on_change()
        super().remove(s)

    def clear(self) -> None:
        self.on_change()
        super().clear()


class _Index:
    """Who takes which push, built from the sessions in one pass: public sessions per
    (channel, instId), logged-in `orders` subscribers per account, and the hub symbols with
    a depth or BBO/ticker subscriber (the hub's `wants_*` questions). Rebuilt only after a
    connection, subscription or login changed (rare); read on every event (often)."""

    __slots__ = ("bbo", "depth", "orders", "public")

    def __init__(self, sessions: set[Session], symbol_of: dict[str, str]) -> None:
        self.public: dict[tuple[str, str], list[Session]] = {}
        self.orders: dict[str, list[Session]] = {}
        for s in sessions:   # the set's order, as the scans this replaces delivered in
            if s.private:
                if s.account is not None and s.orders_sub is not None:
                    self.orders.setdefault(s.account, []).append(s)
                continue
            for ch, ids in s.public.items():
                for inst_id in ids:
                    self.public.setdefault((ch, inst_id), []).append(s)
        self.depth = {symbol_of.get(i) for ch, i in self.public
                      if ch in (c.CH_BOOKS, c.CH_BOOKS5)}
        self.bbo = {symbol_of.get(i) for ch, i in self.public
                    if ch in (c.CH_BBO_TBT, c.CH_TICKERS)}


@dataclass
class TickerStats:
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    last: Decimal | None = None
    last_sz: Decimal = Decimal(0)
    vol: Decimal = Decimal(0)
    vol_ccy: Decimal = Decimal(0)


@dataclass
class OrderBookkeeping:
    orders: dict[tuple[str, str], o.VenueOrder] = field(default_factory=dict)  # (acct, ordId)
    done: OrderedDict[tuple[str, str], o.VenueOrder] = field(default_factory=OrderedDict)
    fills: dict[str, deque[o.VenueFill]] = field(default_factory=dict)
    notional: dict[tuple[str, str], Decimal] = field(default_factory=dict)


class OkxFront:
    def __init__(self, venue: SimVenue, disable_ws_snapshot: bool = False) -> None:
        self.venue = venue
        self.disable_ws_snapshot = disable_ws_snapshot
        self.by_code = {i.venue_code: i for i in venue.instruments if i.venue_code is not None}
        self._idx: _Index | None = None   # built on first use after a change
        self.sessions: set[Session] = _Sessions(self._changed)
        self._symbol_of = {i.venue_symbol: i.symbol for i in venue.instruments}
        self.book = OrderBookkeeping()
        self.tickers: dict[str, TickerStats] = {i.symbol: TickerStats()
                                                for i in venue.instruments}
        self.uids = {k: str(614488474791936 + n) for n, k in enumerate(sorted(venue.api_keys))}
        self._n = itertools.count(1)
        self._bill = itertools.count(1)
        # frames (str) or order items (dict) raised while a request runs, per session
        self._held: list[tuple[Session, str | dict[str, Any]]] | None = None
        self._hint: tuple[str, str] = ("", "")    # (tag, tgtCcy) of the order being placed
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
        self._held = []

    def _release(self) -> None:
        """Send what a request raised, in order per session; consecutive order updates of
        one session go out as one `orders` push (as OKX packs simultaneous updates)."""
        held, self._held = self._held or [], None
        if len(held) == 1:   # the common case: one order update (or one frame) for one session
            s, frame = held[0]
            s.send(o.encode_orders_push_items([frame], self.uids.get(s.account or "", "0"))
                   if type(frame) is dict else frame)  # type: ignore[list-item,arg-type]
            return
        items: dict[Session, list[dict[str, Any]]] = {}
        for s, frame in held:
            if isinstance(frame, dict):
                items.setdefault(s, []).append(frame)
                continue
            pending = items.pop(s, None)
            if pending:
                s.send(o.encode_orders_push_items(pending, self.uids.get(s.account or "", "0")))
            s.send(frame)
        for s, pending in items.items():
            s.send(o.encode_orders_push_items(pending, self.uids.get(s.account or "", "0")))

    def _changed(self) -> None:
        """A session came or went, or a subscription or login changed: the next lookup
        rebuilds the subscriber index."""
        self._idx = None

    def _index(self) -> _Index:
        idx = self._idx
        if idx is None:
            idx = self._idx = _Index(self.sessions, self._symbol_of)
        return idx

    def _subscribers(self, channel: str, inst_id: str) -> list[Session]:
        return self._index().public.get((channel, inst_id), _NONE)

    # -- hub callbacks (FrontEnd) --------------------------------------------------------------
    def wants_depth(self, symbol: str) -> bool:
        """Hub question (see `FrontEnd`): would `on_depth` push anything for `symbol`?"""
        return symbol in self._index().depth

    def wants_bbo(self, symbol: str) -> bool:
        """Hub question: would `on_bbo` push a `bbo-tbt` or `tickers` frame for `symbol`?"""
        return symbol in self._index().bbo

    def published_seq(self, symbol: str) -> int:
        """The last depth sequence the hub published for `symbol` (updates continue from it)."""
        seqs = getattr(self.venue, "_published_seq", None)
        if isinstance(seqs, dict):
            return int(seqs.get(symbol, self.venue.engines[symbol].sequence))
        return self.venue.engines[symbol].sequence

    def _spell(self, inst: Instrument) -> Spellings:
        """`inst.format_price` / `format_qty`, memoised (see feeds/sim/spellings.py)."""
        sp = self._spellings.get(inst.symbol)
        if sp is None:
            sp = self._spellings[inst.symbol] = Spellings(inst.format_price, inst.format_qty)
        return sp

    def _wire_levels(self, inst: Instrument, levels: list[tuple[int, int]]
                     ) -> list[list[str]]:
        """`_levels_out(_levels(inst, levels))`, from the memo: the same strings."""
        sp = self._spell(inst)
        px, qx = sp.price, sp.qty
        return [[px(p), qx(q), "0", "1" if q else "0"] for p, q in levels]

    def _wire_top(self, inst: Instrument, lvl: tuple[int, int] | None) -> list[list[str]]:
        """`_levels_out([_level(inst, lvl)])` (count "1"), or [] for an empty side."""
        if lvl is None:
            return []
        sp = self._spell(inst)
        return [[sp.price(lvl[0]), sp.qty(lvl[1]), "0", "1"]]

    def on_depth(self, change: DepthChange) -> None:
        inst = change.instrument
        subs = self._subscribers(c.CH_BOOKS, inst.venue_symbol)
        if subs:
            frame = m.encode_books_spelled(
                c.ACTION_UPDATE, inst.venue_symbol, self._wire_levels(inst, change.bids),
                self._wire_levels(inst, change.asks), change.ts_ns, change.last_seq,
                change.first_seq - 1)
            for s in subs:
                self._deliver(s, frame)
        subs5 = self._subscribers(c.CH_BOOKS5, inst.venue_symbol)
        if subs5:
            frame = self._books5(inst, change.last_seq, change.ts_ns)
            for s in subs5:
                self._deliver(s, frame)

    def _books5(self, inst: Instrument, seq: int, ts_ns: int) -> str:
        bids, asks = self.venue.engines[inst.symbol].depth(5)
        return m.encode_books5(inst.venue_symbol, _levels(inst, bids), _levels(inst, asks),
                               ts_ns, seq)

    def _bbo(self, inst: Instrument, seq: int, ts_ns: int) -> str:
        bid, ask = self.venue.engines[inst.symbol].best()
        return m.encode_bbo(inst.venue_symbol, _level(inst, bid), _level(inst, ask), ts_ns, seq)

    def _ticker(self, inst: Instrument, ts_ns: int) -> str:
        bid, ask = self.venue.engines[inst.symbol].best()
        t = self.tickers[inst.symbol]
        bp, bs = _level(inst, bid) or ("", "")
        ap, as_ = _level(inst, ask) or ("", "")
        ref = t.last if t.last is not None else (
            inst.ticks_to_price(bid[0]) if bid else inst.ticks_to_price(ask[0]) if ask
            else Decimal(0))
        first = t.open if t.open is not None else ref
        return m.encode_ticker(
            inst.venue_symbol, last=ref, last_sz=t.last_sz, bid_px=bp or "0", bid_sz=bs or "0",
            ask_px=ap or "0", ask_sz=as_ or "0", open_24h=first,
            high_24h=t.high if t.high is not None else ref,
            low_24h=t.low if t.low is not None else ref, vol_ccy_24h=t.vol_ccy, vol_24h=t.vol,
            sod_utc0=first, sod_utc8=first, ts_ns=ts_ns)

    def on_bbo(self, inst: Instrument, bid: tuple[int, int] | None,
               ask: tuple[int, int] | None, seq: int, ts_ns: int) -> None:
        subs = self._subscribers(c.CH_BBO_TBT, inst.venue_symbol)
        if subs:
            frame = m.encode_bbo_spelled(inst.venue_symbol, self._wire_top(inst, bid),
                                         self._wire_top(inst, ask), ts_ns, seq)
            for s in subs:
                self._deliver(s, frame)
        self._push_ticker(inst, ts_ns)

    def _push_ticker(self, inst: Instrument, ts_ns: int) -> None:
        subs = self._subscribers(c.CH_TICKERS, inst.venue_symbol)
        if subs:
            frame = self._ticker(inst, ts_ns)
            for s in subs:
                self._deliver(s, frame)

    def on_trade(self, inst: Instrument, trade: Trade) -> None:
        px, sz = inst.ticks_to_price(trade.price_ticks), inst.lots_to_qty(trade.lots)
        t = self.tickers[inst.symbol]
        if t.open is None:
            t.open = px
        t.high = px if t.high is None else max(t.high, px)
        t.low = px if t.low is None else min(t.low, px)
        t.last, t.last_sz = px, sz
        t.vol += sz
        t.vol_ccy += px * sz
        subs = self._subscribers(c.CH_TRADES, inst.venue_symbol)
        if subs:
            sp = self._spell(inst)   # format_price(t) is num_str(ticks_to_price(t)), exactly
            frame = m.encode_trade_spelled(inst.venue_symbol, trade.trade_id,
                                           sp.price(trade.price_ticks), sp.qty(trade.lots),
                                           trade.taker_side, trade.ts_ns,
                                           seq_id=self.published_seq(inst.symbol))
            for s in subs:
                self._deliver(s, frame)
        self._push_ticker(inst, trade.ts_ns)

    def on_private(self, account: str, inst: Instrument, event: Any) -> None:
        vo = self._record(account, inst, event)
        if vo is None:
            return
        self._push_order(account, inst, vo)
        if vo.trade_id:   # the next push about this order carries no fill unless it has one
            vo.trade_id = ""   # (without a trade id the fill fields are still the defaults)
            vo.fill_px, vo.fill_sz, vo.fill_time_ns = None, _ZERO, 0
            vo.fill_fee_paid, vo.fill_fee_ccy, vo.exec_type = _ZERO, "", ""

    # -- order records -------------------------------------------------------------------------
    def _record(self, account: str, inst: Instrument, ev: Any) -> o.VenueOrder | None:
        bk = self.book
        kind = type(ev)   # the event classes are final
        if kind is Accepted:
            tag, tgt = self._hint
            qty = (ev.quote_qty if ev.quote_qty is not None else inst.lots_to_qty(ev.lots))
            buy = ev.side is Side.BUY
            ts = ev.ts_ns
            # positional up to tgt_ccy (VenueOrder's field order): keywords cost per call
            vo = o.VenueOrder(
                inst.venue_symbol, ord_id_of(inst, ev.order_id), ev.side,
                _ORD_TYPE_NAME[ev.type, ev.tif] if ev.type is not OrderType.MARKET
                else "market", qty,
                inst.ticks_to_price(ev.price_ticks) if ev.price_ticks is not None else None,
                "live", ts, ts, ev.client_id, tag, tgt,
                fee_ccy=inst.base if buy else inst.quote,
                rebate_ccy=inst.quote if buy else inst.base, quote_ccy=inst.quote)
            bk.orders[(account, vo.ord_id)] = vo
            return vo
        if kind is not Fill and kind is not Canceled and kind is not Expired:
            return None  # a refusal: the op response carries it, OKX pushes nothing
        key = (account, ord_id_of(inst, ev.order_id))
        found = bk.orders.get(key)
        if found is None:
            return None
        vo = found
        vo.u_time_ns = ev.ts_ns
        if isinstance(ev, Fill):
            px, qty = inst.ticks_to_price(ev.price_ticks), inst.lots_to_qty(ev.lots)
            notional = bk.notional.get(key, Decimal(0)) + px * qty
            bk.notional[key] = notional
            vo.acc_fill_sz = inst.lots_to_qty(ev.cum_lots)
            vo.avg_px = notional / vo.acc_fill_sz
            vo.fee_paid += ev.fee
            vo.fee_ccy = ev.fee_asset
            vo.trade_id = str(ev.trade_id)
            vo.fill_px, vo.fill_sz, vo.fill_time_ns = px, qty, ev.ts_ns
            vo.fill_fee_paid, vo.fill_fee_ccy = ev.fee, ev.fee_asset
            vo.exec_type = c.EXEC_TYPE_MAKER if ev.is_maker else c.EXEC_TYPE_TAKER
            vo.last_px = px
            vo.state = "filled" if ev.leaves_lots == 0 else "partially_filled"
            fills = bk.fills.setdefault(account, deque(maxlen=MAX_FILLS))
            fills.append(o.VenueFill(inst.venue_symbol, vo.trade_id, vo.ord_id,
                                     str(next(self._bill)), ev.side, px, qty, vo.exec_type,
                                     ev.fee, ev.fee_asset, ev.ts_ns, vo.cl_ord_id, vo.tag))
        else:
            vo.state = "canceled"
            vo.cancel_source = ev.venue_code
        if vo.state in c.TERMINAL_STATES:
            bk.orders.pop(key, None)
            bk.notional.pop(key, None)
            bk.done[key] = vo
            if len(bk.done) > MAX_DONE:
                bk.done.popitem(last=False)
        return vo

    def _push_order(self, account: str, inst: Instrument, vo: o.VenueOrder) -> None:
        frame: str | None = None
        item: dict[str, Any] | None = None
        held = self._held
        for s in self._index().orders.get(account, _NONE):
            sub = s.orders_sub
            if sub is None or ("" not in sub and inst.venue_symbol not in sub):
                continue
            if held is not None:   # a snapshot of the order now: it may change again
                if item is None:
                    item = o.encode_order_item(vo)
                held.append((s, item))
                continue
            if frame is None:
                frame = o.encode_orders_push([vo], self.uids.get(account, "0"))
            s.send(frame)

    def _order_record(self, account: str, inst: Instrument, view: Any) -> o.VenueOrder:
        vo = self.book.orders.get((account, ord_id_of(inst, view.order_id)))
        if vo is not None:
            return vo
        # an order placed before this front existed (or by the hub directly)
        return o.VenueOrder(
            inst_id=inst.venue_symbol, ord_id=ord_id_of(inst, view.order_id), side=view.side,
            ord_type=_ord_type(view.type, view.tif), sz=inst.lots_to_qty(view.lots),
            px=inst.ticks_to_price(view.price_ticks) if view.price_ticks is not None else None,
            state="partially_filled" if view.filled_lots else "live",
            c_time_ns=view.created_ns, u_time_ns=view.updated_ns, cl_ord_id=view.client_id,
            acc_fill_sz=inst.lots_to_qty(view.filled_lots), quote_ccy=inst.quote)

    # -- trading (WS and REST share these) ------------------------------------------------------
    def _place(self, account: str, a: o.PlaceArgs, inst: Instrument | None) -> osrv.OpRow:
        """Place one order; its outcome as an op-response row (see `osrv.encode_op_rows`): a
        plain tuple, since the WS reply is encoded from it directly (REST wraps it)."""
        now = self.now()
        cl = a.cl_ord_id
        if inst is None:
            return (cl, "", c.CODE_NO_INSTRUMENT, "Instrument ID or Spread ID doesn't exist.",
                    a.tag, now)
        if a.td_mode != c.TD_MODE_CASH:
            return (cl, "", c.CODE_PARAM_ERROR, "Parameter tdMode error", a.tag, now)
        type_, tif = _ORD_TYPE[a.ord_type]
        quote_sized = (type_ is OrderType.MARKET and a.side is Side.BUY
                       and a.tgt_ccy in ("", c.TGT_CCY_QUOTE))
        self._hint = (a.tag, a.tgt_ccy)
        try:
            events = self.venue.place_wire(
                account, inst.symbol, cl, a.side, type_, tif, a.px,
                None if quote_sized else a.sz, a.sz if quote_sized else None)
        finally:
            self._hint = ("", "")
        for ev in events:
            kind = type(ev)   # the event classes are final
            if kind is Rejected:
                return (cl, "", ev.venue_code, ev.message, a.tag, now)
            if kind is Accepted:
                return (cl, ord_id_of(inst, ev.order_id), c.CODE_OK, "Order placed", a.tag,
                        now)
        return (cl, "", c.CODE_ORDER_TIMEOUT, "Order timed out.", a.tag, now)

    def _cancel(self, account: str, a: o.CancelArgs, inst: Instrument | None) -> osrv.OpRow:
        """Cancel one order; its outcome as an op-response row (as `_place`)."""
        now = self.now()
        if inst is None:
            return (a.cl_ord_id, a.ord_id, c.CODE_NO_INSTRUMENT,
                    "Instrument ID or Spread ID doesn't exist.", "", now)
        ref: int | str = a.cl_ord_id
        if a.ord_id:
            code, oid = split_ord_id(a.ord_id)
            ref = oid if code == inst.venue_code else -1
        events = self.venue.cancel(account, inst.symbol, ref)
        for ev in events:
            kind = type(ev)
            if kind is Rejected:
                return (a.cl_ord_id, a.ord_id, ev.venue_code, ev.message, "", now)
            if kind is Canceled or kind is Expired:
                return (ev.client_id, ord_id_of(inst, ev.order_id), c.CODE_OK, "", "", now)
        return (a.cl_ord_id, a.ord_id, c.CODE_CANCEL_FAILED, _CANCEL_FAILED, "", now)

    # -- faults --------------------------------------------------------------------------------
    def drop_connections(self) -> Awaitable[Any]:
        """Close every WebSocket with a close frame (4006 abnormal; OKX's restarts look like
        this). Returns an awaitable completing when the close handshakes are done."""
        sessions = list(self.sessions)
        for s in sessions:
            s.out.close()
        return asyncio.gather(*(s.ws.close(code=4006, message=b"service restart")
                                for s in sessions), return_exceptions=True)

    # ========================================================================== WebSocket
    def ws_route(self, private: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await self._ws(request, private)
        return handler

    async def _ws(self, request: web.Request, private: bool) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        s = Session(ws, next(self._n), private, self.venue)
        self.sessions.add(s)
        writer = asyncio.ensure_future(s.out.run())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(s, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    s.send(encode_ws_error(c.CODE_INVALID_REQUEST, "Invalid request",
                                           s.conn_id))
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
            if s.private:
                self._private_text(s, data)
            else:
                self._public_text(s, data)
        except Exception:  # one bad request must never take the connection or the venue down
            log.exception("okx sim: error serving a WS request")
            s.send(encode_ws_error(c.CODE_BUSY, "Systems are busy. Please try again later.",
                                   s.conn_id))
        finally:
            self._release()

    def _ws_error(self, s: Session, exc: RequestError) -> None:
        s.send(encode_ws_error(exc.code, _msg(exc), s.conn_id, exc.req_id))

    # -- public --------------------------------------------------------------------------------
    def _public_text(self, s: Session, data: str) -> None:
        try:
            req = m.decode_public_request(data)
        except RequestError as exc:
            self._ws_error(s, exc)
            return
        if isinstance(req, m.PingRequest):
            s.send(m.encode_pong())
            return
        for arg in req.args:  # validate everything first: a refused request changes nothing
            ch, inst_id = arg.get("channel", ""), arg.get("instId", "")
            if ch in c.VIP4_CHANNELS and inst_id in self.venue.by_venue_symbol:
                s.send(encode_ws_error(c.CODE_FEE_TIER, "Your trading fee tier doesn't meet the "
                                       "requirement to access this channel", s.conn_id,
                                       req.req_id))
                return
            if ch not in SUPPORTED_PUBLIC or inst_id not in self.venue.by_venue_symbol:
                s.send(encode_ws_error(c.CODE_WS_NO_CHANNEL, f"Wrong URL or channel:{ch:.40},"
                                       f"instId:{inst_id:.40} doesn't exist", s.conn_id,
                                       req.req_id))
                return
        now = self.now()
        self._changed()
        for arg in req.args:
            ch, inst_id = arg["channel"], arg["instId"]
            if req.op == c.OP_UNSUBSCRIBE:
                s.public[ch].discard(inst_id)
                s.send(m.encode_subscribe_ack(arg, s.conn_id, req.req_id, c.OP_UNSUBSCRIBE))
                continue
            s.public[ch].add(inst_id)
            s.send(m.encode_subscribe_ack(arg, s.conn_id, req.req_id))
            self._initial(s, ch, self.venue.by_venue_symbol[inst_id], now)

    def _initial(self, s: Session, ch: str, inst: Instrument, now: int) -> None:
        """What OKX pushes right after a subscription: the books snapshot (until OKX removes
        it, see `disable_ws_snapshot`), and the current state of the snapshot-style channels."""
        seq = self.published_seq(inst.symbol)
        eng = self.venue.engines[inst.symbol]
        if ch == c.CH_BOOKS and not self.disable_ws_snapshot:
            bids, asks = eng.depth(c.BOOK_DEPTH[c.CH_BOOKS])
            s.send(m.encode_books(c.ACTION_SNAPSHOT, inst.venue_symbol, _levels(inst, bids),
                                  _levels(inst, asks), now, seq, c.SNAPSHOT_PREV_SEQ_ID))
        elif ch == c.CH_BOOKS5:
            s.send(self._books5(inst, seq, now))
        elif ch == c.CH_BBO_TBT:
            s.send(self._bbo(inst, seq, now))
        elif ch == c.CH_TICKERS:
            s.send(self._ticker(inst, now))

    # -- private -------------------------------------------------------------------------------
    def _private_text(self, s: Session, data: str) -> None:
        try:
            req = o.decode_ws_request(data)
        except RequestError as exc:
            if exc.op in c.TRADE_OPS and exc.req_id is not None:
                now = self.now()
                s.send(o.encode_op_error(exc.req_id, exc.op, exc.code, _msg(exc), now,
                                         self.now()))
            else:
                self._ws_error(s, exc)
            return
        kind = type(req)   # the request classes are final; trading ops are the hot case
        if kind is o.PlaceRequest:
            self._ws_trade(s, req, place=True)
        elif kind is o.CancelRequest:
            self._ws_trade(s, req, place=False)
        elif isinstance(req, o.PingRequest):
            s.send(m.encode_pong())
        elif isinstance(req, o.LoginRequest):
            self._login(s, req)
        elif isinstance(req, o.ChannelRequest):
            self._private_channel(s, req)
        elif isinstance(req, o.PlaceRequest):
            self._ws_trade(s, req, place=True)
        elif isinstance(req, o.CancelRequest):
            self._ws_trade(s, req, place=False)

    def _creds(self, key: str) -> Credentials | None:
        secret = self.venue.api_keys.get(key)
        if secret is None:
            return None
        return Credentials(key, secret, self.venue.passphrases.get(key, ""))

    def _login(self, s: Session, req: o.LoginRequest) -> None:
        why = o.check_login(req, self._creds(req.api_key), self.now() // NS_PER_S)
        if why is not None:
            s.send(o.encode_login_error(s.conn_id, why[0], why[1]))
            return
        s.account = req.api_key
        self._changed()
        s.send(o.encode_login_ok(s.conn_id))

    def _private_channel(self, s: Session, req: o.ChannelRequest) -> None:
        if s.account is None:
            s.send(encode_ws_error(c.CODE_WS_NOT_LOGGED_IN, "Please log in", s.conn_id,
                                   req.req_id))
            return
        filters: list[str] = []
        for arg in req.args:
            ch, inst_id = arg.get("channel", ""), arg.get("instId", "")
            if ch != c.CH_ORDERS:
                s.send(encode_ws_error(c.CODE_WS_NO_CHANNEL, f"Wrong URL or channel:{ch:.40},"
                                       f"instId:{inst_id:.40} doesn't exist", s.conn_id,
                                       req.req_id))
                return
            if arg.get("instType") not in ORDERS_INST_TYPES or (
                    inst_id and inst_id not in self.venue.by_venue_symbol):
                s.send(encode_ws_error(c.CODE_INVALID_ARGS, "Invalid args", s.conn_id,
                                       req.req_id))
                return
            filters.append(inst_id)
        self._changed()
        for arg, inst_id in zip(req.args, filters, strict=True):
            if req.op == c.OP_SUBSCRIBE:
                if s.orders_sub is None:
                    s.orders_sub = {}
                s.orders_sub[inst_id] = None
                s.send(m.encode_subscribe_ack(arg, s.conn_id, req.req_id))
                count = sum(1 for x in self.sessions
                            if x.account == s.account and x.orders_sub is not None)
                s.send(m.encode_conn_count(c.CH_ORDERS, count, s.conn_id))
            else:
                if s.orders_sub is not None:
                    s.orders_sub.pop(inst_id, None)
                    if not s.orders_sub:
                        s.orders_sub = None
                s.send(m.encode_subscribe_ack(arg, s.conn_id, req.req_id, c.OP_UNSUBSCRIBE))

    def _ws_trade(self, s: Session, req: Any, place: bool) -> None:
        t_in = self.now()
        if s.account is None:
            s.send(o.encode_op_error(req.req_id, req.op, c.CODE_WS_NOT_LOGGED_IN,
                                     "Please log in", t_in, self.now()))
            return
        account = s.account
        by_code = self.by_code
        act = self._place if place else self._cancel
        args = req.args
        if len(args) == 1:   # one order per request is the common case: no comprehension
            a = args[0]
            rows = [act(account, a, by_code.get(a.inst_id_code))]  # type: ignore[operator]
        else:
            rows = [act(account, a, by_code.get(a.inst_id_code)) for a in args]  # type: ignore[operator]
        # the fault plan may delay or lose an order's answer
        s.out.send_ack(osrv.encode_op_rows(req.req_id, req.op, rows, t_in, self.now()))

    # ========================================================================== REST
    def _json(self, body: Any, status: int = 200) -> web.Response:
        return web.Response(body=orjson.dumps(body), status=status,
                            content_type="application/json")

    def _error(self, code: str, msg: str) -> web.Response:
        return self._json(encode_rest_error(code, msg), http_status(code))

    def _auth(self, request: web.Request, body: str) -> str | web.Response:
        h = request.headers
        key, sign = h.get("OK-ACCESS-KEY"), h.get("OK-ACCESS-SIGN")
        ts, pp = h.get("OK-ACCESS-TIMESTAMP"), h.get("OK-ACCESS-PASSPHRASE")
        if not key:
            return self._error(c.CODE_KEY_EMPTY, "Request header OK-ACCESS-KEY can not be empty.")
        if not sign:
            return self._error(c.CODE_SIGN_EMPTY,
                               "Request header OK-ACCESS-SIGN can not be empty.")
        if not ts:
            return self._error(c.CODE_TIMESTAMP_EMPTY,
                               "Request header OK-ACCESS-TIMESTAMP can not be empty.")
        if not pp:
            return self._error(c.CODE_PASSPHRASE_EMPTY,
                               "Request header OK-ACCESS-PASSPHRASE can not be empty.")
        ts_ms = parse_iso_timestamp(ts)
        if ts_ms is None:
            return self._error(c.CODE_INVALID_TIMESTAMP, "Invalid OK-ACCESS-TIMESTAMP")
        if abs(self.now() // NS_PER_MS - ts_ms) > c.REST_TIMESTAMP_SKEW_S * 1000:
            return self._error(c.CODE_TIMESTAMP_EXPIRED, "Timestamp request expired")
        creds = self._creds(key)
        if creds is None:
            return self._error(c.CODE_INVALID_KEY, "Invalid OK-ACCESS-KEY")
        if pp != creds.passphrase:
            return self._error(c.CODE_PASSPHRASE, "OK-ACCESS-PASSPHRASE incorrect.")
        # the signed path is the one sent, query string byte for byte
        if not verify_rest(creds.secret, ts, request.method, request.raw_path, body, sign):
            return self._error(c.CODE_INVALID_SIGN, "Invalid Sign")
        return key

    async def _guard(self, request: web.Request, handler: Any, signed: bool) -> web.Response:
        try:
            body = (await request.read()).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            return self._error(c.CODE_PARAM_ERROR, "Invalid request body")
        account = None
        if signed:
            auth = self._auth(request, body)
            if isinstance(auth, web.Response):
                return auth
            account = auth
        self._hold()
        try:
            return handler(request, account, body)  # type: ignore[no-any-return]
        except RequestError as exc:
            return self._error(exc.code, _msg(exc))
        except Exception:
            log.exception("okx sim: error serving %s %s", request.method, request.path)
            return self._error(c.CODE_BUSY, "Systems are busy. Please try again later.")
        finally:
            self._release()

    def route(self, handler: Any, signed: bool = False) -> Any:
        async def h(request: web.Request) -> web.Response:
            return await self._guard(request, handler, signed)
        return h

    # -- public --------------------------------------------------------------------------------
    def get_instruments(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        q = request.query
        inst_type = q.get("instType", "")
        if not inst_type:
            return self._error(c.CODE_PARAM_EMPTY, "Parameter instType can not be empty.")
        if inst_type not in ORDERS_INST_TYPES - {"ANY"}:
            return self._error(c.CODE_PARAM_ERROR, "Parameter instType error")
        insts = self.venue.instruments if inst_type == c.INST_TYPE_SPOT else []
        inst_id = q.get("instId")
        if inst_id:
            insts = [i for i in insts if i.venue_symbol == inst_id]
        return self._json(sym.encode_instruments(insts))

    def get_books(self, request: web.Request, _a: Any, _b: str) -> web.Response:
        q = request.query
        inst_id = q.get("instId", "")
        if not inst_id:
            return self._error(c.CODE_PARAM_EMPTY, "Parameter instId can not be empty.")
        inst = self.venue.by_venue_symbol.get(inst_id)
        if inst is None:
            return self._error(c.CODE_NO_INSTRUMENT, "Instrument ID or Spread ID doesn't exist.")
        sz_s = q.get("sz", "1")
        if not (sz_s.isascii() and sz_s.isdigit()) or not 1 <= int(sz_s) <= c.REST_BOOK_MAX_SZ:
            return self._error(c.CODE_PARAM_ERROR, "Parameter sz error")
        bids, asks = self.venue.engines[inst.symbol].depth(int(sz_s))
        return self._json(m.encode_rest_snapshot(_levels(inst, bids), _levels(inst, asks),
                                                 self.now(), self.published_seq(inst.symbol)))

    # -- signed --------------------------------------------------------------------------------
    def _rest_ops(self, rows: list[osrv.OpRow], t_in: int, place: bool) -> web.Response:
        items = [OpItem(cl, oid, code, msg, tag=tag, ts_event=ts)
                 for cl, oid, code, msg, tag, ts in rows]
        return self._json(o.encode_rest_op_response(items, t_in, self.now(), place=place))

    def post_order(self, request: web.Request, account: str, body: str) -> web.Response:
        t_in = self.now()
        args = o.decode_rest_place(body)
        return self._rest_ops([self._place(account, a, self.venue.by_venue_symbol.get(a.inst_id))
                               for a in args], t_in, True)

    def post_batch_orders(self, request: web.Request, account: str, body: str) -> web.Response:
        t_in = self.now()
        args = o.decode_rest_place(body, batch=True)
        return self._rest_ops([self._place(account, a, self.venue.by_venue_symbol.get(a.inst_id))
                               for a in args], t_in, True)

    def post_cancel(self, request: web.Request, account: str, body: str) -> web.Response:
        t_in = self.now()
        args = o.decode_rest_cancel(body)
        return self._rest_ops([self._cancel(account, a,
                                            self.venue.by_venue_symbol.get(a.inst_id))
                               for a in args], t_in, False)

    def post_cancel_batch(self, request: web.Request, account: str, body: str) -> web.Response:
        t_in = self.now()
        args = o.decode_rest_cancel(body, batch=True)
        return self._rest_ops([self._cancel(account, a,
                                            self.venue.by_venue_symbol.get(a.inst_id))
                               for a in args], t_in, False)

    def _listing_filter(self, request: web.Request) -> tuple[str | None, int] | web.Response:
        q = request.query
        inst_type = q.get("instType", "")
        if inst_type and inst_type not in ORDERS_INST_TYPES:
            return self._error(c.CODE_PARAM_ERROR, "Parameter instType error")
        inst_id = q.get("instId") or None
        if inst_id is not None and inst_id not in self.venue.by_venue_symbol:
            return self._error(c.CODE_NO_INSTRUMENT, "Instrument ID or Spread ID doesn't exist.")
        lim_s = q.get("limit", str(c.ORDERS_PENDING_MAX_LIMIT))
        if not (lim_s.isascii() and lim_s.isdigit()) or not 1 <= int(lim_s) <= 100:
            return self._error(c.CODE_PARAM_ERROR, "Parameter limit error")
        if inst_type not in ("", "SPOT", "ANY"):
            return None, 0  # no margin/derivative orders on this venue
        return inst_id, int(lim_s)

    def get_orders_pending(self, request: web.Request, account: str, _b: str) -> web.Response:
        f = self._listing_filter(request)
        if isinstance(f, web.Response):
            return f
        inst_id, limit = f
        q = request.query
        out: list[o.VenueOrder] = []
        if limit:
            for inst in self.venue.instruments:
                if inst_id is not None and inst.venue_symbol != inst_id:
                    continue
                for view in self.venue.open_orders(account, inst.symbol):
                    out.append(self._order_record(account, inst, view))
        ord_type, state = q.get("ordType"), q.get("state")
        out = [x for x in out if (not ord_type or x.ord_type == ord_type)
               and (not state or x.state == state)]
        out = _page(out, lambda x: int(x.ord_id), q, limit)
        return self._json(o.encode_orders_pending(out))

    def get_order(self, request: web.Request, account: str, _b: str) -> web.Response:
        """`GET /api/v5/trade/order` by `ordId` or `clOrdId`: live or recently finished
        orders (51603 once it is unknown or aged out, as OKX answers)."""
        q = request.query
        inst_id, ord_id, cl = q.get("instId"), q.get("ordId"), q.get("clOrdId")
        if not inst_id:
            return self._error(c.CODE_PARAM_EMPTY, "Parameter instId can not be empty")
        inst = self.venue.by_venue_symbol.get(inst_id)
        if inst is None:
            return self._error(c.CODE_NO_INSTRUMENT, "Instrument ID or Spread ID doesn't exist.")
        if not ord_id and not cl:
            return self._error(c.CODE_PARAM_EMPTY, "Parameter ordId can not be empty")
        vo = self._find_order(account, inst, ord_id, cl)
        if vo is None:
            return self._error(c.CODE_ORDER_NOT_EXIST, "Order does not exist")
        return self._json(o.encode_orders_pending([vo]))

    def _find_order(self, account: str, inst: Instrument, ord_id: str | None,
                    cl_ord_id: str | None) -> o.VenueOrder | None:
        bk = self.book
        if ord_id:
            key = (account, ord_id)
            vo = bk.orders.get(key) or bk.done.get(key)
            return vo if vo is not None and vo.inst_id == inst.venue_symbol else None
        for book in (bk.orders, bk.done):
            for (acct, _), vo in book.items():
                if acct == account and vo.cl_ord_id == cl_ord_id \
                        and vo.inst_id == inst.venue_symbol:
                    return vo
        return None

    def get_fills(self, request: web.Request, account: str, _b: str) -> web.Response:
        f = self._listing_filter(request)
        if isinstance(f, web.Response):
            return f
        inst_id, limit = f
        fills = [x for x in self.book.fills.get(account, ())
                 if inst_id is None or x.inst_id == inst_id] if limit else []
        fills = _page(fills, lambda x: int(x.bill_id), request.query, limit)
        return self._json(o.encode_fills(fills))

    def get_balance(self, request: web.Request, account: str, _b: str) -> web.Response:
        acct = self.venue.accounts.get(account)
        want = {x for x in request.query.get("ccy", "").split(",") if x}
        out = []
        if acct is not None:
            for a in sorted(set(acct.available) | set(acct.locked)):
                if want and a not in want:
                    continue
                b = acct.balance(a)
                out.append(o.VenueBalance(a, b.available, b.locked))
        return self._json(o.encode_balance(out, self.now()))

    def post_cancel_all_after(self, request: web.Request, account: str,
                              body: str) -> web.Response:
        timeout, tag = o.decode_cancel_all_after(body)
        if tag:  # the hub keeps one timer per account
            return self._error(c.CODE_PARAM_ERROR, "Parameter tag error: tag-level timers "
                               "are not simulated")
        now = self.now()
        if timeout == 0:
            self.venue.deadman.pop(account, None)
            return self._json(o.encode_cancel_all_after(0, now))
        deadline = now + timeout * NS_PER_S
        self.venue.deadman[account] = deadline
        return self._json(o.encode_cancel_all_after(deadline, now))


# -- helpers -----------------------------------------------------------------------------------
def _msg(exc: RequestError) -> str:
    return exc.what[:200]


def _level(inst: Instrument, lvl: tuple[int, int] | None) -> tuple[str, str] | None:
    if lvl is None:
        return None
    return inst.format_price(lvl[0]), inst.format_qty(lvl[1])


def _levels(inst: Instrument, levels: list[tuple[int, int]]) -> list[tuple[str, str, int]]:
    # order counts are not tracked per level: 1 for a live level, 0 for a deleted one
    return [(inst.format_price(p), inst.format_qty(q), 1 if q else 0) for p, q in levels]


def _page(items: list[Any], key: Callable[[Any], int], q: Any, limit: int) -> list[Any]:
    """OKX's id cursors, newest first: `after` = older than that id, `before` = newer."""
    def cursor(name: str) -> int | None:
        v = q.get(name)
        return int(v) if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 30 \
            else None
    after, before = cursor("after"), cursor("before")
    out = sorted(items, key=key, reverse=True)
    if after is not None:
        out = [x for x in out if key(x) < after]
    if before is not None:
        out = [x for x in out if key(x) > before]
    return out[:limit]


def make_front(venue: SimVenue, disable_ws_snapshot: bool = False
               ) -> tuple[OkxFront, web.Application]:
    """The OKX front-end for `venue` (registered in `venue.fronts`) and its aiohttp app."""
    front = OkxFront(venue, disable_ws_snapshot)
    app = web.Application(client_max_size=1 << 20)
    r = front.route
    app.router.add_get(c.WS_PUBLIC_PATH, front.ws_route(private=False))
    app.router.add_get(c.WS_PRIVATE_PATH, front.ws_route(private=True))
    app.router.add_get(c.PATH_INSTRUMENTS, r(front.get_instruments))
    app.router.add_get(c.PATH_BOOKS, r(front.get_books))
    app.router.add_post(c.PATH_ORDER, r(front.post_order, True))
    app.router.add_get(c.PATH_ORDER, r(front.get_order, True))
    app.router.add_post(c.PATH_BATCH_ORDERS, r(front.post_batch_orders, True))
    app.router.add_post(c.PATH_CANCEL_ORDER, r(front.post_cancel, True))
    app.router.add_post(c.PATH_CANCEL_BATCH_ORDERS, r(front.post_cancel_batch, True))
    app.router.add_get(c.PATH_ORDERS_PENDING, r(front.get_orders_pending, True))
    app.router.add_get(c.PATH_FILLS, r(front.get_fills, True))
    app.router.add_get(c.PATH_BALANCE, r(front.get_balance, True))
    app.router.add_post(c.PATH_CANCEL_ALL_AFTER, r(front.post_cancel_all_after, True))
    return front, app


__all__ = ["OkxFront", "make_front", "ord_id_of", "split_ord_id"]
