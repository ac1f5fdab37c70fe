"""A doorbell of its own: a tiny shared-memory segment holding a parked-reader count and a
futex word, for waiters that are not ring readers (the IPC message queues).

Why: `faster_fifo`'s blocking `get` waits on a process-shared pthread condition variable, and
a process killed while waiting there (a gateway or engine SIGKILLed, exactly what the
supervisor must survive) can leave glibc's condvar so that the next `put` in any surviving
process blocks for ever. The queues therefore never block inside faster_fifo: consumers take
what is there without waiting and park on this futex doorbell instead, which a dead waiter
cannot wedge (a futex has no waiter bookkeeping in user space; the parked count is adjusted
under `flock`, released by the kernel when its holder dies).

Event-loop consumers (`LoopBell`). A consumer that is an asyncio loop (a gateway) cannot park
on a futex without a thread, and the thread's hand-off to the loop (wake the thread, then
`call_soon_threadsafe` wakes the loop through its self-pipe, then the GIL changes hands) cost
~200-400 us per batch on a loaded 2-core machine: most of an order's engine-to-wire time.
So the loop watches a file descriptor instead: a datagram socket bound to an abstract
unix address derived from the bell's name (Linux; nothing on disk, gone when the process
dies). While one is registered (`loop_view`, a flag in the segment), every producer `ring`
also sends it one empty datagram; the loop's reader callback drains the socket and takes
the queue. No lost wake-up: a producer sends after its message is in the queue, and the
consumer takes the queue after draining the socket. A full socket buffer means a wake-up
is already pending, so the send is skipped.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from shm import registry
from shm.wait import Doorbell, register_producer

_SIZE = 128
_PARKED, _LOOP, _BELL = 0, 8, 64


def loop_address(name: str) -> bytes:
    """The abstract unix socket address an event-loop consumer of bell `name` listens on."""
    return b"\0hft-bell-" + name.encode()


class Bell:
    def __init__(self, shm: Any, owner: bool) -> None:
        self._shm = shm
        self.name = shm.name
        self.owner = owner
        self.doorbell = Doorbell(shm.buf, _PARKED, _BELL, f"/dev/shm/{shm.name}")
        self.loop_view = shm.buf[_LOOP:_LOOP + 8].cast("q")   # event-loop consumers
        self._addr = loop_address(shm.name)
        self._tx: socket.socket | None = None
        self.loop_sends = 0      # datagrams sent to an event-loop consumer
        register_producer()  # this process may ring: readers' membarrier must reach it

    @classmethod
    def create(cls, name: str) -> Bell:
        return cls(registry.create(name, _SIZE), owner=True)

    @classmethod
    def attach(cls, name: str) -> Bell:
        return cls(registry.attach(name), owner=False)

    def ring_if_parked(self) -> None:
        """After a put: wake parked futex waiters, and an event-loop consumer if one is
        registered."""
        self.doorbell.ring_if_parked()
        if self.loop_view[0]:
            self._notify_loop()

    def _notify_loop(self) -> None:
        tx = self._tx
        if tx is None:
            tx = self._tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            tx.setblocking(False)
        try:
            tx.sendto(b"", self._addr)
            self.loop_sends += 1
        except BlockingIOError:   # its buffer is full: a wake-up is already pending
            pass
        except (ConnectionRefusedError, FileNotFoundError):   # it went away (killed)
            pass

    def _set_loop(self, on: bool) -> None:
        """Mark an event-loop consumer present or gone. A flag, not a count: there is at most
        one (its address is unique), and one SIGKILLed leaves the flag up for its restart
        to take over (meanwhile producers' sends are refused at once, and ignored)."""
        self.loop_view[0] = 1 if on else 0

    def close(self) -> None:
        if self._shm is None:
            return
        self.doorbell.close()
        self.loop_view.release()
        if self._tx is not None:
            self._tx.close()
            self._tx = None
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


class LoopBell:
    """An asyncio loop's wake-up for one bell: `on_ring` runs in the loop after producers
    ring (at least once per ring; several rings may share one call). `close` unregisters.

    Only one event-loop consumer per bell: a second `LoopBell` on the same bell raises
    OSError (EADDRINUSE), as two consumers of one order queue would be a bug."""

    def __init__(self, bell: Bell, loop: asyncio.AbstractEventLoop,
                 on_ring: Callable[[], None]) -> None:
        self.bell = bell
        self.loop = loop
        self.on_ring = on_ring
        self.wakeups = 0
        self._rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._rx.bind(loop_address(bell.name))
        except OSError:
            self._rx.close()
            raise
        self._rx.setblocking(False)
        loop.add_reader(self._rx.fileno(), self._readable)
        bell._set_loop(True)   # from now on producers send: take what was queued before
        loop.call_soon(on_ring)

    def _readable(self) -> None:
        rx = self._rx
        try:
            while True:
                rx.recv(16)
        except BlockingIOError:
            pass
        self.wakeups += 1
        self.on_ring()

    def close(self) -> None:
        if self._rx.fileno() < 0:
            return
        self.bell._set_loop(False)
        self.loop.remove_reader(self._rx.fileno())
        self._rx.close()
