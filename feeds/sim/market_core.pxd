# Cython declarations for feeds/sim/market_core.py (pure Python mode): the market model's
# classes as cdef classes with C doubles and ints, its arrival loop as C methods calling the
# compiled engine (feeds/sim/matching_core.pxd) directly. The .py stays the one source.
import cython
from feeds.sim.matching_core cimport MatchingEngine

cdef object _BUY, _SELL, _LIMIT, _MARKET, _GTC, _IOC
cdef Py_ssize_t _BUF
cdef object _new, _set
cdef object _new_top(object symbol, object seq, object bid, object ask, long long ts_ns)


cdef class _Rand:
    cdef object _rng
    cdef double[::1] _u, _n, _x
    cdef Py_ssize_t _iu, _in, _ix

    @cython.locals(i=Py_ssize_t)
    cdef double u(self) except? -1.0
    @cython.locals(i=Py_ssize_t)
    cdef double n(self) except? -1.0
    @cython.locals(i=Py_ssize_t)
    cdef double x(self) except? -1.0


cdef class _Symbol:
    cdef public MatchingEngine engine
    cdef public object p
    cdef public _Rand r
    cdef public double mid0, log_ret, mid, sigma, mu, jump, jump_rate_hz, market_share, depth
    cdef public long long last_ns, next_ns, target2, min_levels
    cdef public long long min_lots, min_units, size, max_lots
    cdef public bint has_max
    cdef public list ids, prices
    cdef public dict pos
    cdef public tuple top

    @cython.locals(dt=cython.double, s=cython.double, lr=cython.double)
    cdef void evolve(self, long long now_ns) except *
    @cython.locals(lots=cython.longlong, floor=cython.longlong)
    cdef long long lots(self, long long price, double scale) except? -1
    cdef void track(self, object order_id, object price) except *
    @cython.locals(last=Py_ssize_t)
    cdef void untrack_at(self, Py_ssize_t i) except *


cdef class MarketSimulator:
    cdef public object rules, accounts
    cdef public bint top_events
    cdef public double rate_hz
    cdef public long long now_ns, arrivals
    cdef public dict engines
    cdef list _syms, _heap
    cdef double _mean_gap_ns

    @cython.locals(out=list, s=_Symbol, n=cython.longlong, k=cython.longlong,
                   bid0=cython.longlong, ask0=cython.longlong)
    cpdef list prefill(self, long long now_ns)
    @cython.locals(out=list, heap=list)
    cpdef list advance_to(self, long long now_ns)
    @cython.locals(out=list, _=Py_ssize_t)
    cpdef list step(self, Py_ssize_t n)
    @cython.locals(t=cython.longlong, i=Py_ssize_t, s=_Symbol)
    cdef long long _next(self, list out) except? -1
    @cython.locals(eng=MatchingEngine, top=tuple)
    cdef void _note_top(self, _Symbol s, long long now_ns, list out) except *
    cdef long long _gap(self, _Symbol s) except? -1
    @cython.locals(r=_Rand, u=cython.double, n=Py_ssize_t, d=cython.longlong,
                   ref=cython.longlong, price=cython.longlong)
    cdef void _arrive(self, _Symbol s, long long now_ns, list out) except *
    @cython.locals(eng=MatchingEngine)
    cdef void _place(self, _Symbol s, object side, long long price, double scale,
                     long long now_ns, list out) except *
    @cython.locals(eng=MatchingEngine, lean=cython.double, ref=cython.longlong,
                   lots=cython.longlong)
    cdef void _market(self, _Symbol s, long long now_ns, list out) except *
    @cython.locals(eng=MatchingEngine, n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t,
                   k=Py_ssize_t, mid=cython.double)
    cdef void _cancel(self, _Symbol s, long long now_ns, list out) except *
    @cython.locals(eng=MatchingEngine, need=cython.longlong, missing=cython.longlong,
                   step=cython.longlong, k=cython.longlong, price=cython.longlong)
    cdef void _top_up(self, _Symbol s, long long now_ns, list out) except *
