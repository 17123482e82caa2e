"""The CRM's own recurrence rules: checked, canonical, and expanded in the event's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.crm.errors import InvalidInputError
from calsync.crm.recurrence import check_rule, occurrence_starts

NEW_YORK = ZoneInfo("America/New_York")
FIRST = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)  # a Monday, a week before DST starts
HOUR = timedelta(hours=1)


def test_weekly_meetings_keep_their_local_time_across_daylight_saving() -> None:
    starts = occurrence_starts(
        "FREQ=WEEKLY;COUNT=3",
        FIRST,
        HOUR,
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert [start.strftime("%m-%d %H:%M") for start in starts] == [
        "03-02 10:00",
        "03-09 10:00",
        "03-16 10:00",
    ]
    assert [start.astimezone(UTC).hour for start in starts] == [15, 14, 14]


def test_until_as_a_date_includes_that_whole_day_in_the_event_zone() -> None:
    checked = check_rule("RRULE:freq=weekly;byday=MO,WE;until=20260311", FIRST)
    assert checked.text.startswith("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260312T")
    assert checked.last_start == datetime(2026, 3, 11, 10, 0, tzinfo=NEW_YORK)


def test_an_open_ended_rule_has_no_last_start() -> None:
    assert check_rule("FREQ=MONTHLY;BYMONTHDAY=2", FIRST).last_start is None


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("", "one RRULE line"),
        ("FREQ=WEEKLY\nFREQ=DAILY", "one RRULE line"),
        ("FREQ=HOURLY;COUNT=3", "FREQ must be one of"),
        ("INTERVAL=2", "FREQ must be one of"),
        ("FREQ=WEEKLY;COUNT", "not NAME=VALUE"),
        ("FREQ=WEEKLY;FREQ=DAILY", "given twice"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20260401", "COUNT or UNTIL"),
        ("FREQ=DAILY;COUNT=lots", "not a valid recurrence rule"),
        ("FREQ=DAILY;UNTIL=01/04/2026", "UNTIL"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no occurrences"),
        ("FREQ=DAILY;UNTIL=20260101", "no occurrences"),
        ("FREQ=DAILY;COUNT=20000", "more than 10000"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(rule: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_rule(rule, FIRST)
    assert refused.value.field == "recurrence_rule"
    assert problem in refused.value.message


@settings(max_examples=40, deadline=None)
@given(
    interval=st.integers(min_value=1, max_value=4),
    count=st.integers(min_value=1, max_value=30),
    window_offset_days=st.integers(min_value=-10, max_value=200),
    window_days=st.integers(min_value=1, max_value=60),
)
def test_expanding_a_window_gives_exactly_the_overlapping_occurrences(
    interval: int, count: int, window_offset_days: int, window_days: int
) -> None:
    rule = f"FREQ=DAILY;INTERVAL={interval};COUNT={count}"
    every = [FIRST + timedelta(days=interval * n) for n in range(count)]
    window_start = FIRST.astimezone(UTC) + timedelta(days=window_offset_days, hours=1)
    window_end = window_start + timedelta(days=window_days)

    starts = occurrence_starts(rule, FIRST, HOUR, window_start, window_end)

    expected = [s for s in every if s < window_end and s + HOUR > window_start]
    assert starts == expected
    assert all(start.hour == 10 for start in starts)
    assert check_rule(rule, FIRST).last_start == every[-1]


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        (
            "FREQ=DAILY;UNTIL=99991231",
            datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")),
        ),
        ("FREQ=YEARLY;COUNT=7974", datetime(2026, 12, 31, 23, 0, tzinfo=ZoneInfo("Europe/London"))),
        ("FREQ=YEARLY;COUNT=990", datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("America/New_York"))),
    ],
)
def test_a_rule_running_past_the_year_2999_is_refused_by_name(rule: str, start: datetime) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_rule(rule, start)
    assert refused.value.field == "recurrence_rule"
    assert "2999" in refused.value.message
