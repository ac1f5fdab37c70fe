"""Logging for every process: one format with the process name, and a rate limiter.

A venue that sends garbage at 10k frames/s must not turn the log into the bottleneck:
`RateLimitedLog` lets a call site log at most `per_s` lines per second and counts the rest,
reporting how many were suppressed on the next line it lets through.
"""
from __future__ import annotations

import logging
import sys
import time


def setup_logging(level: str = "INFO", process_name: str = "") -> None:
    fmt = f"%(asctime)s %(levelname)s [{process_name or 'hft'}] %(name)s: %(message)s"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)


class RateLimitedLog:
    """At most `per_s` lines per second from one call site; the rest are counted."""

    __slots__ = ("_log", "_per_s", "_window", "_count", "suppressed")

    def __init__(self, logger: logging.Logger, per_s: float = 5.0) -> None:
        self._log = logger
        self._per_s = per_s
        self._window = 0
        self._count = 0
        self.suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        window = int(time.monotonic())
        if window != self._window:
            self._window, self._count = window, 0
        self._count += 1
        if self._count > self._per_s:
            self.suppressed += 1
            return
        if self.suppressed:
            msg = f"{msg} ({self.suppressed} similar suppressed)"
            self.suppressed = 0
        self._log.warning(msg, *args)
