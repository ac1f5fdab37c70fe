"""Tick routing by kind and day, and the reusable binary-COPY encoder, checked against a plain
struct-per-field reference of the PGCOPY tuple format."""
from __future__ import annotations

import struct

import numpy as np

from shm.layout import TICK_DTYPE
from writer import tick_copy as tc

DAY = tc.DAY_NS
_FMT = {">i2": ">h", ">i4": ">i", ">i8": ">q", ">f8": ">d"}


def _rows(n: int, kind: int = 1, day: int = 20_000) -> np.ndarray:
    b = np.zeros(n, dtype=TICK_DTYPE)
    b["kind"], b["venue"], b["symbol_id"], b["flags"] = kind, 2, 4_000_000_000, 1
    b["update_id"] = np.arange(n) + 10
    b["ts_recv"] = day * DAY + np.arange(n)
    b["ts_event"], b["ts_pub"] = b["ts_recv"] - 3, b["ts_recv"] + 3
    if kind == 1:
        b["bid_px"], b["ask_px"], b["bid_sz"], b["ask_sz"] = 0.1 + np.arange(n), 0.3, 1e-8, 7.0
    else:
        b["side"], b["price"], b["size"] = -1, 12345.678901, 0.001
    return b


def _reference(table: tc.TickTable, rows: np.ndarray, batch_id: int,
               row_no: list[int]) -> bytes:
    """The PGCOPY tuples, one struct.pack per field: count, then length and value per column."""
    out = bytearray()
    for rec, rn in zip(rows, row_no):
        out += struct.pack(">h", len(table.columns))
        for col in table.columns:
            t = tc.PG_TYPES[col]
            v = batch_id if col == "batch_id" else rn if col == "row_no" else rec[col].item()
            out += struct.pack(">i", np.dtype(t).itemsize) + struct.pack(_FMT[t], v)
    return bytes(out)


def test_a_one_kind_one_day_batch_is_one_route_without_copies() -> None:
    b = _rows(100)
    (r,) = tc.route(b)
    assert (r.table, r.day, r.row_no) == (tc.BBO, 20_000, None)
    assert r.rows is b


def test_routes_by_kind_exact_zeros_and_day_keeping_batch_row_numbers() -> None:
    bbo, trade = _rows(4, 1), _rows(4, 2)
    b = np.concatenate([bbo[:2], trade[:2], bbo[2:], trade[2:]])
    b["ts_recv"][[6, 7]] += DAY                       # the last two trades: after midnight
    b["kind"][7] = 1                                  # row 7: a BBO carrying a trade's price
    b["price"][0] = -0.0                              # row 0: -0.0 is not zero bits
    got = {(r.table.name, r.day): list(r.row_no) for r in tc.route(b)
           if r.row_no is not None}
    assert got == {("ticks_bbo", 20_000): [1, 4, 5],
                   ("ticks_trade", 20_000): [2, 3],
                   ("ticks_trade", 20_001): [6],
                   ("ticks_other", 20_000): [0],
                   ("ticks_other", 20_001): [7]}
    for r in tc.route(b):
        assert np.array_equal(r.rows, b[r.row_no])


def test_days_before_1970_floor() -> None:
    b = _rows(2)
    b["ts_recv"] = [-1, 0]
    assert sorted(r.day for r in tc.route(b)) == [-1, 0]


def test_encoder_matches_reference_and_survives_buffer_reuse() -> None:
    enc = tc.CopyEncoder(tc.BBO)
    big = _rows(300)
    assert bytes(enc.encode(big, 77, None)) == _reference(tc.BBO, big, 77, list(range(300)))
    # a part of a batch (its own row numbers), then whole batches again: the reused buffer
    # must not leak those numbers, nor values of the longer batch before
    idx = np.array([5, 9, 200])
    assert bytes(enc.encode(big[idx], 78, idx)) == _reference(tc.BBO, big[idx], 78, [5, 9, 200])
    small = _rows(4)
    small["bid_px"] = -2.5
    assert bytes(enc.encode(small, 79, None)) == _reference(tc.BBO, small, 79, [0, 1, 2, 3])
    bigger = _rows(1000)  # grows the buffer
    assert bytes(enc.encode(bigger, 80, None)) == _reference(tc.BBO, bigger, 80,
                                                             list(range(1000)))


def test_every_table_encodes_its_columns() -> None:
    for table, rows in ((tc.TRADE, _rows(3, 2)), (tc.OTHER, _rows(3, 9))):
        got = bytes(tc.CopyEncoder(table).encode(rows, 1, None))
        assert got == _reference(table, rows, 1, [0, 1, 2])
