"""Process status table: one slot per process with its heartbeat and counters, in shared memory.

The supervisor creates the table and owns `pid`, `restarts` and `state` of every slot; each
child owns its slot's `heartbeat_ns` and counters. One writer per field, plain aligned int64
stores (atomic on x86-64 and arm64), so no locks: a reader (`hft status`, `hft top`, the
Prometheus exporter, the supervisor's watchdog) may see a counter one update old, never a torn
value.

Layout: a 64-byte header (magic, version, slot count, counter count) then `n_slots` rows of
`slot_dtype(n_counters)`. A reader attaching to a table of another layout refuses.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from shm import registry

MAGIC = 0x4846545354415431  # "HFTSTAT1"
VERSION = 1
HEADER = 64
NAME_BYTES = 40
COUNTER_NAME_BYTES = 24
_HEADER_DTYPE = np.dtype([("magic", "<u8"), ("version", "<u4"), ("n_slots", "<u4"),
                          ("n_counters", "<u4")])


class StatusLayoutError(Exception):
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

    __slots__ = ("_row", "_hb", "_counters", "_names", "index")

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
        self._row["role"][0] = role.encode()[:NAME_BYTES]
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
    def heartbeat_ns(self) -> int:
        return int(self._hb[0])

    def state(self) -> int:
        return int(self._row["state"][0])

    def snapshot(self) -> dict[str, Any]:
        r = self._row[0].copy()
        names = [n.decode() for n in r["counter_names"]]
        return {"role": r["role"].decode(), "pid": int(r["pid"]), "start_ns": int(r["start_ns"]),
                "heartbeat_ns": int(r["heartbeat_ns"]), "restarts": int(r["restarts"]),
                "state": int(r["state"]),
                "counters": {n: int(v) for n, v in zip(names, r["counters"]) if n}}


class StatusTable:
    def __init__(self, shm: Any, owner: bool) -> None:
        self._shm = shm
        self.owner = owner
        hdr = np.ndarray((1,), dtype=_HEADER_DTYPE, buffer=shm.buf, offset=0)
        if int(hdr["magic"][0]) != MAGIC or int(hdr["version"][0]) != VERSION:
            del hdr
            shm.close()
            raise StatusLayoutError(f"{shm.name}: not a status table of layout version {VERSION}")
        self.n_slots = int(hdr["n_slots"][0])
        self.n_counters = int(hdr["n_counters"][0])
        self._table = np.ndarray((self.n_slots,), dtype=slot_dtype(self.n_counters),
                                 buffer=shm.buf, offset=HEADER)
        self.name = shm.name

    @classmethod
    def create(cls, name: str, n_slots: int, n_counters: int = 16) -> "StatusTable":
        dt = slot_dtype(n_counters)
        shm = registry.create(name, HEADER + dt.itemsize * n_slots)
        hdr = np.ndarray((1,), dtype=_HEADER_DTYPE, buffer=shm.buf, offset=0)
        hdr[0] = (MAGIC, VERSION, n_slots, n_counters)
        return cls(shm, owner=True)

    @classmethod
    def attach(cls, name: str) -> "StatusTable":
        return cls(registry.attach(name), owner=False)

    def slot(self, index: int) -> ProcessStatus:
        if not 0 <= index < self.n_slots:
            raise IndexError(f"status slot {index} out of range (0..{self.n_slots - 1})")
        return ProcessStatus(self._table, index)

    def snapshot(self) -> list[dict[str, Any]]:
        return [self.slot(i).snapshot() for i in range(self.n_slots)]

    def close(self) -> None:
        self._table = None  # type: ignore[assignment]
        try:
            self._shm.close()
        except BufferError:  # a view still alive somewhere; the mapping goes with the process
            pass
