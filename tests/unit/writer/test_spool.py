"""Spool files: ordered ids across restarts, checksum detection, crash leftovers."""
from __future__ import annotations

from pathlib import Path

import pytest

from writer.spool import Spool, SpoolCorrupt


def test_put_read_order_and_restart(tmp_path: Path) -> None:
    s = Spool(tmp_path)
    ids = [s.next_id(5) for _ in range(3)]
    assert ids == [5, 6, 7]
    for i in ids:
        s.put(i, b"E", f"payload{i}".encode())
    (tmp_path / "x.tmp").write_bytes(b"half")          # a crash mid-write
    s2 = Spool(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
    assert s2.next_id(0) == 8                           # monotonic across restarts
    got = [Spool.read(p) for p in s2.pending()]
    assert got == [(b"E", i, f"payload{i}".encode()) for i in ids]
    Spool.done(s2.pending()[0])
    assert len(s2.pending()) == 2


def test_corruption_is_detected(tmp_path: Path) -> None:
    s = Spool(tmp_path)
    p = s.put(1, b"T", b"abcdef")
    data = bytearray(p.read_bytes())
    data[-1] ^= 1
    p.write_bytes(bytes(data))
    with pytest.raises(SpoolCorrupt):
        Spool.read(p)
    p.write_bytes(b"xx")
    with pytest.raises(SpoolCorrupt):
        Spool.read(p)
