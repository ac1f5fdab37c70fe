"""`bench/order_codecs.py` must time real work: every order it places is acknowledged and then
cancelled by the simulated venue, with nothing rejected, or its per-order figures would
measure a short cut (a reject is cheaper than an ack)."""
from __future__ import annotations

import pytest

from bench.order_codecs import Pair
from pipeline.messages import ExecReport, ExecType


@pytest.mark.parametrize("venue", ["binance", "okx", "gate"])
def test_each_cycle_acks_then_cancels_every_order(venue: str) -> None:
    p = Pair(venue)
    seen: list[ExecReport] = []
    take = p.core.take

    def spy() -> tuple[list[str], list[object]]:
        frames, reps = take()
        seen.extend(r for r in reps if type(r) is ExecReport)
        return frames, reps

    p.core.take = spy  # type: ignore[method-assign]
    for _ in range(3):
        p.cycle(10)
    by_type: dict[ExecType, set[str]] = {}
    for r in seen:
        by_type.setdefault(r.exec_type, set()).add(r.client_id)
    assert len(by_type.get(ExecType.NEW, set())) == 30
    assert by_type.get(ExecType.CANCELED) == by_type[ExecType.NEW]
    assert ExecType.REJECTED not in by_type and ExecType.CANCEL_REJECTED not in by_type
    assert not p.core.pending and not p.sim.open_orders(next(iter(p.sim.api_keys)))
