"""Wait strategies for ring readers: how a reader with nothing to read waits for the producer.

Used by `shm.ring.RingReader.wait` (the engine and the writer pick a strategy per reader from
config; the benchmark measures each).

- `spin`: re-check as fast as possible (lowest latency, a whole core; bounded by the timeout).
- `yield`: re-check with `sched_yield` between checks.
- `sleep`: re-check every `sleep_s` (cheap, adds up to `sleep_s` latency).
- `block`: park on a doorbell the producer rings only when a reader is parked.
- `phased` (default): spin `spin_s`, then yield `yield_s`, then block — microsecond wake-ups
  under load and ~0 % CPU when idle. Every strategy returns by its timeout: none spins
  without bound.

The doorbell, and why not an eventfd. Processes attach to rings by *name* (the supervisor
creates the segments; feeds, engine and writer are separate programs that may restart), so an
eventfd — which has to be inherited or passed over a unix socket — does not fit. The doorbell
is a **futex** on a 32-bit word inside the ring's own segment: the primitive eventfd and
pthread condition variables are built on, and it works between any processes mapping the same
memory, with nothing to create, pass or clean up.

Protocol (a Dekker-style handshake; the producer's hot path pays one integer load):
- reader: `parked += 1` (under an `flock` on the segment file, so concurrent readers do not
  lose increments); `membarrier(GLOBAL_EXPEDITED)`; read the bell word; re-check for data;
  `FUTEX_WAIT(bell, seen, timeout)`; `parked -= 1`.
- producer: stamps, cursor := seq; if `parked`: bell += 1, `FUTEX_WAKE(bell)`.
The producer's cursor store and its load of `parked` may be reordered on x86-TSO (store ->
load), which alone could lose a wake-up: the producer reads `parked == 0` while the reader's
re-check does not yet see the new cursor. `membarrier` closes that window from the reader's
(slow) side without a fence on the producer's hot path: it forces a full barrier on every CPU
running a registered producer (`register_producer`, called by `RingWriter`), so after it either
the producer saw `parked > 0` (and rings) or the reader's re-check sees the data. On kernels
without expedited membarrier the window remains and the wait's `block_timeout_s` bounds it.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
_SYS_MEMBARRIER = {"x86_64": 324, "aarch64": 283}.get(platform.machine())
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1
_MB_QUERY, _MB_GLOBAL_EXPEDITED, _MB_REGISTER_GLOBAL_EXPEDITED = 0, 2, 4
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _membarrier_supported() -> bool:
    if _SYS_MEMBARRIER is None:  # pragma: no cover - other architectures
        return False
    mask = _libc.syscall(_SYS_MEMBARRIER, _MB_QUERY, 0, 0)
    return mask > 0 and bool(mask & _MB_GLOBAL_EXPEDITED) and bool(
        mask & _MB_REGISTER_GLOBAL_EXPEDITED)


MEMBARRIER = _membarrier_supported()
_registered_pid = 0


def register_producer() -> None:
    """Let readers' `membarrier` reach this process (once per process; fork-safe)."""
    global _registered_pid
    pid = os.getpid()
    if (MEMBARRIER and _registered_pid != pid
            and _libc.syscall(_SYS_MEMBARRIER, _MB_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0):
        _registered_pid = pid


def membarrier() -> None:
    """A full memory barrier on every CPU running a registered producer (and on this one)."""
    if MEMBARRIER:
        _libc.syscall(_SYS_MEMBARRIER, _MB_GLOBAL_EXPEDITED, 0, 0)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def futex_wait(addr: int, expected: int, timeout_s: float) -> bool:
    """Sleep while *addr == expected, up to timeout_s; True when the timeout expired (a wake,
    a changed value or a signal return False)."""
    if timeout_s <= 0:
        return True
    if _SYS_FUTEX is None:  # pragma: no cover - other architectures fall back to sleeping
        time.sleep(min(timeout_s, 0.001))
        return False
    ts = _Timespec(int(timeout_s), int((timeout_s % 1) * 1e9))
    r = _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(addr), _FUTEX_WAIT, ctypes.c_int(expected),
                      ctypes.byref(ts), None, 0)
    return r == -1 and ctypes.get_errno() == errno.ETIMEDOUT


def futex_wake(addr: int, n: int = 2**31 - 1) -> None:
    if _SYS_FUTEX is None:  # pragma: no cover
        return
    _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(addr), _FUTEX_WAKE, ctypes.c_int(n), None, None, 0)


class Doorbell:
    """The parked count (int64) and the futex word (int32) of one segment."""

    def __init__(self, buf: memoryview, parked_offset: int, bell_offset: int, path: str) -> None:
        self.parked_view = buf[parked_offset:parked_offset + 8].cast("q")
        self._bell = buf[bell_offset:bell_offset + 4].cast("i")
        # the word's address; the temporary array is dropped so no buffer export outlives us
        self._bell_addr = int(np.frombuffer(buf, np.uint8, 1, bell_offset).ctypes.data)
        self._path = path
        self._lock_fd = -1
        self.parks = 0      # times this process parked here
        self.timeouts = 0   # parks that ended by timeout, not by the producer's ring

    # -- producer side ---------------------------------------------------------------------
    def ring(self) -> None:
        """Wake every parked reader (the producer calls it only when `parked_view[0]`)."""
        self._bell[0] = (self._bell[0] + 1) & 0x7FFFFFFF
        futex_wake(self._bell_addr)

    def ring_if_parked(self) -> None:
        if self.parked_view[0]:
            self.ring()

    # -- reader side -------------------------------------------------------------------------
    def _adjust_parked(self, delta: int) -> None:
        if self._lock_fd < 0:
            self._lock_fd = os.open(self._path, os.O_RDONLY)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self.parked_view[0] += delta
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def park(self, ready: Callable[[], bool], timeout_s: float) -> None:
        """Sleep in the kernel until the producer rings, `ready()` holds, or the timeout."""
        self._adjust_parked(1)
        try:
            membarrier()  # see the module docstring: no lost wake-up, no fence for the producer
            bell = self._bell[0]
            if not ready():
                self.parks += 1
                if futex_wait(self._bell_addr, bell, timeout_s):
                    self.timeouts += 1
        finally:
            self._adjust_parked(-1)

    def parked(self) -> int:
        """Readers parked right now."""
        return int(self.parked_view[0])

    def close(self) -> None:
        self.parked_view.release()
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
            while (left := deadline - clock()) > 0:
                time.sleep(min(self.sleep_s, left))
                if ready():
                    return True
            return ready()
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
_PARAMS = ("spin_s", "yield_s", "sleep_s", "block_timeout_s")


def make_wait_strategy(name: str = "phased", **params: float) -> WaitStrategy:
    """A strategy by name; `params` override its phase lengths (spin_s, yield_s, sleep_s,
    block_timeout_s)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown wait strategy {name!r} (expected one of {STRATEGIES})")
    bad = [k for k, v in params.items() if k not in _PARAMS or not v > 0]
    if bad:
        raise ValueError(f"bad wait strategy parameter(s) {bad}: expected positive {_PARAMS}")
    return WaitStrategy(name, **params)
