"""Turning an event's start, end and time zone into what is stored: UTC instants, plus dates for
all-day events (SPEC §2: an event keeps its own zone, all-day events stay all-day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from calsync.crm.errors import InvalidInputError


@dataclass(frozen=True)
class EventTimes:
    """Stored times of an event: instants always, dates only for all-day events."""

    start_at: datetime
    end_at: datetime
    start_date: date | None
    end_date: date | None


def _day(value: datetime | date, field: str) -> date:
    if isinstance(value, datetime):
        if value.timetz().replace(tzinfo=None) != time(0, 0):
            raise InvalidInputError(
                "an all-day event takes a date without a time of day", field=field
            )
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInputError("must be a date", field=field)


def _instant(value: datetime | date, zone: ZoneInfo, field: str) -> datetime:
    if not isinstance(value, datetime):
        if isinstance(value, date):
            raise InvalidInputError(
                "needs a time of day; to block whole days, make the event all-day", field=field
            )
        raise InvalidInputError("must be a date and time", field=field)
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    local = value.replace(tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != value.replace(tzinfo=None):
        raise InvalidInputError(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward then)",
            field=field,
        )
    return instant


def event_times(
    start: datetime | date, end: datetime | date, zone: ZoneInfo, is_all_day: bool
) -> EventTimes:
    """Check and convert an event's times; errors name `start` or `end`."""
    if is_all_day:
        first_day, day_after = _day(start, "start"), _day(end, "end")
        if day_after <= first_day:
            raise InvalidInputError(
                "the end date of an all-day event must be after its start date (the end date is "
                "the day after the last day)",
                field="end",
            )
        return EventTimes(
            start_at=datetime.combine(first_day, time(0), zone).astimezone(UTC),
            end_at=datetime.combine(day_after, time(0), zone).astimezone(UTC),
            start_date=first_day,
            end_date=day_after,
        )
    start_at, end_at = _instant(start, zone, "start"), _instant(end, zone, "end")
    if end_at < start_at:
        raise InvalidInputError("end must be after start", field="end")
    return EventTimes(start_at=start_at, end_at=end_at, start_date=None, end_date=None)
