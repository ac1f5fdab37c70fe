"""Gate's two answers per order step (trading API result and `spot.orders` push) reach the
engine as one report: a state report repeating the order's last one is dropped; fills and
anything new pass."""
from __future__ import annotations

from feeds.gate.protocol.reports import RepeatFilter
from pipeline.messages import ExecReport, ExecType
from pipeline.model import OrderStatus, RejectReason, Side


def rep(kind: ExecType, status: OrderStatus, filled: int = 0, oid: str = "9",
        reason: RejectReason = RejectReason.NONE, trade: str = "") -> ExecReport:
    return ExecReport("gate", "BTC/USDT", "c1", oid, kind, status, Side.BUY, 100, 10,
                      filled_lots=filled, trade_id=trade, reason=reason)


def test_a_repeated_step_is_dropped_and_every_new_step_passes() -> None:
    f = RepeatFilter()
    new, part = rep(ExecType.NEW, OrderStatus.NEW), rep(ExecType.STATUS,
                                                         OrderStatus.PARTIALLY_FILLED, 4)
    fill = rep(ExecType.TRADE, OrderStatus.PARTIALLY_FILLED, 0, trade="T1")
    done = rep(ExecType.CANCELED, OrderStatus.CANCELED, 4)
    seen = [f.accept(r) for r in (new, new, fill, fill, part, part, done, done)]
    assert seen == [True, False, True, True, True, False, True, False]
    assert f.accept(rep(ExecType.NEW, OrderStatus.NEW, oid="10"))   # another order
    assert f.accept(rep(ExecType.EXPIRED, OrderStatus.EXPIRED, 4,     # says something new
                        reason=RejectReason.POST_ONLY_WOULD_CROSS))


def test_a_report_without_a_venue_order_id_always_passes_and_memory_is_bounded() -> None:
    f = RepeatFilter(capacity=2)
    anon = rep(ExecType.NEW, OrderStatus.NEW, oid="")
    assert f.accept(anon) and f.accept(anon)
    for oid in ("1", "2", "3"):
        assert f.accept(rep(ExecType.NEW, OrderStatus.NEW, oid=oid))
    assert len(f._last) == 2
    assert f.accept(rep(ExecType.NEW, OrderStatus.NEW, oid="1"))    # forgotten: passes again
    assert not f.accept(rep(ExecType.NEW, OrderStatus.NEW, oid="3"))
