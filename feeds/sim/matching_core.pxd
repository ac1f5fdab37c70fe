# Cython declarations for feeds/sim/matching_core.py (pure Python mode): compiled with this
# file the engine's classes become cdef classes with typed fields, its internals C methods
# and its hot loops typed. The .py stays the one source of the logic (see feeds/sim/fast.py).
import cython

cdef object _BUY, _SELL, _LIMIT, _GTC, _IOC, _FOK, _POST_ONLY
cdef object _NEW, _FILLED, _PARTIAL, _CANCELED, _EXPIRED
cdef object _STP_NONE, _STP_MAKER, _STP_TAKER
cdef object _QTY_MIN, _QTY_MAX, _PRICE_BOUNDS, _NOTIONAL_MIN, _NOTIONAL_MAX, _EXACT
cdef object _new, _set

cdef tuple _F_TRADE, _F_ACCEPTED, _F_DONE, _F_VIEW

@cython.locals(n=Py_ssize_t, i=Py_ssize_t)
cdef object _filled(object cls, tuple names, tuple values)


cdef class _Order:
    cdef public object account, acct, client_id, side, type, tif, price, status
    cdef public object order_id, locked, cum_fee, cum_units, quote_qty, created_ns, updated_ns
    cdef public long long sign, lots, leaves, filled
    cdef public bint live, quiet, unlimited


@cython.locals(o=_Order)
cdef _Order _new_order(object order_id, object account, object acct, object client_id,
                       object side, object type, object tif, object price, long long lots,
                       object quote_qty, object locked, object now_ns)


cdef class _Level:
    cdef public object orders
    cdef public long long total, dead


cdef class _BookSide:
    cdef public dict changed, levels
    cdef public list keys
    cdef public object side
    cdef public long long sign

    cpdef object best(self)
    @cython.locals(lvl=_Level)
    cdef _Level level_for_add(self, object price)
    @cython.locals(keys=list)
    cdef void drop(self, object price) except *


@cython.locals(keys=list, lvl=_Level)
cdef bint _same_top(_BookSide bs, object prev) except -1


cdef class MatchingEngine:
    cdef public object instrument, rules, accounts, symbol
    cdef public long long sequence
    cdef object _ids, _last_order_id, _base, _quote, _lot, _unit
    cdef object _stp, _maker_fee, _taker_fee, _done, _expire_causes, _bounds, _bounds_of
    cdef dict _acct_cache
    cdef long long _trade_id, _history
    cdef _BookSide _bid, _ask
    cdef dict _open, _by_client, _by_account, _done_client

    cpdef bint is_open(self, object order_id)
    @cython.locals(b=_BookSide, a=_BookSide, bk=list, ak=list, lvl=_Level)
    cpdef tuple best(self)
    @cython.locals(lv=dict, sg=cython.longlong, lvl=_Level, out=list)
    cdef list _side_depth(self, _BookSide bs, long long n)
    cpdef tuple best_if_changed(self, tuple prev)
    @cython.locals(bk=list, ak=list)
    cpdef tuple best_prices(self)
    cpdef Py_ssize_t level_count(self, object side)
    @cython.locals(bs=_BookSide)
    cpdef object worst(self, object side)
    cpdef tuple drain_depth(self)
    @cython.locals(lv=dict, out=list, lvl=_Level)
    cdef list _drain_side(self, _BookSide bs)
    cpdef list submit(self, object o, object now_ns)
    cpdef list submit_order(self, object account, object client_id, object side,
                            object price_ticks, long long lots, object type, object tif,
                            object now_ns)
    @cython.locals(is_limit=cython.bint, post_only=cython.bint, would_take=cython.bint,
                   unlimited=cython.bint, stopped=cython.bint, order=_Order, ev=list)
    cdef list _submit(self, object account, object client_id, object side, object price_ticks,
                      object lots, object type, object tif, object quote_qty, object now_ns)
    @cython.locals(o=_Order, ev=list)
    cpdef list cancel(self, object account, object ref, object now_ns, object cause=*)
    cdef object _reject(self, object account, object client_id, object r, object now_ns,
                        object order_id=*)
    @cython.locals(b=tuple)
    cdef object _check_filters(self, object price_ticks, object lots)
    cdef _Order _find_open(self, object account, object ref)
    cdef bint _crosses(self, object side, object price) except -1
    cdef object _stp_for(self, object acct)
    @cython.locals(opp=_BookSide, lvl=_Level, o=_Order)
    cdef tuple _plan(self, object side, object account, object limit, object lots,
                     object budget)
    @cython.locals(opp=_BookSide, keys=list, levels=dict, osign=cython.longlong,
                   changed=dict, sign=cython.longlong, stopped=cython.bint, lvl=_Level,
                   m=_Order, qty=cython.longlong)
    cdef bint _match(self, _Order t, object now_ns, list ev) except -1
    cdef void _trade(self, _Order t, _Order m, object price, long long qty, object now_ns,
                     list ev) except *
    cdef void _fill(self, _Order o, long long qty, object units, object now_ns) except *
    cdef void _settle(self, _Order o, bint maker, object tid, object price, long long qty,
                      object units, object now_ns, list ev) except *
    @cython.locals(bs=_BookSide, lvl=_Level, d=dict)
    cdef void _rest(self, _Order o) except *
    @cython.locals(bs=_BookSide, lvl=_Level)
    cdef void _unrest(self, _Order o) except *
    cdef void _finish(self, _Order o, object cause, object now_ns, list ev) except *
    @cython.locals(old=_Order)
    cdef void _close(self, _Order o, object status, object now_ns) except *
    cdef object _view(self, _Order o)
