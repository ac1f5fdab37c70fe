"""Property test: random order streams on every venue's rules keep the book uncrossed, the
ledger conserved (balances + fees constant per asset), nothing negative, locks equal to what
open orders hold, and level totals equal to the live orders queued in them."""
from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.sim.accounts import Accounts
from feeds.sim.matching import Fill, MatchingEngine, SimOrder, Trade
from feeds.sim.venue_rules import RULES
from pipeline.model import OrderType, Side, TimeInForce
from tests.unit.feeds.sim.conftest import btc_usdt

ACCOUNTS = ("a", "b", "c")
START = {"USDT": D(300), "BTC": D("0.006")}   # small: insufficient-balance rejects happen
MID = 5_000_000

limit_op = st.tuples(
    st.just("limit"), st.sampled_from(ACCOUNTS), st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(MID - 3, MID + 3), st.integers(2, 25), st.sampled_from(list(TimeInForce)))
market_op = st.tuples(
    st.just("market"), st.sampled_from(ACCOUNTS), st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 30), st.booleans(), st.sampled_from([TimeInForce.IOC, TimeInForce.FOK]))
cancel_op = st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(0, 40))
cancel_all_op = st.tuples(st.just("cancel_all"), st.sampled_from(ACCOUNTS))
ops = st.lists(st.one_of(limit_op, limit_op, limit_op, limit_op, limit_op, market_op, cancel_op, cancel_all_op),
               min_size=4, max_size=80)


def check_invariants(e: MatchingEngine, acc: Accounts) -> None:
    bid, ask = e.best()
    if bid is not None and ask is not None:
        assert bid[0] < ask[0], "crossed book"
    for asset, start in START.items():
        assert acc.total(asset) == start * len(ACCOUNTS), f"{asset} not conserved"
    unit = e.instrument.tick_size * e.instrument.lot_size
    for name in ACCOUNTS:
        held = {"USDT": D(0), "BTC": D(0)}
        for o in e.open_orders(name):
            assert o.price_ticks is not None and o.leaves_lots > 0
            if o.side is Side.BUY:
                held["USDT"] += unit * o.price_ticks * o.leaves_lots
            else:
                held["BTC"] += e.instrument.lot_size * o.leaves_lots
        for asset in START:
            bal = acc.balance(name, asset)
            assert bal.available >= 0 and bal.locked >= 0
            assert bal.locked == held[asset], f"{name} {asset} lock mismatch"
    bids, asks = e.depth(1000)
    live: dict[tuple[Side, int], int] = {}
    for name in ACCOUNTS:
        for o in e.open_orders(name):
            key = (o.side, o.price_ticks)  # type: ignore[assignment]
            live[key] = live.get(key, 0) + o.leaves_lots  # type: ignore[index]
    book = {(Side.BUY, p): q for p, q in bids} | {(Side.SELL, p): q for p, q in asks}
    assert book == live


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue=st.sampled_from(sorted(RULES)), stream=ops)
def test_random_streams_keep_book_and_ledger_consistent(venue: str, stream: list) -> None:
    acc = Accounts()
    for name in ACCOUNTS:
        acc.open(name, START)
    e = MatchingEngine(btc_usdt(venue), RULES[venue], acc)
    ids: list[tuple[str, int]] = []
    last_trade = 0
    for t, op in enumerate(stream):
        kind = op[0]
        if kind == "limit":
            _, who, side, px, lots, tif = op
            ev = e.submit(SimOrder(who, f"{who}{t}", side, px, lots, OrderType.LIMIT, tif), t)
        elif kind == "market":
            _, who, side, lots, by_quote, tif = op
            quote = D(lots * 5) if by_quote and side is Side.BUY else None
            ev = e.submit(SimOrder(who, f"{who}{t}", side, None, lots, OrderType.MARKET, tif,
                                   quote), t)
        elif kind == "cancel":
            _, who, k = op
            ref = ids[k % len(ids)][1] if ids else k
            ev = e.cancel(who, ref, t)
        else:
            ev = e.cancel_all(op[1], t)
        for x in ev:
            if hasattr(x, "order_id") and x.order_id is not None and hasattr(x, "account"):
                ids.append((x.account, x.order_id))
            if isinstance(x, Trade):
                assert x.trade_id == last_trade + 1
                last_trade = x.trade_id
        fills = [x for x in ev if isinstance(x, Fill)]
        trades = [x for x in ev if isinstance(x, Trade)]
        assert sum(f.lots for f in fills) == 2 * sum(tr.lots for tr in trades)
        check_invariants(e, acc)
