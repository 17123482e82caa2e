"""The garbage collector as CalSync's long-running processes set it up after start-up.

A process that serves or syncs holds a large, stable set of objects from start-up: modules,
classes, functions, the SQLAlchemy mappers, the web app. The cyclic collector walks all of them
again in every full collection, and an initial import triggers many (a pulled round's parsed
events stay alive until the round is applied, so they are promoted and fill the older
generations). `bench/bench_sync.py` measured that walk at about a quarter of an import's CPU;
moving the start-up objects out of the collector's view took 0.08-0.11 ms off every imported
event (docs/benchmarks.md).
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then move every object still alive out of the collector's view; returns how
    many objects are now frozen.

    Called once, when a process has finished starting (`calsync serve`, `calsync worker`,
    `calsync demo`), never per request or per run: frozen objects are never collected, so what is
    frozen must be what lives as long as the process. The collection first keeps start-up garbage
    (import-time cycles) from being frozen with them.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
