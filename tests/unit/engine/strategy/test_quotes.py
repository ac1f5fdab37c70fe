"""diff_quotes: requote only on real moves, always pull what crosses or is no longer wanted."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.base import Quote, QuoteSet
from engine.strategy.quotes import LiveOrder, diff_quotes
from pipeline.model import Side

B, S = Side.BUY, Side.SELL
MS = 1_000_000


def qs(bids: list[tuple[int, int]], asks: list[tuple[int, int]], max_bid: int = 0,
       min_ask: int = 0) -> QuoteSet:
    return QuoteSet(tuple(Quote(B, p, n, i) for i, (p, n) in enumerate(bids)),
                    tuple(Quote(S, p, n, i) for i, (p, n) in enumerate(asks)), max_bid, min_ask)


def live_from(q: QuoteSet, placed_ns: int = 0) -> list[LiveOrder]:
    return [LiveOrder(f"{'b' if x.side is B else 'a'}{x.layer}", x.side, x.price_ticks, x.lots,
                      x.layer, placed_ns) for x in q.quotes]


DESIRED = qs([(1000, 10), (995, 10)], [(1010, 10), (1015, 10)], max_bid=1004, min_ask=1001)


def test_nothing_live_places_everything_bids_then_asks() -> None:
    cancel, place = diff_quotes([], DESIRED, 2, 10 * MS)
    assert cancel == []
    assert place == list(DESIRED.quotes)


def test_unchanged_quotes_do_nothing() -> None:
    assert diff_quotes(live_from(DESIRED), DESIRED, 2, 10 * MS) == ([], [])


def test_small_moves_inside_tolerance_do_nothing() -> None:
    moved = qs([(1001, 10), (994, 10)], [(1011, 10), (1014, 10)], 1004, 1001)
    assert diff_quotes(live_from(DESIRED), moved, 2, 10 * MS) == ([], [])


def test_a_move_of_tolerance_or_more_replaces_that_quote_only() -> None:
    moved = qs([(1002, 10), (995, 10)], [(1010, 10), (1018, 10)], 1004, 1001)
    cancel, place = diff_quotes(live_from(DESIRED), moved, 2, 10 * MS)
    assert cancel == ["b0", "a1"]
    assert place == [Quote(B, 1002, 10, 0), Quote(S, 1018, 10, 1)]


def test_zero_tolerance_means_any_tick() -> None:
    moved = qs([(1001, 10), (995, 10)], [(1010, 10), (1015, 10)], 1004, 1001)
    cancel, place = diff_quotes(live_from(DESIRED), moved, 0, 10 * MS)
    assert cancel == ["b0"] and place == [Quote(B, 1001, 10, 0)]


def test_a_size_change_replaces() -> None:
    resized = qs([(1000, 10), (995, 4)], [(1010, 10), (1015, 10)], 1004, 1001)
    cancel, place = diff_quotes(live_from(DESIRED), resized, 2, 10 * MS)
    assert cancel == ["b1"] and place == [Quote(B, 995, 4, 1)]


def test_a_young_order_is_not_replaced_until_min_requote() -> None:
    moved = qs([(990, 10), (995, 10)], [(1010, 10), (1015, 10)], 1004, 1001)
    live = live_from(DESIRED, placed_ns=100 * MS)
    assert diff_quotes(live, moved, 2, 300 * MS, min_requote_ns=250 * MS) == ([], [])
    cancel, place = diff_quotes(live, moved, 2, 350 * MS, min_requote_ns=250 * MS)
    assert cancel == ["b0"] and place == [Quote(B, 990, 10, 0)]


def test_a_quote_that_would_cross_the_book_is_always_pulled() -> None:
    # the market moved down: best ask now 1000, so a bid at 1000 would cross
    now = qs([(999, 10), (995, 10)], [(1010, 10), (1015, 10)], max_bid=999, min_ask=990)
    cancel, place = diff_quotes(live_from(DESIRED, placed_ns=9 * MS), now, 5, 10 * MS,
                                min_requote_ns=250 * MS)
    assert cancel == ["b0"] and place == [Quote(B, 999, 10, 0)]
    # and an ask below the new min_ask the same way
    up = qs([(1000, 10), (995, 10)], [(1012, 10), (1015, 10)], max_bid=1020, min_ask=1011)
    cancel, place = diff_quotes(live_from(DESIRED, placed_ns=9 * MS), up, 5, 10 * MS,
                                min_requote_ns=250 * MS)
    assert cancel == ["a0"] and place == [Quote(S, 1012, 10, 0)]


def test_a_live_order_crossing_our_own_desired_quote_is_pulled() -> None:
    desired = qs([(1000, 10)], [(1001, 10)])
    live = [LiveOrder("b0", B, 1001, 10, 0, 0)]           # within tolerance 5 of 1000...
    cancel, place = diff_quotes(live, desired, 5, 1, min_requote_ns=10**12)
    assert cancel == ["b0"]                                  # ...but would hit our ask
    assert place == [Quote(B, 1000, 10, 0), Quote(S, 1001, 10, 0)]


def test_kept_orders_crossing_each_other_are_both_pulled() -> None:
    desired = qs([(1000, 10)], [(1002, 10)])
    live = [LiveOrder("b0", B, 1001, 10, 0, 0), LiveOrder("a0", S, 1001, 10, 0, 0)]
    cancel, place = diff_quotes(live, desired, 3, 1, min_requote_ns=10**12)
    assert cancel == ["b0", "a0"]
    assert place == list(desired.quotes)


def test_empty_desired_pulls_everything_at_once() -> None:
    cancel, place = diff_quotes(live_from(DESIRED, placed_ns=9 * MS), QuoteSet(), 2, 10 * MS,
                                min_requote_ns=250 * MS)
    assert cancel == ["b0", "b1", "a0", "a1"] and place == []


def test_dropped_layers_and_duplicates_are_cancelled() -> None:
    fewer = qs([(1000, 10)], [(1010, 10)], 1004, 1001)
    live = live_from(DESIRED) + [LiveOrder("dup", B, 1000, 10, 0, 0)]
    cancel, place = diff_quotes(live, fewer, 2, 10 * MS)
    assert cancel == ["b1", "a1", "dup"] and place == []


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[LiveOrder], QuoteSet, int, int]:
    mid = 1000
    half = draw(st.integers(1, 20))
    n = draw(st.integers(0, 3))
    bids = [(mid - half - 3 * i, draw(st.integers(1, 3))) for i in range(n)]
    asks = [(mid + half + 3 * i, draw(st.integers(1, 3))) for i in range(draw(st.integers(0, 3)))]
    max_bid = draw(st.sampled_from([0, mid - half + draw(st.integers(0, 5))]))
    min_ask = draw(st.sampled_from([0, mid + half - draw(st.integers(0, 5))]))
    desired = qs(bids, asks, max_bid, min_ask)
    live = [LiveOrder(f"o{i}", draw(st.sampled_from([B, S])), draw(st.integers(960, 1040)),
                      draw(st.integers(1, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 9)))
            for i in range(draw(st.integers(0, 8)))]
    return live, desired, draw(st.integers(0, 6)), draw(st.integers(0, 10))


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_result_is_one_uncrossed_order_per_wanted_quote(
        case: tuple[list[LiveOrder], QuoteSet, int, int]) -> None:
    live, desired, tol, min_requote = case
    cancel, place = diff_quotes(live, desired, tol, 10, min_requote)
    assert len(set(cancel)) == len(cancel)
    final = [(o.side, o.price_ticks, o.layer) for o in live if o.client_id not in cancel]
    final += [(q.side, q.price_ticks, q.layer) for q in place]
    keys = [(s, layer) for s, _, layer in final]
    assert sorted(keys) == sorted((q.side, q.layer) for q in desired.quotes)
    bids = [p for s, p, _ in final if s is B]
    asks = [p for s, p, _ in final if s is S]
    if bids and asks:
        assert max(bids) < min(asks)
    if desired.max_bid_ticks:
        assert all(p <= desired.max_bid_ticks for p in bids)
    if desired.min_ask_ticks:
        assert all(p >= desired.min_ask_ticks for p in asks)
