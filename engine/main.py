"""Engine process (`hft:engine`), pinned.

Current state: lifecycle in place (heartbeat, commands, orderly stop, summary file). The loop
that polls the tick rings and runs strategy -> RMS -> OMS -> router is issue 6's work; until
then the engine drains execution reports and places no orders.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from pipeline.process import ProcessContext

log = logging.getLogger(__name__)


def main(ctx: ProcessContext) -> int:
    reports = ctx.handles.report_queue
    seen = {"reports": 0}

    def step(_cmds: list) -> None:
        seen["reports"] += len(reports.get_many())

    log.info("engine up (strategy loop not wired yet: issue 6)")
    ctx.run_loop(step, period_s=0.05)
    summary = {"orders": 0, "fills": 0, "cancels": 0, "rejects": 0, "open_orders_at_exit": 0,
               "reports_seen": seen["reports"]}
    Path(ctx.handles.extra["summary_path"]).write_text(json.dumps(summary))
    return 0
