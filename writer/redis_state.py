"""Live state in Redis (pipelined): last BBO per venue/symbol, positions, open orders, PnL,
process health; plus pub/sub on `hft:events` for dashboards. Keys are prefixed so several
systems (or test runs) can share one server."""
from __future__ import annotations

from typing import Any

import numpy as np
import orjson

CHANNEL = "hft:events"


class RedisState:
    def __init__(self, client: Any, prefix: str = "hft:") -> None:
        self.r = client
        self.p = prefix
        self.channel = f"{prefix}events" if prefix != "hft:" else CHANNEL

    def update_bbo(self, ticks: np.ndarray) -> int:
        """Set the last BBO of each (venue, symbol_id) in a batch, one pipeline round trip."""
        bbo = ticks[ticks["kind"] == 1]
        if len(bbo) == 0:
            return 0
        last: dict[tuple[int, int], np.void] = {}
        for rec in bbo:  # later records win; dict keeps only the latest per key
            last[(int(rec["venue"]), int(rec["symbol_id"]))] = rec
        pipe = self.r.pipeline(transaction=False)
        for (v, s), rec in last.items():
            pipe.hset(f"{self.p}bbo:{v}:{s}", mapping={
                "bid_px": float(rec["bid_px"]), "bid_sz": float(rec["bid_sz"]),
                "ask_px": float(rec["ask_px"]), "ask_sz": float(rec["ask_sz"]),
                "ts_recv": int(rec["ts_recv"])})
        pipe.execute()
        return len(last)

    def apply_events(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Open orders (from order events), positions, PnL; then publish a summary."""
        pipe = self.r.pipeline(transaction=False)
        for ev in rows.get("order_events", []):
            venue, cid, status = ev[0], ev[1], ev[4]
            key = f"{self.p}open_orders:{venue}"
            # OrderStatus values NEW/PARTIALLY_FILLED keep an order open (see pipeline.model)
            if status in _OPEN_STATUSES:
                pipe.hset(key, cid, orjson.dumps({"side": ev[5], "price_ticks": ev[6],
                                                  "lots": ev[7], "filled_lots": ev[8]}))
            else:
                pipe.hdel(key, cid)
        for src, _seq, _ts, body in rows.get("positions", []):
            pipe.set(f"{self.p}position:{src}", orjson.dumps(body))
        for src, _seq, _ts, body in rows.get("pnl_snapshots", []):
            pipe.set(f"{self.p}pnl:{src}", orjson.dumps(body))
        n = sum(len(v) for v in rows.values())
        if n:
            pipe.publish(self.channel, orjson.dumps({t: len(v) for t, v in rows.items() if v}))
        pipe.execute()

    def health(self, process: str, fields: dict[str, Any]) -> None:
        self.r.hset(f"{self.p}health:{process}", mapping={
            k: (int(v) if isinstance(v, bool) else v if isinstance(v, (int, float, str)) else str(v)) for k, v in fields.items()})


def _open_statuses() -> frozenset[int]:
    from pipeline.model import OrderStatus
    names = ("NEW", "PARTIALLY_FILLED", "PENDING_NEW", "PENDING_CANCEL")
    return frozenset(int(getattr(OrderStatus, n)) for n in names if hasattr(OrderStatus, n))


_OPEN_STATUSES = _open_statuses()
