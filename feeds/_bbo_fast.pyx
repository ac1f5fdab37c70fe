# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The feed's best-bid/offer hot path in compiled code: one frame -> one tick ring record.

Why it exists: BBO frames are most of a feed's traffic, and the pure-Python hot path (the
venue's whole-frame regex in `feeds/<venue>/protocol/market_fast.py`, four `float()`s, a tuple,
`RingWriter.publish`) is ~7 us a frame, about 140k frames/s per core. Here the same frame shapes
are matched by hand-written C-level scanners over the str's ASCII bytes and the record is
written straight into the shared-memory ring, with no Python object made per frame beyond the
counter ints.

`BboFrameHandler(shape, slow, ...)` is the feed's `on_frame(data, ts_recv)` callable. For a
frame it fully accepts, it does exactly what `FeedCore`'s pure-Python closure (`slow`) would:
- counters `messages`, `bytes` (len(data)) and `bbo` incremented, in that order;
- `ts_pub = clock()` (the FeedCore's clock; `time.time_ns` is read as
  clock_gettime(CLOCK_REALTIME), which is what CPython's time.time_ns does);
- the record packed byte for byte as `struct_format(TICK_DTYPE)` packs the same tuple, and
  published with `RingWriter.publish`'s protocol: stamp := ~seq, record, stamp := seq+1,
  cursor := seq+1, and the doorbell rung when a reader is parked.
Anything it does not accept — another shape, bytes, a non-ASCII or non-exact str, an unknown
symbol, a `ts_recv` that is not an int64, a ring whose `publish` was replaced or closed — is
handed untouched to `slow`, which then counts and handles it exactly once.

Acceptance is the venue regex's, token for token (`PATTERNS` holds the regexes mirrored; a
`market_fast` whose pattern differs is refused at construction, so the two cannot drift apart
silently). Floats: `float(s)` on a plain decimal str is CPython's `PyOS_string_to_double` on the
same ASCII characters (`float_from_string_inner`), which is what is called here on the matched
span, so prices are bit-identical. Ints are at most 18 digits (ids) or 13 (ms), so they fit
int64 as the regexes guarantee.

Memory ordering: stores are issued in the protocol's order with compiler barriers; x86-64 (TSO)
keeps them in that order for readers, as `shm/ring.py` documents for the Python writer.
Mapping lifetime: the handler keeps the `RingWriter` (hence its mapping) alive and checks per
frame that the ring is still open — `ring.publish` is still the closure it mirrors
(`RingWriter.close` swaps it before unmapping) and the ring map still has its segment — so it
never writes to an unmapped segment; a closed ring's frames go to `slow`, which raises as
before. It takes no buffer export: one would make every `close` of the segment fail.
"""
from cpython.exc cimport PyErr_Clear, PyErr_Occurred
from cpython.object cimport PyObject
from libc.stdint cimport int8_t, int64_t, uint8_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy, strlen

import struct as _struct
import time as _time

from shm.layout import CURSOR_OFFSET, DATA_OFFSET, PARKED_OFFSET, struct_format
from shm.ring import RingWriter

cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    # the error (overflow) is checked and cleared by the caller, not raised
    long long PyLong_AsLongLong(object o) noexcept
    double PyOS_string_to_double(const char* s, char** endptr,
                                 PyObject* overflow_exception) except? -1.0

cdef extern from *:
    """
    #include <time.h>
    /* The ring's int64 words: single aligned 8-byte loads/stores, never torn, never reordered
       by the compiler across each other (release), plus a compiler-only barrier between the
       "being written" stamp and the record copy. */
    static inline int64_t bbo_load(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
    static inline void bbo_store(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
    static inline void bbo_barrier(void) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
    static inline int64_t bbo_realtime_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
    }
    """
    int64_t bbo_load(const int64_t* p) nogil
    void bbo_store(int64_t* p, int64_t v) nogil
    void bbo_barrier() nogil
    int64_t bbo_realtime_ns() nogil

# The record, laid out as struct_format(TICK_DTYPE) = TICK_FORMAT packs it (no padding).
cdef packed struct TickRec:
    uint8_t kind
    uint8_t venue
    int8_t side
    uint8_t flags
    uint32_t symbol_id
    int64_t ts_event
    int64_t ts_recv
    int64_t ts_pub
    double bid_px
    double bid_sz
    double ask_px
    double ask_sz
    double price
    double size
    int64_t update_id

TICK_FORMAT = "<BBbBIqqqddddddq"

# What a parsed frame is made of: pointers into the frame's own characters.
cdef struct Bbo:
    const char* sym
    Py_ssize_t sym_len
    const char* bid_px
    const char* bid_sz
    const char* ask_px
    const char* ask_sz
    int64_t ts_event
    int64_t update_id

cdef struct Sym:
    const char* name
    Py_ssize_t n
    uint32_t sid

cdef enum Shape:
    BINANCE = 1
    OKX = 2
    GATE = 3

cdef enum CharClass:
    DIGIT = 0
    LOWER_ALNUM = 1      # [a-z0-9]
    UPPER_ALNUM = 2      # [A-Z0-9]
    UPPER_ALNUM_DASH = 3  # [A-Z0-9-]
    UPPER_ALNUM_UNDER = 4  # [A-Z0-9_]

# The whole-frame regexes of each venue's `market_fast.py` that the scanners below mirror.
PATTERNS = {
    "binance": (
        r'\{"stream":"[a-z0-9]{1,40}+@bookTicker","data":\{"u":(0|[1-9][0-9]{0,17}+),"s":"'
        r'([A-Z0-9]{1,40}+)","b":"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","B":"([0-9]{1,30}+'
        r'(?:\.[0-9]{1,30}+)?+)","a":"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","A":"([0-9]{1,30}+'
        r'(?:\.[0-9]{1,30}+)?+)"\}\}'),
    "okx": (
        r'\{"arg":\{"channel":"bbo-tbt","instId":"([A-Z0-9-]{1,40}+)"\},"data":\[\{"asks":\[\["'
        r'([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","[0-9]{1,20}+'
        r'","[0-9]{1,20}+"\]\],"bids":\[\["([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","([0-9]{1,30}+'
        r'(?:\.[0-9]{1,30}+)?+)","[0-9]{1,20}+","[0-9]{1,20}+"\]\],"ts":"([0-9]{1,12}+|[1-8]'
        r'[0-9]{12}+)","seqId":(0|[1-9][0-9]{0,17}+)\}\]\}'),
    "gate": (
        r'\{"time":(?:0|[1-9][0-9]{0,19}+),"time_ms":(?:0|[1-9][0-9]{0,19}+),"channel":"spot\.'
        r'book_ticker","event":"update","result":\{"t":(0|[1-9][0-9]{0,11}+|[1-8][0-9]{12}+),'
        r'"u":(0|[1-9][0-9]{0,17}+),"s":"([A-Z0-9_]{1,40}+)","b":"([0-9]{1,30}+(?:\.[0-9]{1,30}+'
        r')?+)","B":"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)","a":"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+'
        r')","A":"([0-9]{1,30}+(?:\.[0-9]{1,30}+)?+)"\}\}'),
}
_SHAPES = {"binance": BINANCE, "okx": OKX, "gate": GATE}


# -- scanners: each advances *pp past what it matched, or returns False -------------------------
cdef inline bint in_class(char c, CharClass k) noexcept nogil:
    if c'0' <= c <= c'9':
        return True
    if k == LOWER_ALNUM:
        return c'a' <= c <= c'z'
    if k == DIGIT:
        return False
    if c'A' <= c <= c'Z':
        return True
    return (k == UPPER_ALNUM_DASH and c == c'-') or (k == UPPER_ALNUM_UNDER and c == c'_')


cdef inline Py_ssize_t run(const char* p, const char* end, CharClass k) noexcept nogil:
    """Length of the maximal run of class `k` at p: a possessive `[..]{1,n}+` followed by a
    character outside the class matches exactly when 1 <= run <= n."""
    cdef const char* q = p
    while q < end and in_class(q[0], k):
        q += 1
    return q - p


cdef inline bint lit(const char** pp, const char* end, const char* s) noexcept nogil:
    cdef Py_ssize_t n = strlen(s)
    if end - pp[0] < n or memcmp(pp[0], s, n) != 0:
        return False
    pp[0] += n
    return True


cdef inline bint span(const char** pp, const char* end, CharClass k, Py_ssize_t hi,
                      const char** start, Py_ssize_t* n) noexcept nogil:
    """`[k]{1,hi}+`: the run, its start and length."""
    cdef Py_ssize_t r = run(pp[0], end, k)
    if r < 1 or r > hi:
        return False
    start[0] = pp[0]
    n[0] = r
    pp[0] += r
    return True


cdef inline int64_t digits_value(const char* p, Py_ssize_t n) noexcept nogil:
    cdef int64_t v = 0
    cdef Py_ssize_t i
    for i in range(n):
        v = v * 10 + (p[i] - c'0')
    return v


cdef inline bint num(const char** pp, const char* end, const char** out) noexcept nogil:
    """NUM: `"([0-9]{1,30}+(?:\\.[0-9]{1,30}+)?+)"`; *out is the number's first digit."""
    cdef const char* p = pp[0]
    cdef Py_ssize_t r
    if p >= end or p[0] != c'"':
        return False
    p += 1
    out[0] = p
    r = run(p, end, DIGIT)
    if r < 1 or r > 30:
        return False
    p += r
    if p < end and p[0] == c'.':
        p += 1
        r = run(p, end, DIGIT)
        if r < 1 or r > 30:
            return False
        p += r
    if p >= end or p[0] != c'"':
        return False
    pp[0] = p + 1
    return True


cdef inline bint json_int(const char** pp, const char* end, Py_ssize_t max_digits,
                          bint ms, int64_t* out) noexcept nogil:
    """A JSON int without sign or leading zero: ID (`0|[1-9][0-9]{0,17}+`, max_digits 18),
    Gate's `_INT` (20 digits, value unused) or, with `ms`, MS_INT
    (`0|[1-9][0-9]{0,11}+|[1-8][0-9]{12}+`: ms whose ns fit int64)."""
    cdef const char* p = pp[0]
    cdef Py_ssize_t r = run(p, end, DIGIT)
    if r < 1:
        return False
    if p[0] == c'0':
        if r != 1:
            return False
    elif ms:
        if r > 13 or (r == 13 and p[0] > c'8'):
            return False
    elif r > max_digits:
        return False
    if max_digits <= 18:
        out[0] = digits_value(p, r)
    pp[0] = p + r
    return True


cdef inline bint ms_digits(const char** pp, const char* end, int64_t* out) noexcept nogil:
    """MS_DIGITS inside a string: `[0-9]{1,12}+|[1-8][0-9]{12}+` (leading zeros allowed)."""
    cdef const char* p = pp[0]
    cdef Py_ssize_t r = run(p, end, DIGIT)
    if r < 1 or r > 13 or (r == 13 and not (c'1' <= p[0] <= c'8')):
        return False
    out[0] = digits_value(p, r)
    pp[0] = p + r
    return True


cdef inline bint quoted_digits(const char** pp, const char* end) noexcept nogil:
    """`"[0-9]{1,20}+"` (OKX's liquidated-orders and order-count fields, unused)."""
    cdef const char* s
    cdef Py_ssize_t n
    return (lit(pp, end, b'"') and span(pp, end, DIGIT, 20, &s, &n)
            and lit(pp, end, b'"'))


# -- the three frame shapes --------------------------------------------------------------------
cdef bint parse_binance(const char* p, const char* end, Bbo* b) noexcept nogil:
    cdef const char* s
    cdef Py_ssize_t n
    b.ts_event = 0
    return (lit(&p, end, b'{"stream":"') and span(&p, end, LOWER_ALNUM, 40, &s, &n)
            and lit(&p, end, b'@bookTicker","data":{"u":')
            and json_int(&p, end, 18, False, &b.update_id)
            and lit(&p, end, b',"s":"') and span(&p, end, UPPER_ALNUM, 40, &b.sym, &b.sym_len)
            and lit(&p, end, b'","b":') and num(&p, end, &b.bid_px)
            and lit(&p, end, b',"B":') and num(&p, end, &b.bid_sz)
            and lit(&p, end, b',"a":') and num(&p, end, &b.ask_px)
            and lit(&p, end, b',"A":') and num(&p, end, &b.ask_sz)
            and lit(&p, end, b'}}') and p == end)


cdef inline bint okx_level(const char** pp, const char* end, const char** px,
                           const char** sz) noexcept nogil:
    return (lit(pp, end, b'[[') and num(pp, end, px) and lit(pp, end, b',')
            and num(pp, end, sz) and lit(pp, end, b',') and quoted_digits(pp, end)
            and lit(pp, end, b',') and quoted_digits(pp, end) and lit(pp, end, b']]'))


cdef bint parse_okx(const char* p, const char* end, Bbo* b) noexcept nogil:
    cdef int64_t ms
    if not (lit(&p, end, b'{"arg":{"channel":"bbo-tbt","instId":"')
            and span(&p, end, UPPER_ALNUM_DASH, 40, &b.sym, &b.sym_len)
            and lit(&p, end, b'"},"data":[{"asks":') and okx_level(&p, end, &b.ask_px, &b.ask_sz)
            and lit(&p, end, b',"bids":') and okx_level(&p, end, &b.bid_px, &b.bid_sz)
            and lit(&p, end, b',"ts":"') and ms_digits(&p, end, &ms)
            and lit(&p, end, b'","seqId":') and json_int(&p, end, 18, False, &b.update_id)
            and lit(&p, end, b'}]}') and p == end):
        return False
    b.ts_event = ms * 1000000
    return True


cdef bint parse_gate(const char* p, const char* end, Bbo* b) noexcept nogil:
    cdef int64_t unused, ms
    if not (lit(&p, end, b'{"time":') and json_int(&p, end, 20, False, &unused)
            and lit(&p, end, b',"time_ms":') and json_int(&p, end, 20, False, &unused)
            and lit(&p, end, b',"channel":"spot.book_ticker","event":"update","result":{"t":')
            and json_int(&p, end, 13, True, &ms)
            and lit(&p, end, b',"u":') and json_int(&p, end, 18, False, &b.update_id)
            and lit(&p, end, b',"s":"') and span(&p, end, UPPER_ALNUM_UNDER, 40, &b.sym,
                                                 &b.sym_len)
            and lit(&p, end, b'","b":') and num(&p, end, &b.bid_px)
            and lit(&p, end, b',"B":') and num(&p, end, &b.bid_sz)
            and lit(&p, end, b',"a":') and num(&p, end, &b.ask_px)
            and lit(&p, end, b',"A":') and num(&p, end, &b.ask_sz)
            and lit(&p, end, b'}}') and p == end):
        return False
    b.ts_event = ms * 1000000
    return True


cdef inline double to_double(const char* s) except? -1.0:
    """`float()` of the plain decimal string starting at s (it ends at its closing quote)."""
    cdef char* end
    return PyOS_string_to_double(s, &end, NULL)


cdef class BboFrameHandler:
    """`on_frame(data, ts_recv)` for one feed connection: BBO frames of `shape` straight into
    `ring`, everything else to `slow` (FeedCore's pure-Python frame callback).

    Raises TypeError / ValueError at construction when it cannot stand in for `slow` exactly:
    an unknown shape or a mirrored pattern that differs, or a ring that is not a tick
    `RingWriter` publishing with its own `publish`.
    """
    cdef readonly object slow
    cdef dict counters
    cdef object ring, ring_map, publish0, bell, clock, kind_obj, venue_obj
    cdef bint wall_clock
    cdef Shape shape
    cdef uint8_t kind, venue_id
    cdef int64_t* cursor
    cdef int64_t* stamps
    cdef int64_t* parked
    cdef char* records
    cdef int64_t mask
    cdef Sym* syms
    cdef Py_ssize_t n_syms
    cdef list names  # keeps the bytes `syms` points into alive

    def __cinit__(self) -> None:
        self.syms = NULL
        self.n_syms = 0

    def __init__(self, shape: tuple[str, str], slow, dict counters, dict sid_of,
                 ring, clock, int venue_id, int kind_bbo) -> None:
        name, pattern = shape
        if PATTERNS.get(name) != pattern:
            raise ValueError(f"no compiled scanner for BBO shape {name!r} with this pattern")
        self.shape = _SHAPES[name]
        self.slow = slow
        self.counters = counters
        self.clock = clock
        self.wall_clock = clock is _time.time_ns
        self.kind, self.venue_id = kind_bbo, venue_id
        self.kind_obj, self.venue_obj = kind_bbo, venue_id
        for key in ("messages", "bytes", "bbo"):
            if type(counters.get(key)) is not int:
                raise ValueError(f"counter {key!r} missing")
        self._attach(ring)
        self._load_symbols(sid_of)

    cdef _attach(self, ring):
        """The ring's words and slots, as `RingWriter._make_publish` addresses them."""
        if type(ring) is not RingWriter:
            raise TypeError("not a RingWriter")
        if getattr(ring.publish, "__qualname__", "") != "RingWriter._make_publish.<locals>.publish":
            raise TypeError("the ring's publish is not RingWriter's own")
        if struct_format(ring.dtype) != TICK_FORMAT or ring.dtype.itemsize != sizeof(TickRec):
            raise TypeError("the ring's records are not tick records")
        cdef char* base
        cdef Py_ssize_t cap, rec_offset
        cdef const unsigned char[::1] seg
        m = ring._m
        cap = m.capacity
        if cap <= 0 or cap & (cap - 1) or m.mask != cap - 1 or m.shm is None:
            raise ValueError("ring capacity is not a power of two, or the ring is closed")
        seg = m.shm.buf  # only to learn the address and size: released at return
        rec_offset = m.rec_offset
        if (<Py_ssize_t>seg.shape[0] < rec_offset + cap * <Py_ssize_t>sizeof(TickRec)
                or rec_offset != DATA_OFFSET + cap * 8 or PARKED_OFFSET + 8 > DATA_OFFSET):
            raise ValueError("ring segment smaller than its header claims")
        base = <char*>&seg[0]
        self.cursor = <int64_t*>(base + <Py_ssize_t>CURSOR_OFFSET)
        self.parked = <int64_t*>(base + <Py_ssize_t>PARKED_OFFSET)
        self.stamps = <int64_t*>(base + <Py_ssize_t>DATA_OFFSET)
        self.records = base + rec_offset
        self.mask = m.mask
        self.ring = ring
        self.ring_map = m
        self.publish0 = ring.publish
        self.bell = m.doorbell.ring

    cdef _load_symbols(self, dict sid_of):
        """The symbols a frame may name, for a byte compare (a feed tracks a handful per
        connection: a linear scan beats building a str and hashing it). Symbols no frame of
        this shape can spell, and ids a u4 cannot hold, stay out: their frames go to `slow`."""
        keep = []
        for vs, sid in sid_of.items():
            if (type(vs) is str and vs.isascii() and 1 <= len(vs) <= 40 and type(sid) is int
                    and 0 <= sid < 2**32):
                keep.append((vs.encode("ascii"), sid))
        self.syms = <Sym*>malloc(max(1, len(keep)) * sizeof(Sym))
        if self.syms == NULL:
            raise MemoryError()
        self.names = [k for k, _ in keep]
        for i, (k, sid) in enumerate(keep):
            self.syms[i].name = <const char*>k
            self.syms[i].n = len(k)
            self.syms[i].sid = sid
        self.n_syms = len(keep)

    def __dealloc__(self) -> None:
        free(self.syms)

    cdef inline int64_t lookup(self, const Bbo* b) noexcept:
        cdef Py_ssize_t i
        for i in range(self.n_syms):
            if self.syms[i].n == b.sym_len and memcmp(self.syms[i].name, b.sym, b.sym_len) == 0:
                return self.syms[i].sid
        return -1

    cdef inline bint parse(self, const char* s, Py_ssize_t n, Bbo* b) noexcept:
        if self.shape == BINANCE:
            return parse_binance(s, s + n, b)
        if self.shape == OKX:
            return parse_okx(s, s + n, b)
        return parse_gate(s, s + n, b)

    cdef inline void write(self, const TickRec* rec) noexcept:
        """`RingWriter.publish`'s protocol, store for store."""
        cdef int64_t seq = bbo_load(self.cursor)
        cdef int64_t idx = seq & self.mask
        bbo_store(&self.stamps[idx], ~seq)  # "being written": a reader copying it rejects it
        bbo_barrier()
        memcpy(self.records + idx * sizeof(TickRec), rec, sizeof(TickRec))
        bbo_store(&self.stamps[idx], seq + 1)  # written last: the record is complete
        bbo_store(self.cursor, seq + 1)

    def __call__(self, data, ts_recv):
        cdef Bbo b
        cdef TickRec rec
        cdef int64_t sid, recv
        cdef Py_ssize_t n
        cdef dict c
        if type(data) is not str or not PyUnicode_IS_COMPACT_ASCII(data):
            return self.slow(data, ts_recv)
        n = PyUnicode_GET_LENGTH(data)
        if not self.parse(<const char*>PyUnicode_DATA(data), n, &b):
            return self.slow(data, ts_recv)
        sid = self.lookup(&b)
        if (sid < 0 or type(ts_recv) is not int or self.ring.publish is not self.publish0
                or self.ring_map.shm is None):
            return self.slow(data, ts_recv)
        recv = PyLong_AsLongLong(ts_recv)
        if recv == -1 and PyErr_Occurred() != NULL:  # beyond int64: struct.error's business
            PyErr_Clear()
            return self.slow(data, ts_recv)
        c = self.counters
        c["messages"] += 1
        c["bytes"] += n
        rec.kind, rec.venue, rec.side, rec.flags = self.kind, self.venue_id, 0, 0
        rec.symbol_id = <uint32_t>sid
        rec.ts_event, rec.ts_recv, rec.update_id = b.ts_event, recv, b.update_id
        rec.bid_px = to_double(b.bid_px)
        rec.bid_sz = to_double(b.bid_sz)
        rec.ask_px = to_double(b.ask_px)
        rec.ask_sz = to_double(b.ask_sz)
        rec.price = rec.size = 0.0
        c["bbo"] += 1
        if self.wall_clock:
            rec.ts_pub = bbo_realtime_ns()
        else:
            pub = self.clock()
            if type(pub) is not int or not (-2**63 <= pub < 2**63):
                # let RingWriter.publish pack it, and raise as it does
                self.ring.publish((self.kind_obj, self.venue_obj, 0, 0, sid, b.ts_event,
                                   ts_recv, pub, rec.bid_px, rec.bid_sz, rec.ask_px,
                                   rec.ask_sz, 0.0, 0.0, b.update_id))
                return None
            rec.ts_pub = pub
        self.write(&rec)
        if bbo_load(self.parked):
            self.bell()
        return None
