"""Fault plan: seeded latency, one-shot drops/gaps/restarts, windows, chances, periods and the
named scenarios."""
from __future__ import annotations

import pytest

from feeds.sim.faults import (
    MS,
    SCENARIOS,
    SEC,
    Chance,
    Drop,
    FaultPlan,
    ForcedReject,
    Gap,
    Latency,
    Restart,
    Stale,
    VenueFaults,
)
from pipeline.model import VENUES, RejectReason


def test_fixed_latency_is_exact_and_random_kinds_stay_in_range() -> None:
    plan = FaultPlan({"binance": VenueFaults(latency=Latency("fixed", 2 * MS)),
                      "okx": VenueFaults(latency=Latency("uniform", MS, 3 * MS)),
                      "gate": VenueFaults(latency=Latency("lognormal", MS, 2 * MS))}, seed=1)
    assert {plan.latency_ns("binance") for _ in range(50)} == {2 * MS}
    okx = [plan.latency_ns("okx") for _ in range(500)]
    assert min(okx) >= MS and max(okx) < 4 * MS and len(set(okx)) > 400
    gate = sorted(plan.latency_ns("gate") for _ in range(501))
    assert gate[0] > MS and abs(gate[250] - 3 * MS) < 0.3 * MS   # median = base + spread


def test_same_seed_same_draws_and_streams_are_independent() -> None:
    spec = {"okx": VenueFaults(latency=Latency("exponential", 0, MS),
                               rejects=(ForcedReject(Chance(0.3)),))}
    a, b, c = FaultPlan(spec, seed=9), FaultPlan(spec, seed=9), FaultPlan(spec, seed=10)
    lat_a = [a.latency_ns("okx") for _ in range(20)]
    assert lat_a == [b.latency_ns("okx") for _ in range(20)]
    assert lat_a != [c.latency_ns("okx") for _ in range(20)]
    # b drew latencies; a fresh plan did not: the reject stream must not notice
    fresh = FaultPlan(spec, seed=9)
    assert ([b.forced_reject("okx", 0) for _ in range(50)]
            == [fresh.forced_reject("okx", 0) for _ in range(50)])


def test_drop_fires_once_per_stream_when_due() -> None:
    plan = FaultPlan({"gate": VenueFaults(drops=(Drop(5 * SEC, "market"), Drop(9 * SEC)))})
    assert not plan.drop_due("gate", 4 * SEC, "market")
    assert plan.drop_due("gate", 5 * SEC, "market")
    assert not plan.drop_due("gate", 6 * SEC, "market")
    assert not plan.drop_due("gate", 6 * SEC, "orders")
    assert plan.drop_due("gate", 10 * SEC, "orders") and plan.drop_due("gate", 10 * SEC, "market")
    assert not plan.drop_due("gate", 11 * SEC, "orders")
    assert not plan.drop_due("binance", 11 * SEC, "orders")   # unscripted venue


def test_gap_fires_once_per_symbol_with_its_skip() -> None:
    plan = FaultPlan({"binance": VenueFaults(gaps=(Gap(2 * SEC, skip=3),
                                                   Gap(3 * SEC, "ETH/USDT")))})
    assert plan.gap_due("binance", SEC, "BTC/USDT") == 0
    assert plan.gap_due("binance", 2 * SEC, "BTC/USDT") == 3
    assert plan.gap_due("binance", 2 * SEC, "BTC/USDT") == 0
    assert plan.gap_due("binance", 4 * SEC, "ETH/USDT") == 4      # both gaps are due for ETH
    assert plan.gap_due("binance", 4 * SEC, "BTC/USDT") == 0


def test_stale_window_and_symbol_filter() -> None:
    plan = FaultPlan({"okx": VenueFaults(stale=(Stale(10 * SEC, 12 * SEC),
                                                Stale(20 * SEC, 21 * SEC, "BTC/USDT")))})
    assert not plan.is_stale("okx", 10 * SEC - 1, "ETH/USDT")
    assert plan.is_stale("okx", 10 * SEC, "ETH/USDT") and plan.is_stale("okx", 11 * SEC)
    assert not plan.is_stale("okx", 12 * SEC, "ETH/USDT")
    assert plan.is_stale("okx", 20 * SEC, "BTC/USDT")
    assert not plan.is_stale("okx", 20 * SEC, "ETH/USDT")


def test_restart_is_one_shot_then_down_for_its_duration() -> None:
    plan = FaultPlan({"gate": VenueFaults(restarts=(Restart(30 * SEC, 2 * SEC),))})
    assert not plan.is_down("gate", 30 * SEC - 1) and not plan.restart_due("gate", 29 * SEC)
    assert plan.restart_due("gate", 30 * SEC) and not plan.restart_due("gate", 31 * SEC)
    assert plan.is_down("gate", 31 * SEC) and not plan.is_down("gate", 32 * SEC)


def test_chances_respect_probability_and_windows() -> None:
    plan = FaultPlan({"binance": VenueFaults(
        ack_loss=(Chance(0.1),),
        ack_delay=(Chance(1.0, 5 * SEC, 6 * SEC),),
        ack_delay_latency=Latency("fixed", 40 * MS),
        rate_limits=(Chance(1.0, 2 * SEC, 3 * SEC),),
        rejects=(ForcedReject(Chance(1.0, 7 * SEC, 8 * SEC), RejectReason.RATE_LIMITED),))},
        seed=3)
    lost = sum(plan.should_drop_ack("binance", 0) for _ in range(10_000))
    assert 850 < lost < 1150
    assert plan.ack_delay_ns("binance", 4 * SEC) == 0
    assert plan.ack_delay_ns("binance", 5 * SEC) == 40 * MS
    assert [plan.rate_limited("binance", t * SEC // 2) for t in range(3, 7)] == [
        False, True, True, False]
    assert plan.forced_reject("binance", 7 * SEC) is RejectReason.RATE_LIMITED
    assert plan.forced_reject("binance", 8 * SEC) is None


def test_periodic_schedule_repeats() -> None:
    plan = FaultPlan({"okx": VenueFaults(gaps=(Gap(2 * SEC),), stale=(Stale(4 * SEC, 5 * SEC),),
                                         period_ns=10 * SEC)})
    assert plan.gap_due("okx", 2 * SEC, "X") == 1
    assert plan.gap_due("okx", 9 * SEC, "X") == 0
    assert plan.gap_due("okx", 12 * SEC, "X") == 1
    assert plan.gap_due("okx", 35 * SEC, "X") == 1        # missed periods collapse into one
    assert plan.is_stale("okx", 24 * SEC) and not plan.is_stale("okx", 25 * SEC)
    assert plan.next_event_ns("okx", 25 * SEC) == 32 * SEC
    assert plan.next_event_ns("okx", 32 * SEC) == 34 * SEC


def test_next_event_without_period() -> None:
    plan = FaultPlan({"gate": VenueFaults(drops=(Drop(3 * SEC),),
                                          restarts=(Restart(5 * SEC, SEC),))})
    assert [plan.next_event_ns("gate", t * SEC) for t in (0, 3, 5, 6)] == [
        3 * SEC, 5 * SEC, 6 * SEC, None]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_named_scenarios_build_for_every_venue(name: str) -> None:
    plan = FaultPlan.scenario(name, seed=1, start_ns=100 * SEC)
    for v in VENUES:
        assert (plan.latency_ns(v) > 0) == (name != "ideal")   # ideal: loopback speed
        assert not plan.drop_due(v, 100 * SEC - 1, "market")
        assert plan.gap_due(v, 99 * SEC, "BTC/USDT") == 0


def test_calm_has_no_faults_and_stress_has_them_all() -> None:
    calm = FaultPlan.scenario("calm", seed=2)
    stress = FaultPlan.scenario("stress", seed=2)
    times = range(0, 120 * SEC, 50 * MS)
    assert not any(calm.is_stale("binance", t) or calm.gap_due("binance", t, "S")
                   or calm.drop_due("binance", t) or calm.rate_limited("binance", t)
                   or calm.forced_reject("binance", t) for t in times)
    seen = {"gap": 0, "drop": 0, "stale": 0, "restart": 0, "down": 0, "reject": 0,
            "rate": 0, "ack_lost": 0, "ack_delay": 0}
    for t in times:
        seen["gap"] += stress.gap_due("binance", t, "S") > 0
        seen["drop"] += stress.drop_due("binance", t, "orders")
        seen["stale"] += stress.is_stale("binance", t)
        seen["restart"] += stress.restart_due("binance", t)
        seen["down"] += stress.is_down("binance", t)
        seen["reject"] += stress.forced_reject("binance", t) is not None
        seen["rate"] += stress.rate_limited("binance", t)
        seen["ack_lost"] += stress.should_drop_ack("binance", t)
        seen["ack_delay"] += stress.ack_delay_ns("binance", t) > 0
    assert all(seen.values()), seen
    assert seen["restart"] == 2     # once per 60 s period


def test_stress_venues_fail_at_different_times() -> None:
    plan = FaultPlan.scenario("stress")
    assert plan.is_down("binance", 46 * SEC) and not plan.is_down("okx", 46 * SEC)
    assert plan.is_down("okx", 51 * SEC) and plan.is_down("gate", 57 * SEC)


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="calm"):
        FaultPlan.scenario("nope")
