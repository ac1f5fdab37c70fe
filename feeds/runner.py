"""Feed process (`hft:feed:<venue>`): one per venue, pinned.

Current state: the process lifecycle (naming, pinning, heartbeat, commands, orderly stop) is in
place; the market-data connection (websockets + each venue's sans-I/O protocol into the tick
ring and book slots) is issue 4's work and is not wired yet, so this process publishes nothing.
"""
from __future__ import annotations

import logging

from pipeline.process import ProcessContext

log = logging.getLogger(__name__)


def main(ctx: ProcessContext) -> int:
    log.info("feed %s up (market-data connection not wired yet: issue 4)", ctx.venue)
    ctx.run_loop()
    return 0
