"""The garbage collector as CalSync's long-running processes set it up after start-up.

A process that serves or syncs holds a large, stable set of objects from start-up: modules,
classes, functions, the SQLAlchemy mappers, the web app. The cyclic collector walks all of them
again in every full collection, and an initial import triggers many: a pulled round's parsed
events (over 40 tracked objects each) stay alive until the round is applied, so they are promoted
and fill the older generations. `bench/bench_sync.py` measured the collector at about a quarter of
an import's CPU (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

# Allocations minus deallocations of tracked objects before a young collection (CPython's default
# is 700). An import allocates tens of thousands of objects per round that all survive it, so at
# 700 most young collections find nothing to free; at 10,000 the collector's share of an import
# fell from ~0.08 to ~0.035 ms per event with the peak memory within 1 MiB (bench_sync, 10x500).
YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collector() -> int:
    """Collect once, move every object still alive out of the collector's view, and let the young
    generation grow to `YOUNG_GENERATION_THRESHOLD`; returns how many objects were frozen.

    Called once, when a process has finished starting (`calsync serve`, `calsync worker`,
    `calsync demo`), never per request or per run: frozen objects are never examined again by the
    collector, so what is frozen must be what lives as long as the process (they are still freed
    the ordinary way when nothing refers to them any more). The collection first keeps start-up
    garbage (import-time cycles) from being frozen with them.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
    return gc.get_freeze_count()
