"""Event times: aware or local input, stored as UTC instants; all-day events as dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from calsync.crm.errors import InvalidInputError
from calsync.crm.services.event_times import event_times

NEW_YORK = ZoneInfo("America/New_York")


def test_local_times_are_read_in_the_event_zone() -> None:
    times = event_times(datetime(2026, 7, 1, 10, 0), datetime(2026, 7, 1, 11, 0), NEW_YORK, False)
    assert times.start_at == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
    assert (times.start_date, times.end_date) == (None, None)


def test_aware_times_keep_their_instant() -> None:
    start = datetime(2026, 7, 1, 16, 0, tzinfo=ZoneInfo("Europe/Paris"))
    times = event_times(start, start, NEW_YORK, False)
    assert times.start_at == times.end_at == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_all_day_dates_become_midnights_in_the_event_zone() -> None:
    times = event_times(date(2026, 12, 24), date(2026, 12, 26), NEW_YORK, True)
    assert (times.start_date, times.end_date) == (date(2026, 12, 24), date(2026, 12, 26))
    assert times.start_at == datetime(2026, 12, 24, 5, 0, tzinfo=UTC)
    assert times.end_at == datetime(2026, 12, 26, 5, 0, tzinfo=UTC)


def test_all_day_accepts_midnight_datetimes_as_dates() -> None:
    times = event_times(datetime(2026, 12, 24), datetime(2026, 12, 25), NEW_YORK, True)
    assert times.start_date == date(2026, 12, 24)


@pytest.mark.parametrize(
    ("start", "end", "all_day", "field", "problem"),
    [
        (
            datetime(2026, 7, 1, 11),
            datetime(2026, 7, 1, 10),
            False,
            "end",
            "end must be after start",
        ),
        (date(2026, 7, 1), datetime(2026, 7, 1, 10), False, "start", "needs a time of day"),
        (datetime(2026, 7, 1, 9, 30), date(2026, 7, 2), True, "start", "without a time"),
        (date(2026, 7, 1), datetime(2026, 7, 2, 0, 1), True, "end", "without a time"),
        (date(2026, 7, 2), date(2026, 7, 2), True, "end", "after its start date"),
        (datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 4), False, "start", "does not exist"),
        ("tomorrow", "later", False, "start", "date and time"),
    ],
)
def test_bad_times_are_refused_naming_the_field(
    start: object, end: object, all_day: bool, field: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        event_times(start, end, NEW_YORK, all_day)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert problem in refused.value.message
