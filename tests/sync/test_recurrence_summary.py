"""The "Recurring in Microsoft 365" summary: every pattern type and every range type (SPEC §5)."""

from __future__ import annotations

from typing import Any

import pytest

from calsync.sync.recurrence import Recurrence
from calsync.sync.recurrence_summary import format_day, summarize_recurrence

START = "2027-01-04"


def rule(pattern: dict[str, Any], range_: dict[str, Any] | None = None) -> Recurrence:
    return Recurrence.from_graph(
        {"pattern": pattern, "range": range_ or {"type": "noEnd", "startDate": START}}
    )


CASES = [
    # daily
    ({"type": "daily", "interval": 1}, None, "Every day"),
    ({"type": "daily", "interval": 3}, None, "Every 3 days"),
    (
        {"type": "daily", "interval": 1},
        {"type": "numbered", "startDate": START, "numberOfOccurrences": 10},
        "Every day, 10 times",
    ),
    # weekly
    (
        {"type": "weekly", "interval": 2, "daysOfWeek": ["Wednesday", "Monday"]},
        {"type": "endDate", "startDate": START, "endDate": "2027-06-30"},
        "Every 2 weeks on Monday and Wednesday, until 30 June 2027",
    ),
    ({"type": "weekly", "interval": 1, "daysOfWeek": ["thursday"]}, None, "Every week on Thursday"),
    (
        {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": ["sunday", "monday", "friday"],
            "firstDayOfWeek": "monday",
        },
        None,
        "Every week on Monday, Friday and Sunday",
    ),
    (
        {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        },
        None,
        "Every weekday",
    ),
    (
        {
            "type": "weekly",
            "interval": 3,
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
        },
        None,
        "Every 3 weeks on weekdays",
    ),
    # absoluteMonthly
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}, None, "Monthly on the 15th"),
    (
        {"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 1},
        None,
        "Every 3 months on the 1st",
    ),
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 22}, None, "Monthly on the 22nd"),
    ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 13}, None, "Monthly on the 13th"),
    # relativeMonthly
    (
        {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
        None,
        "Monthly on the last Friday",
    ),
    (
        {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["monday"], "index": "first"},
        {"type": "numbered", "startDate": START, "numberOfOccurrences": 1},
        "Every 2 months on the first Monday, once",
    ),
    (
        {
            "type": "relativeMonthly",
            "interval": 1,
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "index": "last",
        },
        None,
        "Monthly on the last weekday",
    ),
    (
        {
            "type": "relativeMonthly",
            "interval": 1,
            "daysOfWeek": ["saturday", "sunday"],
            "index": "second",
        },
        None,
        "Monthly on the second weekend day",
    ),
    # absoluteYearly
    (
        {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 4, "month": 7},
        None,
        "Every year on 4 July",
    ),
    (
        {"type": "absoluteYearly", "interval": 2, "dayOfMonth": 31, "month": 12},
        {"type": "endDate", "startDate": START, "endDate": "2035-01-01"},
        "Every 2 years on 31 December, until 1 January 2035",
    ),
    # relativeYearly
    (
        {
            "type": "relativeYearly",
            "interval": 1,
            "daysOfWeek": ["thursday"],
            "index": "fourth",
            "month": 11,
        },
        None,
        "Every year on the fourth Thursday of November",
    ),
    (
        {
            "type": "relativeYearly",
            "interval": 1,
            "daysOfWeek": ["monday", "tuesday"],
            "index": "third",
            "month": 9,
        },
        {"type": "numbered", "startDate": START, "numberOfOccurrences": 5},
        "Every year on the third Monday or Tuesday of September, 5 times",
    ),
]


@pytest.mark.parametrize(("pattern", "range_", "expected"), CASES)
def test_the_summary_reads_like_outlook(
    pattern: dict[str, Any], range_: dict[str, Any] | None, expected: str
) -> None:
    assert summarize_recurrence(rule(pattern, range_)) == expected


def test_every_pattern_type_and_range_type_is_covered_by_the_table() -> None:
    pattern_types = {case[0]["type"] for case in CASES}
    range_types = {(case[1] or {"type": "noEnd"})["type"] for case in CASES}
    assert pattern_types == {
        "daily",
        "weekly",
        "absoluteMonthly",
        "relativeMonthly",
        "absoluteYearly",
        "relativeYearly",
    }
    assert range_types == {"endDate", "noEnd", "numbered"}


def test_dates_are_written_day_month_year() -> None:
    from datetime import date

    assert format_day(date(2027, 6, 30)) == "30 June 2027"
    assert format_day(date(2027, 1, 1)) == "1 January 2027"
