"""Log-bucketed histograms: bucket math, precision bound, percentiles, merge, vector record."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from pipeline.histogram import (LINEAR, MAX_VALUE, N_BUCKETS, SLOTS, Histogram, bucket_bounds,
                                bucket_of)


@given(st.integers(min_value=0, max_value=MAX_VALUE))
@settings(max_examples=500)
def test_value_lies_in_its_bucket_within_one_sixteenth(v):
    lo, hi = bucket_bounds(bucket_of(v))
    assert lo <= v <= hi
    assert hi - lo <= max(lo, 1) / 16 + 1e-9 or v < LINEAR


def test_buckets_are_contiguous_and_cover_the_range():
    prev_hi = -1
    for i in range(N_BUCKETS):
        lo, hi = bucket_bounds(i)
        assert lo == prev_hi + 1
        prev_hi = hi
    assert prev_hi == MAX_VALUE


def test_percentiles_of_a_known_distribution():
    h = Histogram()
    for v in range(1, 1001):
        h.record(v * 1000)  # 1..1000 µs in ns
    assert h.count == 1000 and h.min == 1000 and h.max == 1_000_000
    p50 = h.percentile(50)
    assert 500_000 <= p50 <= 500_000 * 17 / 16
    assert h.percentile(100) == 1_000_000
    assert 990_000 <= h.percentile(99) <= 1_000_000
    assert abs(h.mean - 500_500) < 1


def test_vector_record_equals_scalar_record():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.integers(0, 40, 500), rng.lognormal(10, 3, 5000).astype(np.int64),
                             np.array([2**k for k in range(44)] + [2**k - 1 for k in range(1, 44)])])
    a, b = Histogram(), Histogram()
    for v in values:
        a.record(int(v))
    b.record_many(values)
    assert np.array_equal(a.a, b.a)


def test_merge_is_addition():
    a, b, both = Histogram(), Histogram(), Histogram()
    for v in (5, 50, 500, 5000):
        a.record(v)
        both.record(v)
    for v in (7, 70_000, 9):
        b.record(v)
        both.record(v)
    a.merge(b)
    assert np.array_equal(a.a, both.a)


def test_lives_in_a_caller_array_and_clamps_bad_values():
    arr = np.zeros(SLOTS, dtype=np.int64)
    h = Histogram(arr)
    h.record(-5)
    h.record(MAX_VALUE + 10)
    assert arr[bucket_of(0)] == 1 and h.count == 2 and h.a[SLOTS - 1] == 1  # overflow counted
    try:
        Histogram(np.zeros(10, dtype=np.int64))
    except ValueError as exc:
        assert "int64" in str(exc)
    else:
        raise AssertionError("wrong-sized array accepted")


def test_empty_histogram_reads_zero():
    h = Histogram()
    assert h.percentile(99) == 0 and h.max == 0 and h.min == 0 and h.mean == 0.0
