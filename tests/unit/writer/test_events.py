"""Queue items -> table rows: typed `Record`s land in the same tables as raw JSON objects, and
anything malformed is a counted drop."""
from __future__ import annotations

import orjson

from pipeline.messages import Record, decode, encode
from writer.events import to_rows


def _audit_rec(seq: int) -> dict:
    return {"seq": seq, "ts": 1_700_000_000_000_000_000 + seq, "kind": "halt",
            "actor": "cli", "data": {"reason": "test"}, "prev": "0" * 64, "hash": "a" * 64}


def test_record_round_trips_through_the_queue_encoding() -> None:
    rec = Record("pnl", {"source": "engine", "seq": 3, "ts": 5, "realized": "1.25"})
    assert decode(encode(rec)) == rec


def test_audit_record_becomes_an_audit_row_like_the_raw_form() -> None:
    rows_typed: dict = {}
    rows_raw: dict = {}
    assert to_rows([encode(Record("audit", _audit_rec(1)))], rows_typed) == 0
    assert to_rows([orjson.dumps({"type": "audit", **_audit_rec(1)})], rows_raw) == 0
    assert rows_typed["audit_events"][0][:4] == (1, 1_700_000_000_000_000_001, "0" * 64, "a" * 64)
    assert rows_typed["audit_events"][0][:4] == rows_raw["audit_events"][0][:4]


def test_dict_records_go_to_their_tables_by_kind() -> None:
    rows: dict = {}
    items = [encode(Record(k, {"source": "engine", "seq": i, "ts": 10 + i}))
             for i, k in enumerate(["position", "pnl", "risk", "metrics"])]
    assert to_rows(items, rows) == 0
    assert sorted(rows) == ["metrics", "pnl_snapshots", "positions", "risk_events"]
    assert rows["pnl_snapshots"][0][:3] == ("engine", 1, 11)


def test_malformed_records_are_counted_not_raised() -> None:
    rows: dict = {}
    bad = [encode(Record("nonsense", {"source": "x", "seq": 1, "ts": 1})),
           encode(Record("pnl", {"seq": 1})),          # no source / ts
           b"[7, \"pnl\", [1, 2]]",                     # body not an object
           b"\x00garbage"]
    assert to_rows(bad, rows) == 4
    assert rows == {}


def test_a_batch_entry_gives_the_rows_of_its_messages_and_a_bad_row_costs_only_itself() -> None:
    """Messages put on the queue together arrive as one item (`join_encoded`): the writer
    keeps it as it came and builds every message's rows from it, exactly as from the same
    messages one item each."""
    from decimal import Decimal

    from pipeline.messages import ExecReport, ExecType, Heartbeat, NewOrder, join_encoded
    from pipeline.model import OrderStatus, Side
    msgs = [NewOrder("c1", "okx", "BTC/USDT", Side.BUY, 10, 2),
            ExecReport("okx", "BTC/USDT", "c1", "V1", ExecType.TRADE, OrderStatus.FILLED,
                       Side.BUY, 10, 2, 2, 2, 10, Decimal("0.001"), "BTC", "T1", True),
            Heartbeat(5),
            Record("pnl", {"source": "engine", "seq": 1, "ts": 2})]
    one_by_one: dict = {}
    assert to_rows([encode(m) for m in msgs], one_by_one) == 0
    batched: dict = {}
    bad_row = b'[1,"too","short"]'
    assert to_rows([join_encoded([encode(msgs[0]), bad_row, *map(encode, msgs[1:])]),
                    b"[[not json"], batched) == 2
    assert batched == one_by_one
    assert sorted(batched) == ["fills", "order_events", "orders", "pnl_snapshots"]
