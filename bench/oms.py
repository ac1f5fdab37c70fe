"""Benchmark: order throughput through the OMS and the RMS, in process (`oms_rms_orders_per_s`).

One cycle = `OMS.create` (client id, PENDING_NEW, the `NewOrder`) -> `RMS.check` (every
pre-trade check passes, as in normal trading) -> ack report -> full-fill report, both through
`OMS.on_report`. Orders rotate over 3 venues and alternate buy/sell so positions stay within
limits; the venue's reports are built before the timed loop (decoding them is the gateway's
work, not the engine's), using the ids the OMS will issue.

Garbage collection as in the engine process: not per allocation but on its 100 ms timer (a
young-generation pass every `GC_EVERY` orders, the target rate's worth per tick, timed).

Baseline, measured in the same run on the same orders: the OMS cycle without the RMS check.
Also reported: the cycle with the portfolio update of each fill (the full engine-side cost of
an order), and RMS.check alone.

Two paths, measured back to back in the same run, rounds interleaved: the active one (the
compiled `engine._oms_fast` / `engine._rms_fast` when built, `path` says which) and the pure
Python classes (`engine.oms.PureOMS`, `engine.rms.PureRMS`), with the ratio between them. The
headline `oms_rms_orders_per_s` is the active path's.

    python -m bench.oms [--json] [--quick]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from decimal import Decimal
from typing import Any

from engine import oms as oms_mod
from engine import rms as rms_mod
from engine.client_ids import ClientIdFactory
from engine.oms import OMS, PureOMS
from engine.portfolio import Portfolio
from engine.rms import RMS, PureRMS
from pipeline.config import RiskConfig, SystemConfig
from pipeline.messages import ExecReport, ExecType
from pipeline.model import Instrument, OrderStatus, Side, TimeInForce

VENUES = ("binance", "okx", "gate")
SYM = "BTC/USDT"
START_MS = 1_760_000_000_000
FAIR = 6_000_000            # 60,000.00 in 0.01 ticks
LOTS = 100                  # 0.001 BTC
FEE = Decimal("0.006")
GC_EVERY = 20_000           # orders per engine timer tick (100 ms) at 200k orders/s


def _instruments() -> dict[tuple[str, str], Instrument]:
    return {(v, SYM): Instrument(v, SYM, "BTCUSDT", "BTC", "USDT", Decimal("0.01"),
                                 Decimal("0.00001")) for v in VENUES}


def _plan(n: int) -> list[tuple[str, Side, int, ExecReport, ExecReport]]:
    """Per order: venue, side, price and its ack and fill reports (ids predicted)."""
    ids = {v: ClientIdFactory(v, START_MS) for v in VENUES}
    out = []
    for i in range(n):
        v = VENUES[i % 3]
        side = Side.BUY if (i // 3) % 2 == 0 else Side.SELL
        price = FAIR - 5 if side is Side.BUY else FAIR + 5
        cid = ids[v].next_id()
        ack = ExecReport(v, SYM, cid, str(i), ExecType.NEW, OrderStatus.NEW, side, price, LOTS,
                         ts_recv=i)
        fill = ExecReport(v, SYM, cid, str(i), ExecType.TRADE, OrderStatus.FILLED, side, price,
                          LOTS, LOTS, LOTS, price, FEE, "USDT", f"T{i}", True, ts_recv=i)
        out.append((v, side, price, ack, fill))
    return out


def _run(plan: list[tuple[str, Side, int, ExecReport, ExecReport]], with_rms: bool,
         with_portfolio: bool, oms_cls: type = OMS, rms_cls: type = RMS) -> tuple[float, Any, Any]:
    insts = _instruments()
    oms = oms_cls({v: ClientIdFactory(v, START_MS) for v in VENUES})
    risk = RiskConfig.model_validate({"max_orders_per_second": 1e12,
                                      "max_position_per_venue": 1.0, "max_position_total": 3.0})
    rms = rms_cls(risk, SystemConfig.model_validate({"max_orders_per_second": 1e12}), insts)
    pf = Portfolio()
    create, on_report, check = oms.create, oms.on_report, rms.check
    tif = TimeInForce.POST_ONLY
    fair = float(FAIR)
    gc.collect()
    gc.freeze()  # setup objects (the plan) out of the collector's way, as the engine does
    gc.disable()  # the engine collects on its 100 ms timer, not per order: so do we, below
    t0 = time.perf_counter()
    for start in range(0, len(plan), GC_EVERY):
        for i, (v, side, price, ack, fill) in enumerate(plan[start:start + GC_EVERY], start):
            msg = create(v, SYM, side, price, LOTS, tif, i, i)
            if with_rms and check(msg, fair, oms, pf, i) is not None:
                raise RuntimeError(f"order {i} denied: {rms.denials[-1]}")
            on_report(ack)
            events = on_report(fill)
            if with_portfolio:
                f = events[0]
                pf.apply_fill(v, insts[(v, SYM)], f.side, f.price_ticks, f.lots,  # type: ignore
                              f.fee, f.fee_asset)  # type: ignore[union-attr]
        gc.collect(0)   # the timer's young collection, timed with the orders it follows
    dt = time.perf_counter() - t0
    gc.enable()
    gc.unfreeze()
    if oms.counters["fills"] != len(plan) or oms.n_open():
        raise RuntimeError(f"cycle broken: {oms.counters}")
    return len(plan) / dt, oms, rms


def _check_only(n: int, oms_cls: type = OMS, rms_cls: type = RMS) -> float:
    insts = _instruments()
    oms = oms_cls({v: ClientIdFactory(v, START_MS) for v in VENUES})
    rms = rms_cls(RiskConfig.model_validate({"max_orders_per_second": 1e12}),
              SystemConfig.model_validate({"max_orders_per_second": 1e12}), insts)
    pf = Portfolio()
    msgs = [oms.create(VENUES[i % 3], SYM, Side.BUY, FAIR - 5, 1, TimeInForce.POST_ONLY, 0)
            for i in range(30)]
    check = rms.check
    fair = float(FAIR)
    t0 = time.perf_counter()
    for i in range(n):
        check(msgs[i % 30], fair, oms, pf, i)
    return n / (time.perf_counter() - t0)


def run(quick: bool = False) -> dict[str, Any]:
    n = 50_000 if quick else 300_000
    plan = _plan(n)
    paths = {"active": (OMS, RMS), "pure": (PureOMS, PureRMS)}
    best: dict[str, dict[str, float]] = {p: {} for p in paths}

    def keep(p: str, k: str, v: float) -> None:
        best[p][k] = max(best[p].get(k, 0.0), v)

    for _ in range(1 if quick else 3):   # interleaved, best of: scheduling noise on 2 cores
        for p, (oc, rc) in paths.items():   # active and pure back to back, same orders
            keep(p, "oms", _run(plan, False, False, oc, rc)[0])
            keep(p, "full", _run(plan, True, False, oc, rc)[0])
            keep(p, "pf", _run(plan, True, True, oc, rc)[0])
            keep(p, "check", _check_only(n, oc, rc))
    a, q = best["active"], best["pure"]
    f = a["full"]
    return {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "path_oms": oms_mod.HOT_PATH,
        "path_rms": rms_mod.HOT_PATH,
        "orders": n,
        "oms_rms_orders_per_s": round(f),
        "oms_rms_us_per_order": round(1e6 / f, 2),
        "baseline_oms_only_orders_per_s": round(a["oms"]),
        "rms_cost_ratio_vs_oms_only": round(a["oms"] / f, 2),
        "oms_rms_portfolio_orders_per_s": round(a["pf"]),
        "rms_check_only_per_s": round(a["check"]),
        "pure_oms_rms_orders_per_s": round(q["full"]),
        "pure_oms_only_orders_per_s": round(q["oms"]),
        "pure_oms_rms_portfolio_orders_per_s": round(q["pf"]),
        "pure_rms_check_only_per_s": round(q["check"]),
        "ratio_active_vs_pure_oms_rms": round(f / q["full"], 2),
        "ratio_active_vs_pure_oms_only": round(a["oms"] / q["oms"], 2),
        "ratio_active_vs_pure_rms_check": round(a["check"] / q["check"], 2),
        "target_orders_per_s": 200_000,
        "meets_target": f >= 200_000,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer orders, one round")
    args = ap.parse_args()
    res = run(args.quick)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:>34}: {v:,}" if isinstance(v, (int, float)) and not isinstance(v, bool)
                  else f"{k:>34}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
