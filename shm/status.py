"""Process status table: one slot per process with its heartbeat and counters, in shared memory.

The supervisor creates the table and owns `pid`, `restarts` and `state` of every slot; each
child owns its slot's `heartbeat_ns` and counters. One writer per field, plain aligned int64
stores (atomic on x86-64 and arm64), so no locks: a reader (`hft status`, `hft top`, the
Prometheus exporter, the supervisor's watchdog) may see a counter one update old, never a torn
value.

Layout: the common segment header (`shm.layout`, kind "status", capacity = slot count, the
slot dtype — so the counter count travels with it), then `n_slots` rows of
`slot_dtype(n_counters)`. A reader attaching to a table of another layout refuses with
`StatusLayoutError` (a `LayoutMismatch`).

Who calls it: the supervisor creates the table and fills role/pid/restarts/state; each child
process beats and counts in its own slot (`pipeline/process.py`); `hft status`, `hft top` and
the metrics exporter read `snapshot()`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from shm import registry
from shm.layout import HEADER_BYTES, KIND_STATUS, LayoutMismatch, read_header, write_header

HEADER = HEADER_BYTES
NAME_BYTES = 40
COUNTER_NAME_BYTES = 24


class StatusLayoutError(LayoutMismatch):
    """The segment is not a status table of this layout version."""


def slot_dtype(n_counters: int) -> np.dtype:
    return np.dtype([
        ("role", f"S{NAME_BYTES}"),
        ("pid", "<i8"), ("start_ns", "<i8"), ("heartbeat_ns", "<i8"),
        ("restarts", "<i8"), ("state", "<i8"),
        ("counter_names", f"S{COUNTER_NAME_BYTES}", (n_counters,)),
        ("counters", "<i8", (n_counters,)),
    ], align=True)


class ProcessStatus:
    """One process's row. Cached int64 views make `beat`/`add` a single store each."""

    __slots__ = ("_counters", "_hb", "_names", "_row", "index")

    def __init__(self, table: np.ndarray, index: int) -> None:
        self.index = index
        self._row = table[index:index + 1]
        self._hb = self._row["heartbeat_ns"]
        self._counters = self._row["counters"][0]
        self._names: dict[str, int] = {}

    # -- owned by the process itself ---------------------------------------------------------
    def beat(self, now_ns: int) -> None:
        self._hb[0] = now_ns

    def set_counter_names(self, names: list[str]) -> None:
        if len(names) > len(self._counters):
            raise ValueError(f"at most {len(self._counters)} counters per process")
        too_long = [n for n in names if len(n.encode()) > COUNTER_NAME_BYTES or not n]
        if too_long:
            raise ValueError(f"counter names must be 1..{COUNTER_NAME_BYTES} bytes: {too_long}")
        cn = self._row["counter_names"][0]
        cn[:] = b""
        for i, n in enumerate(names):
            cn[i] = n.encode()[:COUNTER_NAME_BYTES]
        self._names = {n: i for i, n in enumerate(names)}

    def counter_index(self, name: str) -> int:
        return self._names[name]

    def set(self, index: int, value: int) -> None:
        self._counters[index] = value

    def add(self, index: int, delta: int = 1) -> None:
        self._counters[index] += delta

    # -- owned by the supervisor -------------------------------------------------------------
    def set_role(self, role: str, counter_names: list[str]) -> None:
        if len(role.encode()) > NAME_BYTES:
            raise ValueError(f"role name longer than {NAME_BYTES} bytes: {role!r}")
        self._row["role"][0] = role.encode()
        self.set_counter_names(counter_names)

    def set_pid(self, pid: int) -> None:
        self._row["pid"][0] = pid

    def set_restarts(self, n: int) -> None:
        self._row["restarts"][0] = n

    def set_state(self, state: int) -> None:
        self._row["state"][0] = state

    def set_start(self, ns: int) -> None:
        self._row["start_ns"][0] = ns

    # -- readers -----------------------------------------------------------------------------
    def get(self, index: int) -> int:
        return int(self._counters[index])

    def heartbeat_ns(self) -> int:
        return int(self._hb[0])

    def state(self) -> int:
        return int(self._row["state"][0])

    def snapshot(self) -> dict[str, Any]:
        r = self._row[0].copy()
        names = [n.decode(errors="replace") for n in r["counter_names"]]
        return {"role": r["role"].decode(errors="replace"), "pid": int(r["pid"]),
                "start_ns": int(r["start_ns"]), "heartbeat_ns": int(r["heartbeat_ns"]), "restarts": int(r["restarts"]),
                "state": int(r["state"]),
                "counters": {n: int(v) for n, v in zip(names, r["counters"]) if n}}


def _segment_size(n_slots: int, dtype: np.dtype) -> int:
    return HEADER + dtype.itemsize * max(n_slots, 1)


class StatusTable:
    def __init__(self, shm: Any, owner: bool) -> None:
        try:
            n_slots, dtype = read_header(shm.buf, KIND_STATUS, shm.name, size_of=_segment_size)
            if dtype.names is None or "counters" not in dtype.names:
                raise LayoutMismatch(f"{shm.name}: not a status-table record layout")
        except LayoutMismatch as e:
            shm.close()
            raise StatusLayoutError(str(e)) from None
        self._shm = shm
        self.owner = owner
        self.n_slots = n_slots
        self.n_counters = dtype["counters"].shape[0]
        self._table = np.ndarray((n_slots,), dtype=dtype, buffer=shm.buf, offset=HEADER)
        self.name = shm.name

    @classmethod
    def create(cls, name: str, n_slots: int, n_counters: int = 16) -> StatusTable:
        if n_slots < 1 or n_counters < 0:
            raise ValueError(f"status table needs n_slots >= 1 and n_counters >= 0, got "
                             f"{n_slots}, {n_counters}")
        dt = slot_dtype(n_counters)
        shm = registry.create(name, _segment_size(n_slots, dt))
        assert shm.buf is not None
        write_header(shm.buf, KIND_STATUS, n_slots, dt)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> StatusTable:
        return cls(registry.attach(name), owner=False)

    def slot(self, index: int) -> ProcessStatus:
        if not 0 <= index < self.n_slots:
            raise IndexError(f"status slot {index} out of range (0..{self.n_slots - 1})")
        return ProcessStatus(self._table, index)

    def snapshot(self) -> list[dict[str, Any]]:
        return [self.slot(i).snapshot() for i in range(self.n_slots)]

    def close(self) -> None:
        if self._shm is None:
            return
        self._table = None  # type: ignore[assignment]
        try:
            self._shm.close()
        except BufferError:  # a view still alive somewhere; the mapping goes with the process
            pass
        self._shm = None

    def unlink(self) -> None:
        registry.unlink(self.name)
