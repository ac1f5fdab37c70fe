"""Segment headers: a reader refuses segments of another layout version, kind, record dtype or
size with a clear LayoutMismatch; the tick record has the documented fields."""
from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest

from shm import registry
from shm.book import BookSlots
from shm.layout import (
    CACHE_LINE,
    CURSOR_OFFSET,
    DATA_OFFSET,
    DOORBELL_OFFSET,
    KIND_RING,
    PARKED_OFFSET,
    TICK_DTYPE,
    LayoutMismatch,
    dtype_hash,
    read_header,
    struct_format,
    write_header,
)
from shm.ring import RingReader, RingWriter
from shm.status import StatusLayoutError, StatusTable


def test_tick_dtype_fields_and_struct_format_round_trip():
    assert TICK_DTYPE.isalignedstruct
    assert TICK_DTYPE.names == ("kind", "venue", "side", "flags", "symbol_id", "ts_event",
                                "ts_recv", "ts_pub", "bid_px", "bid_sz", "ask_px", "ask_sz",
                                "price", "size", "update_id")
    row = (2, 3, -1, 5, 70000, 1, 2, 3, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 2**40)
    packed = struct.pack(struct_format(TICK_DTYPE), *row)
    assert len(packed) == TICK_DTYPE.itemsize
    assert np.frombuffer(packed, TICK_DTYPE)[0].tolist() == row


def test_control_words_sit_on_their_own_cache_lines():
    offsets = [CURSOR_OFFSET, PARKED_OFFSET, DOORBELL_OFFSET, DATA_OFFSET]
    assert all(o % CACHE_LINE == 0 for o in offsets)
    assert all(b - a >= CACHE_LINE for a, b in itertools.pairwise(offsets))


def test_dtype_hash_tells_layouts_apart():
    fields = [(n, TICK_DTYPE[n]) for n in TICK_DTYPE.names]
    narrower = np.dtype([(n, "<f4" if n == "price" else t) for n, t in fields], align=True)
    swapped = np.dtype(fields[:8] + [fields[9], fields[8]] + fields[10:], align=True)
    renamed = np.dtype([("px" if n == "price" else n, t) for n, t in fields], align=True)
    assert dtype_hash(TICK_DTYPE) == dtype_hash(np.dtype(fields, align=True))
    hashes = {dtype_hash(d) for d in (TICK_DTYPE, narrower, swapped, renamed)}
    assert len(hashes) == 4


def test_foreign_segment_is_refused(seg_name):
    name = seg_name()
    registry.create(name, 8192).close()  # zero-filled: not written by hft code
    with pytest.raises(LayoutMismatch, match="bad magic"):
        RingReader.attach(name)


def test_other_layout_version_is_refused(seg_name):
    name = seg_name()
    w = RingWriter.create(name, TICK_DTYPE, 16)
    try:
        struct.pack_into("<I", w._m.shm.buf, 8, 99)  # version field
        with pytest.raises(LayoutMismatch, match="layout version 99"):
            RingReader.attach(name)
    finally:
        w.close()


def test_other_record_dtype_is_refused(seg_name):
    name = seg_name()
    w = RingWriter.create(name, np.dtype([("x", "<i8")]), 16)
    try:
        with pytest.raises(LayoutMismatch, match="record layout differs"):
            RingReader.attach(name, dtype=TICK_DTYPE)
    finally:
        w.close()


def test_wrong_segment_kind_is_refused(seg_name):
    book, ring, status = seg_name("book"), seg_name("ring"), seg_name("status")
    b = BookSlots.create(book, n_symbols=2)
    w = RingWriter.create(ring, TICK_DTYPE, 16)
    try:
        with pytest.raises(LayoutMismatch, match="segment kind book, expected ring"):
            RingReader.attach(book)
        with pytest.raises(LayoutMismatch, match="segment kind ring, expected book"):
            BookSlots.attach(ring)
        with pytest.raises(StatusLayoutError, match="expected status"):
            StatusTable.attach(ring)
        registry.create(status, 4096).close()
        with pytest.raises(LayoutMismatch):  # StatusLayoutError is a LayoutMismatch
            StatusTable.attach(status)
    finally:
        b.close()
        w.close()


def test_truncated_segment_is_refused(seg_name):
    name = seg_name()
    shm = registry.create(name, 4096)
    write_header(shm.buf, KIND_RING, 1 << 20, TICK_DTYPE)  # claims far more than 4 KiB
    shm.close()
    with pytest.raises(LayoutMismatch, match="header needs"):
        RingReader.attach(name)


def test_corrupt_description_is_refused(seg_name):
    name = seg_name()
    shm = registry.create(name, 8192)
    try:
        write_header(shm.buf, KIND_RING, 16, TICK_DTYPE)
        shm.buf[64:70] = b"\xff\xfe{oops"[:6]
        with pytest.raises(LayoutMismatch, match="corrupt header"):
            read_header(shm.buf, KIND_RING, name)
    finally:
        shm.close()
