"""Matching engine behaviour: priority, partial fills, TIFs, market orders, cancels, per-venue
post-only / filters / STP, and exact balances."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from feeds.sim.accounts import Accounts
from feeds.sim.matching import (
    Accepted,
    Canceled,
    Expired,
    Fill,
    MatchingEngine,
    Rejected,
    SimOrder,
    Trade,
)
from feeds.sim.venue_rules import BINANCE, GATE, OKX, StpMode
from pipeline.model import OrderStatus, OrderType, RejectReason, Side, TimeInForce
from tests.unit.feeds.sim.conftest import btc_usdt, make_engine

BUY, SELL = Side.BUY, Side.SELL
PX = 5_000_000  # 50000.00 USDT in 0.01 ticks


def lim(acct: str, cid: str, side: Side, px: int, lots: int,
        tif: TimeInForce = TimeInForce.GTC) -> SimOrder:
    return SimOrder(acct, cid, side, px, lots, OrderType.LIMIT, tif)


def mkt(acct: str, cid: str, side: Side, lots: int = 0, quote: D | None = None,
        tif: TimeInForce = TimeInForce.IOC) -> SimOrder:
    return SimOrder(acct, cid, side, None, lots, OrderType.MARKET, tif, quote)


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


# -- priority and partial fills ----------------------------------------------------------------
def test_price_then_time_priority() -> None:
    e = make_engine()
    e.submit(lim("a", "a1", SELL, PX + 2, 10), 1)
    e.submit(lim("b", "b1", SELL, PX + 1, 10), 2)   # better price, later
    e.submit(lim("a", "a2", SELL, PX + 1, 10), 3)   # same price, later still
    ev = e.submit(lim("c", "c1", BUY, PX + 2, 15), 4)
    trades = of(ev, Trade)
    assert [(t.price_ticks, t.lots) for t in trades] == [(PX + 1, 10), (PX + 1, 5)]
    makers = [f.client_id for f in of(ev, Fill) if f.is_maker]
    assert makers == ["b1", "a2"]
    assert e.depth(5)[1] == [(PX + 1, 5), (PX + 2, 10)]


def test_partial_fill_across_levels_rests_remainder() -> None:
    e = make_engine()
    for i, px in enumerate((PX, PX + 1, PX + 2)):
        e.submit(lim("a", f"a{i}", SELL, px, 10), i)
    ev = e.submit(lim("b", "b1", BUY, PX + 1, 25), 10)
    assert [t.price_ticks for t in of(ev, Trade)] == [PX, PX + 1]
    taker = [f for f in of(ev, Fill) if not f.is_maker]
    assert [(f.leaves_lots, f.cum_lots) for f in taker] == [(15, 10), (5, 20)]
    assert e.best() == ((PX + 1, 5), (PX + 2, 10))
    view = e.get("b", "b1")
    assert view is not None and view.status is OrderStatus.PARTIALLY_FILLED
    assert view.filled_lots == 20 and view.leaves_lots == 5


def test_trade_ids_increase_monotonically() -> None:
    e = make_engine()
    for i in range(5):
        e.submit(lim("a", f"a{i}", SELL, PX + i, 2), i)
    ids = [t.trade_id for t in of(e.submit(lim("b", "b", BUY, PX + 9, 11), 9), Trade)]
    ids += [t.trade_id for t in of(e.submit(lim("a", "x", SELL, PX - 9, 2), 10), Trade)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 6
    assert e.last_trade_id == ids[-1]


# -- time in force -------------------------------------------------------------------------------
def test_ioc_remainder_expires_on_binance_and_cancels_on_okx() -> None:
    for venue, cls, code in (("binance", Expired, "EXPIRED"), ("okx", Canceled, "14"),
                             ("gate", Canceled, "ioc")):
        e = make_engine(venue)
        e.submit(lim("a", "a1", SELL, PX, 10), 1)
        ev = e.submit(lim("b", "b1", BUY, PX, 25, TimeInForce.IOC), 2)
        done = ev[-1]
        assert isinstance(done, cls) and done.cause == "ioc" and done.venue_code == code
        assert (done.leaves_lots, done.cum_lots) == (15, 10)
        assert e.best() == (None, None)
        assert e.accounts.balance("b", "USDT").locked == 0


def test_fok_all_or_nothing() -> None:
    e = make_engine()
    e.submit(lim("a", "a1", SELL, PX, 10), 1)
    e.submit(lim("a", "a2", SELL, PX + 1, 10), 2)
    ev = e.submit(lim("b", "b1", BUY, PX + 1, 21, TimeInForce.FOK), 3)
    assert not of(ev, Trade) and isinstance(ev[-1], Expired) and ev[-1].cause == "fok"
    assert e.depth(5)[1] == [(PX, 10), (PX + 1, 10)]
    ev = e.submit(lim("b", "b2", BUY, PX + 1, 20, TimeInForce.FOK), 4)
    assert sum(t.lots for t in of(ev, Trade)) == 20 and e.best() == (None, None)
    assert e.get("b", "b2").status is OrderStatus.FILLED  # type: ignore[union-attr]


def test_fok_counts_only_prices_within_limit() -> None:
    e = make_engine("okx")
    e.submit(lim("a", "a1", SELL, PX, 10), 1)
    e.submit(lim("a", "a2", SELL, PX + 5, 10), 2)
    ev = e.submit(lim("b", "b1", BUY, PX + 4, 15, TimeInForce.FOK), 3)
    assert isinstance(ev[-1], Canceled) and ev[-1].venue_code == "15"


# -- market orders ---------------------------------------------------------------------------------
def test_market_order_walks_the_book_and_expires_unfilled_rest() -> None:
    e = make_engine()
    e.submit(lim("a", "a1", BUY, PX, 10), 1)
    e.submit(lim("a", "a2", BUY, PX - 3, 10), 2)
    ev = e.submit(mkt("b", "m1", SELL, 30), 3)
    assert [(t.price_ticks, t.lots, t.taker_side) for t in of(ev, Trade)] == [
        (PX, 10, SELL), (PX - 3, 10, SELL)]
    assert isinstance(ev[-1], Expired) and ev[-1].leaves_lots == 10
    assert e.accounts.balance("b", "BTC").locked == 0


def test_market_buy_by_quote_amount_spends_at_most_the_budget() -> None:
    e = make_engine("gate")
    e.submit(lim("a", "a1", SELL, PX, 3), 1)      # 3 lots * 5 USDT = 15 USDT
    e.submit(lim("a", "a2", SELL, PX * 2, 10), 2)  # 10 USDT a lot
    before = e.accounts.balance("b", "USDT").available
    ev = e.submit(mkt("b", "q1", BUY, quote=D(36)), 3)
    assert [(t.price_ticks, t.lots) for t in of(ev, Trade)] == [(PX, 3), (PX * 2, 2)]
    acc = of(ev, Accepted)[0]
    assert acc.lots == 5 and acc.quote_qty == D(36)
    after = e.accounts.balance("b", "USDT")
    assert before - after.available == D(35) and after.locked == 0


def test_market_order_on_empty_book_ends_unfilled() -> None:
    e = make_engine("okx")
    ev = e.submit(mkt("b", "m", BUY, 5), 1)
    assert isinstance(ev[0], Accepted) and isinstance(ev[-1], Canceled)
    assert ev[-1].cause == "ioc" and e.accounts.balance("b", "USDT").locked == 0


def test_market_buy_larger_than_balance_is_rejected() -> None:
    acc = Accounts()
    acc.open("a", {"BTC": D(10)})
    acc.open("poor", {"USDT": D(100)})
    e = make_engine(accounts=acc)
    e.submit(lim("a", "a1", SELL, PX, 100), 1)    # 100 lots = 500 USDT
    ev = e.submit(mkt("poor", "m", BUY, 100), 2)
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.INSUFFICIENT_BALANCE
    ev = e.submit(mkt("poor", "m2", BUY, 20), 3)
    assert sum(t.lots for t in of(ev, Trade)) == 20
    assert acc.balance("poor", "USDT") .available == D(0)


# -- post-only per venue ---------------------------------------------------------------------------
def test_binance_post_only_cross_is_rejected_2010() -> None:
    e = make_engine("binance")
    e.submit(lim("a", "a1", SELL, PX, 10), 1)
    ev = e.submit(lim("b", "p1", BUY, PX, 5, TimeInForce.POST_ONLY), 2)
    assert len(ev) == 1 and isinstance(ev[0], Rejected)
    assert ev[0].reason is RejectReason.POST_ONLY_WOULD_CROSS and ev[0].venue_code == "-2010"
    assert e.accounts.balance("b", "USDT").locked == 0


def test_okx_post_only_cross_is_accepted_then_canceled_31() -> None:
    e = make_engine("okx")
    e.submit(lim("a", "a1", SELL, PX, 10), 1)
    ev = e.submit(lim("b", "p1", BUY, PX + 1, 5, TimeInForce.POST_ONLY), 2)
    assert [type(x) for x in ev] == [Accepted, Canceled]
    assert ev[1].cause == "post_only" and ev[1].venue_code == "31"
    assert e.get("b", ev[0].order_id).status is OrderStatus.CANCELED  # type: ignore[union-attr]
    assert e.accounts.balance("b", "USDT").locked == 0 and e.best()[1] == (PX, 10)


def test_gate_poc_cross_finishes_as_poc() -> None:
    e = make_engine("gate")
    e.submit(lim("a", "a1", BUY, PX, 10), 1)
    ev = e.submit(lim("b", "p1", SELL, PX, 5, TimeInForce.POST_ONLY), 2)
    assert [type(x) for x in ev] == [Accepted, Canceled] and ev[1].venue_code == "poc"


def test_post_only_that_does_not_cross_rests() -> None:
    for venue in ("binance", "okx", "gate"):
        e = make_engine(venue)
        e.submit(lim("a", "a1", SELL, PX, 10), 1)
        ev = e.submit(lim("b", "p1", BUY, PX - 1, 5, TimeInForce.POST_ONLY), 2)
        assert [type(x) for x in ev] == [Accepted] and e.best()[0] == (PX - 1, 5)


# -- cancels --------------------------------------------------------------------------------------
def test_cancel_by_client_id_and_by_order_id() -> None:
    e = make_engine("okx")
    oid = e.submit(lim("a", "a1", BUY, PX, 10), 1)[0].order_id
    e.submit(lim("a", "a2", BUY, PX, 10), 2)
    ev = e.cancel("a", "a1", 3)
    assert isinstance(ev[0], Canceled) and ev[0].order_id == oid and ev[0].venue_code == "1"
    assert e.best()[0] == (PX, 10)
    oid2 = e.get("a", "a2").order_id  # type: ignore[union-attr]
    assert isinstance(e.cancel("a", oid2, 4)[0], Canceled)
    assert e.best() == (None, None) and e.accounts.balance("a", "USDT").locked == 0


def test_cancel_unknown_or_foreign_order_is_rejected_with_venue_code() -> None:
    for venue, code in (("binance", "-2011"), ("okx", "51400"), ("gate", "ORDER_NOT_FOUND")):
        e = make_engine(venue)
        oid = e.submit(lim("a", "a1", BUY, PX, 10), 1)[0].order_id
        for acct, ref in (("a", "nope"), ("a", 999), ("b", oid), ("b", "a1")):
            ev = e.cancel(acct, ref, 2)
            assert isinstance(ev[0], Rejected) and ev[0].venue_code == code
            assert ev[0].reason is RejectReason.UNKNOWN_ORDER
        e.cancel("a", oid, 3)
        assert isinstance(e.cancel("a", oid, 4)[0], Rejected)  # already canceled


def test_cancel_all_cancels_only_that_account() -> None:
    e = make_engine()
    for i in range(3):
        e.submit(lim("a", f"a{i}", BUY, PX - i, 10), i)
        e.submit(lim("a", f"s{i}", SELL, PX + 10 + i, 10), i)
    e.submit(lim("b", "b1", BUY, PX, 7), 9)
    ev = e.cancel_all("a", 10)
    assert len(ev) == 6 and all(isinstance(x, Canceled) and x.cause == "cancel_all" for x in ev)
    assert e.open_orders("a") == [] and [o.client_id for o in e.open_orders("b")] == ["b1"]
    assert e.depth(10) == ([(PX, 7)], [])
    assert e.accounts.balance("a", "USDT").locked == 0
    assert e.accounts.balance("a", "BTC").locked == 0
    assert e.cancel_all("a", 11) == []


def test_deadman_cancel_reports_okx_source_20() -> None:
    e = make_engine("okx")
    e.submit(lim("a", "a1", BUY, PX, 10), 1)
    ev = e.cancel_all("a", 2, cause="deadman")
    assert ev[0].venue_code == "20"


def test_client_id_unique_among_open_orders_and_reusable_after() -> None:
    e = make_engine("binance")
    e.submit(lim("a", "x", BUY, PX, 10), 1)
    ev = e.submit(lim("a", "x", BUY, PX - 1, 10), 2)
    assert isinstance(ev[0], Rejected) and ev[0].reason is RejectReason.DUPLICATE_ID
    assert isinstance(e.submit(lim("b", "x", BUY, PX - 1, 10), 3)[0], Accepted)  # other acct
    e.cancel("a", "x", 4)
    assert isinstance(e.submit(lim("a", "x", BUY, PX - 2, 10), 5)[0], Accepted)


def test_lazy_cancels_keep_queue_priority_and_totals() -> None:
    e = make_engine()
    for i in range(40):
        e.submit(lim("a", f"a{i}", SELL, PX, 1), i)
    for i in range(39):
        e.cancel("a", f"a{i}", 100 + i)
    e.submit(lim("b", "late", SELL, PX, 1), 200)
    assert e.best()[1] == (PX, 2)
    ev = e.submit(lim("c", "c", BUY, PX, 1), 300)
    assert [f.client_id for f in of(ev, Fill) if f.is_maker] == ["a39"]


# -- filters --------------------------------------------------------------------------------------
@pytest.mark.parametrize("venue,price,qty,code", [
    ("binance", D("50000.005"), D("0.001"), "-1013"),
    ("binance", D(50000), D("0.00015"), "-1013"),
    ("binance", D(50000), D("0.00001"), "-1013"),
    ("okx", D("50000.005"), D("0.001"), "51000"),
    ("okx", D(50000), D("0.00015"), "51121"),
    ("okx", D(40000), D("0.0001"), "51020"),     # 4 USDT < 5 min notional
    ("okx", D(50000), D(101), "51000"),
    ("gate", D("50000.005"), D("0.001"), "INVALID_PRECISION"),
    ("gate", D(50000), D("0.00015"), "INVALID_PRECISION"),
    ("gate", D(40000), D("0.0001"), "AMOUNT_TOO_LITTLE"),
    ("gate", D(50000), D(101), "AMOUNT_TOO_MUCH"),
    ("gate", D(-1), D(1), "INVALID_PARAM_VALUE"),
])
def test_filter_failures_map_to_each_venues_code(venue: str, price: D, qty: D,
                                                 code: str) -> None:
    e = make_engine(venue)
    ev = e.submit_wire("a", "f1", BUY, OrderType.LIMIT, TimeInForce.GTC, price, qty, 1)
    assert len(ev) == 1 and isinstance(ev[0], Rejected) and ev[0].venue_code == code
    assert ev[0].reason in (RejectReason.BAD_PRICE, RejectReason.BAD_SIZE)
    assert e.best() == (None, None)


def test_binance_filter_messages_name_the_filter() -> None:
    e = make_engine("binance")
    msgs = [e.submit_wire("a", "f", BUY, OrderType.LIMIT, TimeInForce.GTC, p, q, 1)[0]
            .message for p, q in ((D("1.001"), D(1)), (D(50000), D("0.00015")),
                                  (D(40000), D("0.0001")))]
    assert msgs == ["Filter failure: PRICE_FILTER", "Filter failure: LOT_SIZE",
                    "Filter failure: NOTIONAL"]


def test_submit_wire_accepts_exact_decimals() -> None:
    e = make_engine("gate")
    ev = e.submit_wire("a", "w", SELL, OrderType.LIMIT, TimeInForce.GTC, D("50000.01"),
                       D("0.0020"), 1)
    assert isinstance(ev[0], Accepted) and (ev[0].price_ticks, ev[0].lots) == (PX + 1, 20)


def test_untradable_symbol_is_rejected() -> None:
    from dataclasses import replace
    e = make_engine("okx")
    e.instrument = replace(btc_usdt("okx"), tradable=False)
    ev = e.submit(lim("a", "a", BUY, PX, 1), 1)
    assert isinstance(ev[0], Rejected) and ev[0].venue_code == "51001"


# -- balances and fees ------------------------------------------------------------------------------
def test_balances_lock_unlock_and_fees_exact() -> None:
    e = make_engine("okx")   # maker 0.08 %, taker 0.1 %
    acc = e.accounts
    e.submit(lim("a", "bid", BUY, PX, 2000), 1)               # 0.2 BTC at 50000
    assert acc.balance("a", "USDT") == type(acc.balance("a", "USDT"))(
        D(1000000) - D(10000), D(10000))
    ev = e.submit(lim("b", "ask", SELL, PX - 100, 500), 2)   # taker sells 0.05 BTC at 50000
    fills = {f.account: f for f in of(ev, Fill)}
    assert fills["a"].fee == D("0.05") * D("0.0008") and fills["a"].fee_asset == "BTC"
    assert fills["b"].fee == D(2500) * D("0.001") and fills["b"].fee_asset == "USDT"
    a_usdt, a_btc = acc.balance("a", "USDT"), acc.balance("a", "BTC")
    assert (a_usdt.available, a_usdt.locked) == (D(990000), D(7500))
    assert a_btc.available == D("10.05") - D("0.00004")
    b_usdt, b_btc = acc.balance("b", "USDT"), acc.balance("b", "BTC")
    assert b_usdt.available == D(1000000) + D(2500) - D("2.5")
    assert (b_btc.available, b_btc.locked) == (D("9.95"), 0)
    e.cancel("a", "bid", 3)
    assert acc.balance("a", "USDT") .available == D(1000000) - D(2500)
    assert acc.fees == {"BTC": D("0.00004"), "USDT": D("2.5")}
    for asset in ("BTC", "USDT"):
        assert acc.total(asset) == 3 * FUNDS_OF[asset]


FUNDS_OF = {"BTC": D(10), "USDT": D(1000000)}


def test_buyer_taking_below_its_limit_gets_the_difference_back() -> None:
    e = make_engine("binance")
    e.submit(lim("a", "ask", SELL, PX, 100), 1)
    e.submit(lim("b", "bid", BUY, PX + 1000, 100), 2)  # limit 50010, pays 50000
    usdt = e.accounts.balance("b", "USDT")
    assert usdt.locked == 0 and usdt.available == D(1000000) - D(500)


def test_partially_taking_buyer_rests_with_lock_at_its_own_limit() -> None:
    e = make_engine("okx")
    e.submit(lim("a", "ask", SELL, PX, 100), 1)
    e.submit(lim("b", "bid", BUY, PX + 1000, 300), 2)  # takes 100 at 50000, rests 200 at 50010
    usdt = e.accounts.balance("b", "USDT")
    assert usdt.locked == D("1000.2")                  # 0.02 BTC * 50010
    assert usdt.available == D(1000000) - D(500) - D("1000.2")


def test_insufficient_balance_rejects_with_venue_code() -> None:
    for venue, code in (("binance", "-2010"), ("okx", "51008"), ("gate", "BALANCE_NOT_ENOUGH")):
        e = make_engine(venue)
        ev = e.submit(lim("a", "big", SELL, PX, 100_001), 1)   # 10.0001 BTC > 10
        assert isinstance(ev[0], Rejected) and ev[0].venue_code == code
        assert ev[0].reason is RejectReason.INSUFFICIENT_BALANCE
        ev = e.submit(lim("a", "buy", BUY, PX * 10, 20001), 2)  # 1,000,050 USDT > 1,000,000
        assert isinstance(ev[0], Rejected) and ev[0].venue_code == code
        assert e.accounts.balance("a", "USDT").locked == 0


def test_negative_maker_fee_is_a_rebate() -> None:
    from dataclasses import replace
    e = make_engine("binance", rules=replace(BINANCE, maker_fee=D("-0.0001")))
    e.submit(lim("a", "ask", SELL, PX, 10000), 1)          # 1 BTC
    ev = e.submit(lim("b", "bid", BUY, PX, 10000), 2)
    maker = next(f for f in of(ev, Fill) if f.is_maker)
    assert maker.fee == D(-5) and e.accounts.balance("a", "USDT").available == D(1050005)
    assert e.accounts.total("USDT") == 3 * D(1000000)


# -- self-trade prevention --------------------------------------------------------------------------
def test_stp_cancel_maker_binance_expires_own_resting_and_keeps_matching() -> None:
    e = make_engine("binance")
    e.submit(lim("a", "own", SELL, PX, 10), 1)
    e.submit(lim("b", "other", SELL, PX, 10), 2)
    ev = e.submit(lim("a", "t", BUY, PX, 10), 3)
    done = of(ev, Expired)
    assert [(d.client_id, d.cause, d.venue_code) for d in done] == [
        ("own", "stp", "EXPIRED_IN_MATCH")]
    assert [f.client_id for f in of(ev, Fill) if f.is_maker] == ["other"]
    assert e.best() == (None, None) and e.accounts.balance("a", "BTC").locked == 0


def test_stp_cancel_taker_gate_stops_the_incoming_order() -> None:
    e = make_engine("gate")
    e.submit(lim("b", "other", SELL, PX, 5), 1)
    e.submit(lim("a", "own", SELL, PX, 10), 2)
    ev = e.submit(lim("a", "t", BUY, PX, 20), 3)
    assert sum(t.lots for t in of(ev, Trade)) == 5
    assert isinstance(ev[-1], Canceled) and ev[-1].client_id == "t"
    assert ev[-1].venue_code == "stp" and ev[-1].leaves_lots == 15
    assert e.best() == (None, (PX, 10)) and e.get("a", "own") is not None


def test_stp_cancel_both_and_none() -> None:
    from dataclasses import replace
    e = make_engine("okx", rules=replace(OKX, stp=StpMode.CANCEL_BOTH))
    e.submit(lim("a", "own", SELL, PX, 10), 1)
    ev = e.submit(lim("a", "t", BUY, PX, 10), 2)
    assert sorted(d.client_id for d in of(ev, Canceled)) == ["own", "t"]
    assert not of(ev, Trade) and e.best() == (None, None)
    e = make_engine("okx", rules=replace(OKX, stp=StpMode.NONE))
    e.submit(lim("a", "own", SELL, PX, 10), 1)
    ev = e.submit(lim("a", "t", BUY, PX, 10), 2)
    assert sum(t.lots for t in of(ev, Trade)) == 10


def test_fok_with_stp_cancel_taker_counts_only_liquidity_ahead_of_own_order() -> None:
    e = make_engine("gate")
    e.submit(lim("b", "x", SELL, PX, 5), 1)
    e.submit(lim("a", "own", SELL, PX, 10), 2)
    e.submit(lim("b", "y", SELL, PX, 10), 3)
    ev = e.submit(lim("a", "f", BUY, PX, 10, TimeInForce.FOK), 4)
    assert not of(ev, Trade) and ev[-1].venue_code == "fok"


def test_unlimited_background_account_trades_with_itself() -> None:
    acc = Accounts()
    acc.open("mkt", unlimited=True, quiet=True)
    e = MatchingEngine(btc_usdt("gate"), GATE, acc)
    assert e.submit(lim("mkt", "", SELL, PX, 10), 1) == []
    ev = e.submit(lim("mkt", "", BUY, PX, 4), 2)
    assert [type(x) for x in ev] == [Trade]


# -- book publication --------------------------------------------------------------------------------
def test_level_changes_and_sequence() -> None:
    e = make_engine()
    s0 = e.sequence
    e.submit(lim("a", "a1", BUY, PX, 10), 1)
    e.submit(lim("a", "a2", BUY, PX, 5), 2)
    e.submit(lim("b", "b1", SELL, PX + 3, 7), 3)
    assert e.sequence == s0 + 3
    assert e.drain_level_changes() == [(BUY, PX, 15), (SELL, PX + 3, 7)]
    assert e.drain_level_changes() == []
    e.submit(lim("c", "c1", SELL, PX, 15), 4)
    e.cancel("b", "b1", 5)
    assert e.drain_level_changes() == [(BUY, PX, 0), (SELL, PX + 3, 0)]
    assert e.sequence == s0 + 5


def test_depth_is_best_first_and_aggregated() -> None:
    e = make_engine()
    for i in range(30):
        e.submit(lim("a", f"b{i}", BUY, PX - i, 2 + i % 3), i)
        e.submit(lim("a", f"b{i}x", BUY, PX - i, 2), i)
        e.submit(lim("b", f"s{i}", SELL, PX + 1 + i, 2), i)
    bids, asks = e.depth(20)
    assert len(bids) == len(asks) == 20
    assert [p for p, _ in bids] == [PX - i for i in range(20)]
    assert [q for _, q in bids][:3] == [4, 5, 6]
    assert [p for p, _ in asks] == [PX + 1 + i for i in range(20)]
    assert e.level_count(BUY) == 30 and e.depth(0) == ([], [])


def test_open_orders_and_history_views() -> None:
    e = make_engine("okx")
    e.submit(lim("a", "a1", BUY, PX, 10), 1)
    e.submit(lim("a", "a2", SELL, PX + 9, 10), 2)
    e.submit(lim("b", "b1", SELL, PX, 10), 3)
    assert [o.client_id for o in e.open_orders("a")] == ["a2"]
    done = e.get("a", "a1")
    assert done is not None and done.status is OrderStatus.FILLED
    assert done.cum_quote == D(50) and done.cum_fee == D("0.001") * D("0.0008")
    assert e.get("b", "a1") is None and e.get("a", 12345) is None


def test_best_prices_and_worst_follow_the_book() -> None:
    e = make_engine()
    assert e.best_prices() == (None, None)
    assert e.worst(BUY) is None and e.worst(SELL) is None
    e.submit(lim("a", "b1", BUY, PX - 3, 10), 1)
    e.submit(lim("a", "b2", BUY, PX - 1, 10), 2)
    e.submit(lim("a", "s1", SELL, PX + 4, 10), 3)
    e.submit(lim("a", "s2", SELL, PX + 2, 7), 4)
    assert e.best_prices() == (PX - 1, PX + 2)
    assert e.best() == ((PX - 1, 10), (PX + 2, 7))
    assert (e.worst(BUY), e.worst(SELL)) == (PX - 3, PX + 4)
    e.cancel("a", "b1", 5)      # the farthest bid goes: the next one is the edge
    e.cancel("a", "s2", 6)      # the best ask goes
    assert (e.worst(BUY), e.worst(SELL)) == (PX - 1, PX + 4)
    assert e.best_prices() == (PX - 1, PX + 4)
    assert e.best() == ((PX - 1, 10), (PX + 4, 10))
