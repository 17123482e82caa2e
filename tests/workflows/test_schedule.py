"""Start-time arithmetic: calendar days in the owner's zone, weekends, and daylight-saving changes.

The property tests check our rules against dateutil's independent implementation of the same ideas
(`datetime_exists`, `datetime_ambiguous`, `resolve_imaginary`).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.workflows.schedule import MAX_DAYS_AFTER, StartRule, event_start, local_instant

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

# Zones with DST in either hemisphere, a half-hour DST shift, and none at all.
ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "UTC",
]


def test_seven_days_later_is_the_same_wall_time_across_the_spring_change() -> None:
    # Thursday 5 March 2026, 15:00 in New York; clocks go forward on Sunday 8 March.
    run_at = datetime(2026, 3, 5, 15, 0, tzinfo=NEW_YORK)
    start = event_start(StartRule(days_after=7, at=time(10, 0)), run_at, NEW_YORK)
    assert start == datetime(2026, 3, 12, 10, 0, tzinfo=NEW_YORK)
    assert start.utcoffset() == timedelta(hours=-4)
    # Only 6 days and 18 hours of elapsed time after 15:00 EST, because an hour was skipped.
    assert start.astimezone(UTC) - run_at.astimezone(UTC) == timedelta(days=6, hours=18)


def test_seven_days_later_is_the_same_wall_time_across_the_autumn_change() -> None:
    run_at = datetime(2026, 10, 22, 9, 0, tzinfo=LONDON)  # clocks go back on Sunday 25 October
    start = event_start(StartRule(days_after=7, at=time(10, 0)), run_at, LONDON)
    assert start == datetime(2026, 10, 29, 10, 0, tzinfo=LONDON)
    assert start.utcoffset() == timedelta(0)
    assert start.astimezone(UTC) - run_at.astimezone(UTC) == timedelta(days=7, hours=2)


def test_the_day_counts_from_the_run_date_in_the_owner_zone_not_in_utc() -> None:
    # 02:00 UTC on the 10th is still the evening of the 9th in New York.
    run_at = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
    start = event_start(StartRule(days_after=1, at=time(9, 30)), run_at, NEW_YORK)
    assert start == datetime(2026, 6, 10, 9, 30, tzinfo=NEW_YORK)


def test_a_skipped_local_time_moves_forward_by_the_gap() -> None:
    start = local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert (start.hour, start.minute) == (3, 30)
    assert start.utcoffset() == timedelta(hours=-4)


def test_a_repeated_local_time_is_its_first_occurrence_on_summer_time() -> None:
    start = local_instant(date(2026, 11, 1), time(1, 30), NEW_YORK)
    assert (start.hour, start.minute) == (1, 30)
    assert start.utcoffset() == timedelta(hours=-4)


def test_a_weekend_start_moves_to_monday_when_asked() -> None:
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=LONDON)
    rule = StartRule(days_after=1, at=time(10, 0), skip_weekends=True)
    assert event_start(rule, friday, LONDON) == datetime(2026, 11, 30, 10, 0, tzinfo=LONDON)
    sunday_rule = StartRule(days_after=2, at=time(10, 0), skip_weekends=True)
    assert event_start(sunday_rule, friday, LONDON) == datetime(2026, 11, 30, 10, 0, tzinfo=LONDON)


def test_a_weekend_start_stays_when_weekends_are_allowed() -> None:
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=LONDON)
    start = event_start(StartRule(days_after=1, at=time(10, 0)), friday, LONDON)
    assert start.date() == date(2026, 11, 28)


def test_moving_off_a_weekend_onto_a_spring_forward_monday_keeps_the_wall_time() -> None:
    # Chile moves its clocks on a Saturday/Sunday night; a Sunday start moved to Monday is
    # unaffected.
    santiago = ZoneInfo("America/Santiago")
    run_at = datetime(2026, 9, 3, 12, 0, tzinfo=santiago)  # Thursday
    rule = StartRule(days_after=3, at=time(8, 0), skip_weekends=True)  # → Sunday 6 → Monday 7
    start = event_start(rule, run_at, santiago)
    assert start.date() == date(2026, 9, 7)
    assert (start.hour, start.minute) == (8, 0)


@pytest.mark.parametrize("days", [-1, MAX_DAYS_AFTER + 1])
def test_an_offset_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="days_after"):
        StartRule(days_after=days, at=time(10, 0))


def test_a_naive_run_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event_start(StartRule(days_after=1, at=time(10, 0)), datetime(2026, 1, 1), LONDON)


run_instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    run_at=run_instants,
    days_after=st.integers(min_value=0, max_value=400),
    at=wall_times,
    skip_weekends=st.booleans(),
)
def test_start_follows_the_calendar_rules_in_every_zone(
    zone_name: str, run_at: datetime, days_after: int, at: time, skip_weekends: bool
) -> None:
    zone = ZoneInfo(zone_name)
    rule = StartRule(days_after=days_after, at=at, skip_weekends=skip_weekends)
    start = event_start(rule, run_at, zone)

    assert start.tzinfo is zone
    expected_day = run_at.astimezone(zone).date() + timedelta(days=days_after)
    if skip_weekends and expected_day.weekday() >= 5:
        expected_day += timedelta(days=7 - expected_day.weekday())
    # None of these zones skips the hour before midnight, so the start stays on its day.
    assert start.date() == expected_day
    if skip_weekends:
        assert start.date().weekday() < 5

    wall = datetime.combine(expected_day, at)
    dateutil_zone = dateutil_tz.gettz(zone_name)
    assert dateutil_zone is not None
    wall_there = wall.replace(tzinfo=dateutil_zone)
    if dateutil_tz.datetime_exists(wall_there):
        # An existing wall time is kept exactly; a repeated one is its first (earlier) occurrence.
        assert start.replace(tzinfo=None) == wall
        if dateutil_tz.datetime_ambiguous(wall_there):
            later = start.replace(fold=1)
            assert start.astimezone(UTC) < later.astimezone(UTC)
    else:
        resolved = dateutil_tz.resolve_imaginary(wall_there)
        assert start.astimezone(UTC) == resolved.astimezone(UTC)
        assert start.replace(tzinfo=None) > wall
    # The start is a real instant that reads back as itself.
    assert start.astimezone(UTC).astimezone(zone) == start


@settings(max_examples=100, deadline=None)
@given(run_at=run_instants, days_after=st.integers(min_value=1, max_value=60), at=wall_times)
def test_a_start_with_weekends_skipped_is_never_before_the_same_rule_without(
    run_at: datetime, days_after: int, at: time
) -> None:
    plain = event_start(StartRule(days_after, at), run_at, NEW_YORK)
    skipping = event_start(StartRule(days_after, at, skip_weekends=True), run_at, NEW_YORK)
    assert skipping >= plain
    assert skipping - plain < timedelta(days=2, hours=2)
    assert skipping > run_at
