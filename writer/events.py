"""Event encoding on the writer's queue and conversion to table rows.

Queue items are bytes: either `pipeline.messages.encode(msg)` (a JSON array: NewOrder ->
orders, ExecReport -> order_events, and fills when it carries a trade) or a JSON object with a
`"type"` of `audit` (a pipeline.audit record), `position`, `pnl`, `risk` or `metrics`
(`{"type", "source", "seq", "ts", ...body}`; (source, seq) is the natural key). A
`pipeline.messages.Record(kind, body)` on the typed queue is the same as `{"type": kind, **body}`.
Messages put on the typed queue together arrive as one item holding their rows
(`pipeline.messages.join_encoded`: `[[tag, ...], ...]`); each row becomes its own table rows.
"""
from __future__ import annotations

from typing import Any

import orjson

from pipeline.messages import ExecReport, ExecType, NewOrder, Record, decode_all

_DICT_TABLES = {"position": "positions", "pnl": "pnl_snapshots", "risk": "risk_events",
                "metrics": "metrics"}


def to_rows(items: list[bytes], rows: dict[str, list[tuple[Any, ...]]]) -> int:
    """Append the rows of `items` to `rows` (by table); returns how many messages were
    dropped as malformed (counted, never raised). An item of a batch (`join_encoded`, as the
    queue carries messages put together) that is malformed costs only itself."""
    bad = 0
    for raw in items:
        if raw[:1] != b"[":   # a JSON object: an audit/position/pnl/risk/metrics record
            try:
                _dict_row(orjson.loads(raw), rows)
            except (ValueError, KeyError, TypeError):
                bad += 1
            continue
        msgs: list[Any] = []
        bad += decode_all(raw, msgs)
        for msg in msgs:
            try:
                _message(msg, rows)
            except (ValueError, KeyError, TypeError):
                bad += 1
    return bad


def _message(msg: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """The table rows of one order-path message (others, e.g. heartbeats, are not kept)."""
    if isinstance(msg, NewOrder):
        rows.setdefault("orders", []).append((
            msg.client_id, msg.venue, msg.symbol, int(msg.side), msg.price_ticks, msg.lots,
            int(msg.order_type), int(msg.tif), msg.ts_tick_recv, msg.ts_decision))
    elif isinstance(msg, ExecReport):
        rows.setdefault("order_events", []).append((
            msg.venue, msg.client_id, msg.venue_order_id, int(msg.exec_type),
            int(msg.status), int(msg.side), msg.price_ticks, msg.lots, msg.filled_lots,
            int(msg.reason), msg.reason_text, msg.ts_event, msg.ts_recv))
        if msg.exec_type == ExecType.TRADE and msg.trade_id:
            rows.setdefault("fills", []).append((
                msg.venue, msg.trade_id, msg.client_id, msg.symbol, int(msg.side),
                msg.last_lots, msg.last_price_ticks, msg.fee, msg.fee_asset, msg.is_maker,
                msg.ts_event, msg.ts_recv))
    elif isinstance(msg, Record):
        if not isinstance(msg.body, dict):
            raise ValueError("record body is not an object")
        _dict_row({**msg.body, "type": msg.kind}, rows)
    # other messages (heartbeats, commands) are not persisted


def _dict_row(obj: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    if not isinstance(obj, dict):
        raise ValueError("event is not an object")  # noqa: TRY004 (bad input: counted drop)
    typ = obj["type"]
    # Build the row before touching `rows`: a bad record must leave no trace.
    if typ == "audit":
        row = (int(obj["seq"]), int(obj["ts"]), str(obj["prev"]), str(obj["hash"]), obj)
        rows.setdefault("audit_events", []).append(row)
    elif typ in _DICT_TABLES:
        row = (str(obj["source"]), int(obj["seq"]), int(obj["ts"]), obj)
        rows.setdefault(_DICT_TABLES[typ], []).append(row)
    else:
        raise ValueError(f"unknown event type {typ!r}")
