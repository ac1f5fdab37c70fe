"""OKX local-book sequencing: WS snapshot, REST bootstrap, heartbeats, resets, gaps."""
from __future__ import annotations

import pytest

from feeds.okx.protocol import checksum, market
from feeds.okx.protocol.book_sync import BookSync
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate

from ._helpers import text

S = "BTC-USDT"


def upd(prev: int, seq: int, bids=(), asks=(), cs: int = 0) -> DepthUpdate:
    return DepthUpdate(S, list(bids), list(asks), 0, prev_id=prev, last_id=seq, checksum=cs)


def ws_snap(seq: int, bids=((100.0, 1.0),), asks=((101.0, 1.0),), cs: int = 0) -> DepthUpdate:
    return DepthUpdate(S, list(bids), list(asks), 0, prev_id=-1, last_id=seq, is_snapshot=True,
                       checksum=cs)


def rest(seq: int, bids=((100.0, 1.0),), asks=((101.0, 1.0),)) -> BookSnapshot:
    return BookSnapshot(S, list(bids), list(asks), seq)


def synced_at(seq: int) -> BookSync:
    b = BookSync(S)
    assert b.on_update(ws_snap(seq)) == "applied"
    return b


# -- with the WS snapshot -------------------------------------------------------------------------
def test_doc_chain_snapshot_update_idle_reset_update() -> None:
    b = BookSync(S)
    assert b.needs_snapshot and not b.synced
    assert b.on_update(ws_snap(10)) == "applied"
    assert b.synced and not b.needs_snapshot
    assert b.on_update(upd(10, 15, bids=[(100.5, 2.0)])) == "applied"
    assert b.on_update(upd(15, 15)) == "applied"            # idle heartbeat, no change
    assert b.on_update(upd(15, 3, asks=[(101.0, 0.0), (102.0, 4.0)])) == "applied"  # reset
    assert b.on_update(upd(3, 5, bids=[(100.0, 0.0)])) == "applied"
    assert b.book.last_id == 5
    assert b.book.top_bids(5) == [(100.5, 2.0)] and b.book.top_asks(5) == [(102.0, 4.0)]


def test_doc_example_frames_drive_the_book() -> None:
    b = BookSync(S)
    [snap] = market.parse_market(text("ws_books_snapshot"), 0)
    assert b.on_update(snap) == "applied"
    assert b.book.best_bid() == (8476.97, 256.0) and b.book.best_ask() == (8476.98, 415.0)
    frame = market.encode_books("update", S, [("8476.97", "0")], [("8476.98", "400")], 0,
                                123457, 123456)
    [u] = market.parse_market(frame, 0)
    assert b.on_update(u) == "applied"
    assert b.book.best_bid() == (8475.55, 101.0) and b.book.best_ask() == (8476.98, 400.0)


def test_missing_update_is_a_gap_and_resets() -> None:
    b = synced_at(10)
    b.on_update(upd(10, 12))
    with pytest.raises(SequenceGap) as exc:
        b.on_update(upd(13, 14))
    assert (exc.value.expected, exc.value.got) == (12, 13)
    assert not b.synced and b.needs_snapshot and len(b.book) == 0


def test_duplicate_of_the_last_update_is_stale() -> None:
    b = synced_at(10)
    u = upd(10, 12, bids=[(99.0, 1.0)])
    assert b.on_update(u) == "applied"
    assert b.on_update(u) == "stale"
    assert b.book.last_id == 12


def test_old_update_is_stale_and_changes_nothing() -> None:
    b = synced_at(10)
    b.on_update(upd(10, 20))
    assert b.on_update(upd(12, 15, bids=[(100.0, 0.0)])) == "stale"
    assert b.book.best_bid() == (100.0, 1.0)


def test_out_of_order_updates_are_a_gap() -> None:
    b = synced_at(10)
    with pytest.raises(SequenceGap):
        b.on_update(upd(12, 14))   # 10->12 not seen yet


def test_duplicate_of_a_reset_update_is_stale() -> None:
    b = synced_at(15)
    b.on_update(upd(15, 3))
    assert b.on_update(upd(15, 3)) == "stale"


def test_updates_before_the_ws_snapshot_are_buffered_then_replayed() -> None:
    b = BookSync(S)
    assert b.on_update(upd(8, 10, bids=[(1.0, 1.0)])) == "buffered"   # older than snapshot
    assert b.on_update(upd(10, 12, bids=[(99.0, 3.0)])) == "buffered"
    assert b.on_update(ws_snap(10)) == "applied"
    assert b.book.last_id == 12 and b.book.top_bids(3) == [(100.0, 1.0), (99.0, 3.0)]
    assert b.buffered == 0


def test_a_new_ws_snapshot_replaces_the_book() -> None:
    b = synced_at(10)
    b.on_update(upd(10, 11, bids=[(90.0, 1.0)]))
    b.on_update(ws_snap(500, bids=[(50.0, 5.0)], asks=[(51.0, 5.0)]))
    assert b.book.last_id == 500 and b.book.top_bids(5) == [(50.0, 5.0)]


def test_crossed_book_after_an_update_is_a_gap() -> None:
    b = synced_at(10)
    with pytest.raises(SequenceGap):
        b.on_update(upd(10, 11, bids=[(101.5, 1.0)]))
    assert not b.synced


def test_crossed_snapshot_is_a_gap() -> None:
    with pytest.raises(SequenceGap):
        BookSync(S).on_update(ws_snap(5, bids=[(102.0, 1.0)], asks=[(101.0, 1.0)]))


# -- checksum (legacy, only when non-zero) ----------------------------------------------------------
def test_matching_nonzero_checksum_passes_and_zero_is_ignored() -> None:
    bids, asks = [["3366.1", "7"], ["3366", "6"]], [["3366.8", "9"], ["3368", "8"]]
    good = checksum.checksum_of(bids, asks)
    b = BookSync(S)
    b.on_update(ws_snap(1, bids=[(3366.1, 7.0), (3366.0, 6.0)],
                        asks=[(3366.8, 9.0), (3368.0, 8.0)], cs=good))
    assert b.on_update(upd(1, 2, cs=0)) == "applied"
    assert b.on_update(upd(2, 3, cs=good)) == "applied"


def test_checksum_mismatch_is_a_gap() -> None:
    b = synced_at(1)
    with pytest.raises(SequenceGap):
        b.on_update(upd(1, 2, bids=[(99.0, 1.0)], cs=12345))
    assert b.checksum_failures == 1 and not b.synced


def test_checksum_check_can_be_switched_off() -> None:
    b = BookSync(S, verify_checksum=False)
    b.on_update(ws_snap(1))
    assert b.on_update(upd(1, 2, cs=12345)) == "applied"


# -- without the WS snapshot: REST bootstrap ---------------------------------------------------------
def test_rest_bootstrap_drops_old_updates_and_applies_the_chain() -> None:
    b = BookSync(S)
    assert b.on_update(upd(90, 100, bids=[(1.0, 1.0)])) == "buffered"
    assert b.needs_snapshot
    assert b.on_update(upd(100, 110, bids=[(99.0, 2.0)])) == "buffered"
    assert b.on_update(upd(110, 120, asks=[(102.0, 3.0)])) == "buffered"
    assert b.on_snapshot(rest(100)) == "synced"
    assert b.synced and not b.needs_snapshot and b.book.last_id == 120
    assert b.book.top_bids(5) == [(100.0, 1.0), (99.0, 2.0)]
    assert b.book.top_asks(5) == [(101.0, 1.0), (102.0, 3.0)]
    assert b.on_update(upd(120, 121)) == "applied"


def test_rest_snapshot_inside_an_update_bridges_it() -> None:
    # REST refreshes every 50 ms, books aggregates 100 ms: seqId may fall inside an update.
    b = BookSync(S)
    b.on_update(upd(100, 110, bids=[(99.0, 2.0)]))
    b.on_update(upd(110, 120))
    assert b.on_snapshot(rest(105)) == "synced"
    assert b.book.last_id == 120 and (99.0, 2.0) in b.book.top_bids(5)


def test_rest_snapshot_older_than_the_buffer_is_stale_and_refetched() -> None:
    b = BookSync(S)
    b.on_update(upd(100, 110))
    assert b.on_snapshot(rest(90)) == "stale"
    assert b.needs_snapshot and not b.synced and b.snapshots_too_old == 1 and b.buffered == 1
    assert b.on_snapshot(rest(105)) == "synced"
    assert b.book.last_id == 110


def test_rest_snapshot_with_empty_buffer_then_straddling_update() -> None:
    b = BookSync(S)
    assert b.on_snapshot(rest(105)) == "synced"
    assert b.on_update(upd(95, 100)) == "stale"      # wholly before the snapshot
    assert b.on_update(upd(100, 110, asks=[(103.0, 1.0)])) == "applied"  # straddles 105
    with pytest.raises(SequenceGap):
        b.on_update(upd(111, 112))                   # after the bridge: exact chaining again


def test_rest_snapshot_newer_than_the_next_update_start_is_a_gap_after_bridge() -> None:
    b = BookSync(S)
    b.on_snapshot(rest(105))
    with pytest.raises(SequenceGap):
        b.on_update(upd(107, 110))   # prevSeqId after the snapshot: something was missed


def test_late_rest_answer_is_ignored_when_already_synced() -> None:
    b = synced_at(200)
    assert b.on_snapshot(rest(150, bids=[(1.0, 1.0)])) == "stale"
    assert b.book.best_bid() == (100.0, 1.0) and b.book.last_id == 200


def test_ws_snapshot_after_rest_bootstrap_wins() -> None:
    b = BookSync(S)
    b.on_snapshot(rest(100))
    b.on_update(ws_snap(300, bids=[(10.0, 1.0)], asks=[(11.0, 1.0)]))
    assert b.book.last_id == 300 and b.book.best_bid() == (10.0, 1.0)


def test_gap_while_replaying_the_buffer_raises() -> None:
    b = BookSync(S)
    b.on_update(upd(100, 110))
    b.on_update(upd(111, 120))   # the 110->111 message was lost
    with pytest.raises(SequenceGap):
        b.on_snapshot(rest(100))
    assert not b.synced


def test_heartbeat_in_the_buffer_at_the_snapshot_seq_is_dropped() -> None:
    b = BookSync(S)
    b.on_update(upd(100, 100))
    b.on_update(upd(100, 101, bids=[(99.0, 1.0)]))
    assert b.on_snapshot(rest(100)) == "synced"
    assert b.book.last_id == 101


def test_buffer_is_bounded() -> None:
    b = BookSync(S, max_buffer=3)
    for i in range(10):
        b.on_update(upd(i, i + 1))
    assert b.buffered == 3
    assert b.on_snapshot(rest(7)) == "synced" and b.book.last_id == 10


def test_reset_forgets_everything() -> None:
    b = synced_at(10)
    b.reset()
    assert not b.synced and b.needs_snapshot and b.buffered == 0 and b.book.last_id == -1
