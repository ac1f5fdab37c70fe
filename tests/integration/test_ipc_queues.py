"""faster-fifo message queues across processes: order preserved, batches, full -> counted drop."""
from __future__ import annotations

import multiprocessing as mp
from decimal import Decimal

from pipeline.ipc import MessageQueue
from pipeline.messages import ExecReport, ExecType, Heartbeat, NewOrder
from pipeline.model import OrderStatus, Side

N = 20_000


def _producer(q: MessageQueue, n: int) -> None:
    batch = []
    for i in range(n):
        batch.append(NewOrder(f"c{i}", "okx", "BTC/USDT", Side.BUY, 100 + i, 1))
        if len(batch) == 64:
            while not q.put_many(batch):
                pass  # test producer: retry until the consumer makes room
            batch = []
    while batch and not q.put_many(batch):
        pass


def test_cross_process_order_and_batches():
    ctx = mp.get_context("spawn")
    q = MessageQueue("orders.test", 1 << 20)
    p = ctx.Process(target=_producer, args=(q, N))
    p.start()
    got: list[NewOrder] = []
    while len(got) < N:
        batch = q.get_many(timeout=5.0)
        assert batch, "producer stalled"
        got.extend(batch)  # type: ignore[arg-type]
    p.join(10)
    assert p.exitcode == 0
    assert [m.price_ticks for m in got] == [100 + i for i in range(N)]
    assert q.decode_errors == 0 and q.received == N
    q.close()


def test_full_queue_drops_are_counted_not_blocking():
    q = MessageQueue("tiny", 1 << 12)
    sent = 0
    while q.put(Heartbeat(sent)):
        sent += 1
    assert sent > 0 and q.dropped_full == 1
    assert not q.put_many([Heartbeat(1), Heartbeat(2)])
    assert q.dropped_full == 3
    drained = q.get_many()
    assert [m.ts for m in drained] == list(range(sent))
    q.close()


def test_exact_fields_survive_the_queue():
    q = MessageQueue("reports", 1 << 16)
    rep = ExecReport("gate", "ETH/USDT", "t-abc", "123", ExecType.TRADE,
                     OrderStatus.PARTIALLY_FILLED, Side.SELL, price_ticks=250_001, lots=7,
                     filled_lots=3, last_lots=3, last_price_ticks=250_001,
                     fee=Decimal("0.000000123456789"), fee_asset="USDT", trade_id="99")
    assert q.put(rep)
    (back,) = q.get_many(timeout=1.0)
    assert back == rep and back.fee == Decimal("0.000000123456789")
    q.close()


def test_undecodable_message_is_counted_and_skipped():
    q = MessageQueue("junk", 1 << 16)
    q._q.put_nowait(b"\x00not json")
    q.put(Heartbeat(7))
    assert [m.ts for m in q.get_many(timeout=1.0)] == [7]
    assert q.decode_errors == 1
    q.close()
