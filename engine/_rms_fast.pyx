# cython: language_level=3, boundscheck=False, wraparound=False
"""The RMS pre-trade check compiled: the path every order takes when it passes.

Why it exists: `RMS.check` (engine/rms.py) runs once per order and is ~2 us of dict lookups,
tuple unpacking and int/float arithmetic on Python objects. Here the same checks run on C
integers and doubles: the instrument's limits are copied once into a typed record (`_Lim`,
rebuilt if `RMS._limits` ever holds a different object), the token bucket and the pass
counter are typed fields, and the order's fields are read at their slot offsets.

Sameness, by construction: this path only ever *passes* an order. It computes exactly what the
pure check computes (same int arithmetic, the same IEEE double operations in the same order
for the price collar and the token bucket) and, the moment any check would deny, or anything
is unusual (a state other than ACTIVE, a market order, a fair value that is not a finite
float, an int beyond int64, an unknown record type), it calls the pure `RMS.check` on the
untouched state, which then decides and records the `Denial` itself. Nothing is mutated before
that hand-over; a pass stores the bucket and the counter as the pure code would.
"""
from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItem, PyDict_Next
from cpython.exc cimport PyErr_Clear, PyErr_Occurred
from libc.math cimport fabs, isfinite

from engine._slots cimport hft_slot_get, slot_offset

import importlib
from collections import defaultdict

from pipeline.messages import NewOrder
from pipeline.model import OrderType, Side

# engine.rms imports this module at its end, after `PureRMS` is bound (or we import it first)
_py = importlib.import_module("engine.rms")
cdef object _py_check = _py.PureRMS.check
cdef object _ACTIVE = _py.TradingState.ACTIVE
cdef object _MARKET = OrderType.MARKET
cdef object _BUY = Side.BUY
cdef object _SELL = Side.SELL
cdef object _NewOrder = NewOrder
cdef object _defaultdict = defaultdict

cdef extern from "Python.h":
    long long PyLong_AsLongLong(object o) noexcept   # error checked and cleared below

cdef extern from *:
    """
    static inline int hft_mul(long long a, long long b, long long *r) {
        return __builtin_mul_overflow(a, b, r);
    }
    static inline int hft_add(long long a, long long b, long long *r) {
        return __builtin_add_overflow(a, b, r);
    }
    static inline int hft_sub(long long a, long long b, long long *r) {
        return __builtin_sub_overflow(a, b, r);
    }
    """
    bint hft_mul(long long a, long long b, long long* r) noexcept
    bint hft_add(long long a, long long b, long long* r) noexcept
    bint hft_sub(long long a, long long b, long long* r) noexcept

_no = [slot_offset(_NewOrder, n) for n in ("client_id", "venue", "symbol", "side",
                                          "price_ticks", "lots", "order_type")]
cdef Py_ssize_t N_CLIENT_ID = _no[0], N_VENUE = _no[1], N_SYMBOL = _no[2], N_SIDE = _no[3]
cdef Py_ssize_t N_PRICE = _no[4], N_LOTS = _no[5], N_TYPE = _no[6]


cdef inline bint _i64(object x, long long* out) noexcept:
    """`x` as an int64 if it is exactly an int that fits (else False: the pure path decides)."""
    if type(x) is not int:
        return False
    cdef long long v = PyLong_AsLongLong(x)
    if v == -1 and PyErr_Occurred() is not NULL:
        PyErr_Clear()
        return False
    out[0] = v
    return True


cdef inline object _nf(object o, Py_ssize_t off):
    return <object>hft_slot_get(<PyObject*>o, off)


cdef class _Lim:
    """One instrument's limits (`engine.rms._Limits`) as int64 and, per side (0 buy, 1 sell),
    its (position key, open-lots key, others) with `mult` apart; `others` holds the same
    (pkey, okey, mult) for the symbol's other venues. `ok` is False when anything does not
    fit: then the pure check runs for that instrument."""
    cdef object src
    cdef bint ok
    cdef long long max_lots, max_notional, max_pos_lots, max_total
    cdef tuple buy, sell
    cdef long long mult[2]

    def __init__(self, src):
        self.src = src
        self.ok = (_i64(src.max_lots, &self.max_lots) and
                   _i64(src.max_notional, &self.max_notional) and
                   _i64(src.max_pos_lots, &self.max_pos_lots) and
                   _i64(src.max_total, &self.max_total))
        cdef long long m
        agg = src.agg
        for i, side in enumerate((_BUY, _SELL)):
            entry = agg.get(side) if type(agg) is dict else None
            if entry is None or type(entry) is not tuple or len(entry) != 4:
                self.ok = False
                continue
            pkey, okey, mult, others = entry
            self.ok = self.ok and _i64(mult, &self.mult[i]) and type(others) is tuple
            if self.ok:
                for o in others:
                    self.ok = self.ok and type(o) is tuple and len(o) == 3 and _i64(o[2], &m)
            if i == 0:
                self.buy = (pkey, okey, others)
            else:
                self.sell = (pkey, okey, others)


cdef inline int _lots_of(object positions, object pkey, long long* out) except -1:
    """`positions.get(pkey)`'s lots into `out` (0 if none): False if not a plain int."""
    p = positions.get(pkey)
    if p is None:
        out[0] = 0
        return True
    return _i64(p.lots, out)


cdef inline bint _get_i64(object d, object key, long long* out) noexcept:
    """`d.get(key, 0)` of an OMS index (a dict or defaultdict: `get` never adds) as int64."""
    cdef PyObject* v = PyDict_GetItem(d, key)
    if v is NULL:
        out[0] = 0
        return True
    return _i64(<object>v, out)


cdef class RmsCore:
    """The RMS's hot state, typed, and its compiled `check`; the rest is engine/rms.py's."""
    cdef public object state, rate, _last_ns
    cdef public dict venue_state, _limits, _capacity
    cdef public double _collar_bps, _rate_per_ns, _burst, _tokens
    cdef public long long _max_open, passed
    cdef public long long handed_over   # checks the pure code decided (denials, odd cases)
    cdef dict _fast

    def __cinit__(self, *args, **kwargs):
        self._fast = {}

    cdef object _pure(self, order, fair_value_ticks, oms, portfolio, now_ns):
        self.handed_over += 1
        return _py_check(self, order, fair_value_ticks, oms, portfolio, now_ns)

    def check(self, order, fair_value_ticks, oms, portfolio, now_ns):
        """None if `order` may be sent, else the recorded `Denial` (the pure check decides
        every denial: see the module docstring)."""
        cdef long long lots, price, notional, pos, same_open, agg_pos, agg_open, n_open
        cdef long long worst, mult, v, own, k, now, last, diff, need, cap_v
        cdef double fair, tokens
        cdef Py_ssize_t pos_i = 0
        cdef PyObject* kp
        cdef PyObject* vp
        cdef int s, i
        cdef _Lim fl
        if (type(order) is not _NewOrder or type(fair_value_ticks) is not float
                or self.state is not _ACTIVE):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        venue = _nf(order, N_VENUE)
        symbol = _nf(order, N_SYMBOL)
        vp = PyDict_GetItem(self.venue_state, venue)
        if vp is not NULL and <object>vp is not _ACTIVE:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        key = (venue, symbol)
        lim = self._limits.get(key)
        if lim is None:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        fo = self._fast.get(key)
        if fo is None or (<_Lim>fo).src is not lim:
            fo = self._fast[key] = _Lim(lim)
        fl = <_Lim>fo
        side = _nf(order, N_SIDE)
        if side is _BUY:
            s, i = 1, 0
        elif side is _SELL:
            s, i = -1, 1
        else:
            s = 0
        fair = fair_value_ticks
        if (not fl.ok or s == 0 or _nf(order, N_TYPE) is _MARKET
                or not _i64(_nf(order, N_LOTS), &lots) or lots <= 0 or lots > fl.max_lots
                or not isfinite(fair) or fair <= 0
                or not _i64(_nf(order, N_PRICE), &price)
                or hft_mul(price, lots, &notional) or notional > fl.max_notional
                or fabs(<double>price - fair) * 10_000.0 > self._collar_bps * fair):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        orders = oms.orders
        open_lots = oms.open_lots
        open_count = oms.open_count
        open_prices = oms.open_prices
        positions = portfolio.positions
        if (type(orders) is not dict or type(open_prices) is not dict
                or (type(open_lots) is not dict and type(open_lots) is not _defaultdict)
                or (type(open_count) is not dict and type(open_count) is not _defaultdict)):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        registered = _nf(order, N_CLIENT_ID) in <dict>orders
        pkey, okey, others = fl.buy if i == 0 else fl.sell
        # worst case per venue and across venues (common unit), this order included once
        if (not _lots_of(positions, pkey, &pos)
                or not _get_i64(open_lots, okey, &same_open)
                or hft_add(same_open, 0 if registered else lots, &same_open)
                or hft_mul(pos, fl.mult[i], &agg_pos)
                or hft_mul(same_open, fl.mult[i], &agg_open)):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        for other in <tuple>others:
            pkey, okey, m = <tuple>other
            mult = m
            if (not _lots_of(positions, pkey, &v) or hft_mul(v, mult, &v)
                    or hft_add(agg_pos, v, &agg_pos)
                    or not _get_i64(open_lots, okey, &v) or hft_mul(v, mult, &v)
                    or hft_add(agg_open, v, &agg_open)):
                return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        if (not _get_i64(open_count, venue, &n_open)
                or hft_add(n_open, 0 if registered else 1, &n_open)
                or n_open > self._max_open
                or hft_mul(s, same_open, &worst) or hft_add(pos, worst, &worst)
                or worst > fl.max_pos_lots or worst < -fl.max_pos_lots
                or hft_mul(s, agg_open, &worst) or hft_add(agg_pos, worst, &worst)
                or worst > fl.max_total or worst < -fl.max_total):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        # self-trade: a buy at or above our lowest open ask, a sell at or below our best bid
        vp = PyDict_GetItem(open_prices, (venue, symbol, -s))
        if vp is not NULL and type(<object>vp) is dict and <dict>vp:
            pos_i = 0
            own = 0
            first = True
            while PyDict_Next(<object>vp, &pos_i, &kp, NULL):
                if not _i64(<object>kp, &k):
                    return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
                if first or (k < own if s > 0 else k > own):
                    own = k
                    first = False
            if (own <= price) if s > 0 else (own >= price):
                return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        elif vp is not NULL and type(<object>vp) is not dict:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        if self._capacity:
            cap = self._capacity.get((venue, symbol, side))
            if cap is not None:
                need = notional if s > 0 else lots
                if not _i64(cap, &cap_v) or need > cap_v:
                    return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        # order-rate token bucket; the token is spent only by an order that passes
        last_o = self._last_ns
        if not _i64(now_ns, &now) or not _i64(last_o, &last):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        tokens = self._tokens
        if now > last:
            if hft_sub(now, last, &diff):
                return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
            tokens += <double>diff * self._rate_per_ns
            if tokens > self._burst:
                tokens = self._burst
        if tokens < 1.0:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        if now > last:
            self._last_ns = now_ns
        self._tokens = tokens - 1.0
        self.passed += 1
        return None
