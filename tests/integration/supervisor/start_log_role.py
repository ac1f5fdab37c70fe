"""A role that notes when it started (wall clock, into `HFT_TEST_START_LOG`), then behaves; as
the simulator (`HFT_TEST_SIM_DELAY_S`) it first takes that long to come up, and notes when it
serves, before its first heartbeat, as the real `hft:sim` does."""
from __future__ import annotations

import os
import time

from pipeline.process import ProcessContext


def _note(what: str) -> None:
    with open(os.environ["HFT_TEST_START_LOG"], "a") as f:
        f.write(f"{what} {time.time_ns()}\n")


def main(ctx: ProcessContext) -> int:
    _note(f"start:{ctx.name}")
    if ctx.name == "sim":
        time.sleep(float(os.environ.get("HFT_TEST_SIM_DELAY_S", "0")))
        _note("serving:sim")
    ctx.run_loop(period_s=0.02)
    return 0
