"""Trading strategies for the engine: the `Strategy` interface, market signals, the
Avellaneda–Stoikov market maker and the requote diff. All pure (time is an int-ns argument);
the engine loop (engine/main.py) owns the I/O and calls in."""
from engine.strategy.base import EMPTY_QUOTES, BookView, Quote, QuoteSet, Strategy, VenueSymbol
from engine.strategy.market_maker import MarketMaker, MarketMakerParams, SymbolQuoteState
from engine.strategy.quotes import LiveOrder, diff_quotes

__all__ = ["EMPTY_QUOTES", "BookView", "LiveOrder", "MarketMaker", "MarketMakerParams", "Quote",
           "QuoteSet", "Strategy", "SymbolQuoteState", "VenueSymbol", "diff_quotes"]
