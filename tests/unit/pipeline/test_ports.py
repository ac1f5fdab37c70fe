"""Port blocks for self-started simulators stay out of the kernel's ephemeral range and skip
ports something already holds."""
from __future__ import annotations

import random
import socket

import pytest

from pipeline import ports


def test_block_is_free_and_below_the_ephemeral_range() -> None:
    base = ports.free_port_block(11, rng=random.Random(1))
    assert ports.LOW <= base and base + 11 <= ports.ephemeral_low()
    held = []
    try:
        for p in range(base, base + 11):      # every port of it can be bound now
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            held.append(s)
    finally:
        for s in held:
            s.close()


def test_a_held_port_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(ports, "LOW", port - 1)
        monkeypatch.setattr(ports, "ephemeral_low", lambda: port + 4)
        # the only bases whose block fits are port-1 and port: both blocks hold the taken
        # port, so every draw is refused
        with pytest.raises(RuntimeError, match="no 3 free consecutive ports"):
            ports.free_port_block(3, rng=random.Random(0), attempts=20)
        monkeypatch.setattr(ports, "ephemeral_low", lambda: port + 6)
        base = ports.free_port_block(2, rng=random.Random(0), attempts=200)
        assert port not in (base, base + 1)


def test_no_room_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "ephemeral_low", lambda: ports.LOW + 5)
    with pytest.raises(RuntimeError, match="no room for 11 ports"):
        ports.free_port_block(11)
