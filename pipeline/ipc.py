"""Fast IPC queues between processes: orders (engine -> gateway:<venue>), execution reports
(gateways -> engine), events (engine/gateways -> writer) and control commands.

A thin layer over `faster_fifo.Queue` (a shared-memory circular buffer with a process-shared
mutex and condition variable; far faster than `multiprocessing.Queue`). Messages travel as the
compact bytes of `pipeline.messages.encode`; the queue itself carries raw bytes (no pickle).

Bounded: a full queue never blocks the hot path. `put` returns False and counts a drop —
the caller decides (the engine treats a full order queue as "gateway not keeping up" and does
not place; the writer's event queue spills, see writer). Consumers take batches with `get_many`.

Queues are created by the supervisor and handed to children at spawn time (they pickle by
reference to the shared buffer), so every process of a run shares the same queues, and a
restarted child gets them again.
"""
from __future__ import annotations

from collections.abc import Iterable
from queue import Empty, Full

import faster_fifo

from pipeline.messages import Message, decode, encode


def _raw(b: bytes) -> bytes:
    return b


class MessageQueue:
    """A bounded multi-producer / multi-consumer queue of `Message`s with counters.

    Counters are per process (each side counts what it saw): `sent`, `dropped_full`,
    `received`, `decode_errors`.
    """

    def __init__(self, name: str, max_bytes: int = 8 << 20) -> None:
        self.name = name
        self._q = faster_fifo.Queue(max_size_bytes=max_bytes, loads=_raw, dumps=_raw)
        self.sent = 0
        self.dropped_full = 0
        self.received = 0
        self.decode_errors = 0

    def __getstate__(self) -> dict:
        # counters are per-process: a child starts from zero
        return {"name": self.name, "_q": self._q}

    def __setstate__(self, state: dict) -> None:
        self.name = state["name"]
        self._q = state["_q"]
        self.sent = self.dropped_full = self.received = self.decode_errors = 0

    # -- producer ----------------------------------------------------------------------------
    def put(self, msg: Message) -> bool:
        """Enqueue without blocking; False (and counted) when the queue is full."""
        try:
            self._q.put_nowait(encode(msg))
        except Full:
            self.dropped_full += 1
            return False
        self.sent += 1
        return True

    def put_many(self, msgs: Iterable[Message]) -> bool:
        """Enqueue a batch in one lock acquisition; all or nothing."""
        data = [encode(m) for m in msgs]
        if not data:
            return True
        try:
            self._q.put_many_nowait(data)
        except Full:
            self.dropped_full += len(data)
            return False
        self.sent += len(data)
        return True

    def put_blocking(self, msg: Message, timeout: float) -> bool:
        """For cold paths only (shutdown commands): wait up to `timeout` s for room."""
        try:
            self._q.put(encode(msg), block=True, timeout=timeout)
        except Full:
            self.dropped_full += 1
            return False
        self.sent += 1
        return True

    # -- consumer ----------------------------------------------------------------------------
    def get_many(self, timeout: float = 0.0, max_messages: int = 4096) -> list[Message]:
        """Every available message (up to `max_messages`), waiting up to `timeout` seconds for
        the first one (0 = don't wait). The wait parks on the queue's condition variable, so
        an idle consumer uses no CPU. Undecodable messages are counted and skipped."""
        try:
            if timeout > 0:
                raw = self._q.get_many(block=True, timeout=timeout,
                                       max_messages_to_get=max_messages)
            else:
                raw = self._q.get_many_nowait(max_messages_to_get=max_messages)
        except Empty:
            return []
        out: list[Message] = []
        for b in raw:
            try:
                out.append(decode(b))
            except ValueError:
                self.decode_errors += 1
        self.received += len(out)
        return out

    def qsize(self) -> int:
        return self._q.qsize()

    def close(self) -> None:
        self._q.close()
