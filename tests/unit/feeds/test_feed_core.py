"""FeedCore: parsed records -> tick ring and book slots, and the per-symbol integrity rules.

The adapter here is a test double with the simplest chained sequence (each update names the
id it follows); the venues' own rules are tested in each venue's package. What is under test
is the venue-agnostic part: what gets published where, and which symbol resyncs when.
"""
from __future__ import annotations

import os

import orjson
import pytest

from feeds.adapter import HttpRequest, WsPlan
from feeds.book import L2Book
from feeds.feed_core import FLAG_FROM_BOOK, FeedCore
from pipeline.errors import ProtocolError, SequenceGap
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side
from shm import registry
from shm.book import BOOK_CROSSED, BOOK_OK, BOOK_STALE, BOOK_SYNCING, BookSlots
from shm.layout import KIND_BBO, KIND_TRADE, TICK_DTYPE, VENUE_IDS
from shm.ring import RingReader, RingWriter


class ChainSync:
    """Snapshot then updates whose prev_id must equal the last applied id."""

    def __init__(self) -> None:
        self.book = L2Book()
        self.reset()

    def reset(self) -> None:
        self.book.clear()
        self.last = -1
        self.synced = False
        self.needs_snapshot = True
        self.buffer: list[DepthUpdate] = []

    def on_snapshot(self, s: BookSnapshot) -> None:
        self.book.replace(s.bids, s.asks, s.last_id)
        self.last, self.synced, self.needs_snapshot = s.last_id, True, False
        pending, self.buffer = self.buffer, []
        for u in pending:
            if u.last_id > self.last:
                self.on_update(u)

    def on_update(self, u: DepthUpdate) -> str:
        if not self.synced:
            self.buffer.append(u)
            return "buffered"
        if u.last_id <= self.last:
            return "stale"
        if u.prev_id != self.last:
            raise SequenceGap("test", u.venue_symbol, self.last, u.prev_id)
        self.book.apply(u.bids, u.asks)
        self.last = u.last_id
        return "applied"


class Adapter:
    venue = "okx"

    def venue_symbol(self, symbol: str) -> str:
        return symbol.replace("/", "-")

    def instruments_request(self) -> HttpRequest:
        return HttpRequest("GET", "/instruments")

    def parse_instruments(self, payload):  # pragma: no cover - not used by FeedCore
        return []

    def ws_plans(self, ws_url: str, venue_symbols: list[str]) -> list[WsPlan]:
        return [WsPlan(ws_url)]

    def parse(self, frame, ts_recv):
        try:
            m = orjson.loads(frame)
            k = m["k"]
            if k == "bbo":
                return [BBO(m["s"], m["b"], 1.0, m["a"], 2.0, 7, m.get("u", 0))]
            if k == "trade":
                return [Trade(m["s"], m["p"], m["q"], Side.SELL, 8, m["id"])]
            if k == "depth":
                return [DepthUpdate(m["s"], [tuple(x) for x in m["b"]],
                                    [tuple(x) for x in m["a"]], 9, last_id=m["id"],
                                    prev_id=m["prev"])]
            if k == "ping":
                return [Control("ping", {})]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ProtocolError("okx", str(exc)) from exc
        raise ProtocolError("okx", f"unknown kind {k!r}")

    def new_book_sync(self, venue_symbol: str) -> ChainSync:
        return ChainSync()

    def snapshot_request(self, venue_symbol: str) -> HttpRequest:
        return HttpRequest("GET", "/books", {"instId": venue_symbol})

    def parse_snapshot(self, venue_symbol, payload):  # pragma: no cover
        raise NotImplementedError

    def control_reply(self, control):
        return "pong" if control.kind == "ping" else None


@pytest.fixture
def shm_pair():
    pid = os.getpid()
    rname = registry.segment_name("ring", f"fc{id(object())}")
    bname = registry.segment_name("book", f"fc{id(object())}")
    ring = RingWriter.create(rname, TICK_DTYPE, 1024)
    books = BookSlots.create(bname, n_symbols=2, depth=5)
    reader = RingReader.attach(rname)
    yield ring, books, reader
    reader.close()
    ring.close()
    books.close()
    registry.unlink(rname)
    registry.unlink(bname)
    assert not [s for s in registry.list_segments(pid) if s in (rname, bname)]


def _core(shm_pair, clock=lambda: 123):
    ring, books, reader = shm_pair
    core = FeedCore(Adapter(), [(0, "BTC-USDT"), (1, "ETH-USDT")], ring, books, depth=5,
                    stale_ns=1_000, clock=clock)
    return core, books, reader


def _f(**kw) -> bytes:
    return orjson.dumps(kw)


def _synced(core: FeedCore) -> None:
    for vs in ("BTC-USDT", "ETH-USDT"):
        core.on_snapshot(BookSnapshot(vs, [(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0)], 10), 50)


def test_symbols_start_syncing_and_need_a_snapshot(shm_pair) -> None:
    core, books, _ = _core(shm_pair)
    assert books.status(0) == BOOK_SYNCING and books.status(1) == BOOK_SYNCING
    core.on_frame(_f(k="depth", s="BTC-USDT", b=[[100, 1]], a=[], id=11, prev=10), 1)
    assert core.take_snapshot_requests() == ["BTC-USDT"]
    assert core.take_snapshot_requests() == []  # handed out once


def test_bbo_and_trade_rows_carry_venue_symbol_id_and_stamps(shm_pair) -> None:
    core, _, reader = _core(shm_pair)
    core.on_frame(_f(k="bbo", s="ETH-USDT", b=10.5, a=10.6, u=77), 1_000)
    core.on_frame(_f(k="trade", s="BTC-USDT", p=100.5, q=0.25, id=5), 2_000)
    rows = reader.poll()
    assert len(rows) == 2
    b, t = rows[0], rows[1]
    assert (b["kind"], b["venue"], b["symbol_id"], b["flags"]) == (KIND_BBO, VENUE_IDS["okx"], 1, 0)
    assert (b["bid_px"], b["ask_px"], b["update_id"], b["ts_event"], b["ts_recv"], b["ts_pub"]) \
        == (10.5, 10.6, 77, 7, 1_000, 123)
    assert (t["kind"], t["side"], t["symbol_id"], t["price"], t["size"], t["update_id"]) \
        == (KIND_TRADE, -1, 0, 100.5, 0.25, 5)


def test_snapshot_then_updates_fill_the_slot_and_publish_top_changes(shm_pair) -> None:
    core, books, reader = _core(shm_pair)
    _synced(core)
    v = books.read(0)
    assert v.status == BOOK_OK and v.bids.tolist() == [[100.0, 1.0], [99.0, 2.0]]
    reader.poll()
    core.on_frame(_f(k="depth", s="BTC-USDT", b=[[98, 3]], a=[], id=11, prev=10), 60)
    assert reader.poll().size == 0  # top unchanged: no derived BBO
    core.on_frame(_f(k="depth", s="BTC-USDT", b=[[100.5, 4]], a=[], id=12, prev=11), 70)
    rows = reader.poll()
    assert len(rows) == 1 and rows[0]["flags"] == FLAG_FROM_BOOK
    assert (rows[0]["bid_px"], rows[0]["bid_sz"], rows[0]["ask_px"]) == (100.5, 4.0, 101.0)
    assert books.read(0).bids[:, 0].tolist() == [100.5, 100.0, 99.0, 98.0]
    assert books.read(0).update_id == 12


def test_a_gap_resyncs_only_that_symbol(shm_pair) -> None:
    core, books, _ = _core(shm_pair)
    _synced(core)
    core.on_frame(_f(k="depth", s="BTC-USDT", b=[[98, 3]], a=[], id=13, prev=12), 60)
    assert books.status(0) == BOOK_SYNCING and books.status(1) == BOOK_OK
    assert core.counters.values["gaps"] == 1 and core.counters.values["resyncs"] == 1
    assert core.take_snapshot_requests() == ["BTC-USDT"]
    core.on_snapshot(BookSnapshot("BTC-USDT", [(99.0, 1.0)], [(100.0, 1.0)], 20), 70)
    assert books.status(0) == BOOK_OK


def test_a_crossed_book_is_never_published_as_ok(shm_pair) -> None:
    core, books, _ = _core(shm_pair)
    _synced(core)
    core.on_frame(_f(k="depth", s="ETH-USDT", b=[[102, 1]], a=[], id=11, prev=10), 60)
    assert books.status(1) == BOOK_CROSSED
    assert "ETH-USDT" in core.take_snapshot_requests()


def test_stale_symbol_is_marked_and_resynced(shm_pair) -> None:
    core, books, _ = _core(shm_pair)
    _synced(core)  # last depth at ts 50; stale after 1_000 ns
    core.on_frame(_f(k="depth", s="ETH-USDT", b=[[98, 1]], a=[], id=11, prev=10), 1_000)
    assert core.check_stale(1_040) == []
    assert core.check_stale(1_100) == ["BTC-USDT"]
    assert books.status(0) == BOOK_STALE and books.status(1) == BOOK_OK


def test_disconnect_marks_every_symbol_syncing(shm_pair) -> None:
    core, books, _ = _core(shm_pair)
    _synced(core)
    core.on_disconnect()
    assert books.status(0) == BOOK_SYNCING and books.status(1) == BOOK_SYNCING


def test_malformed_and_unknown_frames_are_counted_drops(shm_pair) -> None:
    core, _, reader = _core(shm_pair)
    core.on_frame(b"\x00not json", 1)
    core.on_frame(_f(k="what"), 1)
    core.on_frame(_f(k="bbo", s="DOGE-USDT", b=1, a=2), 1)
    c = core.counters.values
    assert (c["parse_errors"], c["unknown_symbol"], c["messages"]) == (2, 1, 3)
    assert reader.poll().size == 0


def test_control_frames_get_their_reply(shm_pair) -> None:
    core, _, _ = _core(shm_pair)
    core.on_frame(_f(k="ping"), 1)
    assert core.replies == ["pong"]


def test_reconnect_queues_snapshots_without_waiting_for_a_diff(shm_pair) -> None:
    core, _, _ = _core(shm_pair)
    _synced(core)
    core.on_disconnect()
    assert core.take_snapshot_requests() == ["BTC-USDT", "ETH-USDT"]


class FastAdapter(Adapter):
    """The double with a BBO fast path: `k=bbo` frames as a row, anything else None."""

    def __init__(self) -> None:
        self.fast_calls = 0

    def parse_bbo_fast(self, frame):
        self.fast_calls += 1
        m = orjson.loads(frame) if frame[:1] == b"{" else {}
        if m.get("k") != "bbo":
            return None
        return (m["s"], m["b"], 1.0, m["a"], 2.0, 7, m.get("u", 0))

    def parse_trade_fast(self, frame):
        m = orjson.loads(frame) if frame[:1] == b"{" else {}
        if m.get("k") != "trade":
            return None
        return (m["s"], m["p"], m["q"], int(Side.SELL), 8, m["id"])


def _fast_core(shm_pair):
    ring, books, reader = shm_pair
    adapter = FastAdapter()
    core = FeedCore(adapter, [(0, "BTC-USDT"), (1, "ETH-USDT")], ring, books, depth=5,
                    stale_ns=1_000, clock=lambda: 123)
    return core, adapter, reader


def test_the_bbo_fast_path_publishes_the_row_the_general_path_would(shm_pair) -> None:
    frame = _f(k="bbo", s="ETH-USDT", b=10.5, a=10.6, u=77)
    core, _, reader = _core(shm_pair)
    core.on_frame(frame, 1_000)
    slow = reader.poll()
    fast_core, adapter, _ = _fast_core(shm_pair)
    fast_core.on_frame(frame, 1_000)
    fast = reader.poll()
    assert adapter.fast_calls == 1 and len(slow) == len(fast) == 1
    assert slow.tobytes() == fast.tobytes()
    assert fast_core.counters.values == core.counters.values


def test_the_trade_fast_path_publishes_the_row_the_general_path_would(shm_pair) -> None:
    frame = _f(k="trade", s="BTC-USDT", p=100.5, q=0.25, id=5)
    core, _, reader = _core(shm_pair)
    core.on_frame(frame, 2_000)
    slow = reader.poll()
    fast_core, _, _ = _fast_core(shm_pair)
    fast_core.on_frame(frame, 2_000)
    fast = reader.poll()
    assert len(slow) == len(fast) == 1 and slow.tobytes() == fast.tobytes()
    assert fast_core.counters.values == core.counters.values


def test_frames_the_fast_paths_decline_take_the_general_path(shm_pair) -> None:
    core, adapter, reader = _fast_core(shm_pair)
    core.on_frame(_f(k="depth", s="BTC-USDT", b=[[100, 1]], a=[], id=11, prev=10), 2_000)
    core.on_frame(_f(k="bbo", s="DOGE-USDT", b=1, a=2), 3_000)  # unknown: counted once
    core.on_frame(b"\x00not json", 4_000)
    rows = reader.poll()
    assert adapter.fast_calls == 3 and len(rows) == 0
    c = core.counters.values
    assert (c["messages"], c["depth"], c["bbo"], c["unknown_symbol"], c["parse_errors"]) \
        == (3, 1, 0, 1, 1)


def test_a_value_the_ring_cannot_hold_is_a_counted_drop_not_a_crash(shm_pair) -> None:
    core, _, reader = _core(shm_pair)
    core.on_frame(_f(k="bbo", s="ETH-USDT", b=10.5, a=10.6, u=2**63), 1_000)  # > int64
    core.on_frame(_f(k="bbo", s="ETH-USDT", b=10.5, a=10.6, u=78), 2_000)
    rows = reader.poll()
    assert core.counters.values["parse_errors"] == 1
    assert [int(r["update_id"]) for r in rows] == [78]


def test_each_connections_callback_answers_on_that_connection(shm_pair) -> None:
    core, _, _ = _core(shm_pair)
    sent_a: list[str] = []
    sent_b: list[str] = []
    on_a, on_b = core.make_on_frame(sent_a.append), core.make_on_frame(sent_b.append)
    on_a(_f(k="ping"), 1)
    on_b(_f(k="bbo", s="ETH-USDT", b=10.5, a=10.6, u=77), 2)
    on_b(_f(k="ping"), 3)
    assert (sent_a, sent_b, core.replies) == (["pong"], ["pong"], [])
    assert core.counters.values["messages"] == 3
