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
