"""Seeded, scriptable latency and fault injection for the simulated venues.

The wire front-ends (`feeds/sim/server.py` and the venue codecs) ask a `FaultPlan` what to do
to each message: how long to hold it (one-way latency), whether to drop a connection now, skip
depth update ids (a sequence gap the feed must detect and resync from), go silent for a
while (a stale stream that stays connected), delay or lose an order ack, force a reject or a
rate-limit error, or take the venue down and bring it back (a restart). The plan is data:
per venue a `VenueFaults` of scheduled one-shot events (`Drop`, `Gap`, `Restart`), windows
(`Stale`) and chances (`Chance`, `ForcedReject`), optionally repeating every `period_ns`.
Named scenarios (`calm`, `gappy`, `flaky`, `stress`) are such data.

Pure and deterministic: time is an argument, one-shots fire once per (event, key, period),
and every random decision comes from a numpy Generator seeded by (seed, venue, kind), so the
latency draws of a venue never shift its reject draws or another venue's.
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from pipeline.model import VENUES, RejectReason

SEC = 1_000_000_000
MS = 1_000_000
US = 1_000
ANY = "*"

LatencyKind = Literal["fixed", "uniform", "exponential", "lognormal"]
Stream = Literal["market", "orders", "*"]


@dataclass(frozen=True, slots=True)
class Latency:
    """One-way delay: `base_ns` plus a random part — uniform on [0, spread), exponential with
    mean `spread`, or lognormal with median `spread` and shape `sigma`."""

    kind: LatencyKind = "fixed"
    base_ns: int = 0
    spread_ns: int = 0
    sigma: float = 0.5

    def sample(self, rng: np.random.Generator) -> int:
        if self.kind == "fixed" or self.spread_ns <= 0:
            return self.base_ns
        if self.kind == "uniform":
            extra = rng.random() * self.spread_ns
        elif self.kind == "exponential":
            extra = rng.standard_exponential() * self.spread_ns
        elif self.kind == "lognormal":
            extra = self.spread_ns * float(np.exp(self.sigma * rng.standard_normal()))
        else:
            raise ValueError(f"unknown latency kind {self.kind!r}")
        return self.base_ns + int(extra)


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the venue's connections of `stream` at `at_ns` (clients must reconnect)."""

    at_ns: int
    stream: Stream = "*"


@dataclass(frozen=True, slots=True)
class Gap:
    """At `at_ns`, skip `skip` depth update ids of `symbol` (`*` = every symbol)."""

    at_ns: int
    symbol: str = ANY
    skip: int = 1


@dataclass(frozen=True, slots=True)
class Stale:
    """Market data of `symbol` stops (connection stays open) during [start_ns, end_ns)."""

    start_ns: int
    end_ns: int
    symbol: str = ANY


@dataclass(frozen=True, slots=True)
class Restart:
    """The venue goes away at `at_ns` (connections dropped, refused) for `down_ns`, then comes
    back; front-ends decide what survives (books are rebuilt, sequences reset)."""

    at_ns: int
    down_ns: int


@dataclass(frozen=True, slots=True)
class Chance:
    """Probability per message during [start_ns, end_ns) (end None = for ever), repeating
    with the plan's period."""

    probability: float
    start_ns: int = 0
    end_ns: int | None = None



@dataclass(frozen=True, slots=True)
class ForcedReject:
    """A new order is refused with `reason` (the front-end puts the venue's code on it)."""

    chance: Chance
    reason: RejectReason = RejectReason.VENUE_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class VenueFaults:
    latency: Latency = Latency()
    drops: tuple[Drop, ...] = ()
    gaps: tuple[Gap, ...] = ()
    stale: tuple[Stale, ...] = ()
    restarts: tuple[Restart, ...] = ()
    ack_delay: tuple[Chance, ...] = ()
    ack_delay_latency: Latency = Latency("fixed", 50 * MS)
    ack_loss: tuple[Chance, ...] = ()
    rejects: tuple[ForcedReject, ...] = ()
    rate_limits: tuple[Chance, ...] = ()
    period_ns: int | None = None        # repeat the schedule (times are within one period)

    def shifted(self, start_ns: int) -> VenueFaults:
        """The same plan with every scheduled time moved by `start_ns`."""
        if start_ns == 0:
            return self

        def ch(c: Chance) -> Chance:
            return replace(c, start_ns=c.start_ns + start_ns,
                           end_ns=None if c.end_ns is None else c.end_ns + start_ns)
        return replace(
            self,
            drops=tuple(replace(d, at_ns=d.at_ns + start_ns) for d in self.drops),
            gaps=tuple(replace(g, at_ns=g.at_ns + start_ns) for g in self.gaps),
            stale=tuple(replace(s, start_ns=s.start_ns + start_ns, end_ns=s.end_ns + start_ns)
                        for s in self.stale),
            restarts=tuple(replace(r, at_ns=r.at_ns + start_ns) for r in self.restarts),
            ack_delay=tuple(ch(c) for c in self.ack_delay),
            ack_loss=tuple(ch(c) for c in self.ack_loss),
            rejects=tuple(replace(r, chance=ch(r.chance)) for r in self.rejects),
            rate_limits=tuple(ch(c) for c in self.rate_limits),
        )


NO_FAULTS = VenueFaults()
_KINDS = ("latency", "ack_delay", "ack_loss", "reject", "rate_limit")


@dataclass
class _VenueState:
    faults: VenueFaults
    rngs: dict[str, np.random.Generator]
    fired: dict[tuple[str, int, str], int] = field(default_factory=dict)


class FaultPlan:
    """The query side: front-ends call these per message / per tick."""

    def __init__(self, venues: Mapping[str, VenueFaults], seed: int = 0) -> None:
        self.seed = seed
        self._state: dict[str, _VenueState] = {}
        for v_index, venue in enumerate(sorted(set(venues) | set(VENUES))):
            faults = venues.get(venue, NO_FAULTS)
            rngs = {k: np.random.default_rng([seed, v_index, k_index])
                    for k_index, k in enumerate(_KINDS)}
            self._state[venue] = _VenueState(faults, rngs)

    @classmethod
    def scenario(cls, name: str, seed: int = 0, venues: Sequence[str] = VENUES,
                 start_ns: int = 0) -> FaultPlan:
        """A named scenario (`calm`, `gappy`, `flaky`, `stress`) for `venues`, its schedule
        starting at `start_ns`."""
        try:
            spec = SCENARIOS[name]
        except KeyError:
            raise KeyError(f"unknown fault scenario {name!r}; known: {sorted(SCENARIOS)}") \
                from None
        return cls({v: spec.get(v, spec[ANY]).shifted(start_ns) for v in venues}, seed)

    def faults(self, venue: str) -> VenueFaults:
        return self._st(venue).faults

    # -- latency and acks -------------------------------------------------------------------
    def latency_ns(self, venue: str) -> int:
        st = self._st(venue)
        return st.faults.latency.sample(st.rngs["latency"])

    def ack_delay_ns(self, venue: str, now_ns: int) -> int:
        """Extra delay for this order ack (0 = none)."""
        st = self._st(venue)
        if self._roll(st, "ack_delay", st.faults.ack_delay, now_ns):
            return st.faults.ack_delay_latency.sample(st.rngs["ack_delay"])
        return 0

    def should_drop_ack(self, venue: str, now_ns: int) -> bool:
        """Lose this ack: the order happened, the client never hears (status unknown)."""
        st = self._st(venue)
        return self._roll(st, "ack_loss", st.faults.ack_loss, now_ns)

    # -- requests ---------------------------------------------------------------------------
    def forced_reject(self, venue: str, now_ns: int) -> RejectReason | None:
        st = self._st(venue)
        rng = st.rngs["reject"]
        for r in st.faults.rejects:
            if self._chance_on(st, r.chance, now_ns) and rng.random() < r.chance.probability:
                return r.reason
        return None

    def rate_limited(self, venue: str, now_ns: int) -> bool:
        st = self._st(venue)
        return self._roll(st, "rate_limit", st.faults.rate_limits, now_ns)

    # -- streams ----------------------------------------------------------------------------
    def drop_due(self, venue: str, now_ns: int, stream: Stream = "market") -> bool:
        """True once per scheduled drop of `stream` whose time has come."""
        st = self._st(venue)
        due = False
        for i, d in enumerate(st.faults.drops):
            if d.stream in (ANY, stream) and self._one_shot(st, "drop", i, stream, d.at_ns,
                                                            now_ns):
                due = True
        return due

    def gap_due(self, venue: str, now_ns: int, symbol: str) -> int:
        """Update ids of `symbol` to skip now (0 = none); each gap fires once per symbol."""
        st = self._st(venue)
        skip = 0
        for i, g in enumerate(st.faults.gaps):
            if g.symbol in (ANY, symbol) and self._one_shot(st, "gap", i, symbol, g.at_ns,
                                                            now_ns):
                skip += g.skip
        return skip

    def is_stale(self, venue: str, now_ns: int, symbol: str = ANY) -> bool:
        st = self._st(venue)
        return any(self._window(st, s.start_ns, s.end_ns, now_ns)
                   and (s.symbol == ANY or symbol in (ANY, s.symbol)) for s in st.faults.stale)

    def restart_due(self, venue: str, now_ns: int) -> bool:
        """True once when a scheduled restart begins (drop everything, start refusing)."""
        st = self._st(venue)
        due = False
        for i, r in enumerate(st.faults.restarts):
            if self._one_shot(st, "restart", i, ANY, r.at_ns, now_ns):
                due = True
        return due

    def is_down(self, venue: str, now_ns: int) -> bool:
        st = self._st(venue)
        return any(self._window(st, r.at_ns, r.at_ns + r.down_ns, now_ns)
                   for r in st.faults.restarts)

    def next_event_ns(self, venue: str, after_ns: int) -> int | None:
        """Earliest scheduled time strictly after `after_ns` (drops, gaps, restarts and the
        edges of stale and down windows), so a driver can arm one timer."""
        st = self._st(venue)
        f = st.faults
        times = [d.at_ns for d in f.drops] + [g.at_ns for g in f.gaps]
        times += [t for s in f.stale for t in (s.start_ns, s.end_ns)]
        times += [t for r in f.restarts for t in (r.at_ns, r.at_ns + r.down_ns)]
        if not times:
            return None
        if f.period_ns is None:
            later = [t for t in times if t > after_ns]
            return min(later) if later else None
        cands = []
        for t in times:
            k = 0 if t > after_ns else (after_ns - t) // f.period_ns + 1
            cands.append(t + k * f.period_ns)
        return min(cands)

    # -- internals ---------------------------------------------------------------------------
    def _st(self, venue: str) -> _VenueState:
        st = self._state.get(venue)
        if st is None:  # a venue nobody scripted: no faults, still its own seeded streams
            tag = zlib.crc32(venue.encode())
            st = self._state[venue] = _VenueState(
                NO_FAULTS, {k: np.random.default_rng([self.seed, tag, j])
                               for j, k in enumerate(_KINDS)})
        return st

    @staticmethod
    def _window(st: _VenueState, start_ns: int, end_ns: int | None, now_ns: int) -> bool:
        """`now_ns` in [start, end), repeating every period when the plan has one."""
        if now_ns < start_ns:
            return False
        if end_ns is None:
            return True
        p = st.faults.period_ns
        if p is None:
            return now_ns < end_ns
        return (now_ns - start_ns) % p < end_ns - start_ns

    def _chance_on(self, st: _VenueState, c: Chance, now_ns: int) -> bool:
        return self._window(st, c.start_ns, c.end_ns, now_ns)

    def _roll(self, st: _VenueState, kind: str, chances: tuple[Chance, ...],
              now_ns: int) -> bool:
        if not chances:
            return False
        rng = st.rngs[kind]
        return any(self._chance_on(st, c, now_ns) and rng.random() < c.probability
                   for c in chances)

    def _one_shot(self, st: _VenueState, kind: str, index: int, key: str, at_ns: int,
                  now_ns: int) -> bool:
        if now_ns < at_ns:
            return False
        p = st.faults.period_ns
        cycle = 0 if p is None else (now_ns - at_ns) // p
        k = (kind, index, key)
        if st.fired.get(k, -1) >= cycle:
            return False
        st.fired[k] = cycle
        return True


# -- named scenarios (times relative to the scenario start) ------------------------------------
_CALM = VenueFaults(latency=Latency("uniform", base_ns=300 * US, spread_ns=200 * US))

_GAPPY = VenueFaults(
    latency=Latency("lognormal", base_ns=300 * US, spread_ns=700 * US, sigma=0.6),
    gaps=(Gap(5 * SEC), Gap(13 * SEC, skip=3), Gap(21 * SEC), Gap(27 * SEC, skip=10)),
    stale=(Stale(17 * SEC, 19 * SEC),),
    period_ns=30 * SEC,
)

_FLAKY = VenueFaults(
    latency=Latency("lognormal", base_ns=500 * US, spread_ns=1500 * US, sigma=0.9),
    drops=(Drop(8 * SEC, "market"), Drop(18 * SEC, "orders"), Drop(28 * SEC)),
    gaps=(Gap(12 * SEC),),
    ack_delay=(Chance(0.02),),
    ack_delay_latency=Latency("exponential", base_ns=20 * MS, spread_ns=80 * MS),
    ack_loss=(Chance(0.005),),
    # 1 % refused at random, and an overloaded half-second (as a venue's "server busy") in
    # which every order is: a 30 s run sees rejects for certain, not with ~95 % odds
    rejects=(ForcedReject(Chance(0.01), RejectReason.VENUE_UNAVAILABLE),
             ForcedReject(Chance(1.0, 14 * SEC, 14_500 * MS), RejectReason.VENUE_UNAVAILABLE)),
    rate_limits=(Chance(1.0, 22 * SEC, 23 * SEC),),
    period_ns=30 * SEC,
)

_STRESS = VenueFaults(
    latency=Latency("exponential", base_ns=1 * MS, spread_ns=4 * MS),
    drops=(Drop(7 * SEC, "market"), Drop(19 * SEC, "orders"), Drop(33 * SEC)),
    gaps=tuple(Gap(t * SEC, skip=1 + t % 4) for t in range(3, 60, 6)),
    stale=(Stale(10 * SEC, 14 * SEC), Stale(40 * SEC, 41 * SEC)),
    restarts=(Restart(45 * SEC, 3 * SEC),),
    ack_delay=(Chance(0.10),),
    ack_delay_latency=Latency("lognormal", base_ns=10 * MS, spread_ns=100 * MS, sigma=1.0),
    ack_loss=(Chance(0.02),),
    rejects=(ForcedReject(Chance(0.03), RejectReason.VENUE_UNAVAILABLE),
             ForcedReject(Chance(0.01), RejectReason.TIMEOUT_UNKNOWN)),
    rate_limits=(Chance(0.5, 25 * SEC, 30 * SEC), Chance(0.01)),
    period_ns=60 * SEC,
)

# "ideal" injects nothing (loopback speed: the default, for tests and benchmarks); "calm" is a
# quiet real venue (a few hundred microseconds each way); the rest add scheduled faults
SCENARIOS: Mapping[str, Mapping[str, VenueFaults]] = {
    "ideal": {ANY: NO_FAULTS},
    "calm": {ANY: _CALM},
    "gappy": {ANY: _GAPPY},
    "flaky": {ANY: _FLAKY},
    # venues fail at different moments: OKX's schedule runs 5 s behind, Gate's 11 s
    "stress": {ANY: _STRESS, "okx": _STRESS.shifted(5 * SEC), "gate": _STRESS.shifted(11 * SEC)},
}
