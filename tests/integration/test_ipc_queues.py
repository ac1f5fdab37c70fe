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


def test_messages_put_together_share_queue_entries_and_come_back_in_order():
    from pipeline.ipc import BATCH_ROWS
    q = MessageQueue("batched", 8 << 20)
    msgs = [Heartbeat(i) for i in range(2 * BATCH_ROWS + 3)]
    assert q.put_many(msgs[:1]) and q.put_many(msgs[1:])
    assert q.qsize() == 1 + 3          # the lone message, then 256 + 256 + 2
    assert q.get_many(timeout=1.0) == msgs
    assert q.sent == q.received == len(msgs) and q.decode_errors == 0
    q.close()


def test_a_batch_entry_stays_small_big_messages_travel_alone():
    from pipeline.ipc import BATCH_BYTES
    from pipeline.messages import Record
    q = MessageQueue("big", 8 << 20)
    big = [Record("capture", {"frame": "x" * (BATCH_BYTES // 3), "i": i}) for i in range(7)]
    assert q.put_many(big)
    assert q.qsize() == 4               # two per entry (a third would pass BATCH_BYTES), then one
    got: list = []
    while len(got) < 7:                 # faster-fifo hands over what fits its buffer per take
        batch = q.get_many(timeout=1.0)
        assert batch
        got += batch
    assert [m.body["i"] for m in got] == list(range(7))
    q.close()


def test_a_bad_row_in_a_batch_costs_only_itself():
    from pipeline.messages import encode, join_encoded
    q = MessageQueue("mixed", 1 << 16)
    q._q.put_nowait(join_encoded([encode(Heartbeat(1)), b'[99,"x"]', b'"nope"',
                                  encode(Heartbeat(2))]))
    q._q.put_nowait(b"[[not json")
    assert [m.ts for m in q.get_many(timeout=1.0)] == [1, 2]
    assert q.decode_errors == 3
    q.close()


def test_raw_entries_are_copies_that_outlive_the_next_take():
    from pipeline.messages import decode_all, encode
    q = MessageQueue("raw", 1 << 16)
    q.put_many([Heartbeat(1), Heartbeat(2)])
    first = q.get_raw()
    q.put(Heartbeat(3))
    second = q.get_raw()
    assert [type(b) for b in first + second] == [bytes, bytes]
    out: list = []
    assert decode_all(first[0], out) == 0 and decode_all(second[0], out) == 0
    assert [m.ts for m in out] == [1, 2, 3] and second == [encode(Heartbeat(3))]
    q.close()
