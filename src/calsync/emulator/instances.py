"""Calendar entries as Graph shows them: stored items plus occurrences expanded from series.

`GET /events` shows single instances and series masters; calendarView, instances and delta show
single instances, occurrences and exceptions (GRAPH.md §12, fact 1). An occurrence is never stored:
it is computed from its master's rule, unless the slot holds an exception or a tombstone (a
cancelled or deleted occurrence, which is left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dateutil import rrule

from calsync.emulator.ids import ItemRef, occurrence_ical_uid
from calsync.emulator.payload import EventTime, stored_time
from calsync.emulator.recurrence import build_rule, recurrence_zone_name, starts_between
from calsync.emulator.store import EmulatorStore, StoredItem
from calsync.emulator.timezones import resolve_zone


@dataclass(frozen=True)
class CalendarEntry:
    """One event as a client sees it; `item` is its stored row (for an occurrence, the master)."""

    ref: ItemRef
    type: str
    data: dict[str, Any]
    ical_uid: str
    start_utc: datetime
    end_utc: datetime
    item: StoredItem
    master_ref: ItemRef | None = None
    original_start: datetime | None = None

    @property
    def mailbox_id(self) -> str:
        return self.item.mailbox_id


def entry_for_item(item: StoredItem) -> CalendarEntry:
    """A stored single instance, series master or exception as an entry."""
    if item.kind == "exception":
        assert item.master_key is not None
        return CalendarEntry(
            ref=item.ref,
            type="exception",
            data=item.data,
            ical_uid=item.ical_uid,
            start_utc=item.start_utc,
            end_utc=item.end_utc,
            item=item,
            master_ref=ItemRef(item.master_key),
            original_start=item.original_start,
        )
    if item.kind == "singleInstance":
        start, end = item.start_utc, item.end_utc
    else:
        start, end = event_span(item.data)  # a master's columns span the whole series
    return CalendarEntry(item.ref, item.kind, item.data, item.ical_uid, start, end, item)


def event_span(data: dict[str, Any]) -> tuple[datetime, datetime]:
    """UTC start and end of one event's own start/end fields (all-day: midnight in its zone)."""
    return stored_time(data, "start").utc, stored_time(data, "end").utc


def _series_zone(master: StoredItem) -> str:
    start_zone = str(master.data["start"]["timeZone"])
    return recurrence_zone_name(master.data["recurrence"], start_zone)


def slot_start_local(master: StoredItem) -> datetime:
    """The master's start as a naive wall-clock time in the series' zone (the rule's dtstart)."""
    start = stored_time(master.data, "start")
    zone = resolve_zone(_series_zone(master))
    return start.utc.astimezone(zone).replace(tzinfo=None)


def series_rule_and_zone(master: StoredItem) -> tuple[rrule.rrule, str]:
    return build_rule(master.data["recurrence"], slot_start_local(master)), _series_zone(master)


def occurrence_entry(master: StoredItem, slot_local: datetime, zone_name: str) -> CalendarEntry:
    """The plain occurrence of `master` starting at wall-clock `slot_local` in the series zone."""
    zone = resolve_zone(zone_name)
    start = stored_time(master.data, "start")
    end = stored_time(master.data, "end")
    original = slot_local.replace(tzinfo=zone).astimezone(UTC)
    if master.data.get("isAllDay"):
        days = (end.local.date() - start.local.date()).days
        occ_start = EventTime(datetime.combine(slot_local.date(), time()), start.zone_name)
        occ_end = EventTime(occ_start.local + timedelta(days=days), end.zone_name)
    else:
        duration = end.utc - start.utc
        start_local = original.astimezone(start.zone).replace(tzinfo=None)
        end_local = (original + duration).astimezone(end.zone).replace(tzinfo=None)
        occ_start = EventTime(start_local, start.zone_name)
        occ_end = EventTime(end_local, end.zone_name)
    data = dict(master.data)
    data["start"] = occ_start.to_json()
    data["end"] = occ_end.to_json()
    data["recurrence"] = None
    return CalendarEntry(
        ref=ItemRef(master.key, original),
        type="occurrence",
        data=data,
        ical_uid=occurrence_ical_uid(master.ical_uid, original),
        start_utc=occ_start.utc,
        end_utc=occ_end.utc,
        item=master,
        master_ref=ItemRef(master.key),
        original_start=original,
    )


def overlaps(start: datetime, end: datetime, window_start: datetime, window_end: datetime) -> bool:
    """EMULATOR CHOICE (GRAPH.md §2.2): start < windowEnd and end > windowStart; an event of zero
    length counts when it sits inside the window."""
    if start == end:
        return window_start <= start < window_end
    return start < window_end and end > window_start


def expand_series(
    master: StoredItem,
    window_start: datetime,
    window_end: datetime,
    slots: dict[datetime, StoredItem] | None = None,
) -> list[CalendarEntry]:
    """Plain occurrences of `master` overlapping the window; slots in `slots` are skipped."""
    rule, zone_name = series_rule_and_zone(master)
    zone = resolve_zone(zone_name)
    start, end = event_span(master.data)
    margin = (end - start) + timedelta(days=2)
    after = (window_start - margin).astimezone(zone).replace(tzinfo=None)
    before = (window_end + timedelta(days=2)).astimezone(zone).replace(tzinfo=None)
    taken = slots or {}
    result = []
    for slot in starts_between(rule, after, before):
        entry = occurrence_entry(master, slot, zone_name)
        if entry.original_start in taken:
            continue
        if overlaps(entry.start_utc, entry.end_utc, window_start, window_end):
            result.append(entry)
    return result


def occurrence_at(
    store: EmulatorStore, master: StoredItem, original: datetime
) -> CalendarEntry | None:
    """The occurrence in slot `original` (UTC), if the rule has one there and it is not taken."""
    rule, zone_name = series_rule_and_zone(master)
    zone = resolve_zone(zone_name)
    local = original.astimezone(zone).replace(tzinfo=None)
    if not starts_between(rule, local, local + timedelta(microseconds=1)):
        return None
    slot = store.get_slot(master.key, original)
    if slot is not None and blocks_slot(slot):
        return None
    return occurrence_entry(master, local, zone_name)


def calendar_view(
    store: EmulatorStore, mailbox_id: str, window_start: datetime, window_end: datetime
) -> list[CalendarEntry]:
    """Single instances, occurrences and exceptions overlapping the window, ordered by start."""
    entries: list[CalendarEntry] = []
    for item in store.items_overlapping(
        mailbox_id, ("singleInstance", "exception"), window_start - timedelta(days=1), window_end
    ):
        entry = entry_for_item(item)
        if overlaps(entry.start_utc, entry.end_utc, window_start, window_end):
            entries.append(entry)
    for master in store.items_overlapping(
        mailbox_id, ("seriesMaster",), window_start - timedelta(days=2), window_end
    ):
        entries.extend(
            series_entries(store, master, window_start, window_end, include_exceptions=False)
        )
    entries.sort(key=lambda e: (e.start_utc, e.end_utc, e.ical_uid))
    return entries


def series_entries(
    store: EmulatorStore,
    master: StoredItem,
    window_start: datetime,
    window_end: datetime,
    *,
    include_exceptions: bool,
) -> list[CalendarEntry]:
    """Occurrences of one series in the window, plus its live exceptions when asked.

    calendarView finds exceptions through its own time-indexed scan, so it leaves them out here.
    """
    stored = store.exceptions_of(master.key)
    slots = {s.original_start: s for s in stored if s.original_start and blocks_slot(s)}
    result = expand_series(master, window_start, window_end, slots)
    if include_exceptions:
        for item in stored:
            if item.deleted:
                continue
            entry = entry_for_item(item)
            if overlaps(entry.start_utc, entry.end_utc, window_start, window_end):
                result.append(entry)
    result.sort(key=lambda e: (e.start_utc, e.end_utc))
    return result


def blocks_slot(item: StoredItem) -> bool:
    """Whether a stored exception hides its slot's plain occurrence.

    Edited and cancelled occurrences do; exceptions discarded because the series' rule or times
    changed do not (Outlook drops exceptions when a series is reshaped).
    """
    return item.original_start is not None and not item.data.get("discarded")


def discard_exceptions(store: EmulatorStore, master_key: str) -> None:
    """Drop every exception of a series whose rule or times changed; their slots reopen."""
    for slot in store.exceptions_of(master_key):
        if slot.deleted and slot.data.get("discarded"):
            continue
        slot.deleted = True
        slot.data = {"discarded": True}
        store.save_item(slot, "deleted")
