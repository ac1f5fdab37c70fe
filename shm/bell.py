"""A doorbell of its own: a tiny shared-memory segment holding a parked-reader count and a
futex word, for waiters that are not ring readers (the IPC message queues).

Why: `faster_fifo`'s blocking `get` waits on a process-shared pthread condition variable, and
a process killed while waiting there (a gateway or engine SIGKILLed, exactly what the
supervisor must survive) can leave glibc's condvar so that the next `put` in any surviving
process blocks for ever. The queues therefore never block inside faster_fifo: consumers take
what is there without waiting and park on this futex doorbell instead, which a dead waiter
cannot wedge (a futex has no waiter bookkeeping in user space; the parked count is adjusted
under `flock`, released by the kernel when its holder dies).
"""
from __future__ import annotations

from typing import Any

from shm import registry
from shm.wait import Doorbell, register_producer

_SIZE = 128
_PARKED, _BELL = 0, 64


class Bell:
    def __init__(self, shm: Any, owner: bool) -> None:
        self._shm = shm
        self.name = shm.name
        self.owner = owner
        self.doorbell = Doorbell(shm.buf, _PARKED, _BELL, f"/dev/shm/{shm.name}")
        register_producer()  # this process may ring: readers' membarrier must reach it

    @classmethod
    def create(cls, name: str) -> Bell:
        return cls(registry.create(name, _SIZE), owner=True)

    @classmethod
    def attach(cls, name: str) -> Bell:
        return cls(registry.attach(name), owner=False)

    def ring_if_parked(self) -> None:
        self.doorbell.ring_if_parked()

    def close(self) -> None:
        if self._shm is None:
            return
        self.doorbell.close()
        try:
            self._shm.close()
        except BufferError:
            pass
        self._shm = None

    def unlink(self) -> None:
        registry.unlink(self.name)

    def __del__(self) -> None:
        # release the doorbell's views before the mapping itself is collected
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
