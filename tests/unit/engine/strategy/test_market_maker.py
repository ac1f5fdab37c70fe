"""MarketMaker: A–S formulas, fair value, inventory skew and limits, clamps, pulls, layers."""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.strategy.base import BookView, Quote, QuoteSet
from engine.strategy.market_maker import (
    MarketMaker,
    MarketMakerParams,
    as_half_spread_bps,
    horizon_s,
    reservation_offset_bps,
)
from pipeline.model import RejectReason, Side
from tests.unit.engine.strategy.helpers import (
    PARAMS,
    SEC,
    SYM,
    VENUES,
    book,
    config,
    instrument,
    instruments,
    maker,
)

B, S = Side.BUY, Side.SELL


def prices(q: QuoteSet) -> tuple[list[int], list[int]]:
    return [x.price_ticks for x in q.bids], [x.price_ticks for x in q.asks]


def sizes(q: QuoteSet) -> tuple[list[int], list[int]]:
    return [x.lots for x in q.bids], [x.lots for x in q.asks]


# -- formulas ----------------------------------------------------------------------------------
def test_reservation_offset_hand_computed() -> None:
    # q * gamma * sigma^2 * tau = 3 * 0.1 * 4 * 10
    assert reservation_offset_bps(3.0, 0.1, 2.0, 10.0) == pytest.approx(12.0)
    assert reservation_offset_bps(-3.0, 0.1, 2.0, 10.0) == pytest.approx(-12.0)
    assert reservation_offset_bps(0.0, 0.1, 2.0, 10.0) == 0.0


def test_half_spread_hand_computed() -> None:
    # 0.1 * 4 * 10 / 2 + ln(1 + 0.1 / 0.5) / 0.1 = 2 + 10 ln 1.2
    assert as_half_spread_bps(0.1, 2.0, 10.0, 0.5) == pytest.approx(2.0 + 1.8232155679)
    # more risk aversion -> smaller liquidity term, bigger inventory term
    assert as_half_spread_bps(1.0, 0.0, 10.0, 0.5) == pytest.approx(math.log(3.0))


def test_horizon_from_trade_rate() -> None:
    assert horizon_s(50.0, 100.0, 0.5, 30.0) == pytest.approx(2.0)
    assert horizon_s(1000.0, 100.0, 0.5, 30.0) == 0.5
    assert horizon_s(1.0, 100.0, 0.5, 30.0) == 30.0
    assert horizon_s(0.0, 100.0, 0.5, 30.0) == 30.0


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        MarketMakerParams(k_per_bps=0.0)
    with pytest.raises(ValueError):
        MarketMakerParams(min_horizon_s=5.0, max_horizon_s=1.0)


# -- quotes at known prices -------------------------------------------------------------------
def test_flat_inventory_quotes_hand_computed() -> None:
    """Fair 100.01; A–S half-spread 2 + 1.82 bps < spread_bps/2 = 5 bps, so 5 bps, then
    +5 bps per layer: bid 100.01*(1-0.0005) = 99.959995 -> 9995 (down), ask 100.060005 ->
    10007 (up); layer 1: 99.90999 -> 9990, 100.11001 -> 10012. Size 0.001 = 100 lots."""
    mm = maker()
    out = mm.desired_quotes(SEC // 10)
    assert list(out) == [(v, SYM) for v in VENUES]
    for q in out.values():
        assert q.bids == (Quote(B, 9995, 100, 0), Quote(B, 9990, 100, 1))
        assert q.asks == (Quote(S, 10007, 100, 0), Quote(S, 10012, 100, 1))
        assert (q.max_bid_ticks, q.min_ask_ticks) == (10050, 9952)
    st = mm.symbol_state(SYM)
    assert st is not None
    assert st.fair == pytest.approx(100.01)
    assert st.sigma_bps == 2.0 and st.tau_s == 10.0 and st.half_spread_bps == 5.0
    assert mm.tolerance_ticks("binance", SYM) == 2      # 2 bps of 100.01 = 0.020002


def test_long_inventory_skews_both_sides_down() -> None:
    """Long 3 clips: r = 100.01 * (1 - 12e-4) = 99.889988; bids 99.840043 -> 9984,
    99.790098 -> 9979; asks 99.939933 -> 9994, 99.989878 -> 9999."""
    mm = maker()
    mm.on_position("binance", SYM, 300)
    q = mm.desired_quotes(1)[("binance", SYM)]
    assert prices(q) == ([9984, 9979], [9994, 9999])
    st = mm.symbol_state(SYM)
    assert st is not None and st.q_clips == pytest.approx(3.0)
    assert st.reservation == pytest.approx(99.889988)
    # the other venues skew the same way: inventory is per symbol
    assert prices(mm.desired_quotes(1)[("okx", SYM)]) == ([9984, 9979], [9994, 9999])


def test_short_inventory_skews_up_symmetrically() -> None:
    mm = maker()
    mm.on_position("okx", SYM, -300)
    bids, asks = prices(mm.desired_quotes(1)[("gate", SYM)])
    flat_bids, flat_asks = [9995, 9990], [10007, 10012]
    assert all(b > f for b, f in zip(bids, flat_bids))
    assert all(a > f for a, f in zip(asks, flat_asks))


def test_fills_move_the_position_and_the_skew() -> None:
    mm = maker()
    mm.on_fill("binance", SYM, B, 10000, 200, 1)
    mm.on_fill("okx", SYM, B, 10000, 150, 1)
    mm.on_fill("okx", SYM, S, 10000, 50, 1)
    assert mm.position_qty(SYM) == Decimal("0.003")
    assert prices(mm.desired_quotes(1)[("gate", SYM)]) == ([9984, 9979], [9994, 9999])


def test_near_max_position_the_adding_side_shrinks_to_zero() -> None:
    mm = maker()
    mm.on_position("binance", SYM, 900)                  # 0.009 of max 0.01
    out = mm.desired_quotes(1)
    # symbol room 0.001 split over 3 venues -> 33 lots of bid per venue, one layer
    for v in VENUES:
        assert sizes(out[(v, SYM)]) == ([33], [100, 100])
    mm.on_position("binance", SYM, 1000)                 # at the limit
    out = mm.desired_quotes(1)
    for v in VENUES:
        assert sizes(out[(v, SYM)]) == ([], [100, 100])
    mm.on_position("binance", SYM, -1000)                # short limit: asks go
    for v in VENUES:
        assert sizes(mm.desired_quotes(1)[(v, SYM)]) == ([100, 100], [])


def test_per_venue_position_also_limits_its_side() -> None:
    mm = maker()
    mm.on_position("okx", SYM, 950)
    mm.on_position("binance", SYM, -950)                 # flat overall
    out = mm.desired_quotes(1)
    assert sizes(out[("okx", SYM)]) == ([50], [100, 100])
    assert sizes(out[("binance", SYM)]) == ([100, 100], [50])
    assert sizes(out[("gate", SYM)]) == ([100, 100], [100, 100])


def test_quotes_never_cross_the_book_or_each_other() -> None:
    """One-tick book 100.00 / 100.01 and a big short: the bid wants ~100.31, is clamped to
    best ask - 1 tick, and layer 1 sits a tick behind it."""
    mm = maker(bid=100.00, ask=100.01)
    mm.on_position("binance", SYM, -900)
    q = mm.desired_quotes(1)[("binance", SYM)]
    bids, asks = prices(q)
    assert bids == [10000, 9999]
    assert q.max_bid_ticks == 10000 and q.min_ask_ticks == 10001
    assert min(asks) >= 10001 and max(bids) < min(asks)
    mm.on_position("binance", SYM, 900)
    bids, asks = prices(mm.desired_quotes(1)[("binance", SYM)])
    assert asks[0] == 10001 and asks[1] == 10002 and max(bids) < asks[0]


def test_more_layers_step_out_by_layer_spacing() -> None:
    mm = maker(cfg=config(layers=4, layer_spacing_bps=10.0))
    bids, asks = prices(mm.desired_quotes(1)[("okx", SYM)])
    # 100.01 * (1 -+ (5 + 10 i) bps)
    assert bids == [9995, 9985, 9975, 9965]
    assert asks == [10007, 10017, 10027, 10037]


def test_quotes_below_the_instrument_minimum_are_dropped() -> None:
    insts = instruments()
    insts[("gate", SYM)] = type(insts[("gate", SYM)])(
        "gate", SYM, "BTC_USDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"),
        min_notional=Decimal(1))
    mm = MarketMaker(config(), insts, PARAMS)
    for v in VENUES:
        mm.on_book(v, SYM, book(), 0)
    mm.on_position("binance", SYM, 995)                  # bid room 5 lots = ~$0.5 < $1
    out = mm.desired_quotes(1)
    assert sizes(out[("gate", SYM)])[0] == []
    assert sizes(out[("okx", SYM)])[0] == [1]            # 0.005/3 -> 0.00000166 -> 1 lot


# -- fair value and signals -------------------------------------------------------------------
def test_fair_value_weights_venues_by_inverse_relative_spread() -> None:
    mm = MarketMaker(config(), instruments(("binance", "okx")), PARAMS)
    mm.on_book("binance", SYM, book(100.00, 100.02), 0)   # mid 100.01, spread 0.02
    mm.on_book("okx", SYM, book(100.10, 100.14), 0)       # mid 100.12, spread 0.04
    mm.desired_quotes(1)
    wa, wb = 100.01 / 0.02, 100.12 / 0.04
    st = mm.symbol_state(SYM)
    assert st is not None
    assert st.fair == pytest.approx((wa * 100.01 + wb * 100.12) / (wa + wb))


def test_venue_weights_param_scales_a_venue() -> None:
    p = MarketMakerParams(min_volatility_bps=2.0, max_horizon_s=10.0, imbalance_weight_bps=0,
                          flow_weight_bps=0, gateways_up_at_start=True,
                          venue_weights=(("okx", 0.0),))
    mm = MarketMaker(config(), instruments(("binance", "okx")), p)
    mm.on_book("binance", SYM, book(100.00, 100.02), 0)
    mm.on_book("okx", SYM, book(100.10, 100.14), 0)
    mm.desired_quotes(1)
    st = mm.symbol_state(SYM)
    assert st is not None and st.fair == pytest.approx(100.01)


def test_fair_value_uses_the_microprice_and_a_bounded_imbalance_tilt() -> None:
    p = MarketMakerParams(min_volatility_bps=2.0, max_horizon_s=10.0, imbalance_levels=1,
                          imbalance_weight_bps=1.0, flow_weight_bps=0.0, max_tilt_bps=2.0,
                          gateways_up_at_start=True)
    mm = MarketMaker(config(), instruments(("binance",)), p)
    mm.on_book("binance", SYM, book(100.00, 100.02, bid_sz=3.0, ask_sz=1.0), 0)
    mm.desired_quotes(1)
    st = mm.symbol_state(SYM)
    # microprice (100*1 + 100.02*3)/4 = 100.015; imbalance (3-1)/4 = 0.5 -> +0.5 bps
    assert st is not None and st.fair == pytest.approx(100.015 * (1 + 0.5e-4))
    big = MarketMakerParams(min_volatility_bps=2.0, max_horizon_s=10.0, imbalance_levels=1,
                            imbalance_weight_bps=100.0, flow_weight_bps=0.0, max_tilt_bps=2.0,
                            gateways_up_at_start=True)
    mm = MarketMaker(config(), instruments(("binance",)), big)
    mm.on_book("binance", SYM, book(100.00, 100.02, bid_sz=3.0, ask_sz=1.0), 0)
    mm.desired_quotes(1)
    st = mm.symbol_state(SYM)
    assert st is not None and st.fair == pytest.approx(100.015 * (1 + 2e-4))  # capped


def test_trade_flow_tilts_fair_and_trade_rate_shortens_the_horizon() -> None:
    p = MarketMakerParams(min_volatility_bps=2.0, max_horizon_s=10.0, imbalance_weight_bps=0,
                          flow_weight_bps=1.5, horizon_trades=100.0, min_horizon_s=0.5,
                          intensity_halflife_ms=100, gateways_up_at_start=True)
    mm = MarketMaker(config(), instruments(), p)
    for v in VENUES:
        mm.on_book(v, SYM, book(), 0)
    for i in range(1000):                                  # 1000 buys/s, all venues
        mm.on_trade(VENUES[i % 3], SYM, 100.0, 0.01, B, i * 1_000_000)
    mm.desired_quotes(SEC)
    st = mm.symbol_state(SYM)
    assert st is not None
    assert st.fair == pytest.approx(100.01 * (1 + 1.5e-4))
    assert st.tau_s == 0.5                                 # 100 trades at ~1000/s, clamped


def test_volatility_widens_the_spread_and_scales_the_skew() -> None:
    p = MarketMakerParams(max_horizon_s=10.0, imbalance_weight_bps=0, flow_weight_bps=0,
                          gateways_up_at_start=True)
    mm = MarketMaker(config(), instruments(("binance",)), p)
    for i, mid in enumerate([100.00, 100.03, 100.00, 100.03]):  # ~3 bps per second moves
        mm.on_book("binance", SYM, book(mid - 0.5, mid + 0.5, ts=i * SEC), i * SEC)
    mm.desired_quotes(3 * SEC)
    st = mm.symbol_state(SYM)
    assert st is not None
    assert st.sigma_bps == pytest.approx(1e4 * abs(math.log(100.03 / 100.00)), rel=1e-9)
    assert st.half_spread_bps == pytest.approx(
        as_half_spread_bps(0.1, st.sigma_bps, 10.0, 0.5))
    assert st.half_spread_bps > 5.0


# -- pulling ------------------------------------------------------------------------------------
def test_out_of_sync_book_pulls_that_venue_only() -> None:
    mm = maker()
    mm.on_book("okx", SYM, book(synced=False), 1)
    out = mm.desired_quotes(2)
    assert out[("okx", SYM)].empty
    assert not out[("binance", SYM)].empty and not out[("gate", SYM)].empty


def test_stale_book_pulls_and_leaves_the_fair_value() -> None:
    stale_ms = 5_000
    mm = MarketMaker(config(), instruments(), PARAMS, stale_book_ms=stale_ms)
    mm.on_book("binance", SYM, book(200.0, 201.0, ts=0), 0)       # will go stale
    for v in ("okx", "gate"):
        mm.on_book(v, SYM, book(ts=stale_ms * 1_000_000), stale_ms * 1_000_000)
    out = mm.desired_quotes(stale_ms * 1_000_000)                  # exactly at the limit
    assert not out[("binance", SYM)].empty
    out = mm.desired_quotes(stale_ms * 1_000_000 + 1)
    assert out[("binance", SYM)].empty and not out[("okx", SYM)].empty
    st = mm.symbol_state(SYM)
    assert st is not None and st.fair == pytest.approx(100.01)
    assert all(q.empty for q in mm.desired_quotes(2 * stale_ms * 1_000_000 + 1).values())
    assert mm.symbol_state(SYM) is None


def test_gateway_down_pulls_its_venue_and_up_restores_it() -> None:
    mm = maker()
    mm.on_gateway("gate", False)
    out = mm.desired_quotes(1)
    assert out[("gate", SYM)].empty and not out[("okx", SYM)].empty
    mm.on_gateway("gate", True)
    assert not mm.desired_quotes(1)[("gate", SYM)].empty


def test_gateways_count_as_down_until_reported_up_by_default() -> None:
    mm = maker(params=MarketMakerParams())
    assert all(q.empty for q in mm.desired_quotes(1).values())
    mm.on_gateway("binance", True)
    out = mm.desired_quotes(1)
    assert not out[("binance", SYM)].empty and out[("okx", SYM)].empty


def test_the_symbol_room_is_split_over_venues_actually_quoting() -> None:
    mm = maker()
    mm.on_position("binance", SYM, 900)
    mm.on_gateway("gate", False)
    out = mm.desired_quotes(1)
    assert sizes(out[("binance", SYM)])[0] == [50]       # 0.001 / 2 venues
    assert sizes(out[("okx", SYM)])[0] == [50]


def test_missing_book_and_disabled_config_pull() -> None:
    mm = MarketMaker(config(), instruments(), PARAMS)
    assert all(q.empty for q in mm.desired_quotes(1).values())
    mm = maker(cfg=config(enabled=False))
    assert all(q.empty for q in mm.desired_quotes(1).values())


def test_events_for_unknown_symbols_are_ignored() -> None:
    mm = maker()
    mm.on_book("binance", "ETH/USDT", book(), 0)
    mm.on_trade("binance", "ETH/USDT", 1.0, 1.0, B, 0)
    mm.on_fill("binance", "ETH/USDT", B, 1, 1, 0)
    mm.on_position("okx", "ETH/USDT", 5)
    mm.on_gateway("kraken", True)
    assert set(mm.desired_quotes(1)) == {(v, SYM) for v in VENUES}


def test_book_view_from_an_shm_slot_copy() -> None:
    from shm.book import BOOK_OK, BOOK_SYNCING
    from shm.book import BookView as SlotView
    lv = np.array([[100.0, 2.0], [99.0, 1.0]])
    av = np.array([[101.0, 3.0]])
    slot = SlotView(lv, av, 2, 1, 5, 7, BOOK_OK, 2, 9)
    bv = BookView.from_slot(slot)
    assert (bv.best_bid, bv.best_ask, bv.best_bid_size, bv.best_ask_size) == (100, 101, 2, 3)
    assert bv.synced and bv.ts_ns == 7 and list(bv.bid_px) == [100.0, 99.0]
    assert not BookView.from_slot(SlotView(lv, av, 2, 1, 5, 7, BOOK_SYNCING, 2, 9)).synced
    empty = BookView.from_slot(SlotView(lv, av[:0], 2, 0, 5, 7, BOOK_OK, 2, 9))
    assert not empty.synced and empty.best_ask == 0.0


# -- determinism --------------------------------------------------------------------------------
def _run(seed: int) -> list[dict[tuple[str, str], QuoteSet]]:
    rng = np.random.default_rng(seed)
    mm = MarketMaker(config(layers=3), instruments(symbols=(SYM, "ETH/USDT")),
                     MarketMakerParams(gateways_up_at_start=True))
    outs = []
    mid = 100.0
    for i in range(300):
        t = i * 10_000_000
        mid *= math.exp(rng.normal(0, 3e-4))
        v = VENUES[int(rng.integers(3))]
        s = (SYM, "ETH/USDT")[int(rng.integers(2))]
        half = 0.01 * int(rng.integers(1, 5))
        mm.on_book(v, s, book(round(mid - half, 2), round(mid + half, 2),
                              float(rng.uniform(0.1, 2)), float(rng.uniform(0.1, 2)), ts=t), t)
        if rng.random() < 0.5:
            mm.on_trade(v, s, mid, 0.01, B if rng.random() < 0.5 else S, t)
        if rng.random() < 0.1:
            mm.on_fill(v, s, B if rng.random() < 0.5 else S, 10000, 100, t)
        outs.append(mm.desired_quotes(t))
    return outs


def test_same_events_same_quotes() -> None:
    a, b = _run(7), _run(7)
    assert a == b
    assert any(not q.empty for q in a[-1].values())
    for out in a:
        for q in out.values():
            bids, asks = prices(q)
            assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
            if bids and asks:
                assert bids[0] < asks[0]
            assert all(p <= q.max_bid_ticks for p in bids)
            assert all(p >= q.min_ask_ticks for p in asks)


def test_instruments_must_be_filed_under_their_own_key() -> None:
    insts = instruments(("binance",))
    with pytest.raises(ValueError, match="filed under"):
        MarketMaker(config(), {("okx", SYM): insts[("binance", SYM)]}, PARAMS)


def test_unchanged_inputs_return_the_same_quote_set_object() -> None:
    mm = maker()
    first = mm.desired_quotes(1)[("okx", SYM)]
    assert mm.desired_quotes(2)[("okx", SYM)] is first      # memo: nothing moved
    mm.on_position("okx", SYM, 100)
    assert mm.desired_quotes(3)[("okx", SYM)] != first


# -- the per-update path ------------------------------------------------------------------------
def test_an_update_requotes_its_market_and_only_peers_the_fair_value_moved_enough() -> None:
    """Tolerance 2 bps: a peer venue's quotes are rebuilt when the new fair value moves them
    by >= 1 bp; a smaller move waits for that venue's own update (or the engine's timer)."""
    mm = maker()
    mm.desired_quotes(1)                                    # every market built once
    mm.on_book("binance", SYM, book(bid=99.515, ask=100.515), SEC)  # fair +0.17 bp
    out = mm.desired_quotes_for(SEC, {("binance", SYM)})
    assert set(out) == {("binance", SYM)}
    mm.on_book("binance", SYM, book(bid=99.60, ask=100.60), 2 * SEC)  # fair +3 bps: peers too
    out = mm.desired_quotes_for(2 * SEC, {("binance", SYM)})
    assert set(out) == {(v, SYM) for v in VENUES}
    assert out == mm.desired_quotes(2 * SEC)                # what a full pass would want


def test_a_symbol_nobody_ticked_is_not_computed() -> None:
    insts = instruments(symbols=(SYM, "ETH/USDT"))
    mm = MarketMaker(config(), insts, PARAMS)
    for v in VENUES:
        mm.on_book(v, SYM, book(), 0)
        mm.on_book(v, "ETH/USDT", book(), 0)
    out = mm.desired_quotes_for(1, {("okx", "ETH/USDT")})
    assert {s for _, s in out} == {"ETH/USDT"} and mm.symbol_state(SYM) is None


@settings(max_examples=300, deadline=None)
@given(bid=st.floats(10.0, 90_000.0), spread_ticks=st.integers(1, 50),
       tick=st.sampled_from(["0.01", "0.1", "0.5", "0.0001"]),
       lot=st.sampled_from(["0.00001", "0.001", "0.00000001", "1"]),
       min_qty=st.sampled_from(["0", "0.001", "0.5"]),
       min_notional=st.sampled_from(["0", "5", "1000"]),
       pos=st.integers(-1200, 1200))
def test_integer_quote_path_matches_the_instruments_decimal_rules(
        bid: float, spread_ticks: int, tick: str, lot: str, min_qty: str, min_notional: str,
        pos: int) -> None:
    """Quantization (bids down, asks up, float noise snapped), layer clamps, filters and the
    position room, recomputed with `Instrument`'s own Decimal methods, give the same quotes
    as the market maker's integer path."""
    cfg = config(order_size=0.003, max_position=0.011)
    insts = {(v, SYM): instrument(v, tick=tick, lot=lot, min_qty=Decimal(min_qty),
                                  min_notional=Decimal(min_notional)) for v in VENUES}
    mm = MarketMaker(cfg, insts, PARAMS)
    t = float(Decimal(tick))
    b = round(bid / t) * t
    for v in VENUES:
        mm.on_book(v, SYM, book(bid=b, ask=b + spread_ticks * t), 0)
    mm.on_position("okx", SYM, pos)
    got = mm.desired_quotes(1)[("binance", SYM)]
    st_ = mm.symbol_state(SYM)
    assert st_ is not None
    inst = insts[("binance", SYM)]
    bb, ba = inst.price_to_ticks(b), inst.price_to_ticks(b + spread_ticks * t)
    max_pos = Decimal("0.011")
    want: dict[Side, list[Quote]] = {B: [], S: []}
    for side in (B, S):
        sign = int(side)
        venue_room = inst.qty_to_lots(max_pos) - sign * 0
        sym_room = (max_pos - sign * st_.position) / st_.quoting_venues
        room = max(0, min(venue_room, inst.qty_to_lots(sym_room) if sym_room > 0 else 0))
        prev = 0
        for layer in range(cfg.layers):
            lots = min(inst.qty_to_lots(cfg.order_size), room)
            if lots <= 0:
                break
            dist = (st_.half_spread_bps + layer * cfg.layer_spacing_bps) / 1e4
            if side is B:
                ticks = min(inst.price_to_ticks(st_.reservation * (1.0 - dist), side), ba - 1)
                ticks = min(ticks, prev - 1) if layer else ticks
            else:
                ticks = max(inst.price_to_ticks(st_.reservation * (1.0 + dist), side), bb + 1)
                ticks = max(ticks, prev + 1) if layer else ticks
            if inst.check(ticks, lots) is not RejectReason.NONE:
                break
            want[side].append(Quote(side, ticks, lots, layer))
            room -= lots
            prev = ticks
    assert (got.bids, got.asks) == (tuple(want[B]), tuple(want[S]))
