"""The share of one core a process uses over a window, read from /proc (utime + stime)."""
from __future__ import annotations

import os
import time


class CpuMeter:
    """Share of one core process `pid` used between `start()` and `share()`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._t0 = self._cpu0 = 0.0

    def _cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self._t0, self._cpu0 = time.monotonic(), self._cpu()

    def share(self) -> float:
        return (self._cpu() - self._cpu0) / max(time.monotonic() - self._t0, 1e-9)
