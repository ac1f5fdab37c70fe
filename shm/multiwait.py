"""Wait on several rings (and a local wake word) at once: the engine's idle strategy.

The engine reads one tick ring per venue and an execution-report queue. A single ring's
doorbell cannot wake it for the others, and sleeping in small steps costs CPU at idle and
latency under load. Linux's `futex_waitv` (5.16+) waits on many futex words in one call, so
the engine parks on every ring's doorbell plus a process-local wake word that its report
thread bumps, and the first of them to move wakes it: microsecond wake-ups, ~0 % CPU idle.

The per-doorbell handshake is the one in `shm.wait` (parked count up, `membarrier`, read the
bell, re-check, wait, parked count down). Without `futex_waitv` (older kernels, other
architectures) the wait falls back to parking on the first doorbell with a short timeout, so
the others are seen within `fallback_slice_s`.
"""
from __future__ import annotations

import ctypes
import errno
import platform
import time
from collections.abc import Callable, Sequence

from shm.wait import Doorbell, _libc, futex_wake, membarrier

_SYS_FUTEX_WAITV = {"x86_64": 449, "aarch64": 449}.get(platform.machine())
_FUTEX2_SIZE_U32 = 0x02
_CLOCK_MONOTONIC = 1


class _Waiter(ctypes.Structure):
    _fields_ = [("val", ctypes.c_uint64), ("uaddr", ctypes.c_uint64), ("flags", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32)]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _waitv(waiters: ctypes.Array, n: int, timeout_s: float) -> int:
    """-> index woken, or -1 (timeout / value already changed / interrupted)."""
    deadline = time.clock_gettime(time.CLOCK_MONOTONIC) + timeout_s
    ts = _Timespec(int(deadline), int((deadline % 1) * 1e9))
    r = _libc.syscall(_SYS_FUTEX_WAITV, waiters, ctypes.c_uint(n), ctypes.c_uint(0),
                      ctypes.byref(ts), ctypes.c_int(_CLOCK_MONOTONIC))
    return int(r)


def _probe() -> bool:
    if _SYS_FUTEX_WAITV is None:
        return False
    word = ctypes.c_int32(0)
    w = (_Waiter * 1)(_Waiter(1, ctypes.addressof(word), _FUTEX2_SIZE_U32, 0))
    r = _waitv(w, 1, 0.0)  # value differs -> EAGAIN at once when the syscall exists
    return r == -1 and ctypes.get_errno() == errno.EAGAIN


HAVE_FUTEX_WAITV = _probe()


class WakeWord:
    """A process-local futex word another thread bumps to wake the waiter."""

    def __init__(self) -> None:
        self.word = ctypes.c_int32(0)
        self.addr = ctypes.addressof(self.word)

    def wake(self) -> None:
        self.word.value = (self.word.value + 1) & 0x7FFFFFFF
        futex_wake(self.addr)


class MultiWait:
    """Park until any doorbell rings, the wake word moves, `ready()` holds, or the timeout."""

    def __init__(self, doorbells: Sequence[Doorbell], wake: WakeWord | None = None,
                 spin_s: float = 20e-6, yield_s: float = 100e-6,
                 fallback_slice_s: float = 0.002) -> None:
        self.doorbells = list(doorbells)
        self.wake = wake or WakeWord()
        self.spin_s = spin_s
        self.yield_s = yield_s
        self.fallback_slice_s = fallback_slice_s
        n = len(self.doorbells) + 1
        self._waiters = (_Waiter * n)()
        for i, d in enumerate(self.doorbells):
            self._waiters[i].uaddr = d._bell_addr
            self._waiters[i].flags = _FUTEX2_SIZE_U32
        self._waiters[n - 1].uaddr = self.wake.addr
        self._waiters[n - 1].flags = _FUTEX2_SIZE_U32
        self.parks = 0
        self.timeouts = 0

    def wait(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        import os
        if ready():
            return True
        clock = time.perf_counter
        start = clock()
        while clock() - start < self.spin_s:
            if ready():
                return True
        while clock() - start < self.spin_s + self.yield_s:
            os.sched_yield()
            if ready():
                return True
        left = timeout_s - (clock() - start)
        if left <= 0:
            return ready()
        if not HAVE_FUTEX_WAITV or not self.doorbells:
            if self.doorbells:
                self.doorbells[0].park(ready, min(left, self.fallback_slice_s))
            else:
                time.sleep(min(left, self.fallback_slice_s))
            return ready()
        return self._park_all(ready, left)

    def _park_all(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        for d in self.doorbells:
            d._adjust_parked(1)
        try:
            membarrier()
            w = self._waiters
            for i, d in enumerate(self.doorbells):
                w[i].val = d._bell[0]
            w[len(self.doorbells)].val = self.wake.word.value
            if ready():
                return True
            self.parks += 1
            r = _waitv(w, len(self.doorbells) + 1, timeout_s)
            if r < 0 and ctypes.get_errno() == errno.ETIMEDOUT:
                self.timeouts += 1
        finally:
            for d in self.doorbells:
                d._adjust_parked(-1)
        return ready()
