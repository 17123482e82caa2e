"""The readable "Recurring in Microsoft 365" summary the CRM shows for a synced series (SPEC §5).

The CRM cannot edit a Microsoft 365 series' recurrence, so the summary is the only thing a person
sees of the rule; it must read like Outlook would say it: "Every 2 weeks on Monday and Wednesday,
until 30 June 2027". English only for now; the wording is chosen per pattern type and range type
(GRAPH.md §1.2).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

from calsync.sync.recurrence import (
    PatternType,
    RangeType,
    Recurrence,
    RecurrencePattern,
    RecurrenceRange,
    Weekday,
)

_WEEKDAY_ORDER = list(Weekday)
_WORKDAYS = frozenset(
    {Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY}
)
_WEEKEND = frozenset({Weekday.SATURDAY, Weekday.SUNDAY})


def summarize_recurrence(recurrence: Recurrence) -> str:
    """One English sentence describing when the series repeats and until when."""
    return _pattern_phrase(recurrence.pattern) + _range_phrase(recurrence.range)


def format_day(day: date) -> str:
    """A date as the summary writes it: "30 June 2027"."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _every(interval: int, unit: str, first: str) -> str:
    return first if interval == 1 else f"Every {interval} {unit}s"


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _ordered(days: Iterable[Weekday], first_day: Weekday) -> list[Weekday]:
    start = _WEEKDAY_ORDER.index(first_day)
    rotation = _WEEKDAY_ORDER[start:] + _WEEKDAY_ORDER[:start]
    chosen = set(days)
    return [day for day in rotation if day in chosen]


def _join(words: list[str], conjunction: str) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


def _day_names(days: Iterable[Weekday], first_day: Weekday, conjunction: str) -> str:
    return _join([day.value.capitalize() for day in _ordered(days, first_day)], conjunction)


def _relative_day(pattern: RecurrencePattern) -> str:
    """E.g. "the last Friday": Graph takes the first listed day that fits (GRAPH.md §1.2)."""
    days = pattern.days_of_week
    if days == frozenset(Weekday):
        kind = "day"
    elif days == _WORKDAYS:
        kind = "weekday"
    elif days == _WEEKEND:
        kind = "weekend day"
    else:
        kind = _day_names(days, Weekday.MONDAY, "or")
    return f"the {pattern.index.value} {kind}"


def _pattern_phrase(pattern: RecurrencePattern) -> str:
    interval = pattern.interval
    match pattern.type:
        case PatternType.DAILY:
            return _every(interval, "day", "Every day")
        case PatternType.WEEKLY:
            if pattern.days_of_week == _WORKDAYS:
                return "Every weekday" if interval == 1 else f"Every {interval} weeks on weekdays"
            days = _day_names(pattern.days_of_week, pattern.first_day_of_week, "and")
            return f"{_every(interval, 'week', 'Every week')} on {days}"
        case PatternType.ABSOLUTE_MONTHLY:
            assert pattern.day_of_month is not None
            return f"{_every(interval, 'month', 'Monthly')} on the {_ordinal(pattern.day_of_month)}"
        case PatternType.RELATIVE_MONTHLY:
            return f"{_every(interval, 'month', 'Monthly')} on {_relative_day(pattern)}"
        case PatternType.ABSOLUTE_YEARLY:
            assert pattern.day_of_month is not None
            assert pattern.month is not None
            month = calendar.month_name[pattern.month]
            return f"{_every(interval, 'year', 'Every year')} on {pattern.day_of_month} {month}"
        case PatternType.RELATIVE_YEARLY:
            assert pattern.month is not None
            month = calendar.month_name[pattern.month]
            return (
                f"{_every(interval, 'year', 'Every year')} on {_relative_day(pattern)} of {month}"
            )


def _range_phrase(range_: RecurrenceRange) -> str:
    match range_.type:
        case RangeType.END_DATE:
            assert range_.end_date is not None
            return f", until {format_day(range_.end_date)}"
        case RangeType.NUMBERED:
            count = range_.number_of_occurrences
            return ", once" if count == 1 else f", {count} times"
        case RangeType.NO_END:
            return ""
