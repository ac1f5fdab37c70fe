"""The engine's live-state document: what top and Prometheus see, exact money as strings."""
from __future__ import annotations

import os
from decimal import Decimal

import numpy as np

from engine.live_state import LiveStatePublisher, live_state, read_live_state
from pipeline.histogram import Histogram
from pipeline.messages import ExecType
from pipeline.model import OrderStatus, Side
from shm import registry
from shm.snapshot import SnapshotSlot

from .test_core import T0, _ack, _core, _orders


def test_document_has_markets_quotes_positions_and_histograms() -> None:
    core = _core()
    core.requote(T0)
    out, _ = core.take()
    buy = next(o for o in _orders(out, "gate") if o.side is Side.BUY)
    core.on_report(_ack(buy), T0)
    core.on_report(_ack(buy, status=OrderStatus.PARTIALLY_FILLED, exec_type=ExecType.TRADE,
                        filled_lots=100, last_lots=100, last_price_ticks=buy.price_ticks,
                        fee=Decimal("0.01"), fee_asset="USDT", trade_id="T1"), T0)
    doc = live_state(core, T0)
    assert doc["trading_state"] == "ACTIVE" and doc["fills"] == 1
    gate = next(m for m in doc["markets"] if m["venue"] == "gate")
    inst = core.instruments[("gate", "BTC/USDT")]
    assert Decimal(gate["position"]) == inst.lots_to_qty(100)
    assert Decimal(gate["quote_bid"]) == inst.ticks_to_price(buy.price_ticks)
    assert gate["bid"] < gate["ask"] and gate["gateway_up"] is True
    h = Histogram(np.array(doc["histograms_ns"]["order_ack"], dtype=np.int64))
    assert h.count == 1
    assert Decimal(doc["fees"]) == Decimal("0.01")


def test_published_document_reads_back_from_shared_memory() -> None:
    name = registry.segment_name("snapshot", f"lsunit{os.getpid()}")
    slot = SnapshotSlot.create(name, capacity=1 << 20)
    try:
        core = _core()
        pub = LiveStatePublisher(name)
        pub.publish(core, T0)
        doc = read_live_state(name)
        assert doc is not None and doc["ts"] == T0
        assert {m["venue"] for m in doc["markets"]} == {"okx", "gate"}
        pub.close()
    finally:
        slot.close()
        registry.unlink(name)
