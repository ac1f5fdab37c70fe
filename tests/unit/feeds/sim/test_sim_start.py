"""A simulated venue whose port cannot be bound says which venue and port, as one line, and
`hft sim` exits 1 with it (no traceback): the supervisor's restart log then reads plainly."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.sim.server import SimStartError, start_venue
from pipeline import aio
from pipeline.config import parse_config

ROOT = Path(__file__).resolve().parents[4]


def _held_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_a_taken_port_is_a_sim_start_error_naming_it(tmp_path: Path) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        config = parse_config({"system": {"data_dir": str(tmp_path)},
                               "exchanges": {"okx": {"enabled": False},
                                             "gate": {"enabled": False}},
                               "sim": {"base_port": port}})
        with pytest.raises(SimStartError, match=f"sim binance: cannot listen on "
                                                f"127.0.0.1:{port}"):
            aio.run(start_venue(config, "binance"))


def test_hft_sim_exits_1_with_one_line(tmp_path: Path) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[system]\ndata_dir = "{tmp_path}"\n[exchanges.okx]\nenabled = false\n'
                       f'[exchanges.gate]\nenabled = false\n[sim]\nbase_port = {port}\n')
        r = subprocess.run([sys.executable, "-m", "pipeline.cli", "sim", "--config", str(cfg),
                            "--duration", "1"], capture_output=True, text=True, cwd=ROOT,
                           timeout=60, check=False)
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr
