"""`bucket_under_window`: a token bucket sized by it never puts more than the venue's limit into
one of the venue's windows, whatever the windows' alignment and the network's jitter."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ratelimit import WINDOW_JITTER_S, TokenBucket, bucket_under_window

NS = 1_000_000_000


def _greedy_sends(rate: float, burst: int, gaps_ns: list[int]) -> list[int]:
    """Send times of a sender that tries after every gap and sends whenever the bucket lets it."""
    b = TokenBucket(rate, burst, 0)
    t, out = 0, []
    for g in gaps_ns:
        t += g
        while b.take(t):
            out.append(t)
    return out


@settings(max_examples=150, deadline=None)
@given(limit=st.sampled_from([1, 2, 10, 50, 60, 100]),
       window_s=st.sampled_from([1.0, 2.0, 10.0]),
       share=st.sampled_from([0.2, 0.25, 0.5]),
       gaps=st.lists(st.integers(1, NS // 3), min_size=1, max_size=300),
       delays=st.lists(st.integers(0, int(WINDOW_JITTER_S * NS)), min_size=1, max_size=50),
       phase=st.integers(0, 10 * NS))
def test_no_venue_window_ever_sees_more_than_the_limit(
        limit: int, window_s: float, share: float, gaps: list[int], delays: list[int],
        phase: int) -> None:
    rate, burst = bucket_under_window(limit, window_s, share)
    sends = _greedy_sends(rate, burst, gaps)
    # each order reaches the venue after its own delay within the jitter allowance
    arrivals = sorted(s + delays[i % len(delays)] for i, s in enumerate(sends))
    w = int(window_s * NS)
    per_window: dict[int, int] = {}
    for a in arrivals:
        k = (a + phase) // w
        per_window[k] = per_window.get(k, 0) + 1
    assert max(per_window.values(), default=0) <= limit


def test_full_rate_plus_a_burst_breaks_a_window_which_is_why_this_exists() -> None:
    """The Gate budget before: 10/s with a burst of 5 put 15 orders into one second."""
    sends = _greedy_sends(10.0, 5, [NS // 100] * 200)
    assert max(sum(1 for s in sends if k * NS <= s < (k + 1) * NS) for k in range(3)) > 10


def test_the_budget_is_not_wasteful_and_bad_windows_are_refused() -> None:
    rate, burst = bucket_under_window(10, 1.0, 0.2)
    assert burst == 2 and burst + rate * 1.0 > 9
    assert bucket_under_window(1, 1.0, 0.5) == (pytest.approx(1 / 1.1), 1)
    for bad in ((0, 1.0, 0.2), (10, 0.0, 0.2), (10, 1.0, 1.0), (10, 1.0, 0.0)):
        with pytest.raises(ValueError):
            bucket_under_window(*bad)
