"""The simulated venues' matching engine, as every caller imports it.

The engine itself is `feeds/sim/matching_core.py` (its docstring describes the book and the
events). This module picks the implementation: the compiled twin of that file when it is
built and fresh, else the pure-Python one (`feeds/sim/fast.py` says when and why), and
re-exports the plain data types of `feeds/sim/events.py`, which both implementations share.
`PureMatchingEngine` is always the pure-Python class (the tests compare the two).
"""
from __future__ import annotations

from feeds.sim import fast
from feeds.sim.events import (
    Accepted,
    Canceled,
    Event,
    Expired,
    Fill,
    OrderDone,
    OrderView,
    Rejected,
    SimOrder,
    Trade,
)
from feeds.sim.matching_core import ZERO

MatchingEngine = fast.core("matching").MatchingEngine
PureMatchingEngine = fast.load_pure("matching").MatchingEngine

__all__ = ["ZERO", "Accepted", "Canceled", "Event", "Expired", "Fill", "MatchingEngine",
           "OrderDone", "OrderView", "PureMatchingEngine", "Rejected", "SimOrder", "Trade"]
