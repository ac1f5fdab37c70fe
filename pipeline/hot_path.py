"""What every compiled hot path shares: the one switch that forces pure Python, and the
start-up line saying which path runs.

The compiled paths (the simulator's core in `feeds/sim/fast.py`, the OMS and RMS in
`engine/oms.py` / `engine/rms.py`) each keep their pure-Python code as the reference and the
fallback. `HFT_PURE_PYTHON=1` picks that code even where the extension is built: for the
tests that run both paths, for profiling, and to check a suspected compiled bug. One name
and one parse here, so a single setting reaches every path the same way.
"""
from __future__ import annotations

import logging
import os

PURE_ENV = "HFT_PURE_PYTHON"
_logged: set[str] = set()


def pure_requested() -> bool:
    """True when the environment asks for pure Python (set, and not "0")."""
    return os.environ.get(PURE_ENV, "").strip() not in ("", "0")


def log_once(logger: logging.Logger, what: str, path: str) -> str:
    """Log `what: path` the first time `what` is reported in this process; return `path`."""
    if what not in _logged:
        _logged.add(what)
        logger.info("%s: %s", what, path)
    return path
