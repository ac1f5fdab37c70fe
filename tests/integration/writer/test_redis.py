"""Redis live state (pipelined) and pub/sub on the events channel, embedded and URL servers."""
from __future__ import annotations

import orjson

from pipeline.messages import ExecReport, ExecType, encode
from pipeline.model import OrderStatus, Side
from writer import events
from writer.redis_state import RedisState

from .helpers import ticks


def test_bbo_open_orders_pnl_and_pubsub(redis_client, redis_prefix: str) -> None:  # type: ignore[no-untyped-def]
    st = RedisState(redis_client, redis_prefix)
    sub = redis_client.pubsub()
    sub.subscribe(st.channel)
    assert sub.get_message(timeout=2)["type"] == "subscribe"
    b = ticks(0, 30)                      # kinds 1 and 2; last BBO is update_id 29
    assert st.update_bbo(b) == 1
    got = redis_client.hgetall(f"{redis_prefix}bbo:1:7")
    assert float(got[b"bid_px"]) == b["bid_px"][29]
    rows: dict = {}
    events.to_rows([
        encode(ExecReport("okx", "ETH/USDT", "a", "v", ExecType.NEW, OrderStatus.NEW, Side.SELL,
                          5, 2)),
        encode(ExecReport("okx", "ETH/USDT", "b", "v2", ExecType.NEW, OrderStatus.NEW, Side.BUY,
                          4, 1)),
        encode(ExecReport("okx", "ETH/USDT", "b", "v2", ExecType.CANCELED,
                          OrderStatus.CANCELED, Side.BUY, 4, 1, ts_event=2)),
        orjson.dumps({"type": "pnl", "source": "engine", "seq": 3, "ts": 1, "realized": 2.0}),
    ], rows)
    st.apply_events(rows)
    assert set(redis_client.hkeys(f"{redis_prefix}open_orders:okx")) == {b"a"}
    assert orjson.loads(redis_client.get(f"{redis_prefix}pnl:engine"))["realized"] == 2.0
    msg = sub.get_message(timeout=2)
    assert msg is not None and orjson.loads(msg["data"]) == {"order_events": 3,
                                                             "pnl_snapshots": 1}
    st.health("writer", {"ticks_in": 30, "db_up": True})
    assert redis_client.hget(f"{redis_prefix}health:writer", "ticks_in") == b"30"
    sub.close()
