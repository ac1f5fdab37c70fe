"""The simulated venues' seeded background market, as every caller imports it.

The model itself is `feeds/sim/market_core.py` (its docstring describes the flow). This
module picks the implementation: the compiled twin of that file when it and the engine's are
built and fresh, else the pure-Python one (`feeds/sim/fast.py`), and re-exports the shared
plain data types (`TopOfBook`, `SymbolParams`). `PureMarketSimulator` is always the
pure-Python class; give it pure engines (`feeds.sim.matching.PureMatchingEngine`) through
`engines=` for a fully pure run next to a compiled one.
"""
from __future__ import annotations

from feeds.sim import fast
from feeds.sim.events import SimOrder, SymbolParams, TopOfBook
from feeds.sim.market_core import BACKGROUND

MarketSimulator = fast.core("market").MarketSimulator
PureMarketSimulator = fast.load_pure("market").MarketSimulator

__all__ = ["BACKGROUND", "MarketSimulator", "PureMarketSimulator", "SimOrder", "SymbolParams",
           "TopOfBook"]
