"""Latency histograms: log-bucketed (HDR-style), fixed size, mergeable, shared-memory friendly.

Every process records latencies (tick->order, order->ack, loop time, ...) on its hot path, and
`hft status`/`hft top`/Prometheus/benchmarks read them from outside. So a histogram is just a
flat int64 array — which can be a view into a shared-memory segment — with no locks and no
allocation per record: one writer per histogram, readers copy the array and tolerate a count
that is one record ahead of a bucket (harmless for percentiles).

Buckets: values below 32 are exact; above, each power of two is split into 16 linear
sub-buckets, so any recorded value is known to within 1/16 (6.25 %) — the relative precision
of an HDR histogram with ~1.2 significant digits — over 1 ns .. 2^44 ns (~4.9 h) in 672 slots.
Histograms with the same layout merge by adding arrays.
"""
from __future__ import annotations

import numpy as np

SUB_BITS = 4
SUB = 1 << SUB_BITS            # 16 sub-buckets per power of two
LINEAR = 2 * SUB               # values < 32 get their own bucket
MAX_EXP = 40                   # top bucket covers up to 2^(MAX_EXP + SUB_BITS + 1)
N_BUCKETS = LINEAR + MAX_EXP * SUB
# header slots after the buckets
_COUNT, _SUM, _MIN, _MAX, _OVERFLOW = range(N_BUCKETS, N_BUCKETS + 5)
SLOTS = N_BUCKETS + 5
MAX_VALUE = (1 << (MAX_EXP + SUB_BITS + 1)) - 1


def bucket_of(value: int) -> int:
    """Bucket index of a non-negative integer value."""
    if value < LINEAR:
        return value
    e = value.bit_length() - SUB_BITS - 1       # >= 1 here
    return LINEAR + (e - 1) * SUB + ((value >> e) - SUB)


def bucket_bounds(index: int) -> tuple[int, int]:
    """[low, high] values that map to bucket `index`."""
    if index < LINEAR:
        return index, index
    e = (index - LINEAR) // SUB + 1
    m = (index - LINEAR) % SUB + SUB
    return m << e, ((m + 1) << e) - 1


_UPPER = np.array([bucket_bounds(i)[1] for i in range(N_BUCKETS)], dtype=np.int64)
_MID = np.array([sum(bucket_bounds(i)) // 2 for i in range(N_BUCKETS)], dtype=np.int64)


class Histogram:
    """A histogram over `array` (int64, length `SLOTS`); a fresh private one when None."""

    __slots__ = ("a",)

    def __init__(self, array: np.ndarray | None = None) -> None:
        if array is None:
            array = np.zeros(SLOTS, dtype=np.int64)
        if array.dtype != np.int64 or array.shape != (SLOTS,):
            raise ValueError(f"histogram array must be int64[{SLOTS}]")
        self.a = array
        if self.a[_COUNT] == 0:
            self.a[_MIN] = np.iinfo(np.int64).max

    def record(self, value: int) -> None:
        """Record one value (negative values count as 0; beyond MAX_VALUE as overflow)."""
        a = self.a
        if value < 0:
            value = 0
        if value > MAX_VALUE:
            a[_OVERFLOW] += 1
            value = MAX_VALUE
        a[bucket_of(value)] += 1
        a[_COUNT] += 1
        a[_SUM] += value
        if value < a[_MIN]:
            a[_MIN] = value
        if value > a[_MAX]:
            a[_MAX] = value

    def record_many(self, values: np.ndarray) -> None:
        """Vectorized record of an int array (batches from a ring poll)."""
        v = np.clip(np.asarray(values, dtype=np.int64), 0, MAX_VALUE)
        if v.size == 0:
            return
        lin = v < LINEAR
        e = np.zeros_like(v)
        big = v[~lin]
        idx = v.copy()
        if big.size:
            bl = np.floor(np.log2(big)).astype(np.int64) + 1  # bit_length
            # guard float rounding at exact powers of two
            bl = np.where((np.int64(1) << (bl - 1)) > big, bl - 1, bl)
            bl = np.where((np.int64(1) << bl) <= big, bl + 1, bl)
            e = bl - SUB_BITS - 1
            idx[~lin] = LINEAR + (e - 1) * SUB + ((big >> e) - SUB)
        a = self.a
        np.add.at(a, idx, 1)
        a[_COUNT] += v.size
        a[_SUM] += int(v.sum())
        a[_MIN] = min(int(a[_MIN]), int(v.min()))
        a[_MAX] = max(int(a[_MAX]), int(v.max()))

    # -- reading -----------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return int(self.a[_COUNT])

    @property
    def max(self) -> int:
        return int(self.a[_MAX]) if self.count else 0

    @property
    def min(self) -> int:
        return int(self.a[_MIN]) if self.count else 0

    @property
    def mean(self) -> float:
        return float(self.a[_SUM]) / self.count if self.count else 0.0

    def percentile(self, p: float) -> int:
        """Value at percentile `p` (0..100): the upper bound of the bucket holding it, capped
        by the recorded max (so p100 is exact)."""
        counts = self.a[:N_BUCKETS]
        total = int(counts.sum())
        if total == 0:
            return 0
        rank = max(1, int(np.ceil(p / 100.0 * total)))
        idx = int(np.searchsorted(np.cumsum(counts), rank))
        return int(min(_UPPER[idx], self.a[_MAX]))

    def percentiles(self, ps: tuple[float, ...] = (50, 90, 99, 99.9)) -> dict[str, int]:
        return {f"p{p:g}": self.percentile(p) for p in ps}

    def merge(self, other: "Histogram") -> None:
        a, b = self.a, other.a
        a[:N_BUCKETS] += b[:N_BUCKETS]
        a[_COUNT] += b[_COUNT]
        a[_SUM] += b[_SUM]
        a[_OVERFLOW] += b[_OVERFLOW]
        if other.count:
            a[_MIN] = min(int(a[_MIN]), int(b[_MIN]))
            a[_MAX] = max(int(a[_MAX]), int(b[_MAX]))

    def copy(self) -> "Histogram":
        return Histogram(self.a.copy())

    def reset(self) -> None:
        self.a[:] = 0
        self.a[_MIN] = np.iinfo(np.int64).max

    def summary_us(self) -> dict[str, float]:
        """p50/p90/p99/p99.9/max/mean in microseconds for values recorded in nanoseconds."""
        out = {k: round(v / 1000, 2) for k, v in self.percentiles().items()}
        out["max"] = round(self.max / 1000, 2)
        out["mean"] = round(self.mean / 1000, 2)
        out["count"] = self.count
        return out
