"""Logging for every process: one format with the process name, secret redaction, and a
rate limiter.

Redaction: every secret value the process holds (API keys, secrets, passphrases, control
tokens) is registered with `register_secret`; the formatter replaces any occurrence in the
final text — message, arguments and traceback alike — with `***`. `SecretStr` already masks
repr; this catches the paths it cannot (a secret inside an f-string, an exception message,
a local variable in a traceback frame rendered by a library).

A venue that sends garbage at 10k frames/s must not turn the log into the bottleneck:
`RateLimitedLog` lets a call site log at most `per_s` lines per second and counts the rest,
reporting how many were suppressed on the next line it lets through.
"""
from __future__ import annotations

import logging
import sys
import time


_SECRETS: set[str] = set()


def register_secret(value: str) -> None:
    """Never print `value` in any log line of this process (short values are ignored: a
    3-character "secret" would redact ordinary words)."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: str = "INFO", process_name: str = "",
                  stream: object | None = None) -> None:
    fmt = f"%(asctime)s %(levelname)s [{process_name or 'hft'}] %(name)s: %(message)s"
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(RedactingFormatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that narrate every command at INFO (pgserver prints each pg_ctl call with its
    # stdout) drown our own lines; their warnings still come through.
    for noisy in ("pgserver", "websockets", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def register_config_secrets(config: object) -> None:
    """Register every secret a `Config` holds."""
    exchanges = getattr(config, "exchanges", None)
    if exchanges is None:
        return
    for venue in ("binance", "okx", "gate"):
        ex = getattr(exchanges, venue)
        for field in ("api_key", "secret_key", "passphrase"):
            register_secret(getattr(ex, field).get_secret_value())


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
