"""How the allocation-heavy I/O processes (the simulated venues, the gateways) run Python's
cyclic garbage collector once they are up.

CPython collects its youngest generation every 700 net container allocations, and the
collections of the older generations walk every long-lived object again. A venue simulator or
a gateway allocates several dicts, lists and reports per order and keeps a large, stable heap
(instruments, books, order records, memo tables), so at thousands of orders per second the
collector ran all the time over objects that never die: 6 % of the simulator's market model
by instruction count (callgrind, collector on vs off), and per core the simulated Gate served
9.1k order round trips/s with the default against 10.5k with this (three alternated pairs of
`bench.sim` runs, 2 cores: noisy).

`settle_after_startup()` does what the engine does at start (engine/main.py, which goes
further and schedules its own collections): collect once, freeze what survived (start-up
objects are never scanned again) and raise the young generation's threshold, so collections
come every `GEN0_THRESHOLD` allocations. Reference cycles are still collected, only in
larger, rarer batches; nothing is disabled.
"""
from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100


def settle_after_startup() -> None:
    """Collect, freeze the survivors, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
