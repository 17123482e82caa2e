"""calendarView delta (GRAPH.md §3): rounds of pages tied together by opaque, signed tokens.

A token carries the mailbox, its delta generation, the window, the sequence number the round
reports changes after (`since`, none for an initial round), the sequence number when the round
began (`upto`, the next round's `since`) and a cursor: the last id handed out. Pages are ordered by
id, so an event deleted mid-round cannot shift others past the cursor.

What a round reports:
- initial round: every single instance, occurrence and exception in the window;
- later rounds: each item changed since `since`, in full when it is in the window now, otherwise
  as `@removed` (deleted, or changed outside the window: the documented noise [i6599]); for a
  changed series, its current occurrences in full and occurrences it no longer has as `@removed`.

Optional behaviours Graph is documented to show, off by default, switchable in `EmulatorConfig`:
an empty first page that still carries a nextLink [i7790], and the last item of a page repeated at
the top of the next one (duplicates within a round [dqo]).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from calsync.emulator.errors import sync_state_not_found
from calsync.emulator.ids import encode_id
from calsync.emulator.instances import (
    CalendarEntry,
    calendar_view,
    entry_for_item,
    expand_series,
    overlaps,
    series_entries,
)
from calsync.emulator.store import EmulatorStore, StoredItem, format_time, parse_time


@dataclass(frozen=True)
class DeltaState:
    """Everything a delta token stands for."""

    mailbox_id: str
    generation: int
    window_start: str
    window_end: str
    since: int | None
    upto: int
    after: str = ""
    page: int = 0

    @property
    def window(self) -> tuple[datetime, datetime]:
        return parse_time(self.window_start), parse_time(self.window_end)


class DeltaTokens:
    """Signs and reads delta/skip tokens; anything forged, foreign or expired is 410."""

    def __init__(self, store: EmulatorStore) -> None:
        self.store = store

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.store.token_secret, payload, hashlib.sha256).hexdigest()[:32]

    def encode(self, state: DeltaState) -> str:
        payload = json.dumps(asdict(state), separators=(",", ":")).encode()
        text = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return text + "." + self._sign(payload)

    def decode(self, token: str, mailbox_id: str) -> DeltaState:
        text, _, signature = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if not hmac.compare_digest(self._sign(payload), signature):
                raise sync_state_not_found()
            state = DeltaState(**json.loads(payload))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise sync_state_not_found() from exc
        if state.mailbox_id != mailbox_id or state.generation != self.store.generation(mailbox_id):
            raise sync_state_not_found()
        return state


@dataclass(frozen=True)
class DeltaItem:
    """One line of a delta page: an entry in full, or an id reported as `@removed`."""

    id: str
    entry: CalendarEntry | None


@dataclass(frozen=True)
class DeltaPage:
    items: list[DeltaItem]
    next_state: DeltaState
    finished: bool


def start_round(
    store: EmulatorStore, mailbox_id: str, start: datetime, end: datetime
) -> DeltaState:
    return DeltaState(
        mailbox_id=mailbox_id,
        generation=store.generation(mailbox_id),
        window_start=format_time(start),
        window_end=format_time(end),
        since=None,
        upto=store.current_seq,
    )


def _round_items(store: EmulatorStore, state: DeltaState) -> dict[str, DeltaItem]:
    start, end = state.window
    if state.since is None:
        return {
            encode_id(e.ref): DeltaItem(encode_id(e.ref), e)
            for e in calendar_view(store, state.mailbox_id, start, end)
        }
    found: dict[str, DeltaItem] = {}

    def full(entry: CalendarEntry) -> None:
        key = encode_id(entry.ref)
        found[key] = DeltaItem(key, entry)

    def removed(key: str) -> None:
        if key not in found:
            found[key] = DeltaItem(key, None)

    for item in store.items_changed_since(state.mailbox_id, state.since):
        if item.kind == "seriesMaster":
            _series_changes(store, item, state.since, start, end, full, removed)
            continue
        key = encode_id(item.ref)
        if item.deleted:
            removed(key)
            continue
        entry = entry_for_item(item)
        if overlaps(entry.start_utc, entry.end_utc, start, end):
            full(entry)
        else:
            removed(key)
    return found


def _series_changes(
    store: EmulatorStore,
    master: StoredItem,
    since: int,
    start: datetime,
    end: datetime,
    full: Callable[[CalendarEntry], None],
    removed: Callable[[str], None],
) -> None:
    current: list[CalendarEntry] = []
    if not master.deleted:
        current = series_entries(store, master, start, end, include_exceptions=True)
    current_ids = {encode_id(e.ref) for e in current}
    earlier: set[str] = set()
    for version in [*store.series_versions_since(master.key, since), master]:
        earlier.update(encode_id(e.ref) for e in expand_series(version, start, end))
    for entry in current:
        full(entry)
    for key in sorted(earlier - current_ids):
        removed(key)
    if not current and not earlier:
        removed(encode_id(master.ref))


class RoundCache:
    """The items of recently paged rounds, so a round of N pages is computed once, not N times.

    A round's content is fixed when its first page is computed; changes made while it is being
    paged have sequence numbers above its `upto`, so the next round reports them.
    """

    def __init__(self, rounds: int = 16) -> None:
        self._rounds: OrderedDict[tuple[Any, ...], tuple[dict[str, DeltaItem], list[str]]] = (
            OrderedDict()
        )
        self._size = rounds
        self._lock = threading.Lock()

    def items(
        self, store: EmulatorStore, state: DeltaState
    ) -> tuple[dict[str, DeltaItem], list[str]]:
        key = (
            state.mailbox_id,
            state.generation,
            state.window_start,
            state.window_end,
            state.since,
            state.upto,
        )
        with self._lock:
            cached = self._rounds.get(key)
            if cached is not None and state.page > 0:
                self._rounds.move_to_end(key)
                return cached
        items = _round_items(store, state)
        computed = (items, sorted(items))
        with self._lock:
            self._rounds[key] = computed
            while len(self._rounds) > self._size:
                self._rounds.popitem(last=False)
        return computed

    def clear(self) -> None:
        with self._lock:
            self._rounds.clear()


def next_page(
    store: EmulatorStore,
    state: DeltaState,
    page_size: int,
    *,
    empty_first_page: bool,
    duplicate_items: bool,
    cache: RoundCache | None = None,
) -> DeltaPage:
    """The page after `state`'s cursor, and the state its nextLink or deltaLink carries."""
    if empty_first_page and state.page == 0:
        return DeltaPage([], replace(state, page=1), finished=False)
    if cache is None:
        items = _round_items(store, state)
        ordered = sorted(items)
    else:
        items, ordered = cache.items(store, state)
    start = bisect.bisect_right(ordered, state.after)
    keys = ordered[start:]
    chosen = keys[:page_size]
    page = [items[k] for k in chosen]
    if duplicate_items and state.after and state.after in items:
        page.insert(0, items[state.after])
    if len(keys) > page_size:
        return DeltaPage(page, replace(state, after=chosen[-1], page=state.page + 1), False)
    following = DeltaState(
        mailbox_id=state.mailbox_id,
        generation=state.generation,
        window_start=state.window_start,
        window_end=state.window_end,
        since=state.upto,
        upto=state.upto,
    )
    return DeltaPage(page, following, finished=True)


def begin_next_round(store: EmulatorStore, state: DeltaState) -> DeltaState:
    """A deltaLink was followed: report changes after its `since`, up to now."""
    return replace(state, upto=store.current_seq, after="", page=0)
