"""Role modules the supervisor tests run in place of the real processes."""
from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.process import ProcessContext


def main(ctx: ProcessContext) -> int:
    """A well-behaved role: heartbeat until told to stop; record the shutdown order."""
    ctx.run_loop(period_s=0.02)
    log = os.environ.get("HFT_TEST_STOP_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{ctx.name}\n")
    return 0
