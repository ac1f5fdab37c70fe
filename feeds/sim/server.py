"""Simulated venues on loopback: `hft sim` standalone, or `hft:sim` under the supervisor.

For each enabled venue: a `SimVenue` (accounts, matching engines), that venue's wire
front-end (`feeds/sim/<venue>_front.py: make_front`) on its own port, and a seeded
`MarketSimulator` whose background flow trades through the same engines. One asyncio loop
serves all three; every `TICK_S` it advances each market to the wall clock, publishes what
changed (the hub turns engine changes into depth diffs, BBO, trades and private events),
fires dead-man switches and applies the scenario's faults (dropped connections, depth gaps,
stale streams). The first line `hft sim` prints is one JSON object with every venue's
loopback endpoints, so another program can point a client at it.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from feeds.sim import fast
from feeds.sim.endpoints import SIM_CREDENTIALS, sim_endpoints, sim_port
from feeds.sim.faults import FaultPlan
from feeds.sim.instruments import reference_price
from feeds.sim.market import MarketSimulator, SymbolParams
from feeds.sim.venue import SimVenue
from pipeline import aio
from pipeline.compiled_guard import compiled_summary
from pipeline.config import Config
from pipeline.errors import HftError
from pipeline.gc_tuning import settle_after_startup

log = logging.getLogger(__name__)

TICK_S = 0.005
MAX_ARRIVALS_PER_TICK = 500  # market arrivals per venue per tick, at most
UNTHROTTLED = 1 << 62  # a count no benchmark reaches ([sim] order_rate_limits = false)
VENUE_SEED_OFFSET = {"binance": 0, "okx": 1000, "gate": 2000}


class RunningVenue:
    def __init__(self, venue: SimVenue, front: Any, market: MarketSimulator,
                 runner: web.AppRunner) -> None:
        self.venue = venue
        self.front = front
        self.market = market
        self.runner = runner
        self.events = 0

    def advance(self, now_ns: int) -> bool:
        """Run the market up to `now_ns` and publish what changed. True when the configured
        rate is beyond what a tick can serve: the market then runs flat out, and the caller
        must come back as soon as the connections have been served, not a tick later."""
        m = self.market
        saturated = m.rate_hz * len(self.venue.engines) * TICK_S > MAX_ARRIVALS_PER_TICK
        if saturated:  # (benchmarks) as fast as we can, bounded per pass so the loop keeps
            # serving connections in between
            events = m.step(MAX_ARRIVALS_PER_TICK)
        else:
            events = m.advance_to(now_ns)
        self.publish(events)
        return saturated

    def publish(self, events: list[Any]) -> None:
        self.events += len(events)
        by_symbol: dict[str, list[Any]] = defaultdict(list)
        for ev in events:
            by_symbol[ev.symbol].append(ev)
        for symbol in self.venue.engines:  # level changes may come without a public event
            self.venue.dispatch(symbol, by_symbol.get(symbol, []))


# ~3 bp per sqrt(second) and a thin crowd (about 40 resting orders a side over 25+ levels): a
# lively session in which quotes a few bp from the mid are reached within a short paper run
SIM_VOL_BPS = 3.0
TYPICAL_ORDER_QUOTE = Decimal("2000")  # a background order is worth about this much


def _typical_lots(inst: Any) -> int:
    """Background order size: ~TYPICAL_ORDER_QUOTE of notional, at least the venue minimum."""
    lots = int(TYPICAL_ORDER_QUOTE / reference_price(inst.symbol) / inst.lot_size)
    return max(lots, inst.qty_to_lots(inst.min_qty), 1)


def _credentials(config: Config, venue: str) -> tuple[dict[str, str], dict[str, str]]:
    """The sim accepts its public sim keys and, when configured, the config's own keys."""
    key, secret, pp = SIM_CREDENTIALS[venue]
    secrets, phrases = {key: secret}, {key: pp}
    ex = getattr(config.exchanges, venue)
    if ex.api_key.get_secret_value():
        k = ex.api_key.get_secret_value()
        secrets[k] = ex.secret_key.get_secret_value()
        phrases[k] = ex.passphrase.get_secret_value()
    return secrets, phrases


async def start_venue(config: Config, venue_name: str, port: int | None = None
                      ) -> RunningVenue | None:
    ex = getattr(config.exchanges, venue_name)
    try:
        front_mod = importlib.import_module(f"feeds.sim.{venue_name}_front")
    except ModuleNotFoundError as exc:
        log.error("sim: no front-end for %s (%s); not served", venue_name, exc)
        return None
    secrets, phrases = _credentials(config, venue_name)
    venue = SimVenue(venue_name, ex.symbols, secrets, time.time_ns, phrases)
    kwargs: dict[str, Any] = {}
    if venue_name == "okx":   # OKX's simulator does not count orders at all
        kwargs["disable_ws_snapshot"] = config.sim.disable_okx_ws_snapshot
    elif venue_name == "gate":
        kwargs["order_rate_limits"] = config.sim.order_rate_limits
    elif venue_name == "binance" and not config.sim.order_rate_limits:
        # order.place costs request weight as well: both counts are lifted
        kwargs["orders_per_10s"] = kwargs["orders_per_day"] = UNTHROTTLED
        kwargs["weight_limit"] = UNTHROTTLED
    front, app = front_mod.make_front(venue, **kwargs)
    params = {i.symbol: SymbolParams(mid=reference_price(i.symbol), size_lots=_typical_lots(i),
                                     vol_bps=SIM_VOL_BPS, jump_rate_hz=0.05, jump_bps=10.0,
                                     target_orders=40, market_share=0.12)
              for i in venue.instruments}
    now = time.time_ns()
    market = MarketSimulator(venue.instruments, venue.rules, venue.accounts, params,
                             seed=config.sim.seed + VENUE_SEED_OFFSET.get(venue_name, 0),
                             rate_hz=config.sim.message_rate, start_ns=now, prefill=False,
                             engines=venue.engines)
    rv = RunningVenue(venue, front, market, web.AppRunner(app, access_log=None))
    rv.publish(market.prefill(now))
    await rv.runner.setup()
    listen = sim_port(config, venue_name) if port is None else port
    site = web.TCPSite(rv.runner, config.sim.host, listen, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:   # e.g. the port is taken: say which, not a traceback
        await rv.runner.cleanup()
        raise SimStartError(f"sim {venue_name}: cannot listen on {config.sim.host}:{listen}: "
                            f"{exc.strerror or exc}") from None
    return rv


class SimStartError(HftError):
    """A simulated venue could not start (its port cannot be bound)."""


def endpoints_json(config: Config, venues: list[str]) -> str:
    out = {}
    for v in venues:
        e = sim_endpoints(config, v)
        out[v] = {"rest": e.rest, "ws_public": e.ws_public,
                  ("ws_api" if v != "okx" else "ws_private"): e.ws_private}
    return json.dumps(out)


async def serve(config: Config, stop: asyncio.Event, on_tick: Callable[[], None] | None = None,
                announce: Callable[[str], None] | None = None,
                scenario: str | None = None) -> dict[str, RunningVenue]:
    running: dict[str, RunningVenue] = {}
    for name in config.exchanges.enabled():
        rv = await start_venue(config, name)
        if rv is not None:
            running[name] = rv
    if announce is not None:
        announce(endpoints_json(config, list(running)))
    name = scenario or config.sim.scenario
    # "ideal" needs no plan at all: nothing is drawn per frame
    faults = None if name in ("ideal", "") else \
        FaultPlan.scenario(name, seed=config.sim.seed, start_ns=time.time_ns())
    for rv in running.values():
        rv.venue.faults = faults
    log.info("sim serving %s", ", ".join(f"{n}:{sim_port(config, n)}" for n in running))
    log.info("sim market model and matching engine: %s", fast.describe())
    log.info("sim order path modules: %s", compiled_summary())
    settle_after_startup()   # venues built: their heap is long-lived (see pipeline.gc_tuning)
    try:
        while not stop.is_set():
            now = time.time_ns()
            saturated = False
            for name, rv in running.items():
                if faults is not None:
                    _apply_faults(faults, name, rv, now)
                saturated |= rv.advance(now)
                rv.venue.check_deadman()
            if on_tick is not None:
                on_tick()
            # a saturated market only yields (sockets and writers run, then straight back):
            # sleeping a whole tick after each pass left the benchmark's venue idle a third
            # of the time
            await asyncio.sleep(0 if saturated else TICK_S)
    finally:
        for rv in running.values():
            drop = getattr(rv.front, "drop_connections", None)
            if drop is not None:
                res = drop()
                if asyncio.iscoroutine(res):
                    await res
            await rv.runner.cleanup()
    return running


def _apply_faults(faults: FaultPlan, name: str, rv: RunningVenue, now: int) -> None:
    venue = rv.venue
    venue.stale = faults.is_stale(name, now)
    for symbol in venue.engines:
        if faults.gap_due(name, now, symbol):
            venue.suppress_depth.add(symbol)
    restart = faults.restart_due(name, now)
    if restart:
        log.warning("sim %s: scheduled venue restart (connections dropped)", name)
    # while a restart keeps the venue down, every (re)connection is cut again at once
    if faults.drop_due(name, now) or restart or faults.is_down(name, now):
        drop = getattr(rv.front, "drop_connections", None)
        if drop is not None:
            res = drop()
            if asyncio.iscoroutine(res):
                asyncio.ensure_future(res)


def main(ctx: Any) -> int:
    """Supervisor entry (`hft:sim`)."""
    stop = asyncio.Event()

    def tick() -> None:
        ctx.beat()
        ctx.poll_commands(timeout=0)
        if ctx.stopping():
            stop.set()

    try:
        aio.run(serve(ctx.config, stop, on_tick=tick))
    except SimStartError as exc:
        log.error("%s", exc)
        return 1
    return 0
