# cython: language_level=3
"""C-level access to the `__slots__` of plain Python classes, for the compiled order path.

Why: the OMS/RMS hot path reads and builds records that stay ordinary Python classes (the
frozen slotted dataclasses `ExecReport` and `NewOrder` in pipeline/messages.py, the OMS's
event dataclasses, the portfolio's `Position`). Going through `getattr`/`setattr` costs a type
lookup and a descriptor call per field; a slot is a `PyObject*` at a fixed offset in the
instance, which the slot's member descriptor names. `slot_offset` reads that offset once (at
import) and refuses anything that is not a plain object slot, so a class whose field became a
property or a non-slot is never poked blindly (the module then refuses to load, and the pure
Python path runs). `new_bare` is `object.__new__(cls)` (the type's own allocator; no
`__init__`), `slot_put` the store into an empty slot of a fresh object, `slot_get` a borrowed
read (NULL when the slot was never set: callers fall back to the attribute path).
`slot_set` replaces a set slot's value. Only ever used on objects whose type was checked
exactly (`type(x) is T`). Also here: `hft_hex_id` (a client id's `prefix + format(seq, "x")`),
bound-method introspection, and CPython's known-hash dict access (a tuple key's hash is not
cached by the tuple; hashing it once instead of per lookup is most of a lookup's cost).
"""
from cpython.object cimport PyObject, PyTypeObject

cdef extern from *:
    """
    #include <structmember.h>
    /* The byte offset of the object slot `descr` describes, or -1 if it is not one. */
    static Py_ssize_t hft_slot_offset(PyObject *descr) {
        if (Py_TYPE(descr) != &PyMemberDescr_Type) return -1;
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return -1;
        return m->offset;
    }
    static inline PyObject *hft_slot_get(PyObject *o, Py_ssize_t off) {
        return *(PyObject **)((char *)o + off);
    }
    /* Store into a slot of a freshly allocated object (empty: nothing to release). */
    static inline void hft_slot_put(PyObject *o, Py_ssize_t off, PyObject *v) {
        Py_INCREF(v);
        *(PyObject **)((char *)o + off) = v;
    }
    static inline PyObject *hft_new_bare(PyTypeObject *t) {
        return t->tp_alloc(t, 0);
    }
    /* Replace the value of a set slot (the old one released after the store). */
    static inline void hft_slot_set(PyObject *o, Py_ssize_t off, PyObject *v) {
        PyObject **p = (PyObject **)((char *)o + off);
        PyObject *old = *p;
        Py_INCREF(v);
        *p = v;
        Py_XDECREF(old);
    }
    /* `prefix + format(seq, "x")` for a compact ASCII prefix: one allocation. */
    static PyObject *hft_hex_id(PyObject *prefix, unsigned long long seq) {
        char tmp[16];
        int n = 0, i;
        do { tmp[n++] = "0123456789abcdef"[seq & 15]; seq >>= 4; } while (seq);
        Py_ssize_t plen = PyUnicode_GET_LENGTH(prefix);
        PyObject *s = PyUnicode_New(plen + n, 127);
        if (s == NULL) return NULL;
        char *d = (char *)PyUnicode_DATA(s);
        memcpy(d, PyUnicode_DATA(prefix), (size_t)plen);
        for (i = 0; i < n; i++) d[plen + i] = tmp[n - 1 - i];
        return s;
    }
    static inline int hft_is_ascii(PyObject *s) { return PyUnicode_IS_COMPACT_ASCII(s); }
    /* The function and self of a bound method (NULL when `m` is not one). */
    static inline PyObject *hft_method_func(PyObject *m) {
        return PyMethod_Check(m) ? PyMethod_GET_FUNCTION(m) : NULL;
    }
    static inline PyObject *hft_method_self(PyObject *m) { return PyMethod_GET_SELF(m); }
    /* An exact int as int64: 1 and *out, or 0 if it does not fit. Up to 60 bits straight
       from the digits (3.11's layout); beyond, CPython's own conversion. */
    static inline int hft_as_i64(PyObject *x, long long *out) {
    #if PY_VERSION_HEX < 0x030C0000
        const digit *d = ((PyLongObject *)x)->ob_digit;
        switch (Py_SIZE(x)) {
        case 0: *out = 0; return 1;
        case 1: *out = (long long)d[0]; return 1;
        case -1: *out = -(long long)d[0]; return 1;
        case 2: *out = (long long)(((unsigned long long)d[1] << PyLong_SHIFT) | d[0]); return 1;
        case -2: *out = -(long long)(((unsigned long long)d[1] << PyLong_SHIFT) | d[0]);
                 return 1;
        }
    #endif
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
        if (overflow) return 0;
        if (v == -1 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
        *out = v;
        return 1;
    }
    """
    Py_ssize_t hft_slot_offset(PyObject* descr) noexcept
    PyObject* hft_slot_get(PyObject* o, Py_ssize_t off) noexcept
    void hft_slot_put(PyObject* o, Py_ssize_t off, PyObject* v) noexcept
    object hft_new_bare(PyTypeObject* t)   # a new reference; NULL raises
    void hft_slot_set(PyObject* o, Py_ssize_t off, PyObject* v) noexcept
    object hft_hex_id(object prefix, unsigned long long seq)
    bint hft_is_ascii(object s) noexcept
    bint hft_as_i64(PyObject* x, long long* out) noexcept
    PyObject* hft_method_func(PyObject* m) noexcept
    PyObject* hft_method_self(PyObject* m) noexcept
    # CPython's dict access with a hash computed once (cpython/dictobject.h)
    PyObject* _PyDict_GetItem_KnownHash(object d, object key, Py_hash_t h) except? NULL
    int _PyDict_SetItem_KnownHash(object d, object key, object v, Py_hash_t h) except -1


cdef inline Py_ssize_t slot_offset(type cls, str name) except -1:
    """Offset of `cls`'s slot `name`; ImportError if it is not a plain, writable object slot."""
    descr = cls.__dict__.get(name)
    cdef Py_ssize_t off = -1 if descr is None else hft_slot_offset(<PyObject*>descr)
    if off < 0:
        raise ImportError(f"{cls.__qualname__}.{name} is not a plain slot: compiled path off")
    return off


cdef inline bint as_i64(object x, long long* out) noexcept:
    """`x` as an int64 if it is exactly an int that fits (a bool or an int subclass is not:
    callers then take the pure path)."""
    return type(x) is int and hft_as_i64(<PyObject*>x, out)


cdef inline object new_bare(type cls):
    """`object.__new__(cls)`: an instance with every slot empty."""
    return hft_new_bare(<PyTypeObject*>cls)
