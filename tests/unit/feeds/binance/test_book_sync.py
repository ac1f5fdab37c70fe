"""Binance local-book recipe (EXCHANGES.md §1.3): buffering, snapshot races, stale diffs,
duplicates, out-of-order diffs, gaps and crossed books."""
from __future__ import annotations

import pytest

from feeds.binance.protocol.book_sync import BookSync
from feeds.binance.protocol.market import parse_market, parse_rest_snapshot
from pipeline.errors import SequenceGap
from pipeline.marketdata import BookSnapshot, DepthUpdate

from .conftest import fixture_json, fixture_text


def diff(first: int, last: int, bids: list[tuple[float, float]] | None = None,
         asks: list[tuple[float, float]] | None = None) -> DepthUpdate:
    return DepthUpdate("BNBBTC", bids or [], asks or [], ts_event=last, first_id=first,
                       last_id=last)


def snap(last_id: int, bids: list[tuple[float, float]] | None = None,
         asks: list[tuple[float, float]] | None = None) -> BookSnapshot:
    return BookSnapshot("BNBBTC", bids if bids is not None else [(10.0, 1.0)],
                        asks if asks is not None else [(11.0, 1.0)], last_id)


def synced_at(last_id: int) -> BookSync:
    s = BookSync("BNBBTC")
    assert s.on_snapshot(snap(last_id)) == "synced"
    return s


def test_diffs_are_buffered_until_a_snapshot() -> None:
    s = BookSync("BNBBTC")
    assert s.needs_snapshot and not s.synced
    assert s.on_update(diff(5, 7)) == "buffered"
    assert s.buffered == 1 and len(s.book) == 0


def test_snapshot_inside_first_buffered_event_applies_remaining_buffer() -> None:
    s = BookSync("BNBBTC")
    s.on_update(diff(100, 104, bids=[(9.0, 3.0)]))        # dropped: u <= lastUpdateId
    s.on_update(diff(105, 110, bids=[(10.0, 2.0)]))       # lastUpdateId 107 in [105;110]
    s.on_update(diff(111, 112, asks=[(11.0, 0.0), (12.0, 4.0)]))
    assert s.on_snapshot(snap(107)) == "synced"
    assert s.synced and not s.needs_snapshot and s.buffered == 0
    assert s.book.last_id == 112
    assert s.book.best_bid() == (10.0, 2.0) and s.book.best_ask() == (12.0, 4.0)
    assert s.book.top_bids(5) == [(10.0, 2.0)]  # the dropped diff's 9.0 level never applied


def test_snapshot_older_than_first_buffered_U_is_refetched_and_buffer_kept() -> None:
    s = BookSync("BNBBTC")
    s.on_update(diff(157, 160))
    assert s.on_snapshot(snap(150)) == "stale"
    assert s.needs_snapshot and s.buffered == 1 and s.snapshots_too_old == 1
    assert s.on_snapshot(snap(158)) == "synced" and s.book.last_id == 160


def test_snapshot_not_inside_first_remaining_event_is_refetched() -> None:
    # documented rule: lastUpdateId must lie in [U;u] of the first event left after dropping
    s = BookSync("BNBBTC")
    s.on_update(diff(150, 155))
    s.on_update(diff(158, 160))  # buffered chain itself has a hole 156..157
    assert s.on_snapshot(snap(156)) == "stale" and s.needs_snapshot
    assert s.buffered == 1  # the dropped (u <= 156) diff is gone, the rest waits


def test_snapshot_newer_than_every_buffered_diff_syncs_at_snapshot() -> None:
    s = BookSync("BNBBTC")
    s.on_update(diff(1, 5))
    s.on_update(diff(6, 9))
    assert s.on_snapshot(snap(20)) == "synced" and s.book.last_id == 20
    assert s.on_update(diff(15, 20)) == "stale"
    assert s.on_update(diff(21, 22, bids=[(10.5, 1.0)])) == "applied"
    assert s.book.best_bid() == (10.5, 1.0)


def test_snapshot_with_no_buffer_then_live_chain() -> None:
    s = synced_at(100)
    assert s.on_update(diff(95, 101)) == "applied"   # U <= local+1 <= u
    assert s.on_update(diff(102, 102)) == "applied"
    assert s.book.last_id == 102


def test_stale_and_duplicate_diffs_are_ignored() -> None:
    s = synced_at(100)
    assert s.on_update(diff(101, 105, bids=[(10.0, 7.0)])) == "applied"
    assert s.on_update(diff(90, 99)) == "stale"            # u < local
    assert s.on_update(diff(101, 105, bids=[(10.0, 99.0)])) == "stale"  # exact duplicate
    assert s.book.best_bid() == (10.0, 7.0) and s.book.last_id == 105


def test_out_of_order_diff_is_a_gap() -> None:
    s = synced_at(100)
    s.on_update(diff(101, 105))
    with pytest.raises(SequenceGap) as ei:
        s.on_update(diff(110, 112))  # 106..109 skipped; the late one would come after
    assert (ei.value.expected, ei.value.got, ei.value.symbol) == (106, 110, "BNBBTC")
    assert s.needs_snapshot and not s.synced and len(s.book) == 0 and s.gaps == 1


def test_gap_inside_buffer_during_snapshot_raises_and_resets() -> None:
    s = BookSync("BNBBTC")
    s.on_update(diff(100, 110))
    s.on_update(diff(115, 120))
    with pytest.raises(SequenceGap):
        s.on_snapshot(snap(105))
    assert s.needs_snapshot and s.buffered == 0


def test_crossed_book_after_applying_is_a_gap() -> None:
    s = synced_at(100)
    with pytest.raises(SequenceGap):
        s.on_update(diff(101, 101, bids=[(11.5, 1.0)]))  # bid above the 11.0 ask
    assert s.needs_snapshot


def test_crossed_snapshot_is_a_gap() -> None:
    with pytest.raises(SequenceGap):
        BookSync("BNBBTC").on_snapshot(snap(5, bids=[(12.0, 1.0)], asks=[(11.0, 1.0)]))


def test_impossible_range_is_a_gap() -> None:
    s = synced_at(100)
    with pytest.raises(SequenceGap):
        s.on_update(diff(105, 101))


def test_zero_quantity_deletes_and_absolute_quantity_replaces() -> None:
    s = synced_at(100)
    s.on_update(diff(101, 101, bids=[(10.0, 0.0), (9.5, 2.0)], asks=[(11.0, 5.0)]))
    assert s.book.top_bids(5) == [(9.5, 2.0)] and s.book.top_asks(5) == [(11.0, 5.0)]


def test_late_snapshot_older_than_live_book_is_stale() -> None:
    s = synced_at(100)
    s.on_update(diff(101, 110))
    assert s.on_snapshot(snap(105)) == "stale" and s.book.last_id == 110
    assert s.on_snapshot(snap(200)) == "synced" and s.book.last_id == 200


def test_reset_clears_everything() -> None:
    s = synced_at(100)
    s.on_update(diff(101, 101))
    s.reset()
    assert s.needs_snapshot and len(s.book) == 0 and s.book.last_id == -1


def test_partial_depth_frames_act_as_snapshots_when_newer() -> None:
    s = BookSync("BNBBTC")
    part = DepthUpdate("BNBBTC", [(10.0, 1.0)], [(11.0, 2.0)], 0, last_id=50, is_snapshot=True)
    assert s.on_update(part) == "applied" and s.synced and s.book.last_id == 50
    assert s.on_update(DepthUpdate("BNBBTC", [], [], 0, last_id=40, is_snapshot=True)) == "stale"


def test_doc_example_snapshot_and_diff_chain() -> None:
    s = BookSync("BNBBTC")
    [d] = parse_market(fixture_text("ws_depth_update.json"), 0)   # U=157 u=160
    assert isinstance(d, DepthUpdate)
    assert s.on_update(d) == "buffered"
    body = dict(fixture_json("rest_depth.json"), lastUpdateId=158, bids=[["0.0020", "5"]],
                asks=[["0.0030", "1"]])
    assert s.on_snapshot(parse_rest_snapshot(body, "BNBBTC")) == "synced"
    assert s.book.last_id == 160 and s.book.best_ask() == (0.0026, 100.0)
