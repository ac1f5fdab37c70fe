"""Gateway process (`hft:gateway:<venue>`): one per venue, pinned.

Current state: lifecycle in place. Until the venue's WebSocket order API is wired (issue 5),
the gateway answers every order with an explicit REJECTED(VENUE_UNAVAILABLE) execution report
rather than leaving the engine's order in flight, and acknowledges cancel-all with nothing open.
"""
from __future__ import annotations

import logging
import time

from pipeline.messages import ExecReport, ExecType, NewOrder
from pipeline.model import OrderStatus, RejectReason
from pipeline.process import ProcessContext

log = logging.getLogger(__name__)


def main(ctx: ProcessContext) -> int:
    orders = ctx.handles.order_queues[ctx.venue]
    reports = ctx.handles.report_queue

    def step(_cmds: list) -> None:
        for msg in orders.get_many():
            if isinstance(msg, NewOrder):
                reports.put(ExecReport(
                    venue=msg.venue, symbol=msg.symbol, client_id=msg.client_id,
                    venue_order_id="", exec_type=ExecType.REJECTED,
                    status=OrderStatus.REJECTED, side=msg.side, price_ticks=msg.price_ticks,
                    lots=msg.lots, reason=RejectReason.VENUE_UNAVAILABLE,
                    reason_text="gateway has no venue connection", ts_recv=time.time_ns(),
                    ts_tick_recv=msg.ts_tick_recv, ts_decision=msg.ts_decision))

    log.info("gateway %s up (venue order API not wired yet: issue 5)", ctx.venue)
    ctx.run_loop(step, period_s=0.05)
    return 0
