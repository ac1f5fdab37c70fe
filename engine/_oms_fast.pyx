# cython: language_level=3, boundscheck=False, wraparound=False
"""The OMS's order path compiled: `Order` as a C struct, `OMS.create` and `OMS.on_report`.

Why it exists: the pure-Python OMS (engine/oms.py) is already reduced to slot stores and
per-event dict tables, and its ~8 us per order (create, ack, fill) is object, attribute and
dict work that compiling the same .py leaves in place. Here the order record is a cdef class
(its fields are struct members, read and written without a lookup), the OMS's hot indexes
and counters are typed fields of `OmsCore`, the transition tables are C arrays indexed by the
status's int, and the records that cross into Python (`NewOrder`, `FillApplied`,
`OrderUpdated`, read: `ExecReport`) are filled and read at their slot offsets
(engine/_slots.pxd) instead of through setattr/getattr. A `ClientIdFactory`'s id is issued
here in C (the same counter step and text), and the open-lots / open-count updates hash their
key once instead of per get and set.

Sameness: engine/oms.py stays the rule. `OMS` there is `class OMS(OmsCore, PureOMS)` when
this module is built: `create`, `on_report` and `_market` come from here, everything else
(`_transition`, `_close`, `_on_status`, `_late_ack`, `_on_unknown`, cancels, timeouts, views)
is the pure code, run on these typed fields. `create` and `on_report` are line-for-line ports
of the pure methods, with the same events, counters, states and ids in the same order; the
transition tables are derived from `engine.oms._NEXT` (hence from `TABLE`) at import. A report
that is not exactly an `ExecReport` with every slot set, or an order record that is not this
`Order`, goes to the pure `on_report` unchanged. tests/unit/engine/test_oms_compiled.py
checks both paths give identical results on random report streams.
"""
from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItem

from engine._slots cimport (
    as_i64,
    _PyDict_GetItem_KnownHash,
    _PyDict_SetItem_KnownHash,
    hft_hex_id,
    hft_is_ascii,
    hft_method_func,
    hft_method_self,
    hft_slot_get,
    hft_slot_put,
    hft_slot_set,
    new_bare,
    slot_offset,
)

import dataclasses
import importlib
from collections import defaultdict
from decimal import Decimal

from engine.client_ids import ClientIdFactory

# engine.oms imports this module at its end, after `PureOMS` is bound (or we import it first)
_py = importlib.import_module("engine.oms")
from pipeline.messages import ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus

cdef object _PureOMS = _py.PureOMS
cdef object _py_on_report = _py.PureOMS.on_report
cdef object _FillApplied = _py.FillApplied
cdef object _OrderUpdated = _py.OrderUpdated
cdef object _NeedsQuery = _py.NeedsQuery
cdef object _FillGap = _py.FillGap
cdef object _ExecReport = ExecReport
cdef object _NewOrder = NewOrder
cdef object _OrderStatus = OrderStatus
cdef dict _EMPTY = _py._EMPTY
cdef object _OPEN = _py._OPEN
cdef object _LATE_ACK_STATES = _py._LATE_ACK_STATES
cdef dict _EXEC_EVENT = _py._EXEC_EVENT
cdef object _CANCEL_REJECT_UNKNOWN = _py._CANCEL_REJECT_UNKNOWN
cdef object _PENDING_NEW = OrderStatus.PENDING_NEW
cdef object _NEW = OrderStatus.NEW
cdef object _PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
cdef object _FILLED = OrderStatus.FILLED
cdef object _PENDING_CANCEL = OrderStatus.PENDING_CANCEL
cdef object _EXPIRED = OrderStatus.EXPIRED
cdef object _ET_TRADE = ExecType.TRADE
cdef object _ET_NEW = ExecType.NEW
cdef object _ET_STATUS = ExecType.STATUS
cdef object _E_ACK = _py.OrderEvent.ACK
cdef object _E_FILL = _py.OrderEvent.FILL
cdef object _E_PARTIAL = _py.OrderEvent.PARTIAL_FILL
cdef object _E_REJECTED = _py.OrderEvent.REJECTED
cdef object _E_CANCEL_REJECT = _py.OrderEvent.CANCEL_REJECT
cdef object _NO_REASON = _py._NO_REASON
cdef object _UNKNOWN_ORDER = _py._UNKNOWN_ORDER
cdef object _BUY = _py._BUY
cdef object _SELL = _py._SELL
cdef object _LIMIT = _py._LIMIT
cdef object _defaultdict = defaultdict
cdef object _CIF = ClientIdFactory
cdef object _next_id_fn = ClientIdFactory.next_id
cdef Py_ssize_t C_SEQ = slot_offset(ClientIdFactory, "_seq")
cdef Py_ssize_t C_MAX = slot_offset(ClientIdFactory, "_max_seq")
cdef Py_ssize_t C_PREFIX = slot_offset(ClientIdFactory, "prefix")

cdef inline bint _i64(object x, long long* out) noexcept:
    return as_i64(x, out)


cdef object _issue(object nid):
    """`nid()`: the next client id. For a `ClientIdFactory`'s own `next_id` the same steps
    in C (seq + 1, the exhaustion check, `prefix + format(seq, "x")`); anything else, and the
    exhausted case (which raises there), is the call itself."""
    cdef PyObject* fn = hft_method_func(<PyObject*>nid)
    cdef PyObject* f
    cdef PyObject* seq_p
    cdef PyObject* max_p
    cdef PyObject* prefix_p
    cdef long long seq, mx
    cdef bint ok
    cdef object seq_o
    if fn is <PyObject*>_next_id_fn:
        f = hft_method_self(<PyObject*>nid)
        if type(<object>f) is _CIF:
            seq_p = hft_slot_get(f, C_SEQ)
            max_p = hft_slot_get(f, C_MAX)
            prefix_p = hft_slot_get(f, C_PREFIX)
            if (seq_p is not NULL and max_p is not NULL and prefix_p is not NULL
                    and type(<object>prefix_p) is str and hft_is_ascii(<object>prefix_p)
                    and _i64(<object>seq_p, &seq) and 0 <= seq < 0x7fffffffffffffff):
                seq += 1
                if _i64(<object>max_p, &mx):
                    ok = seq <= mx
                else:   # beyond int64 (a short prefix leaves 16**17 ids): above any seq here
                    ok = type(<object>max_p) is int and <object>max_p > 0
                if ok:
                    seq_o = <object>seq    # (typed object: not an inferred C long long)
                    hft_slot_set(f, C_SEQ, <PyObject*>seq_o)
                    return hft_hex_id(<object>prefix_p, <unsigned long long>seq)
    return nid()


cdef inline object _count_add(object d, object key, Py_hash_t h, object delta):
    """`d[key] += delta` on an OMS count index (a dict or defaultdict): with the key there,
    one hashed get and set; a missing key takes the mapping's own path (`__missing__`)."""
    cdef PyObject* v
    if type(d) is dict or type(d) is _defaultdict:
        v = _PyDict_GetItem_KnownHash(d, key, h)
        if v is not NULL:
            _PyDict_SetItem_KnownHash(d, key, <object>v + delta, h)
            return
    d[key] += delta


cdef inline object _count_sub(object d, object key, Py_hash_t h, object delta):
    """`d[key] -= delta` (see `_count_add`)."""
    cdef PyObject* v
    if type(d) is dict or type(d) is _defaultdict:
        v = _PyDict_GetItem_KnownHash(d, key, h)
        if v is not NULL:
            _PyDict_SetItem_KnownHash(d, key, <object>v - delta, h)
            return
    d[key] -= delta

# -- transition tables: status int -> next status (borrowed: enum members live forever) ------
cdef enum:
    N_STATUS = 16
    N_REPORT = 23
cdef PyObject* _ACK_T[N_STATUS]
cdef PyObject* _FILL_T[N_STATUS]
cdef bint _OPEN_T[N_STATUS]
cdef dict _ACK_NEXT = _py._ACK_NEXT      # the same rules for a status that is no OrderStatus
cdef dict _FILL_NEXT = _py._FILL_NEXT


cdef void _fill_table(PyObject** t, dict rules) except *:
    cdef int i
    for i in range(N_STATUS):
        t[i] = NULL
    for st, nxt in rules.items():
        i = int(st)
        if not 0 <= i < N_STATUS:
            raise ImportError(f"status {st!r} outside the compiled table")
        t[i] = <PyObject*>nxt


_fill_table(_ACK_T, _ACK_NEXT)
_fill_table(_FILL_T, _FILL_NEXT)
for _i in range(N_STATUS):
    _OPEN_T[_i] = False
for _st in _OPEN:
    _OPEN_T[int(_st)] = True


cdef inline object _next(PyObject** t, dict rules, object st):
    """`rules.get(st)` through the C table (an OrderStatus is an int in 1..8)."""
    cdef long i
    cdef PyObject* p
    if type(st) is _OrderStatus:
        i = st
        if 0 <= i < N_STATUS:
            p = t[i]
            return None if p is NULL else <object>p
        return None
    return rules.get(st)


cdef inline bint _is_open(object st) except -1:
    """`st in _OPEN` through the C table."""
    cdef long i
    if type(st) is _OrderStatus:
        i = st
        return 0 <= i < N_STATUS and _OPEN_T[i]
    return st in _OPEN


# -- slot offsets of the records built or read here -----------------------------------------
def _offsets(cls, names):
    have = tuple(f.name for f in dataclasses.fields(cls))
    if have != tuple(names):
        raise ImportError(f"{cls.__qualname__}'s fields changed: update engine/_oms_fast.pyx")
    return [slot_offset(cls, n) for n in names]


_fo = _offsets(_FillApplied, ("venue", "symbol", "client_id", "side", "price_ticks", "lots",
                              "fee", "fee_asset", "trade_id", "is_maker", "ts_event",
                              "ts_recv", "order"))
cdef Py_ssize_t F_VENUE = _fo[0], F_SYMBOL = _fo[1], F_CLIENT_ID = _fo[2], F_SIDE = _fo[3]
cdef Py_ssize_t F_PRICE = _fo[4], F_LOTS = _fo[5], F_FEE = _fo[6], F_FEE_ASSET = _fo[7]
cdef Py_ssize_t F_TRADE_ID = _fo[8], F_IS_MAKER = _fo[9], F_TS_EVENT = _fo[10]
cdef Py_ssize_t F_TS_RECV = _fo[11], F_ORDER = _fo[12]
_uo = _offsets(_OrderUpdated, ("order", "old", "new", "report"))
cdef Py_ssize_t U_ORDER = _uo[0], U_OLD = _uo[1], U_NEW = _uo[2], U_REPORT = _uo[3]
_no = _offsets(_NewOrder, ("client_id", "venue", "symbol", "side", "price_ticks", "lots",
                           "order_type", "tif", "ts_tick_recv", "ts_decision"))
cdef Py_ssize_t N_CLIENT_ID = _no[0], N_VENUE = _no[1], N_SYMBOL = _no[2], N_SIDE = _no[3]
cdef Py_ssize_t N_PRICE = _no[4], N_LOTS = _no[5], N_TYPE = _no[6], N_TIF = _no[7]
cdef Py_ssize_t N_TS_TICK = _no[8], N_TS_DECISION = _no[9]
_ro_names = tuple(f.name for f in dataclasses.fields(_ExecReport))
if len(_ro_names) != N_REPORT:
    raise ImportError("ExecReport's fields changed: update engine/_oms_fast.pyx")
cdef Py_ssize_t _RO[N_REPORT]
for _i, _n in enumerate(_ro_names):
    _RO[_i] = slot_offset(_ExecReport, _n)
_ri = {n: i for i, n in enumerate(_ro_names)}
cdef Py_ssize_t R_VENUE = _RO[_ri["venue"]], R_SYMBOL = _RO[_ri["symbol"]]
cdef Py_ssize_t R_CLIENT_ID = _RO[_ri["client_id"]], R_VOID = _RO[_ri["venue_order_id"]]
cdef Py_ssize_t R_EXEC_TYPE = _RO[_ri["exec_type"]], R_STATUS = _RO[_ri["status"]]
cdef Py_ssize_t R_SIDE = _RO[_ri["side"]], R_FILLED = _RO[_ri["filled_lots"]]
cdef Py_ssize_t R_LAST_LOTS = _RO[_ri["last_lots"]], R_LAST_PX = _RO[_ri["last_price_ticks"]]
cdef Py_ssize_t R_FEE = _RO[_ri["fee"]], R_FEE_ASSET = _RO[_ri["fee_asset"]]
cdef Py_ssize_t R_TRADE_ID = _RO[_ri["trade_id"]], R_IS_MAKER = _RO[_ri["is_maker"]]
cdef Py_ssize_t R_REASON = _RO[_ri["reason"]], R_TS_EVENT = _RO[_ri["ts_event"]]
cdef Py_ssize_t R_TS_RECV = _RO[_ri["ts_recv"]], R_TS_SENT = _RO[_ri["ts_sent"]]


cdef inline bint _complete(object r) noexcept:
    """Every slot of the ExecReport `r` is set (a record built by its constructor always is)."""
    cdef int i
    for i in range(N_REPORT):
        if hft_slot_get(<PyObject*>r, _RO[i]) is NULL:
            return False
    return True


cdef inline object _rf(object r, Py_ssize_t off):
    return <object>hft_slot_get(<PyObject*>r, off)


cdef inline object _updated(Order o, object old, object new, object r):
    """OrderUpdated(o, old, new, r), stored slot by slot."""
    u = new_bare(_OrderUpdated)
    cdef PyObject* p = <PyObject*>u
    hft_slot_put(p, U_ORDER, <PyObject*>o)
    hft_slot_put(p, U_OLD, <PyObject*>old)
    hft_slot_put(p, U_NEW, <PyObject*>new)
    hft_slot_put(p, U_REPORT, <PyObject*>r)
    return u


cdef class Order:
    """One order's mutable state: the pure `engine.oms.PureOrder`'s fields and properties, as
    a C struct (see that class for what each field means)."""

    def __init__(self, client_id, venue, symbol, side, price_ticks, lots, tif, order_type,
                 ts_created, ts_tick_recv, layer=0):
        self.client_id = client_id
        self.venue_order_id = ""
        self.venue = venue
        self.symbol = symbol
        self.side = side
        self.price_ticks = price_ticks
        self.lots = lots
        self.filled_lots = 0
        self.filled_notional = 0
        self.status = _PENDING_NEW
        self.tif = tif
        self.order_type = order_type
        self.ts_created = ts_created
        self.ts_sent = 0
        self.ts_acked = 0
        self.ts_tick_recv = ts_tick_recv
        self.ts_updated = ts_created
        self.ts_cancel_requested = 0
        self.ts_pending = ts_created
        self.reject_reason = _NO_REASON
        self.queries = 0
        self.layer = layer
        self.book = _EMPTY
        self.lots_key = (venue, symbol, side)
        self.prices = None

    @property
    def remaining_lots(self):
        return max(0, self.lots - self.filled_lots)

    @property
    def is_open(self):
        return self.status in _OPEN

    @property
    def avg_price_ticks(self):
        """Exact average fill price in ticks (0 before any fill)."""
        if not self.filled_lots:
            return Decimal(0)
        return Decimal(self.filled_notional) / Decimal(self.filled_lots)

    def __repr__(self):
        return (f"Order({self.client_id} {self.venue}:{self.symbol} {self.side.name} "
                f"{self.filled_lots}/{self.lots}@{self.price_ticks} {self.status.name})")


cdef class Market:
    """One (venue, symbol)'s open-order indexes (the pure `_Market`, typed)."""

    def __init__(self, dict book, buy_key, dict buy_prices, sell_key, dict sell_prices):
        self.book = book
        self.buy_key = buy_key
        self.buy_prices = buy_prices
        self.sell_key = sell_key
        self.sell_prices = sell_prices
        self.buy_hash = hash(buy_key)     # the keys are tuples of str and Side: immutable
        self.sell_hash = hash(sell_key)


cdef class OmsCore:
    """The OMS's typed state and its two hot methods; the rest of `OMS` is engine/oms.py's."""

    def _market(self, venue, symbol):
        by_sym = self._markets.get(venue)
        if by_sym is None:
            by_sym = self._markets[venue] = {}
        keys = [(venue, symbol, side) for side in (_BUY, _SELL)]
        prices = [self.open_prices.setdefault(k, {}) for k in keys]
        m = by_sym[symbol] = Market(self.open_by_vs.setdefault((venue, symbol), {}),
                                    keys[0], prices[0], keys[1], prices[1])
        return m

    def create(self, venue, symbol, side, price_ticks, lots, tif, now_ns, ts_tick_recv=0,
               order_type=_LIMIT, layer=0):
        """Register a new order (PENDING_NEW) and return the message for the gateway."""
        cid = _issue(self._next_id[venue])
        cdef Market m
        cdef dict px
        cdef Py_hash_t h
        by_sym = PyDict_GetItem(self._markets, venue)
        mp = None if by_sym is NULL else (<dict>by_sym).get(symbol)
        if mp is None or type(mp) is not Market:
            mp = self._market(venue, symbol)
        m = <Market?>mp
        if side > 0:
            key = m.buy_key
            px = m.buy_prices
            h = m.buy_hash
        else:
            key = m.sell_key
            px = m.sell_prices
            h = m.sell_hash
        book = m.book
        cdef Order o = Order.__new__(Order)
        o.client_id = cid
        o.venue_order_id = ""
        o.venue = venue
        o.symbol = symbol
        o.side = side
        o.price_ticks = price_ticks
        o.lots = lots
        o.filled_lots = 0
        o.filled_notional = 0
        o.status = _PENDING_NEW
        o.tif = tif
        o.order_type = order_type
        o.ts_created = now_ns
        o.ts_sent = 0
        o.ts_acked = 0
        o.ts_tick_recv = ts_tick_recv
        o.ts_updated = now_ns
        o.ts_cancel_requested = 0
        o.ts_pending = now_ns
        o.reject_reason = _NO_REASON
        o.queries = 0
        o.layer = layer
        o.book = book
        o.lots_key = key
        o.prices = px
        self.orders[cid] = o
        book[cid] = o
        _count_add(self.open_lots, key, h, lots)
        px[price_ticks] = px.get(price_ticks, 0) + 1
        _count_add(self.open_count, venue, hash(venue), 1)
        self.n_created += 1
        # build_new_order(cid, venue, symbol, side, price_ticks, lots, order_type, tif,
        # ts_tick_recv, now_ns), stored slot by slot
        msg = new_bare(_NewOrder)
        cdef PyObject* p = <PyObject*>msg
        hft_slot_put(p, N_CLIENT_ID, <PyObject*>cid)
        hft_slot_put(p, N_VENUE, <PyObject*>venue)
        hft_slot_put(p, N_SYMBOL, <PyObject*>symbol)
        hft_slot_put(p, N_SIDE, <PyObject*>side)
        hft_slot_put(p, N_PRICE, <PyObject*>price_ticks)
        hft_slot_put(p, N_LOTS, <PyObject*>lots)
        hft_slot_put(p, N_TYPE, <PyObject*>order_type)
        hft_slot_put(p, N_TIF, <PyObject*>tif)
        hft_slot_put(p, N_TS_TICK, <PyObject*>ts_tick_recv)
        hft_slot_put(p, N_TS_DECISION, <PyObject*>now_ns)
        return msg

    def on_report(self, r):
        """Apply one execution report; return what happened, in order."""
        if type(r) is not _ExecReport or not _complete(r):
            return _py_on_report(self, r)
        op = PyDict_GetItem(self.orders, _rf(r, R_CLIENT_ID))
        if op is not NULL and type(<object>op) is not Order:
            return _py_on_report(self, r)
        self.n_reports += 1
        if op is NULL:
            return self._on_unknown(r)
        cdef Order o = <Order>op
        void = _rf(r, R_VOID)
        if not o.venue_order_id and void:
            o.venue_order_id = void
        et = _rf(r, R_EXEC_TYPE)
        if et is _ET_TRADE:   # a fill: the commonest report
            lots = _rf(r, R_LAST_LOTS)
            if lots <= 0:
                return self._on_status(o, r)
            trade_id = _rf(r, R_TRADE_ID)
            if trade_id:
                key = (_rf(r, R_VENUE), _rf(r, R_SYMBOL), trade_id, _rf(r, R_SIDE) > 0)
                young = self._trades_young
                # `key in young or key in old` then `young.add(key)`, hashing the key twice
                # instead of three times: the add itself says whether it was in young
                n = len(young)
                if key in self._trades_old or (young.add(key), len(young))[1] == n:
                    self._counters["duplicate_fills"] += 1
                    return []
                if len(young) >= self._trades_gen:
                    self._trades_old = young
                    self._trades_young = set()
            else:
                filled = _rf(r, R_FILLED)
                if filled and filled <= o.filled_lots:
                    # no trade id on this venue path: the cumulative size is the dedupe key
                    self._counters["duplicate_fills"] += 1
                    return []
            return self._fill(o, r, lots)
        if et is _ET_NEW:
            return self._ack(o, r)
        if et is _ET_STATUS:
            return self._on_status(o, r)
        ev = _EXEC_EVENT[et]
        c = self._counters
        if ev is _E_REJECTED:
            o.reject_reason = _rf(r, R_REASON)
            c["rejects"] += 1
        elif ev is _E_CANCEL_REJECT:
            c["cancel_rejects"] += 1
            if o.status is _PENDING_CANCEL and _rf(r, R_REASON) in _CANCEL_REJECT_UNKNOWN:
                # gone at the venue but we saw neither its last fill nor its cancel: ask
                c["unknown_outcomes"] += 1
                o.queries += 1
                return [_NeedsQuery(o, "cancel rejected: order unknown at venue")]
        return self._transition(o, ev, r, _rf(r, R_TS_RECV))

    cdef list _fill(self, Order o, object r, object lots):
        """A first-seen fill of `lots` (the pure `on_report`'s TRADE branch after dedupe)."""
        st = o.status
        if st is not _NEW and st is not _PARTIALLY_FILLED:
            c = self._counters
            if st is _PENDING_NEW:
                c["fill_before_ack"] += 1
            elif st is _PENDING_CANCEL:
                c["fill_after_cancel_request"] += 1
            else:
                c["late_fills"] += 1
        self.n_fills += 1
        before = o.filled_lots
        o.filled_lots = filled = before + lots
        price = _rf(r, R_LAST_PX)
        o.filled_notional += price * lots
        total = o.lots
        if filled > total:
            self._counters["overfills"] += 1
        if _is_open(st):  # a terminal order's lots already left the open book
            rem = total - before
            if rem > 0:
                key = o.lots_key
                _count_sub(self.open_lots, key, hash(key), rem if rem < lots else lots)
        ts = _rf(r, R_TS_RECV)
        fill = new_bare(_FillApplied)
        cdef PyObject* p = <PyObject*>fill
        hft_slot_put(p, F_VENUE, <PyObject*>o.venue)
        hft_slot_put(p, F_SYMBOL, <PyObject*>o.symbol)
        hft_slot_put(p, F_CLIENT_ID, <PyObject*>o.client_id)
        hft_slot_put(p, F_SIDE, <PyObject*>o.side)
        hft_slot_put(p, F_PRICE, <PyObject*>price)
        hft_slot_put(p, F_LOTS, <PyObject*>lots)
        hft_slot_put(p, F_FEE, hft_slot_get(<PyObject*>r, R_FEE))
        hft_slot_put(p, F_FEE_ASSET, hft_slot_get(<PyObject*>r, R_FEE_ASSET))
        hft_slot_put(p, F_TRADE_ID, hft_slot_get(<PyObject*>r, R_TRADE_ID))
        hft_slot_put(p, F_IS_MAKER, hft_slot_get(<PyObject*>r, R_IS_MAKER))
        hft_slot_put(p, F_TS_EVENT, hft_slot_get(<PyObject*>r, R_TS_EVENT))
        hft_slot_put(p, F_TS_RECV, <PyObject*>ts)
        hft_slot_put(p, F_ORDER, <PyObject*>o)
        cdef list out
        if filled >= total or _rf(r, R_STATUS) is _FILLED:
            new = _next(_FILL_T, _FILL_NEXT, st)
            if new is None or not ts or new is st or filled < total:
                out = self._transition(o, _E_FILL, r, ts)   # the general path
                if filled < total:
                    self._counters["fill_gaps"] += 1
                    out.append(_FillGap(o, total - filled))
                out.insert(0, fill)
                return out
            # a working order filled in full: FILLED and out of the open book (`_close`,
            # inlined; its open lots are already settled above, its price leaves the
            # own-price index)
            o.ts_updated = ts
            o.status = new
            book = o.book
            if type(book) is dict:
                gone = (<dict>book).pop(o.client_id, None)
            else:
                gone = book.pop(o.client_id, None)
            if gone is not None:
                _unprice(o)
            _count_sub(self.open_count, o.venue, hash(o.venue), 1)
            t = self._terminal
            t.append(o.client_id)
            if len(t) > self._retain_terminal:
                self.orders.pop(t.popleft(), None)
                self._counters["purged"] += 1
            return [fill, _updated(o, st, new, r)]
        out = self._transition(o, _E_PARTIAL, r, ts)
        out.insert(0, fill)
        return out

    cdef list _ack(self, Order o, object r):
        """The pure `on_report`'s NEW (ack) branch."""
        ts_recv = _rf(r, R_TS_RECV)
        if not o.ts_acked:
            o.ts_acked = ts_recv or _rf(r, R_TS_EVENT)
            ts_sent = _rf(r, R_TS_SENT)
            if ts_sent and not o.ts_sent:
                o.ts_sent = ts_sent
        old = o.status
        new = _next(_ACK_T, _ACK_NEXT, old)
        if new is None or (new is _NEW and o.filled_lots) or ts_recv == 0:
            if old in _LATE_ACK_STATES:
                return self._late_ack(o, r)
            return self._transition(o, _E_ACK, r, ts_recv)   # the general path
        if new is old:
            if old is _FILLED:
                return self._late_ack(o, r)
            o.ts_updated = ts_recv
            return []
        o.ts_updated = ts_recv
        o.status = new
        return [_updated(o, old, new, r)]


cdef inline void _unprice(Order o) except *:
    """One open order fewer at `o`'s price in its side's own-price counts."""
    px = o.prices
    if px is not None:
        own = o.price_ticks
        n = px.get(own, 0) - 1
        if n > 0:
            px[own] = n
        else:
            px.pop(own, None)
