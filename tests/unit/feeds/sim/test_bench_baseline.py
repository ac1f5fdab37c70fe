"""The benchmark's naive baseline must do the same matching work as the engine, or the ratio
`bench/sim_matching.py` prints would compare different things."""
from __future__ import annotations

from bench.sim_matching import INST, NaiveBook, _drive, workload
from feeds.sim.accounts import Accounts
from feeds.sim.matching import MatchingEngine, SimOrder, Trade
from feeds.sim.venue_rules import BINANCE
from pipeline.model import OrderType, Side, TimeInForce


def test_naive_baseline_and_engine_agree_on_trades_and_book() -> None:
    ops = workload(5_000, seed=4)
    acc = Accounts()
    acc.open("bg", unlimited=True, quiet=True)
    eng = MatchingEngine(INST, BINANCE, acc)
    trades: list[tuple[int, int]] = []

    def submit(i: int, s: int, p: int, q: int, ioc: bool) -> int:
        ev = eng.submit(SimOrder("bg", "", Side(s), p, q, OrderType.LIMIT,
                                 TimeInForce.IOC if ioc else TimeInForce.GTC), i)
        trades.extend((t.price_ticks, t.lots) for t in ev if isinstance(t, Trade))
        return eng.last_order_id

    _drive(ops, submit, lambda oid, i: eng.cancel("bg", oid, i))
    nb = NaiveBook()
    _drive(ops, lambda i, s, p, q, ioc: nb.submit(s, p, q, ioc), lambda oid, i: nb.cancel(oid))
    assert len(trades) == nb.trades > 100
    naive_levels: dict[tuple[int, int], int] = {}
    for side, orders in nb.book.items():
        for _, price, lots in orders:
            naive_levels[(side, price)] = naive_levels.get((side, price), 0) + lots
    bids, asks = eng.depth(10_000)
    assert naive_levels == {(1, p): q for p, q in bids} | {(-1, p): q for p, q in asks}
