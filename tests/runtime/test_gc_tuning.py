"""`tune_garbage_collector`: what `calsync serve`, `worker` and `demo` do once started."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from calsync.runtime.gc_tuning import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector


class Node:
    """A cycle's member (a class instance, so a weak reference can watch it)."""

    partner: Node | None = None


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    """Give the frozen objects back to the collector and restore its thresholds, so other tests
    see it as before."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_live_objects_leave_the_collectors_view_and_garbage_is_not_frozen() -> None:
    kept = Node()
    garbage = Node()
    garbage.partner = Node()
    garbage.partner.partner = garbage  # a cycle: only the cyclic collector can free it
    watched = weakref.ref(garbage)
    del garbage
    frozen = tune_garbage_collector()
    assert watched() is None  # collected first, not kept alive forever by the freeze
    assert frozen > 0
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(kept)
    assert not any(candidate is kept for candidate in gc.get_objects())


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_the_young_generation_grows_and_the_older_ones_keep_their_thresholds() -> None:
    _, older, oldest = gc.get_threshold()
    tune_garbage_collector()
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, older, oldest)
