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
Only ever used on objects whose type was checked exactly (`type(x) is T`).
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
    """
    Py_ssize_t hft_slot_offset(PyObject* descr) noexcept
    PyObject* hft_slot_get(PyObject* o, Py_ssize_t off) noexcept
    void hft_slot_put(PyObject* o, Py_ssize_t off, PyObject* v) noexcept
    object hft_new_bare(PyTypeObject* t)   # a new reference; NULL raises


cdef inline Py_ssize_t slot_offset(type cls, str name) except -1:
    """Offset of `cls`'s slot `name`; ImportError if it is not a plain, writable object slot."""
    descr = cls.__dict__.get(name)
    cdef Py_ssize_t off = -1 if descr is None else hft_slot_offset(<PyObject*>descr)
    if off < 0:
        raise ImportError(f"{cls.__qualname__}.{name} is not a plain slot: compiled path off")
    return off


cdef inline object new_bare(type cls):
    """`object.__new__(cls)`: an instance with every slot empty."""
    return hft_new_bare(<PyTypeObject*>cls)
