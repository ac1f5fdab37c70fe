"""Gate local-book sequencing: buffering, snapshot alignment, stale diffs, gaps, races."""
from __future__ import annotations

import pytest

from feeds.gate.protocol.book_sync import BookSync
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate


def diff(first: int, last: int, bids: list | None = None, asks: list | None = None
         ) -> DepthUpdate:
    return DepthUpdate("BTC_USDT", bids or [], asks or [], ts_event=last, first_id=first,
                       last_id=last)


def snap(last_id: int, bids: list | None = None, asks: list | None = None) -> BookSnapshot:
    return BookSnapshot("BTC_USDT", bids if bids is not None else [(100.0, 1.0)],
                        asks if asks is not None else [(101.0, 1.0)], last_id)


def test_diffs_are_buffered_until_the_snapshot() -> None:
    s = BookSync("BTC_USDT")
    assert s.needs_snapshot and not s.synced
    assert s.on_update(diff(5, 7)) == "buffered"
    assert s.buffered == 1 and s.needs_snapshot


def test_snapshot_drops_old_diffs_and_applies_the_straddling_one() -> None:
    s = BookSync("BTC_USDT")
    s.on_update(diff(1, 4, bids=[(99.0, 5.0)]))       # u < base+1: dropped
    s.on_update(diff(5, 12, bids=[(100.0, 3.0)]))     # U <= base+1 <= u: first applied
    s.on_update(diff(13, 13, asks=[(101.0, 0.0), (102.0, 2.0)]))
    assert s.on_snapshot(snap(10)) == "synced"
    assert s.synced and not s.needs_snapshot
    assert s.book.last_id == 13
    assert s.book.top_bids(5) == [(100.0, 3.0)]
    assert s.book.top_asks(5) == [(102.0, 2.0)]
    assert s.buffered == 0


def test_snapshot_older_than_the_first_buffered_diff_is_stale_and_keeps_the_buffer() -> None:
    s = BookSync("BTC_USDT")
    s.on_update(diff(20, 25))
    assert s.on_snapshot(snap(10)) == "stale"      # base+1 = 11 < U = 20
    assert s.needs_snapshot and s.buffered == 1 and len(s.book) == 0
    assert s.on_snapshot(snap(22)) == "synced"
    assert s.book.last_id == 25


def test_snapshot_with_no_buffer_then_live_diffs() -> None:
    s = BookSync("BTC_USDT")
    assert s.on_snapshot(snap(10)) == "synced"
    assert s.on_update(diff(9, 10)) == "stale"     # u < local+1
    assert s.on_update(diff(11, 11, bids=[(100.5, 1.0)])) == "applied"
    assert s.book.best_bid() == (100.5, 1.0)


def test_duplicate_diff_is_stale_and_changes_nothing() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    d = diff(11, 12, bids=[(100.0, 7.0)])
    assert s.on_update(d) == "applied"
    assert s.on_update(diff(11, 12, bids=[(100.0, 99.0)])) == "stale"
    assert s.book.best_bid() == (100.0, 7.0) and s.book.last_id == 12


def test_overlapping_diff_is_applied() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    assert s.on_update(diff(8, 15)) == "applied"   # U <= local+1 <= u
    assert s.book.last_id == 15


def test_gap_raises_resets_and_keeps_the_breaking_diff() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    with pytest.raises(SequenceGap) as ei:
        s.on_update(diff(13, 14))
    assert (ei.value.expected, ei.value.got, ei.value.venue) == (11, 13, "gate")
    assert s.needs_snapshot and not s.synced and len(s.book) == 0 and s.buffered == 1
    assert s.on_snapshot(snap(13)) == "synced" and s.book.last_id == 14


def test_out_of_order_diffs_gap_then_recover() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    assert s.on_update(diff(11, 11)) == "applied"
    with pytest.raises(SequenceGap):
        s.on_update(diff(13, 13))                  # 12 skipped
    assert s.on_update(diff(12, 12)) == "buffered"  # late arrival: resyncing now
    assert s.on_snapshot(snap(12)) == "synced"
    assert s.book.last_id == 13                    # 12 dropped (u < 13), 13 applied


def test_gap_inside_the_buffer_raises_on_snapshot_and_keeps_the_rest() -> None:
    s = BookSync("BTC_USDT")
    for d in (diff(10, 11), diff(14, 15), diff(16, 16)):
        s.on_update(d)
    with pytest.raises(SequenceGap):
        s.on_snapshot(snap(10))
    assert s.needs_snapshot and s.buffered == 2
    assert s.on_snapshot(snap(14)) == "synced" and s.book.last_id == 16


def test_crossed_book_after_a_diff_is_a_gap() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    with pytest.raises(SequenceGap):
        s.on_update(diff(11, 11, bids=[(101.5, 1.0)]))
    assert s.needs_snapshot and len(s.book) == 0


def test_crossed_snapshot_is_a_gap() -> None:
    s = BookSync("BTC_USDT")
    with pytest.raises(SequenceGap):
        s.on_snapshot(snap(10, bids=[(102.0, 1.0)], asks=[(101.0, 1.0)]))
    assert s.needs_snapshot


def test_late_snapshot_older_than_the_live_book_is_ignored() -> None:
    s = BookSync("BTC_USDT")
    s.on_snapshot(snap(10))
    s.on_update(diff(11, 20, bids=[(100.0, 4.0)]))
    assert s.on_snapshot(snap(15, bids=[(50.0, 1.0)])) == "stale"
    assert s.synced and s.book.best_bid() == (100.0, 4.0) and s.book.last_id == 20


def test_push_snapshot_is_used_when_newer_and_ignored_when_older() -> None:
    s = BookSync("BTC_USDT")
    top = DepthUpdate("BTC_USDT", [(100.0, 2.0)], [(101.0, 2.0)], 0, last_id=30,
                      is_snapshot=True)
    s.on_update(diff(29, 31))
    assert s.on_update(top) == "applied" and s.book.last_id == 31
    old = DepthUpdate("BTC_USDT", [(1.0, 1.0)], [(2.0, 1.0)], 0, last_id=25, is_snapshot=True)
    assert s.on_update(old) == "stale"


def test_buffer_is_bounded_and_reset_clears_everything() -> None:
    s = BookSync("BTC_USDT", max_buffer=3)
    for i in range(10):
        s.on_update(diff(i, i))
    assert s.buffered == 3
    s.reset()
    assert s.buffered == 0 and s.needs_snapshot and len(s.book) == 0
