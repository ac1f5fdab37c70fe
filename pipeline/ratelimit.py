"""Token bucket shared by the gateways (the venue's order budget) and the engine (pacing its
own requotes to that budget, so a quote is not built only to be refused for rate)."""
from __future__ import annotations


class TokenBucket:
    """`rate` tokens per second up to `burst`; time is int ns passed in."""

    def __init__(self, rate: float, burst: int, now_ns: int = 0) -> None:
        self.rate = rate
        self.burst = float(max(burst, 1))
        self.tokens = self.burst
        self.t = now_ns

    def take(self, now_ns: int, n: float = 1.0) -> bool:
        self.tokens = min(self.burst, self.tokens + (now_ns - self.t) * self.rate / 1e9)
        self.t = now_ns
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False

    def clamp(self, remaining: float) -> None:
        """The venue says only `remaining` are left in its window: never assume more."""
        self.tokens = min(self.tokens, max(remaining, 0.0))


# How far apart the venue may see two of our orders from how far apart we sent them (network and
# scheduling jitter, the venue's clock): a window counted by the venue is treated as this much
# longer, so orders sent just over a window apart never land in one of the venue's windows.
WINDOW_JITTER_S = 0.1


def bucket_under_window(limit: int, window_s: float, burst_share: float,
                        jitter_s: float = WINDOW_JITTER_S) -> tuple[float, int]:
    """(rate, burst) of a token bucket that never lets more than `limit` orders reach a venue
    window of `window_s` seconds, however the venue aligns its windows.

    Why: a bucket admits at most `burst + rate * T` in any span T of send time; a venue that
    counts `limit` per window sees sends from a span of up to `window_s + jitter_s` in one of
    its windows, so `burst + rate * (window_s + jitter_s) <= limit`. A bucket at the venue's
    own rate with any burst on top breaks that (Gate's 10 places/s with a burst of 5 let 15
    into a second: the simulator answered 211). `burst_share` of the limit is kept as burst
    (at least 1), the rest is spread over the window."""
    if limit < 1 or window_s <= 0 or not 0 < burst_share < 1 or jitter_s < 0:
        raise ValueError(f"bad venue window: {limit} per {window_s}s, burst share {burst_share}")
    burst = max(int(limit * burst_share), 1)
    if burst >= limit:  # a limit of 1: one order, then one per widened window
        return 1.0 / (window_s + jitter_s), 1
    return (limit - burst) / (window_s + jitter_s), burst
