"""Write-ahead spool: every batch is written to its own fsync'd file *before* it is sent to
PostgreSQL and deleted only after the commit. A crash between the two leaves the file, which
is replayed at start; the idempotent keys make the replay harmless. While PostgreSQL is down
the files simply accumulate and are replayed in order (by batch id) when it is back.

File: magic, kind byte (T = ticks, E = events), batch id u64, payload length u64, crc32 u32,
payload (ticks: raw TICK_DTYPE bytes; events: orjson list of the queue items, base64-free
since items are JSON themselves).
"""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

_HDR = struct.Struct("<4scQQI")
_MAGIC = b"HSP1"


class SpoolCorrupt(Exception):
    pass


class Spool:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.dir.glob("*.tmp"):  # a crash mid-write: that batch was never acked
            tmp.unlink()
        ids = [int(p.stem) for p in self.dir.glob("*.spool")]
        self.last_id = max(ids, default=0)

    def next_id(self, now_ns: int) -> int:
        # Monotonic across restarts (files survive) and roughly wall-clock ordered.
        self.last_id = max(self.last_id + 1, now_ns)
        return self.last_id

    def put(self, batch_id: int, kind: bytes, payload: bytes | memoryview) -> Path:
        """Write one batch durably (a memoryview of a tick array is written in place,
        no bytes copy)."""
        path = self.dir / f"{batch_id:020d}.spool"
        tmp = path.with_suffix(".tmp")
        size = memoryview(payload).nbytes
        with open(tmp, "wb") as f:
            f.write(_HDR.pack(_MAGIC, kind, batch_id, size, zlib.crc32(payload)))
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: a reader sees a whole file or none
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return path

    def pending(self) -> list[Path]:
        return sorted(self.dir.glob("*.spool"))

    @staticmethod
    def read(path: Path) -> tuple[bytes, int, bytes]:
        data = path.read_bytes()
        if len(data) < _HDR.size:
            raise SpoolCorrupt(f"{path.name}: short header")
        magic, kind, bid, n, crc = _HDR.unpack_from(data)
        payload = data[_HDR.size:]
        if magic != _MAGIC or len(payload) != n or zlib.crc32(payload) != crc:
            raise SpoolCorrupt(f"{path.name}: bad magic, length or checksum")
        return kind, bid, payload

    @staticmethod
    def done(path: Path) -> None:
        path.unlink(missing_ok=True)
