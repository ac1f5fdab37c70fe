"""Segment registry: who creates, attaches to and unlinks shared-memory segments.

The supervisor creates every segment and unlinks it at shutdown; other processes only attach.
Python 3.11's `SharedMemory` registers even an *attached* segment with the resource tracker,
which then unlinks it when that process exits — a child's exit would delete the ring under
everyone else. `attach` therefore unregisters the segment from the tracker (3.13+ has
`track=False`, used when available).

Names embed the creating supervisor's pid (`hft.<pid>.<kind>.<name>`), so `cleanup_stale`
can remove segments left by a crashed run without touching a live one.
"""
from __future__ import annotations

import _posixshmem  # the unlink primitive, without SharedMemory.unlink's tracker bookkeeping
import os
import re
import sys
from multiprocessing import resource_tracker, shared_memory

PREFIX = "hft."
_SHM_DIR = "/dev/shm"
_NAME_RE = re.compile(r"^hft\.(\d+)\.[A-Za-z0-9_.:-]+$")


def segment_name(kind: str, name: str, owner_pid: int | None = None) -> str:
    """Canonical segment name for `kind` (ring, book, status, ...) and `name`."""
    pid = os.getpid() if owner_pid is None else owner_pid
    # no ':' either: multiprocessing's resource tracker splits its messages on it
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"{PREFIX}{pid}.{kind}.{safe}"


def _untrack(shm: shared_memory.SharedMemory) -> None:
    try:
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - tracker not running is fine
        pass


def create(name: str, size: int, *, track: bool = False) -> shared_memory.SharedMemory:
    """Create (replacing any same-named leftover) a zero-filled segment of `size` bytes.

    `track=False` (default): the creator unlinks explicitly via `unlink`; the resource tracker
    is not involved, so a benchmark or test that forks readers is not surprised by it.
    """
    try:
        old = shared_memory.SharedMemory(name=name, create=False)
    except FileNotFoundError:
        pass
    else:
        _untrack(old)
        old.close()
        _posixshmem.shm_unlink("/" + name)
    shm = shared_memory.SharedMemory(name=name, create=True, size=size)
    if not track:
        _untrack(shm)
    return shm


def attach(name: str) -> shared_memory.SharedMemory:
    """Attach to an existing segment without letting this process's exit unlink it."""
    if sys.version_info >= (3, 13):  # pragma: no cover - exercised on newer Pythons only
        return shared_memory.SharedMemory(name=name, create=False, track=False)  # type: ignore[call-arg]
    shm = shared_memory.SharedMemory(name=name, create=False)
    _untrack(shm)
    return shm


def unlink(name: str) -> bool:
    """Unlink a segment by name; False when it was already gone."""
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_segments(owner_pid: int | None = None) -> list[str]:
    """Names of hft segments present, optionally only those of one owner."""
    try:
        entries = os.listdir(_SHM_DIR)
    except FileNotFoundError:  # pragma: no cover - non-Linux
        return []
    out = []
    for entry in entries:
        m = _NAME_RE.match(entry)
        if m and (owner_pid is None or int(m.group(1)) == owner_pid):
            out.append(entry)
    return sorted(out)


def cleanup_stale() -> list[str]:
    """Unlink segments whose owning supervisor is no longer alive; returns what was removed."""
    removed = []
    for entry in list_segments():
        m = _NAME_RE.match(entry)
        assert m is not None
        if not _pid_alive(int(m.group(1))) and unlink(entry):
            removed.append(entry)
    return removed
