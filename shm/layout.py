"""Shared-memory layouts: the segment header every ring and book segment starts with, and the
normalized tick record.

Header (one 1 KiB block): magic, layout version, segment kind, capacity, record size, and
the record dtype's description as JSON. A reader rebuilds the dtype from the segment itself
and refuses (`LayoutMismatch`) when the magic, version or kind differ, or when it expected a
different dtype — so a process built from other code never misreads a ring.

Cache lines: the producer's cursor, the parked-reader count and the doorbell each sit on
their own 64-byte line, away from the data, so readers polling the cursor do not false-share
with the producer's record stores.
"""
from __future__ import annotations

import json
import struct

import numpy as np

MAGIC = 0x48465452494E4731  # "HFTRING1"
LAYOUT_VERSION = 1
CACHE_LINE = 64
HEADER_BYTES = 1024
KIND_RING = 1
KIND_BOOK = 2

_HDR = struct.Struct("<QIIQQI")  # magic, version, kind, capacity, itemsize, descr length
_DESCR_OFFSET = 64

# Control block after the header: cursor / parked readers / doorbell, one cache line each.
CURSOR_OFFSET = HEADER_BYTES
PARKED_OFFSET = HEADER_BYTES + CACHE_LINE
DOORBELL_OFFSET = HEADER_BYTES + 2 * CACHE_LINE
CONTROL_BYTES = 3 * CACHE_LINE
DATA_OFFSET = HEADER_BYTES + CONTROL_BYTES

# -- the tick record ---------------------------------------------------------------------------
KIND_BBO = 1
KIND_TRADE = 2

TICK_DTYPE = np.dtype([
    ("kind", "u1"), ("venue", "u1"), ("side", "i1"), ("flags", "u1"),
    ("symbol_id", "<u4"),
    ("ts_event", "<i8"), ("ts_recv", "<i8"), ("ts_pub", "<i8"),
    ("bid_px", "<f8"), ("bid_sz", "<f8"), ("ask_px", "<f8"), ("ask_sz", "<f8"),
    ("price", "<f8"), ("size", "<f8"),
    ("update_id", "<i8"),
], align=True)

VENUE_IDS = {"binance": 1, "okx": 2, "gate": 3}
VENUE_NAMES = {v: k for k, v in VENUE_IDS.items()}


class LayoutMismatch(Exception):
    """The segment was written by another layout version, kind or record type."""


def descr_of(dtype: np.dtype) -> str:
    return json.dumps({"descr": [list(d) for d in dtype.descr], "itemsize": dtype.itemsize})


def dtype_from_descr(text: str) -> np.dtype:
    doc = json.loads(text)
    fields = []
    for d in doc["descr"]:
        if len(d) == 3:
            fields.append((d[0], d[1], tuple(d[2])))
        else:
            fields.append((d[0], d[1]))
    dt = np.dtype(fields)
    if dt.itemsize != doc["itemsize"]:  # pragma: no cover - descr always round-trips
        raise LayoutMismatch("record size does not round-trip")
    return dt


def write_header(buf: memoryview, kind: int, capacity: int, dtype: np.dtype) -> None:
    descr = descr_of(dtype).encode()
    if _DESCR_OFFSET + len(descr) > HEADER_BYTES:
        raise ValueError("record dtype description too long for the header")
    _HDR.pack_into(buf, 0, MAGIC, LAYOUT_VERSION, kind, capacity, dtype.itemsize, len(descr))
    buf[_DESCR_OFFSET:_DESCR_OFFSET + len(descr)] = descr


def read_header(buf: memoryview, kind: int, name: str,
                expected: np.dtype | None = None) -> tuple[int, np.dtype]:
    """(capacity, dtype) of a segment; LayoutMismatch with a clear message otherwise."""
    if len(buf) < HEADER_BYTES:
        raise LayoutMismatch(f"{name}: segment too small to be an hft segment")
    magic, version, got_kind, capacity, itemsize, n = _HDR.unpack_from(buf, 0)
    if magic != MAGIC:
        raise LayoutMismatch(f"{name}: not an hft shared-memory segment (bad magic)")
    if version != LAYOUT_VERSION:
        raise LayoutMismatch(f"{name}: layout version {version}, this code reads version "
                             f"{LAYOUT_VERSION}; restart the whole system from one build")
    if got_kind != kind:
        raise LayoutMismatch(f"{name}: segment kind {got_kind}, expected {kind}")
    dtype = dtype_from_descr(bytes(buf[_DESCR_OFFSET:_DESCR_OFFSET + n]).decode())
    if dtype.itemsize != itemsize:
        raise LayoutMismatch(f"{name}: record size {itemsize} does not match its dtype")
    if expected is not None and descr_of(expected) != descr_of(dtype):
        raise LayoutMismatch(f"{name}: record layout differs from the one this reader expects")
    return capacity, dtype


def struct_format(dtype: np.dtype) -> str:
    """A `struct` format packing one record byte-identically to `dtype` (padding included)."""
    codes = {"u1": "B", "i1": "b", "u2": "H", "i2": "h", "u4": "I", "i4": "i", "u8": "Q",
             "i8": "q", "f4": "f", "f8": "d"}
    fmt, pos = "<", 0
    fields = sorted(((off, name, dt) for name, (dt, off, *_) in dtype.fields.items()),
                    key=lambda t: t[0])
    for off, name, dt in fields:
        if dt.subdtype is not None or dt.str[1:] not in codes:
            raise ValueError(f"field {name}: only scalar numeric fields can be packed")
        if off > pos:
            fmt += f"{off - pos}x"
        fmt += codes[dt.str[1:]]
        pos = off + dt.itemsize
    if dtype.itemsize > pos:
        fmt += f"{dtype.itemsize - pos}x"
    return fmt
