"""Fast IPC queues between processes: orders (engine -> gateway:<venue>), execution reports
(gateways -> engine), events (engine/gateways -> writer) and control commands.

A thin layer over `faster_fifo.Queue` (a shared-memory circular buffer with a process-shared
mutex; far faster than `multiprocessing.Queue`). Messages travel as the compact bytes of
`pipeline.messages.encode`; the queue itself carries raw bytes (no pickle).

Waiting never happens inside faster_fifo: its blocking `get` parks on a process-shared
condition variable, and a consumer SIGKILLed while parked there can leave it so that every
later `put` blocks for ever (seen: killing a gateway froze the engine). Consumers here take
what is queued without blocking and, when there is nothing, park on a futex doorbell of the
queue's own (`shm.bell`), which producers ring only when someone is parked.

Bounded: a full queue never blocks the hot path. `put` returns False and counts a drop —
the caller decides (the engine treats a full order queue as "gateway not keeping up" and does
not place; the writer's event queue spills, see writer). Consumers take batches with `get_many`.

Queues are created by the supervisor and handed to children at spawn time (they pickle by
reference to the shared buffer), so every process of a run shares the same queues, and a
restarted child gets them again.
"""
from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable
from queue import Empty, Full
from typing import Any

import faster_fifo

from pipeline.messages import Message, decode_all, encode, join_encoded

_ids = itertools.count()
PARK_SLICE_S = 0.25  # a park is re-checked at least this often (bounds a missed wake-up)
BATCH_ROWS = 256     # messages put together travel as queue entries of at most this many
BATCH_BYTES = 64 << 10   # ... and of at most this size (a bigger message travels alone)


def _raw(b: bytes) -> bytes:
    return b


def _entries(data: list[bytes]) -> list[bytes]:
    """`data` (encoded messages, in order) as queue entries of up to `BATCH_ROWS` messages
    and about `BATCH_BYTES` each; a lone message stays as it is (no batch wrapper)."""
    out: list[bytes] = []
    run: list[bytes] = []
    size = 0
    for d in data:
        if run and (len(run) == BATCH_ROWS or size + len(d) > BATCH_BYTES):
            out.append(run[0] if len(run) == 1 else join_encoded(run))
            run, size = [], 0
        run.append(d)
        size += len(d)
    out.append(run[0] if len(run) == 1 else join_encoded(run))
    return out


class MessageQueue:
    """A bounded multi-producer / multi-consumer queue of `Message`s with counters.

    Counters are per process (each side counts what it saw): `sent`, `dropped_full`,
    `received`, `decode_errors`.
    """

    def __init__(self, name: str, max_bytes: int = 8 << 20) -> None:
        from shm import registry
        from shm.bell import Bell

        self.name = name
        self._q = faster_fifo.Queue(max_size_bytes=max_bytes, loads=_raw, dumps=_raw)
        self._bell = Bell.create(registry.segment_name("bell", f"{name}.{next(_ids)}"))
        self._creator = os.getpid()
        self.sent = 0
        self.dropped_full = 0
        self.received = 0
        self.decode_errors = 0

    def __getstate__(self) -> dict:
        # counters are per-process: a child starts from zero
        return {"name": self.name, "_q": self._q, "bell": self._bell.name,
                "creator": self._creator}

    def __setstate__(self, state: dict) -> None:
        from shm.bell import Bell

        self.name = state["name"]
        self._q = state["_q"]
        self._bell = Bell.attach(state["bell"])
        self._creator = state["creator"]
        self.sent = self.dropped_full = self.received = self.decode_errors = 0

    @property
    def doorbell(self) -> Any:
        """The queue's futex doorbell (for waiters that watch several sources at once)."""
        return self._bell.doorbell

    def watch(self, loop: Any, on_ready: Any) -> Any:
        """Call `on_ready()` in asyncio `loop` whenever producers put (and once at start, for
        what is already queued): an event-loop consumer's wake-up without a thread
        (`shm.bell.LoopBell`). Returns the watcher; `close()` it when done."""
        from shm.bell import LoopBell
        return LoopBell(self._bell, loop, on_ready)

    def nonempty(self) -> bool:
        return self._q.qsize() > 0

    # -- producer ----------------------------------------------------------------------------
    def put(self, msg: Message) -> bool:
        """Enqueue without blocking; False (and counted) when the queue is full."""
        try:
            self._q.put_nowait(encode(msg))
        except Full:
            self.dropped_full += 1
            return False
        self.sent += 1
        self._bell.ring_if_parked()
        return True

    def put_many(self, msgs: Iterable[Message]) -> bool:
        """Enqueue a batch in one lock acquisition; all or nothing."""
        return self.put_encoded([encode(m) for m in msgs])

    def put_encoded(self, data: list[bytes]) -> bool:
        """`put_many` of messages already `encode`d: a producer sending the same messages to
        two queues (a gateway's reports go to the engine and to the writer) encodes once.

        Messages put together travel together: up to `BATCH_ROWS` of them as one queue entry
        (`messages.join_encoded`). faster-fifo's own cost is per entry (~2.9 us to put and
        take one, against ~0.3 us per message inside a batch, measured on this 2-core VM),
        and a gateway puts every order's reports, an engine every batch of orders."""
        if not data:
            return True
        return self._put_entries(data if len(data) == 1 else _entries(data), len(data))

    def put_raw(self, entries: list[bytes]) -> bool:
        """Enqueue entries as another queue gave them (`get_raw`, `get_many_with_entries`):
        one lock acquisition, all or nothing; `sent` counts entries here."""
        return not entries or self._put_entries(entries, len(entries))

    def _put_entries(self, entries: list[bytes], counted: int) -> bool:
        """Put `entries` in one lock acquisition, all or nothing; `counted` is what they add
        to `sent` (or to `dropped_full` when the queue has no room)."""
        try:
            self._q.put_many_nowait(entries)
        except Full:
            self.dropped_full += counted
            return False
        self.sent += counted
        self._bell.ring_if_parked()
        return True

    def put_blocking(self, msg: Message, timeout: float) -> bool:
        """For cold paths only (shutdown commands): retry up to `timeout` s for room."""
        data = encode(msg)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._q.put_nowait(data)
            except Full:
                if time.monotonic() >= deadline:
                    self.dropped_full += 1
                    return False
                time.sleep(0.001)
                continue
            self.sent += 1
            self._bell.ring_if_parked()
            return True

    # -- consumer ----------------------------------------------------------------------------
    def get_many(self, timeout: float = 0.0, max_messages: int = 4096) -> list[Message]:
        """Every available message, waiting up to `timeout` seconds for the first one (0 =
        don't wait). The wait parks on the queue's doorbell, so an idle consumer uses no CPU.
        Undecodable messages are counted and skipped. `max_messages` bounds the queue entries
        taken; an entry holds up to `BATCH_ROWS` messages put together."""
        raw = self._take(max_messages)
        if not raw and timeout > 0:
            deadline = time.monotonic() + timeout
            while not raw:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._bell.doorbell.park(self.nonempty, min(left, PARK_SLICE_S))
                raw = self._take(max_messages)
        return self._decode(raw)

    def get_raw(self, max_entries: int = 4096) -> list[bytes]:
        """The queue entries as they travel (each one `encode`d message or a
        `messages.join_encoded` batch), without decoding them and without waiting: for a
        consumer that keeps the bytes (the writer spools them as they came and decodes them
        once, when it builds table rows). `received` counts entries here."""
        raw = self._take_copies(max_entries)
        self.received += len(raw)
        return raw

    def get_many_with_entries(self, max_entries: int = 4096
                              ) -> tuple[list[Message], list[bytes]]:
        """`get_many()` without waiting, and the entries those messages came in (as
        `get_raw` gives them): for a consumer that acts on the messages and passes the
        same bytes on (the gateway hands the engine's orders to the writer's queue as they
        came, instead of encoding each again)."""
        raw = self._take_copies(max_entries)
        return self._decode(raw), raw

    def _decode(self, raw: list[Any]) -> list[Message]:
        """The messages of the entries `raw`, in order; malformed ones counted and skipped."""
        out: list[Message] = []
        bad = 0
        for b in raw:
            bad += decode_all(b, out)
        self.decode_errors += bad
        self.received += len(out)
        return out

    def _take_copies(self, max_entries: int) -> list[bytes]:
        """Entries that outlive the next take: faster-fifo hands each over as a view of its
        receive buffer, which the next take overwrites."""
        return [bytes(b) for b in self._take(max_entries)]

    def _take(self, max_messages: int) -> list[bytes]:
        try:
            return self._q.get_many_nowait(max_messages_to_get=max_messages)
        except Empty:
            return []

    def qsize(self) -> int:
        """Queue entries waiting (a batch put together is one entry)."""
        return self._q.qsize()

    def close(self) -> None:
        """Close this process's handle; the creating process also unlinks the doorbell."""
        self._q.close()
        self._bell.close()
        if os.getpid() == self._creator:
            self._bell.unlink()
