"""Background market: deterministic per seed, a full uncrossed book, trades, Poisson rate, and
our own orders filled by the crowd through the same matching engine."""
from __future__ import annotations

from decimal import Decimal as D

from feeds.sim.accounts import Accounts
from feeds.sim.market import BACKGROUND, MarketSimulator, SymbolParams, TopOfBook
from feeds.sim.matching import Fill, SimOrder, Trade
from feeds.sim.venue_rules import BINANCE, OKX
from pipeline.model import Instrument, Side

SEC = 1_000_000_000


def instruments(venue: str = "binance") -> list[Instrument]:
    return [
        Instrument(venue, "BTC/USDT", "BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"),
                   min_notional=D(5)),
        Instrument(venue, "ETH/USDT", "ETHUSDT", "ETH", "USDT", D("0.01"), D("0.0001"),
                   min_notional=D(5)),
        Instrument(venue, "SOL/USDT", "SOLUSDT", "SOL", "USDT", D("0.001"), D("0.01"),
                   min_qty=D("0.01"), min_notional=D(1)),
    ]


PARAMS = {"BTC/USDT": SymbolParams(D(60000)), "ETH/USDT": SymbolParams(D(3000)),
          "SOL/USDT": SymbolParams(D(150), vol_bps=3.0, jump_rate_hz=0.2)}


def make(seed: int = 7, rate_hz: float = 40.0, accounts: Accounts | None = None
         ) -> MarketSimulator:
    return MarketSimulator(instruments(), BINANCE, accounts or Accounts(), PARAMS, seed=seed,
                           rate_hz=rate_hz)


def fingerprint(sim: MarketSimulator, until_ns: int) -> list:
    out = []
    for t in range(SEC, until_ns + 1, SEC // 2):
        out.append(sim.advance_to(t))
        out.append({s: e.depth(25) for s, e in sim.engines.items()})
    return out


def test_same_seed_same_event_stream_and_books() -> None:
    assert fingerprint(make(seed=3), 20 * SEC) == fingerprint(make(seed=3), 20 * SEC)


def test_different_seed_differs() -> None:
    assert fingerprint(make(seed=3), 5 * SEC) != fingerprint(make(seed=4), 5 * SEC)


def test_prefilled_book_is_full_before_any_arrival() -> None:
    sim = make()
    for eng in sim.engines.values():
        bids, asks = eng.depth(30)
        assert len(bids) >= 25 and len(asks) >= 25 and bids[0][0] < asks[0][0]


def test_book_keeps_twenty_levels_uncrossed_and_trades_happen() -> None:
    sim = make(rate_hz=80.0)
    trades = {s: 0 for s in sim.engines}
    for k in range(1, 121):
        for e in sim.advance_to(k * SEC // 4):
            if isinstance(e, Trade):
                trades[e.symbol] += 1
        for eng in sim.engines.values():
            bids, asks = eng.depth(20)
            assert len(bids) == 20 and len(asks) == 20
            assert bids[0][0] < asks[0][0]
    assert all(n > 50 for n in trades.values()), trades


def test_public_book_follows_the_latent_mid() -> None:
    sim = make(seed=11, rate_hz=100.0)
    sim.advance_to(60 * SEC)
    for sym, eng in sim.engines.items():
        (bid, _), (ask, _) = eng.best()  # type: ignore[misc]
        mid = sim.mid_ticks(sym)
        assert abs((bid + ask) / 2 - mid) / mid < 0.002, sym   # within 20 bp


def test_arrival_rate_matches_configuration() -> None:
    for rate in (3.0, 200.0):
        sim = make(rate_hz=rate)
        sim.advance_to(30 * SEC)
        expected = rate * 30 * 3   # per symbol, three symbols
        assert abs(sim.arrivals - expected) < 5 * expected ** 0.5 + 3


def test_trade_ids_and_sequences_increase() -> None:
    sim = make()
    last: dict[str, int] = {}
    seqs = {s: e.sequence for s, e in sim.engines.items()}
    for e in sim.advance_to(10 * SEC):
        if isinstance(e, Trade):
            assert e.trade_id > last.get(e.symbol, 0)
            last[e.symbol] = e.trade_id
    assert all(sim.engines[s].sequence > seqs[s] for s in seqs)


def test_step_processes_exactly_n_arrivals_in_time_order() -> None:
    sim = make()
    t0 = sim.now_ns
    sim.step(1000)
    assert sim.arrivals == 1000 and sim.now_ns > t0


def test_our_resting_order_is_filled_by_background_flow() -> None:
    acc = Accounts()
    acc.open("mm", {"USDT": D(100000), "BTC": D(1)})
    sim = MarketSimulator(instruments("okx"), OKX, acc, PARAMS, seed=5, rate_hz=50.0)
    eng = sim.engine("BTC/USDT")
    (bid, _), _ = eng.best()  # type: ignore[misc]
    assert not eng.submit(SimOrder("mm", "q1", Side.BUY, bid + 1, 20), 0)[1:]
    fills: list[Fill] = []
    t = 0
    while not fills and t < 120 * SEC:
        t += SEC
        fills += [e for e in sim.advance_to(t) if isinstance(e, Fill)]
    assert fills and all(f.account == "mm" and f.is_maker for f in fills)
    assert acc.balance("mm", "BTC").available > D(1)
    # background's own acks and fills never surface
    assert all(getattr(e, "account", "mm") != BACKGROUND for e in sim.advance_to(t + SEC))


def test_top_of_book_event_after_each_arrival_that_changed_it_on_a_real_time_bbo_venue(
) -> None:
    """Binance pushes `@bookTicker` on every change: one `TopOfBook` per arrival that moved
    the top (price or size), carrying the engine's sequence then, and none otherwise."""
    sim = make(seed=11, rate_hz=500.0)
    last = {s: e.best() for s, e in sim.engines.items()}
    changed = 0
    for _ in range(3000):
        out = sim.step(1)
        tops = [ev for ev in out if isinstance(ev, TopOfBook)]
        moved = [s for s, e in sim.engines.items() if e.best() != last[s]]
        assert [t.symbol for t in tops] == moved
        for t in tops:
            eng = sim.engines[t.symbol]
            assert (t.bid, t.ask) == eng.best() and t.seq == eng.sequence
            assert t.ts_ns == sim.now_ns
            last[t.symbol] = (t.bid, t.ask)
        changed += len(tops)
    assert 300 < changed < 3000   # the top moves often, but not on every arrival


def test_no_top_of_book_events_where_the_bbo_stream_is_conflated() -> None:
    sim = MarketSimulator(instruments("okx"), OKX, Accounts(), PARAMS, seed=3, rate_hz=500.0)
    out = sim.step(2000)
    assert out and not [ev for ev in out if isinstance(ev, TopOfBook)]
