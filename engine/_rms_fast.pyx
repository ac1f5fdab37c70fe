# cython: language_level=3, boundscheck=False, wraparound=False
"""The RMS pre-trade check compiled: the path every order takes when it passes.

Why it exists: `RMS.check` (engine/rms.py) runs once per order and is ~2 us of dict lookups,
tuple unpacking and int/float arithmetic on Python objects. Here the same checks run on C
integers and doubles: the instrument's limits are copied once into a typed record (`_Lim`;
`RMS._limits` is made once, by the constructor: the copies are rebuilt only if that dict is
replaced or changes size), the token bucket and the pass counter are typed fields, the order's
fields are read at their slot offsets, the compiled OMS's indexes as struct fields, and the
tuple-keyed lookups (positions, open lots, own prices) use hashes computed once and, after the
first hit, the dict's own key object (an identity match instead of a tuple comparison).

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
from libc.math cimport fabs, isfinite

from engine._oms_fast cimport OmsCore
from engine._slots cimport _PyDict_GetItem_KnownHash, as_i64, hft_slot_get, slot_offset

import importlib
from collections import defaultdict

from engine.portfolio import Position
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
cdef object _Position = Position
cdef Py_ssize_t P_LOTS = slot_offset(Position, "lots")

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
    return as_i64(x, out)


cdef inline object _nf(object o, Py_ssize_t off):
    return <object>hft_slot_get(<PyObject*>o, off)


cdef object _stored_key(object d, object key):
    """The key object `d` itself holds that equals `key` (else `key`): looked up with it, an
    entry matches by identity, without comparing the tuples. Only a shortcut: a lookup with
    any equal key finds the same entry."""
    for k in d:
        if k == key:
            return k
    return key


cdef class _Leg:
    """One venue's part of a side's worst case: its position key, open-lots key (with their
    hashes, computed once) and the multiplier of its lots into the symbol's common unit.
    `pseen` / `oseen`: the key was swapped for the positions' / open lots' own key object."""
    cdef object pkey, okey
    cdef Py_hash_t phash, ohash
    cdef long long mult
    cdef bint pseen, oseen

    def __init__(self, pkey, okey, mult):
        self.pkey = pkey
        self.okey = okey
        self.phash = hash(pkey)
        self.ohash = hash(okey)
        if not _i64(mult, &self.mult):
            raise OverflowError(mult)


cdef class _Lim:
    """One instrument's limits (`engine.rms._Limits`) as int64 and, per side, this venue's
    leg, the symbol's other venues' legs and the opposite side's own-price key (with its
    hash). `ok` is False when anything does not fit: the pure check runs for it."""
    cdef bint ok
    cdef long long max_lots, max_notional, max_pos_lots, max_total
    cdef _Leg own_b, own_s
    cdef tuple others_b, others_s
    cdef object opp_b, opp_s        # the open_prices key of the side an order would cross
    cdef Py_hash_t opp_hb, opp_hs
    cdef bint opp_seen_b, opp_seen_s

    def __init__(self, src, venue, symbol):
        self.ok = (_i64(src.max_lots, &self.max_lots) and
                   _i64(src.max_notional, &self.max_notional) and
                   _i64(src.max_pos_lots, &self.max_pos_lots) and
                   _i64(src.max_total, &self.max_total))
        try:
            for side in (_BUY, _SELL):
                pkey, okey, mult, others = src.agg[side]
                own = _Leg(pkey, okey, mult)
                legs = tuple([_Leg(p, o, m) for p, o, m in others])
                if side is _BUY:
                    self.own_b, self.others_b = own, legs
                else:
                    self.own_s, self.others_s = own, legs
        except (KeyError, TypeError, ValueError, OverflowError):
            self.ok = False
            return
        self.opp_b = (venue, symbol, -1)    # a buy crosses our asks: the pure key's -side
        self.opp_s = (venue, symbol, 1)
        self.opp_hb = hash(self.opp_b)
        self.opp_hs = hash(self.opp_s)


cdef inline bint _plain(object d) noexcept:
    """A dict, or a defaultdict (whose `get` never adds): read with the dict API."""
    return type(d) is dict or type(d) is _defaultdict


cdef inline int _pos_lots(object positions, _Leg leg, long long* out) except -1:
    """`positions.get(leg.pkey)`'s lots (0 if none) into `out`; False if not a plain int."""
    cdef PyObject* p = _PyDict_GetItem_KnownHash(positions, leg.pkey, leg.phash)
    cdef PyObject* v
    if p is NULL:
        out[0] = 0
        return True
    if not leg.pseen:
        leg.pseen = True
        leg.pkey = _stored_key(positions, leg.pkey)
    if type(<object>p) is _Position:
        v = hft_slot_get(p, P_LOTS)
        return v is not NULL and _i64(<object>v, out)
    return _i64((<object>p).lots, out)


cdef inline int _open_lots(object open_lots, _Leg leg, long long* out) except -1:
    """`open_lots.get(leg.okey, 0)` into `out`; False if not a plain int."""
    cdef PyObject* v = _PyDict_GetItem_KnownHash(open_lots, leg.okey, leg.ohash)
    if v is NULL:
        out[0] = 0
        return True
    if not leg.oseen:
        leg.oseen = True
        leg.okey = _stored_key(open_lots, leg.okey)
    return _i64(<object>v, out)


cdef inline bint _get_i64(object d, object key, long long* out) noexcept:
    """`d.get(key, 0)` of an OMS index (a dict or defaultdict: `get` never adds) as int64."""
    cdef PyObject* v = PyDict_GetItem(d, key)
    if v is NULL:
        out[0] = 0
        return True
    return _i64(<object>v, out)


cdef class RmsCore:
    """The RMS's hot state, typed, and its compiled `check`; the rest is engine/rms.py's.
    `_by_venue` (venue -> symbol -> `_Lim`) is built from `_limits` (made once, in the RMS's
    constructor) the first time it is needed, and again if `_limits` is replaced."""
    cdef public object state, rate, _last_ns
    cdef public dict venue_state, _limits, _capacity
    cdef public double _collar_bps, _rate_per_ns, _burst, _tokens
    cdef public long long _max_open, passed
    cdef public long long handed_over   # checks the pure code decided (denials, odd cases)
    cdef dict _by_venue
    cdef object _by_venue_of         # the `_limits` dict `_by_venue` was built from
    cdef Py_ssize_t _by_venue_n

    cdef object _pure(self, order, fair_value_ticks, oms, portfolio, now_ns):
        self.handed_over += 1
        return _py_check(self, order, fair_value_ticks, oms, portfolio, now_ns)

    cdef _Lim _lim(self, object venue, object symbol):
        """The typed limits of (venue, symbol), or None (unknown: the pure check denies)."""
        cdef PyObject* p
        limits = self._limits
        if (self._by_venue is None or self._by_venue_of is not limits
                or self._by_venue_n != len(limits)):
            by_venue = {}
            for key, lim in limits.items():
                if type(key) is tuple and len(key) == 2 and type(key[0]) is str \
                        and type(key[1]) is str:
                    by_venue.setdefault(key[0], {})[key[1]] = _Lim(lim, key[0], key[1])
            self._by_venue, self._by_venue_of, self._by_venue_n = by_venue, limits, len(limits)
        if type(venue) is not str or type(symbol) is not str:
            return None
        p = PyDict_GetItem(self._by_venue, venue)
        if p is NULL:
            return None
        p = PyDict_GetItem(<dict>p, symbol)
        return None if p is NULL else <_Lim>p

    def check(self, order, fair_value_ticks, oms, portfolio, now_ns):
        """None if `order` may be sent, else the recorded `Denial` (the pure check decides
        every denial: see the module docstring)."""
        cdef long long lots, price, notional, pos, same_open, agg_pos, agg_open, n_open
        cdef long long worst, v, own, k, now, last, diff, need, cap_v
        cdef double fair, tokens
        cdef Py_ssize_t pos_i = 0
        cdef PyObject* kp
        cdef PyObject* vp
        cdef int s
        cdef _Lim fl
        cdef _Leg leg
        cdef tuple others
        if (type(order) is not _NewOrder or type(fair_value_ticks) is not float
                or self.state is not _ACTIVE):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        venue = _nf(order, N_VENUE)
        symbol = _nf(order, N_SYMBOL)
        vp = PyDict_GetItem(self.venue_state, venue)
        if vp is not NULL and <object>vp is not _ACTIVE:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        fl = self._lim(venue, symbol)
        if fl is None or not fl.ok:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        side = _nf(order, N_SIDE)
        if side is _BUY:
            s, leg, others, opp, opp_h = 1, fl.own_b, fl.others_b, fl.opp_b, fl.opp_hb
        elif side is _SELL:
            s, leg, others, opp, opp_h = -1, fl.own_s, fl.others_s, fl.opp_s, fl.opp_hs
        else:
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        fair = fair_value_ticks
        if (_nf(order, N_TYPE) is _MARKET
                or not _i64(_nf(order, N_LOTS), &lots) or lots <= 0 or lots > fl.max_lots
                or not isfinite(fair) or fair <= 0
                or not _i64(_nf(order, N_PRICE), &price)
                or hft_mul(price, lots, &notional) or notional > fl.max_notional
                or fabs(<double>price - fair) * 10_000.0 > self._collar_bps * fair):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        if isinstance(oms, OmsCore):   # the compiled OMS: its indexes are struct fields
            orders = (<OmsCore>oms).orders
            open_lots = (<OmsCore>oms).open_lots
            open_count = (<OmsCore>oms).open_count
            open_prices = (<OmsCore>oms).open_prices
        else:
            orders = oms.orders
            open_lots = oms.open_lots
            open_count = oms.open_count
            open_prices = oms.open_prices
        positions = portfolio.positions
        if (type(orders) is not dict or type(open_prices) is not dict or type(positions) is not dict
                or not _plain(open_lots) or not _plain(open_count)):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        registered = _nf(order, N_CLIENT_ID) in <dict>orders
        # worst case per venue and across venues (common unit), this order included once
        if (not _pos_lots(positions, leg, &pos) or not _open_lots(open_lots, leg, &same_open)
                or hft_add(same_open, 0 if registered else lots, &same_open)
                or hft_mul(pos, leg.mult, &agg_pos)
                or hft_mul(same_open, leg.mult, &agg_open)):
            return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        for o in others:
            leg = <_Leg>o
            if (not _pos_lots(positions, leg, &v) or hft_mul(v, leg.mult, &v)
                    or hft_add(agg_pos, v, &agg_pos)
                    or not _open_lots(open_lots, leg, &v) or hft_mul(v, leg.mult, &v)
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
        vp = _PyDict_GetItem_KnownHash(open_prices, opp, opp_h)
        if vp is not NULL and not (fl.opp_seen_b if s > 0 else fl.opp_seen_s):
            if s > 0:
                fl.opp_seen_b, fl.opp_b = True, _stored_key(open_prices, opp)
            else:
                fl.opp_seen_s, fl.opp_s = True, _stored_key(open_prices, opp)
        if vp is not NULL:
            if type(<object>vp) is not dict:
                return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
            if <dict>vp:
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
        if self._capacity:
            cap = self._capacity.get((venue, symbol, side))
            if cap is not None:
                need = notional if s > 0 else lots
                if not _i64(cap, &cap_v) or need > cap_v:
                    return self._pure(order, fair_value_ticks, oms, portfolio, now_ns)
        # order-rate token bucket; the token is spent only by an order that passes
        if not _i64(now_ns, &now) or not _i64(self._last_ns, &last):
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
