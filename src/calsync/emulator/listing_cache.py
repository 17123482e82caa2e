"""Recently computed event lists, reused while nothing in the store has changed.

Listing a big calendar expands every series and reads every event in the window; paging through
it with `$skip` would redo that for each page. Entries are cached under the store's change
sequence number, which every write (and a reset) moves on, so a cached list is exactly what a
fresh computation would return.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from calsync.emulator.instances import CalendarEntry
from calsync.emulator.store import EmulatorStore


class ListingCache:
    """A small LRU of entry lists keyed by (what was listed, store sequence number)."""

    def __init__(self, store: EmulatorStore, size: int = 8) -> None:
        self.store = store
        self._size = size
        self._lists: OrderedDict[tuple[Hashable, int], list[CalendarEntry]] = OrderedDict()
        self._lock = threading.Lock()

    def entries(
        self, what: Hashable, compute: Callable[[], list[CalendarEntry]]
    ) -> list[CalendarEntry]:
        key = (what, self.store.current_seq)
        with self._lock:
            cached = self._lists.get(key)
            if cached is not None:
                self._lists.move_to_end(key)
                return cached
        computed = compute()
        with self._lock:
            self._lists[key] = computed
            while len(self._lists) > self._size:
                self._lists.popitem(last=False)
        return computed
