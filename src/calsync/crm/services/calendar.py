"""A staff user's calendar for a time range: their events, the copies of events they attend, and
the occurrences of CRM-recurring series, in start order.

A Microsoft 365 series is stored by the sync engine as one series event (carrying the readable
recurrence) plus one event per occurrence or exception pointing at it; the calendar lists the
occurrences, not the series event itself, so nothing shows twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Event, ShowAs, SyncStatus, User
from calsync.crm.recurrence import occurrence_starts
from calsync.crm.services.validation import require

MAX_RANGE = timedelta(days=3 * 366)


@dataclass(frozen=True)
class CalendarEntry:
    """One event, or one occurrence of a CRM-recurring series, as a calendar shows it.

    `start`/`end` are UTC instants; for all-day entries `start_date`/`end_date` (end exclusive)
    are the days in the event's zone.
    """

    event_id: int
    subject: str
    start: datetime
    end: datetime
    time_zone: str
    is_all_day: bool
    start_date: date | None
    end_date: date | None
    location: str
    show_as: ShowAs
    is_private: bool
    is_copy: bool
    is_recurring: bool
    sync_status: SyncStatus
    version: int


def _entry(event: Event, start: datetime, end: datetime) -> CalendarEntry:
    zone = ZoneInfo(event.time_zone)
    return CalendarEntry(
        event_id=event.id,
        subject=event.subject,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        time_zone=event.time_zone,
        is_all_day=event.is_all_day,
        start_date=start.astimezone(zone).date() if event.is_all_day else None,
        end_date=end.astimezone(zone).date() if event.is_all_day else None,
        location=event.location,
        show_as=event.show_as,
        is_private=event.is_private,
        is_copy=event.copy_of_event_id is not None,
        is_recurring=event.recurrence_rule is not None or event.series_event_id is not None,
        sync_status=event.sync_status,
        version=event.version,
    )


def _occurrences(event: Event, range_start: datetime, range_end: datetime) -> list[CalendarEntry]:
    if event.recurrence_rule is None:
        return [_entry(event, event.start_at, event.end_at)]
    zone = ZoneInfo(event.time_zone)
    first_start = event.start_at.astimezone(zone)
    duration = event.end_at - event.start_at
    if event.is_all_day and event.start_date and event.end_date:
        duration = timedelta(days=(event.end_date - event.start_date).days)
    starts = occurrence_starts(event.recurrence_rule, first_start, duration, range_start, range_end)
    # Wall-clock arithmetic in the event's zone: a 09:00-10:00 occurrence stays 09:00-10:00 local.
    return [_entry(event, start, start + duration) for start in starts]


def list_events(
    session: Session, owner_id: int, range_start: datetime, range_end: datetime
) -> list[CalendarEntry]:
    """Entries on `owner_id`'s calendar overlapping [range_start, range_end), by start."""
    require(session, User, owner_id, "owner_id")
    if range_start.tzinfo is None or range_end.tzinfo is None:
        raise InvalidInputError("range start and end must include a time zone", field="start")
    if range_end <= range_start:
        raise InvalidInputError("the end of the range must be after its start", field="end")
    if range_end - range_start > MAX_RANGE:
        raise InvalidInputError("ask for at most three years at a time", field="end")
    single = and_(
        Event.recurrence_rule.is_(None),
        Event.start_at < range_end,
        or_(Event.end_at > range_start, Event.start_at >= range_start),
    )
    recurring = and_(
        Event.recurrence_rule.is_not(None),
        Event.start_at < range_end,
        or_(Event.recurrence_end_at.is_(None), Event.recurrence_end_at > range_start),
    )
    microsoft365_series = and_(
        Event.m365_recurrence_summary.is_not(None), Event.series_event_id.is_(None)
    )
    events = session.scalars(
        select(Event).where(
            Event.owner_id == owner_id, or_(single, recurring), ~microsoft365_series
        )
    ).all()
    entries = [entry for event in events for entry in _occurrences(event, range_start, range_end)]
    return sorted(entries, key=lambda entry: (entry.start, entry.end, entry.event_id))
