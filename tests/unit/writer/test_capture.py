"""Capture files: write, rotate by size and age, index, read back in order, pacing, truncation."""
from __future__ import annotations

import gzip
from pathlib import Path

from writer.capture import CaptureWriter, read_frames, read_index, replay


def _frames(n: int) -> list[tuple[int, bytes]]:
    return [(1_000_000_000 + i * 1_000_000, f'{{"u":{i},"pad":"{"x" * 50}"}}'.encode())
            for i in range(n)]


def test_rotate_index_and_read_back(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "binance", max_bytes=2000)
    fr = _frames(200)
    for ts, f in fr:
        w.write(ts, f, conn_id="c1")
    w.close()
    idx = read_index(tmp_path)
    assert len(idx) > 3                               # rotated by size
    assert sum(e["count"] for e in idx) == 200
    assert all(e["venue"] == "binance" and e["first_ts"] <= e["last_ts"] for e in idx)
    got = list(read_frames(tmp_path))
    assert [(t, f) for t, _, _, f in got] == fr
    assert {(v, c) for _, v, c, _ in got} == {("binance", "c1")}


def test_rotate_by_age(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "okx", max_age_ns=10_000_000)
    for ts, f in _frames(50):
        w.write(ts, f)
    w.close()
    assert len(read_index(tmp_path)) == 5


def test_paced_replay_sleeps_the_deltas(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "gate")
    for ts, f in _frames(4):
        w.write(ts, f)
    w.close()
    slept: list[float] = []
    out = list(replay(tmp_path, speed=2.0, sleep=slept.append))
    assert len(out) == 4 and slept == [0.0005] * 3
    assert list(replay(tmp_path, sleep=slept.append)) == out and len(slept) == 3


def test_truncated_file_ends_cleanly(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "gate")
    for ts, f in _frames(10):
        w.write(ts, f)
    w.close()
    f = tmp_path / read_index(tmp_path)[0]["file"]
    raw = gzip.decompress(f.read_bytes())
    f.write_bytes(gzip.compress(raw[:-7]))            # last record cut short
    assert len(list(read_frames(f))) == 9
