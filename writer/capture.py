"""Raw venue frame capture: rotating gzip files plus a JSON index; a reader that yields frames
in ts_recv order, paced by ts_recv deltas (injectable sleep) or as fast as possible.

Record: u32 length, i64 ts_recv, u8 venue length, venue, u16 conn-id length, conn id, frame.
Index `index.json`: [{"file", "venue", "first_ts", "last_ts", "count"}] rewritten on rotate.
"""
from __future__ import annotations

import gzip
import json
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

_REC = struct.Struct("<IqBH")


class CaptureWriter:
    def __init__(self, folder: str | os.PathLike[str], venue: str, *,
                 max_bytes: int = 64 << 20, max_age_ns: int = 3600 * 10**9) -> None:
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.venue = venue
        self.max_bytes = max_bytes
        self.max_age_ns = max_age_ns
        self._f: gzip.GzipFile | None = None
        self._cur: dict = {}
        self._bytes = 0

    def write(self, ts_recv: int, frame: bytes, conn_id: str = "") -> None:
        if self._f is None or self._bytes >= self.max_bytes or \
                ts_recv - self._cur["first_ts"] >= self.max_age_ns:
            self.rotate(ts_recv)
        assert self._f is not None
        v, c = self.venue.encode(), conn_id.encode()
        self._f.write(_REC.pack(len(frame), ts_recv, len(v), len(c)) + v + c + frame)
        self._bytes += _REC.size + len(v) + len(c) + len(frame)
        self._cur["last_ts"] = ts_recv
        self._cur["count"] += 1

    def rotate(self, ts_next: int) -> None:
        self._close_file()
        name = f"{self.venue}-{ts_next:020d}.cap.gz"
        self._f = gzip.open(self.dir / name, "wb", compresslevel=3)  # noqa: SIM115 (kept open across writes)
        self._cur = {"file": name, "venue": self.venue, "first_ts": ts_next, "last_ts": ts_next,
                     "count": 0}
        self._bytes = 0

    def _close_file(self) -> None:
        if self._f is None:
            return
        self._f.close()
        idx = read_index(self.dir)
        idx = [e for e in idx if e["file"] != self._cur["file"]] + [self._cur]
        tmp = self.dir / "index.json.tmp"
        tmp.write_text(json.dumps(idx))
        os.replace(tmp, self.dir / "index.json")
        self._f = None

    def close(self) -> None:
        self._close_file()


def read_index(folder: str | os.PathLike[str]) -> list[dict]:
    p = Path(folder) / "index.json"
    return json.loads(p.read_text()) if p.exists() else []


def read_frames(path: str | os.PathLike[str]) -> Iterator[tuple[int, str, str, bytes]]:
    """Frames of one file or of every indexed file in a folder, in (first_ts, file) order.
    A truncated tail (crash mid-write) ends the file; it never raises mid-stream garbage."""
    p = Path(path)
    files = [p / e["file"] for e in sorted(read_index(p), key=lambda e: (e["first_ts"], e["file"]))] \
        if p.is_dir() else [p]
    for f in files:
        with gzip.open(f, "rb") as g:
            try:
                while True:
                    hdr = g.read(_REC.size)
                    if len(hdr) < _REC.size:
                        break
                    n, ts, lv, lc = _REC.unpack(hdr)
                    body = g.read(lv + lc + n)
                    if len(body) < lv + lc + n:
                        break
                    yield ts, body[:lv].decode(), body[lv:lv + lc].decode(), body[lv + lc:]
            except EOFError:  # gzip stream cut short
                return


def replay(path: str | os.PathLike[str], *, speed: float = 0.0,
           sleep: Callable[[float], None] | None = None) -> Iterator[tuple[int, str, str, bytes]]:
    """Frames in order; with speed > 0, sleeps the ts_recv delta / speed between frames."""
    import time as _time
    sleep = sleep or _time.sleep
    prev: int | None = None
    for rec in read_frames(path):
        if speed > 0 and prev is not None and rec[0] > prev:
            sleep((rec[0] - prev) / 1e9 / speed)
        prev = rec[0]
        yield rec
