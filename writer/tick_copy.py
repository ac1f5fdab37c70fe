"""Tick rows -> PostgreSQL binary COPY, one narrow table per row kind (writer.postgres calls it).

Ticks are stored by kind (migration 002): `ticks_bbo` holds only a BBO's columns, `ticks_trade`
only a trade's, and `ticks_other` every column of any row that does not fit its kind's table
exactly. A BBO row fits when its trade-only fields (side, price, size) are all zero bits and a
trade row when its BBO-only fields (bid/ask price and size) are, which is what the feeds
publish; anything else (a new kind, a stray value, -0.0, NaN) keeps every bit in `ticks_other`.
The `ticks` view puts them back together with the zeros the narrow tables leave out, so every
stored row reads back exactly as it was in the ring. Each table is partitioned by UTC day of
ts_recv and the writer COPYs straight into the day's partition (writer.partitions).

Why: a binary COPY costs the server per column (one receive call and one datum each) and per
index entry, and the 17-column wide row with its BRIN index was what limited a stream: a BBO
row is 13 columns, a trade 12, and day partitions replace the index (see migration 002).

Encoding: each table's rows are one array of PGCOPY tuples (field count, then length word and
big-endian value per column). The field counts and length words never change, so each encoder
writes them once into a reusable buffer and a batch only stores its values (the writer encodes
on the same two cores the server parses on, so encoder time is throughput).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shm.layout import KIND_BBO, KIND_TRADE

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8   # signature, flags, header extension length
TRAILER = b"\xff\xff"

# PostgreSQL binary wire type of every column a tick table can have (big-endian).
PG_TYPES: dict[str, str] = {
    "kind": ">i2", "venue": ">i2", "side": ">i2", "flags": ">i2", "symbol_id": ">i8",
    "ts_event": ">i8", "ts_recv": ">i8", "ts_pub": ">i8",
    "bid_px": ">f8", "bid_sz": ">f8", "ask_px": ">f8", "ask_sz": ">f8",
    "price": ">f8", "size": ">f8", "update_id": ">i8", "batch_id": ">i8", "row_no": ">i4"}

_BBO_ONLY = ("bid_px", "bid_sz", "ask_px", "ask_sz")
_TRADE_ONLY = ("side", "price", "size")


@dataclass(frozen=True, slots=True)
class TickTable:
    """A tick table and its columns: TICK_DTYPE fields, then batch_id and row_no."""

    name: str
    fields: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.fields + ("batch_id", "row_no")


WIDE_FIELDS = ("kind", "venue", "side", "flags", "symbol_id", "ts_event", "ts_recv", "ts_pub",
               "bid_px", "bid_sz", "ask_px", "ask_sz", "price", "size", "update_id")
BBO = TickTable("ticks_bbo", ("venue", "flags", "symbol_id", "ts_event", "ts_recv", "ts_pub",
                              "bid_px", "bid_sz", "ask_px", "ask_sz", "update_id"))
TRADE = TickTable("ticks_trade", ("venue", "side", "flags", "symbol_id", "ts_event", "ts_recv",
                                  "ts_pub", "price", "size", "update_id"))
OTHER = TickTable("ticks_other", WIDE_FIELDS)
TABLES = (BBO, TRADE, OTHER)
DAY_NS = 86_400_000_000_000  # tables are partitioned by UTC day of ts_recv


def _zero_bits(batch: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
    """True where every field is all-zero bits (so -0.0 and NaN are not 'zero')."""
    ok = np.ones(len(batch), dtype=bool)
    for f in fields:
        col = batch[f]
        ok &= col.view(f"i{col.dtype.itemsize}") == 0
    return ok


def _take(rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """rows[idx], as whole records: numpy takes a padded structured dtype field by field,
    ~8x slower (and a batch of BBOs and trades is split like this every time)."""
    return rows.view(np.dtype((np.void, rows.dtype.itemsize)))[idx].view(rows.dtype)


@dataclass(frozen=True, slots=True)
class Route:
    """Rows of one batch bound for one table's partition of one day; `row_no` = their places in
    the batch (None: the whole batch, in order)."""

    table: TickTable
    day: int               # UTC day number of ts_recv (ts_recv // DAY_NS)
    rows: np.ndarray
    row_no: np.ndarray | None


def route(batch: np.ndarray) -> list[Route]:
    """Split a batch by table (row kind) and by day of ts_recv (one partition each); empty
    parts are left out. A batch of one kind within one day, the usual case, is not copied."""
    kind = batch["kind"]
    bbo = (kind == KIND_BBO) & _zero_bits(batch, _TRADE_ONLY)
    parts: list[tuple[TickTable, np.ndarray, np.ndarray | None]]
    if bbo.all():
        parts = [(BBO, batch, None)]
    else:
        trade = (kind == KIND_TRADE) & _zero_bits(batch, _BBO_ONLY)
        parts = []
        for table, mask in ((BBO, bbo), (TRADE, trade), (OTHER, ~(bbo | trade))):
            idx = np.flatnonzero(mask)
            if len(idx) == len(batch):
                parts.append((table, batch, None))
            elif len(idx):
                parts.append((table, _take(batch, idx), idx))
    out: list[Route] = []
    for table, rows, row_no in parts:
        days = rows["ts_recv"] // DAY_NS   # floor division: a negative stamp is a day before 1970
        lo, hi = int(days.min()), int(days.max())
        if lo == hi:
            out.append(Route(table, lo, rows, row_no))
            continue
        for day in np.unique(days).tolist():  # a batch across midnight
            idx = np.flatnonzero(days == day)
            out.append(Route(table, day, _take(rows, idx),
                             idx if row_no is None else row_no[idx]))
    return out


class CopyEncoder:
    """One table's COPY tuples for tick rows, in a buffer reused from batch to batch (not
    thread-safe: one per connection)."""

    def __init__(self, table: TickTable) -> None:
        self.table = table
        cols = table.columns
        self._dtype = np.dtype([("n", ">i2")] + [
            f for i, c in enumerate(cols) for f in ((f"l{i}", ">i4"), (f"v{i}", PG_TYPES[c]))])
        self._buf = np.empty(0, dtype=self._dtype)
        self._values: list[np.ndarray] = []
        self._renumbered = 0  # leading row_no slots that no longer hold 0..n-1

    def _grow(self, n: int) -> None:
        buf = np.empty(max(n, 2 * len(self._buf)), dtype=self._dtype)
        buf["n"] = len(self.table.columns)
        for i, c in enumerate(self.table.columns):
            buf[f"l{i}"] = np.dtype(PG_TYPES[c]).itemsize
        self._values = [buf[f"v{i}"] for i in range(len(self.table.columns))]
        self._values[-1][:] = np.arange(len(buf))  # row_no when a table takes the whole batch
        self._buf, self._renumbered = buf, 0

    def encode(self, rows: np.ndarray, batch_id: int, row_no: np.ndarray | None) -> memoryview:
        """COPY tuples of `rows` (no header or trailer); valid until the next call."""
        n = len(rows)
        if n > len(self._buf):
            self._grow(n)
        values = self._values
        for i, f in enumerate(self.table.fields):
            values[i][:n] = rows[f]
        values[-2][:n] = batch_id
        if row_no is not None:
            values[-1][:n] = row_no
            self._renumbered = max(self._renumbered, n)
        elif self._renumbered:
            k = self._renumbered
            values[-1][:k] = np.arange(k)
            self._renumbered = 0
        return self._buf[:n].view(np.uint8).data
