"""The strategy interface: another strategy plugs in by implementing `Strategy` alone."""
from __future__ import annotations

import pytest

from engine.strategy.base import EMPTY_QUOTES, BookView, Quote, QuoteSet, Strategy, VenueSymbol
from pipeline.model import Side, TimeInForce


class JoinBest(Strategy):
    """A toy strategy: join the best bid and ask with one lot."""

    def __init__(self) -> None:
        self.books: dict[VenueSymbol, BookView] = {}

    def on_book(self, venue: str, symbol: str, book: BookView, now_ns: int) -> None:
        self.books[(venue, symbol)] = book

    def on_trade(self, venue: str, symbol: str, price: float, size: float, side: Side,
                 now_ns: int) -> None:
        pass

    def on_fill(self, venue: str, symbol: str, side: Side, price_ticks: int, lots: int,
                now_ns: int) -> None:
        pass

    def on_position(self, venue: str, symbol: str, lots: int) -> None:
        pass

    def on_gateway(self, venue: str, up: bool) -> None:
        pass

    def desired_quotes(self, now_ns: int) -> dict[VenueSymbol, QuoteSet]:
        return {k: QuoteSet((Quote(Side.BUY, int(b.best_bid * 100), 1, 0),),
                            (Quote(Side.SELL, int(b.best_ask * 100), 1, 0),))
                for k, b in self.books.items()}


def test_a_strategy_needs_only_the_interface() -> None:
    s = JoinBest()
    s.on_timer(5)
    s.on_book("okx", "BTC/USDT", BookView.from_levels([(100.0, 1.0)], [(101.0, 1.0)], True, 1), 1)
    q = s.desired_quotes(2)[("okx", "BTC/USDT")]
    assert [x.price_ticks for x in q.quotes] == [10000, 10100]
    assert q.tif is TimeInForce.POST_ONLY and not q.empty


def test_an_incomplete_strategy_cannot_be_built() -> None:
    class NoQuotes(Strategy):  # type: ignore[misc]
        def on_book(self, venue: str, symbol: str, book: BookView, now_ns: int) -> None:
            pass

    with pytest.raises(TypeError):
        NoQuotes()  # type: ignore[abstract]


def test_book_view_from_levels() -> None:
    bv = BookView.from_levels([(100.0, 2.0), (99.5, 1.0)], [(100.5, 3.0)], True, 42)
    assert (bv.best_bid, bv.best_ask, bv.best_bid_size, bv.best_ask_size) == (100, 100.5, 2, 3)
    assert bv.synced and bv.two_sided and bv.ts_ns == 42
    one_sided = BookView.from_levels([(100.0, 2.0)], [], True, 1)
    assert not one_sided.synced and one_sided.best_ask == 0.0 and one_sided.best_ask_size == 0.0
    assert EMPTY_QUOTES.empty and EMPTY_QUOTES.quotes == ()
