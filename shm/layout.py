"""Shared-memory layouts: the header every hft segment starts with, the control-block offsets,
and the normalized tick record (`TICK_DTYPE`).

Who uses it: `shm.ring`, `shm.book` and `shm.status` write the header when they create a
segment and check it when they attach; feeds build `TICK_DTYPE` rows; the writer and engine
read them.

Header (one 1 KiB block at offset 0): magic, `LAYOUT_VERSION`, segment kind, capacity (slots /
symbols / processes), record size, a 64-bit hash of the record dtype's description, and the
description itself as JSON. A process attaching to a segment built by other code — another
layout version, another kind, another record dtype, or a segment too small for what its header
claims — gets `LayoutMismatch` with a message saying what differs, instead of misreading memory.

Cache lines: the producer's cursor, the parked-reader count and the doorbell word each sit on
their own 64-byte line after the header, away from the records, so readers polling the cursor
do not false-share with the producer's record stores (`CACHE_LINE`, `*_OFFSET`).
"""
from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

MAGIC = 0x48465452494E4731  # "HFTRING1" (shared by every hft segment kind)
LAYOUT_VERSION = 2
CACHE_LINE = 64
HEADER_BYTES = 1024

# segment kinds (what the segment holds), not to be confused with the tick record kinds below
KIND_RING = 1
KIND_BOOK = 2
KIND_STATUS = 3
KIND_SNAPSHOT = 4
SEGMENT_KINDS = {KIND_RING: "ring", KIND_BOOK: "book", KIND_STATUS: "status",
                 KIND_SNAPSHOT: "snapshot"}

# magic, version, kind, capacity, itemsize, descr length, (pad), dtype hash
_HDR = struct.Struct("<QIIQQI4xQ")
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
    """Canonical JSON description of a record dtype (field names, types, offsets via padding)."""
    return json.dumps({"descr": [list(d) for d in dtype.descr], "itemsize": dtype.itemsize})


def dtype_hash(dtype: np.dtype) -> int:
    """64-bit fingerprint of `descr_of(dtype)`: equal hashes mean byte-identical records."""
    return int.from_bytes(hashlib.blake2b(descr_of(dtype).encode(), digest_size=8).digest(),
                          "little")


def dtype_from_descr(text: str) -> np.dtype:
    doc = json.loads(text)
    fields: list[tuple[Any, ...]] = []
    for d in doc["descr"]:
        if len(d) == 3:
            fields.append((d[0], d[1], tuple(d[2])))
        else:
            fields.append((d[0], d[1]))
    return np.dtype(fields)


def write_header(buf: memoryview, kind: int, capacity: int, dtype: np.dtype) -> None:
    descr = descr_of(dtype).encode()
    if _DESCR_OFFSET + len(descr) > HEADER_BYTES:
        raise ValueError("record dtype description too long for the header")
    buf[_DESCR_OFFSET:_DESCR_OFFSET + len(descr)] = descr
    # magic last: a segment is recognisable only once its header is complete
    _HDR.pack_into(buf, 0, 0, LAYOUT_VERSION, kind, capacity, dtype.itemsize, len(descr),
                   dtype_hash(dtype))
    struct.pack_into("<Q", buf, 0, MAGIC)


def read_header(buf: memoryview, kind: int, name: str, expected: np.dtype | None = None,
                size_of: Callable[[int, np.dtype], int] | None = None) -> tuple[int, np.dtype]:
    """(capacity, dtype) of a segment; `LayoutMismatch` with a clear message otherwise.

    `expected`: the record dtype the caller will interpret records as. `size_of(capacity,
    dtype)`: the bytes such a segment must span, so a truncated segment is refused, not mapped.
    """
    if len(buf) < HEADER_BYTES:
        raise LayoutMismatch(f"{name}: {len(buf)} bytes, too small to be an hft segment")
    magic, version, got_kind, capacity, itemsize, n, got_hash = _HDR.unpack_from(buf, 0)
    if magic != MAGIC:
        raise LayoutMismatch(f"{name}: not an hft shared-memory segment (bad magic)")
    if version != LAYOUT_VERSION:
        raise LayoutMismatch(f"{name}: layout version {version}, this code reads version "
                             f"{LAYOUT_VERSION}; restart the whole system from one build")
    if got_kind != kind:
        raise LayoutMismatch(f"{name}: segment kind {SEGMENT_KINDS.get(got_kind, got_kind)}, "
                             f"expected {SEGMENT_KINDS.get(kind, kind)}")
    if not 0 < n <= HEADER_BYTES - _DESCR_OFFSET:
        raise LayoutMismatch(f"{name}: corrupt header (record description length {n})")
    try:
        dtype = dtype_from_descr(bytes(buf[_DESCR_OFFSET:_DESCR_OFFSET + n]).decode())
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as e:
        raise LayoutMismatch(f"{name}: corrupt header (record description: {e})") from None
    if dtype.itemsize != itemsize or dtype_hash(dtype) != got_hash:
        raise LayoutMismatch(f"{name}: corrupt header (record size/hash do not match its dtype)")
    if expected is not None and dtype_hash(expected) != got_hash:
        raise LayoutMismatch(f"{name}: record layout differs from the one this reader expects "
                             f"(segment {got_hash:016x}, expected {dtype_hash(expected):016x})")
    if size_of is not None and len(buf) < size_of(capacity, dtype):
        raise LayoutMismatch(f"{name}: segment is {len(buf)} bytes, its header needs "
                             f"{size_of(capacity, dtype)}")
    return capacity, dtype


def struct_format(dtype: np.dtype) -> str:
    """A `struct` format packing one record byte-identically to `dtype` (padding included)."""
    codes = {"u1": "B", "i1": "b", "u2": "H", "i2": "h", "u4": "I", "i4": "i", "u8": "Q",
             "i8": "q", "f4": "f", "f8": "d"}
    fmt, pos = "<", 0
    if dtype.fields is None:
        raise ValueError("only structured dtypes can be packed")
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
