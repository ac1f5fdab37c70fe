"""Shared checks for the gateways' fast paths (`feeds/<venue>/protocol/orders_fast.py`).

The property every venue's fast path must hold: whatever the frame, it either declines (None)
or returns exactly the records the strict parser returns for it — equal, and equal in repr
(so `Decimal("0")` vs `Decimal("0E-8")` or `-0` would show), in the same order — and then the
strict parser accepts the frame too; it never raises. So a malformed frame always reaches the
strict parser and becomes a counted drop.

Frames are the ones the simulated venues really send for a place / cancel / fill cycle
(`tests/fixtures/<venue>/sim_order_cycle.jsonl`, captured from `feeds/sim`), the documented
examples, and near misses of them: one leaf of the JSON document made hostile, dropped or
joined by a sibling, or one edit of the text (`bbo_fast.mutate_text`, `respellings`).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from .bbo_fast import json_scalars, nums

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# values the venues' codecs branch on, so that a hostile leaf often lands on another branch
WORDS = st.sampled_from([
    "", "0", "-0", "1", "0.1", "00", "1e3", "1E-8", "0.00000000", " 1", "1\n", "١", "NaN",
    "buy", "sell", "BUY", "SELL", "live", "canceled", "filled", "partially_filled", "open",
    "closed", "cancelled", "put", "update", "finish", "market", "limit", "quote_ccy",
    "base_ccy", "poc", "ioc", "stp", "NEW", "CANCELED", "TRADE", "EXPIRED", "REJECTED",
    "TRADE_PREVENTION", "EXPIRED_IN_MATCH", "M", "T", "31", "1", "BTC-USDT", "BTCUSDT",
    "BTC_USDT", "t-r0", "t-", "spot.orders", "orders", "order", "cancel-order",
    "batch-orders", "executionReport", "outboundAccountPosition", "9" * 40, "1.5"])
HOSTILE = st.one_of(WORDS, nums, json_scalars, st.just([]), st.just({}),
                    st.integers(-2**64, 2**64))
Path_ = tuple[Any, ...]


def sim_frames(venue: str) -> list[str]:
    """What the simulated venue sent to the gateway in one captured order cycle."""
    lines = (FIXTURES / venue / "sim_order_cycle.jsonl").read_text().splitlines()
    return [d["frame"] for d in map(json.loads, lines) if d["dir"] == "in"]


def sim_requests(venue: str) -> list[str]:
    lines = (FIXTURES / venue / "sim_order_cycle.jsonl").read_text().splitlines()
    return [d["frame"] for d in map(json.loads, lines) if d["dir"] == "out"]


def fixture_text(venue: str, name: str) -> str:
    """A documented example, compact as the venue sends it."""
    doc = json.loads((FIXTURES / venue / f"{name}.json").read_text())
    return json.dumps(doc, separators=(",", ":"))


def canon(records: list[Any]) -> list[tuple[str, str]]:
    return [(type(r).__name__, repr(r)) for r in records]


def agrees(fast: Callable[[Any], list[Any] | None], strict: Callable[[Any], list[Any]],
           frame: Any) -> bool:
    """Asserts the fast path's contract on `frame`; True when it took the frame."""
    try:
        got = fast(frame)
    except Exception as exc:  # pragma: no cover - the assertion says it all
        raise AssertionError(f"the fast path raised {exc!r} on {frame!r:.300}") from exc
    if got is None:
        return False
    want = strict(frame)  # must accept what the fast path accepted
    assert canon(got) == canon(want), f"disagree on {frame!r:.300}"
    assert got == want
    return True


def leaves(doc: Any, path: Path_ = ()) -> list[Path_]:
    """Every path to a value in a JSON document (containers included)."""
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += leaves(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += leaves(v, (*path, i))
    return out


def _parent(doc: Any, path: Path_) -> Any:
    for k in path[:-1]:
        doc = doc[k]
    return doc


def near_miss_doc(data: st.DataObject, doc: Any) -> Any:
    """`doc` with one value replaced by a hostile one, dropped, or given a hostile sibling."""
    doc = copy.deepcopy(doc)
    path = data.draw(st.sampled_from([p for p in leaves(doc) if p]))
    parent = _parent(doc, path)
    action = data.draw(st.sampled_from(["hostile", "hostile", "hostile", "drop", "sibling"]))
    if action == "hostile":
        parent[path[-1]] = data.draw(HOSTILE)
    elif action == "drop":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["extra", "error", "event", "status", "header",
                                          "op", "arg", "code"]))] = data.draw(HOSTILE)
    else:
        parent.append(data.draw(HOSTILE))
    return doc


def compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
