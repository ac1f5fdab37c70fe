"""Simulated-venue process (`hft:sim`), started by the supervisor in `sim` mode.

Current state: a placeholder process (as the foundation issue allows) until the loopback
front-ends for Binance, OKX and Gate land (issue 3); the matching engine and market model
live beside it in this package.
"""
from __future__ import annotations

import logging

from pipeline.process import ProcessContext

log = logging.getLogger(__name__)


def main(ctx: ProcessContext) -> int:
    log.info("sim up (venue front-ends not wired yet: issue 3)")
    ctx.run_loop()
    return 0
