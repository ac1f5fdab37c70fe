"""Append-only audit log with a hash chain.

Every control action, risk state change and order/cancel decision becomes one JSON line:
`{"seq": n, "ts": ns, "kind": ..., "actor": ..., "data": {...}, "prev": <hash of record n-1>,
"hash": sha256(canonical record without "hash")}`. Editing, deleting, reordering or truncating
records breaks the chain, and `verify` says exactly where. The same records go to PostgreSQL
through the writer (`audit_events`), so the file and the table can be checked against each
other.

Truncation of the tail cannot be seen from the file alone; `AuditLog` therefore also keeps the
head (last seq and hash) in a small side file updated after every append, and `verify` checks
the file's end against it.

Writers: the supervisor (control actions) and the engine (risk and order decisions). One
writer per file; a process appends with O_APPEND and flushes each record.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def canonical(record: dict[str, Any]) -> bytes:
    """Deterministic bytes of a record for hashing (sorted keys, no whitespace)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str).encode()


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


class AuditLog:
    """Appends hash-chained records to `path` (resuming the chain of an existing file)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_suffix(self.path.suffix + ".head")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seq, self.prev = 0, GENESIS
        if self.path.exists():
            last = _last_line(self.path)
            if last:
                rec = json.loads(last)
                self.seq, self.prev = int(rec["seq"]), str(rec["hash"])
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, kind: str, actor: str, data: dict[str, Any], ts_ns: int) -> dict[str, Any]:
        rec: dict[str, Any] = {"seq": self.seq + 1, "ts": ts_ns, "kind": kind, "actor": actor,
                               "data": data, "prev": self.prev}
        rec["hash"] = record_hash(rec)
        os.write(self._fd, canonical(rec) + b"\n")
        self.seq, self.prev = rec["seq"], rec["hash"]
        tmp = self.head_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seq": self.seq, "hash": self.prev}))
        os.replace(tmp, self.head_path)
        return rec

    def close(self) -> None:
        os.close(self._fd)


def _last_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        pos = max(size - 65536, 0)
        f.seek(pos)
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    return lines[-1].decode() if lines else ""


@dataclass
class VerifyResult:
    ok: bool
    records: int
    problems: list[str]


def verify(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every record's hash and link; report each broken place by line and seq."""
    p = Path(path)
    problems: list[str] = []
    prev, expected_seq, n = GENESIS, 1, 0
    with open(p, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            n += 1
            try:
                rec = json.loads(raw)
                seq, h, link = int(rec["seq"]), rec["hash"], rec["prev"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"line {lineno}: not a valid audit record")
                continue
            if record_hash(rec) != h:
                problems.append(f"line {lineno} (seq {seq}): record was edited (hash mismatch)")
            if seq != expected_seq:
                what = "removed" if seq > expected_seq else "reordered or duplicated"
                problems.append(f"line {lineno}: expected seq {expected_seq}, found {seq} "
                                f"(record(s) {what})")
            if link != prev:
                problems.append(f"line {lineno} (seq {seq}): chain broken (prev hash does not "
                                f"match the record before it)")
            prev, expected_seq = h, seq + 1
    head = p.with_suffix(p.suffix + ".head")
    if head.exists():
        try:
            hd = json.loads(head.read_text())
            if int(hd["seq"]) != expected_seq - 1 or hd["hash"] != prev:
                problems.append(f"end of file: log ends at seq {expected_seq - 1} but the head "
                                f"says seq {hd['seq']} (records truncated or rewritten)")
        except (ValueError, KeyError, TypeError):
            problems.append("head file is corrupt")
    return VerifyResult(ok=not problems, records=n, problems=problems)
