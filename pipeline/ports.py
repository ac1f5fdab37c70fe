"""Loopback ports for runs that start their own simulator and control API (tests, benchmarks).

Why not just a random number: Linux hands out ephemeral ports (the local end of every outgoing
connection: PostgreSQL, Redis, the processes' own WebSockets) from 32768-60999, and a listener
cannot bind a port an open connection already uses. A base drawn from 20000-40000 landed in
that range a third of the time; once it met a live connection's port and the simulator could
not bind (it exited at start-up until the supervisor gave up). So the block is drawn below the
ephemeral range (`ip_local_port_range`, read when available) and every port of it is checked
free by binding it first.
"""
from __future__ import annotations

import random
import socket
from pathlib import Path

LOW = 20_000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_DEFAULT_EPHEMERAL_LOW = 32_768


def ephemeral_low() -> int:
    """The first port the kernel may hand out for an outgoing connection."""
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _DEFAULT_EPHEMERAL_LOW


def _free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port_block(size: int, host: str = "127.0.0.1", rng: random.Random | None = None,
                    attempts: int = 200) -> int:
    """A base port `b` with `b .. b + size - 1` all free on `host` now and all below the
    ephemeral range. (Free now, not reserved: the caller should bind soon.)"""
    rng = rng or random.Random()
    high = min(ephemeral_low(), 65_536) - size
    if high <= LOW:
        raise RuntimeError(f"no room for {size} ports between {LOW} and the ephemeral range")
    for _ in range(attempts):
        base = rng.randrange(LOW, high)
        if all(_free(base + i, host) for i in range(size)):
            return base
    raise RuntimeError(f"no {size} free consecutive ports found in {attempts} draws")
