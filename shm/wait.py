"""Wait strategies for ring readers: how a reader with nothing to read waits for the producer.

- `spin`: re-check as fast as possible (lowest latency, a whole core; only with a timeout).
- `yield`: re-check with `sched_yield` between checks.
- `sleep`: re-check every `sleep_s` (cheap, adds up to `sleep_s` latency).
- `block`: park on a doorbell the producer rings only when a reader is parked.
- `phased` (default): spin briefly, then yield, then block — microsecond wake-ups under load
  and ~0 % CPU when idle.

The doorbell. Processes attach to rings by name, not by inheritance, so an eventfd (which must
be inherited or passed over a socket) does not fit; instead the doorbell is a **futex** on a
32-bit word inside the ring's shared segment — the mechanism eventfd and pthread condition
variables are built on, and it works across unrelated processes mapping the same memory.
A reader increments the segment's parked count (under an `flock` on the segment file, a
barrier and a lock in one), reads the doorbell, re-checks for data, then `FUTEX_WAIT`s on the
doorbell word with a timeout. The producer, after publishing, rings only when the parked count
is non-zero: one integer load on the hot path. Because the re-check happens after the parked
count is visible, a wake-up cannot be lost except through the producer's store->load window on
x86-TSO; the wait's timeout (`block_timeout_s`) bounds even that case.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def futex_wait(addr: int, expected: int, timeout_s: float) -> None:
    """Sleep while *addr == expected, up to timeout_s (returns early on wake or mismatch)."""
    if _SYS_FUTEX is None:  # pragma: no cover - other architectures fall back to sleeping
        time.sleep(min(timeout_s, 0.001))
        return
    ts = _Timespec(int(timeout_s), int((timeout_s % 1) * 1e9))
    _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(addr), _FUTEX_WAIT, ctypes.c_int(expected),
                  ctypes.byref(ts), None, 0)


def futex_wake(addr: int, n: int = 2**31 - 1) -> None:
    if _SYS_FUTEX is None:  # pragma: no cover
        return
    _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(addr), _FUTEX_WAKE, ctypes.c_int(n), None, None, 0)


class Doorbell:
    """The parked count (int64) and the futex word (int32) of one segment."""

    def __init__(self, buf: memoryview, parked_offset: int, bell_offset: int, path: str) -> None:
        self._parked = buf[parked_offset:parked_offset + 8].cast("q")
        self._bell = buf[bell_offset:bell_offset + 4].cast("i")
        self._bell_addr = ctypes.addressof(ctypes.c_char.from_buffer(buf, bell_offset))
        self._path = path
        self._lock_fd = -1

    # -- producer side (hot path: one load) --------------------------------------------------
    def ring_if_parked(self) -> None:
        if self._parked[0]:
            self._bell[0] = (self._bell[0] + 1) & 0x7FFFFFFF
            futex_wake(self._bell_addr)

    # -- reader side ---------------------------------------------------------------------------
    def _adjust_parked(self, delta: int) -> None:
        if self._lock_fd < 0:
            self._lock_fd = os.open(self._path, os.O_RDONLY)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self._parked[0] += delta
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def park(self, ready: Callable[[], bool], timeout_s: float) -> None:
        """Wait for `ready()` or the timeout, sleeping in the kernel."""
        self._adjust_parked(1)
        try:
            bell = self._bell[0]
            if not ready():
                futex_wait(self._bell_addr, bell, timeout_s)
        finally:
            self._adjust_parked(-1)

    def parked(self) -> int:
        return int(self._parked[0])

    def close(self) -> None:
        self._parked.release()
        self._bell.release()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


@dataclass
class WaitStrategy:
    """`wait(ready, timeout_s)` returns True as soon as `ready()` is, False on timeout."""

    name: str = "phased"
    spin_s: float = 20e-6
    yield_s: float = 200e-6
    sleep_s: float = 0.001
    block_timeout_s: float = 0.25  # bounds a (rare) missed wake-up; longer = fewer idle wake-ups

    def wait(self, ready: Callable[[], bool], timeout_s: float,
             doorbell: Doorbell | None = None) -> bool:
        if ready():
            return True
        clock = time.perf_counter
        start = clock()
        deadline = start + timeout_s
        name = self.name
        if name == "spin":
            while clock() < deadline:
                if ready():
                    return True
            return ready()
        if name == "yield":
            while clock() < deadline:
                os.sched_yield()
                if ready():
                    return True
            return ready()
        if name == "sleep":
            while clock() < deadline:
                time.sleep(self.sleep_s)
                if ready():
                    return True
            return False
        if name == "phased":
            spin_end = start + self.spin_s
            while clock() < spin_end:
                if ready():
                    return True
            yield_end = start + self.spin_s + self.yield_s
            while clock() < yield_end:
                os.sched_yield()
                if ready():
                    return True
        elif name != "block":
            raise ValueError(f"unknown wait strategy {name!r}")
        # block (and the last phase of phased)
        while True:
            left = deadline - clock()
            if left <= 0:
                return ready()
            if doorbell is None:
                time.sleep(min(self.sleep_s, left))
            else:
                doorbell.park(ready, min(self.block_timeout_s, left))
            if ready():
                return True


STRATEGIES = ("spin", "yield", "sleep", "block", "phased")


def make_wait_strategy(name: str = "phased") -> WaitStrategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown wait strategy {name!r} (expected one of {STRATEGIES})")
    return WaitStrategy(name)
