"""Secrets never reach a log line, a repr or a traceback."""
from __future__ import annotations

import io
import logging

from pipeline.config import parse_config
from pipeline.logging_setup import register_config_secrets, setup_logging

SECRET = "sk-live-9f8e7d6c5b4a"


def test_exception_with_secret_in_scope_is_redacted_in_the_log():
    cfg = parse_config({"exchanges": {"binance": {"secret_key": SECRET}}}, env={})
    buf = io.StringIO()
    setup_logging("INFO", "test", stream=buf)
    register_config_secrets(cfg)
    log = logging.getLogger("signing")
    secret = cfg.exchanges.binance.secret_key.get_secret_value()
    try:
        raise ValueError(f"bad HMAC key {secret}")  # a careless message
    except ValueError:
        log.exception("signing failed for key %s", secret)
    log.info("config: %r", cfg)
    out = buf.getvalue()
    assert "signing failed for key ***" in out
    assert "bad HMAC key ***" in out  # the traceback text too
    assert SECRET not in out
    assert SECRET not in repr(cfg) and SECRET not in str(cfg.model_dump())
