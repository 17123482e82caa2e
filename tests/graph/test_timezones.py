from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tzlocal.windows_tz import tz_win

from calsync.graph.errors import UnknownTimeZone
from calsync.graph.timezones import (
    CUSTOM_ZONE,
    all_day_dates,
    format_wall_time,
    parse_wall_time,
    resolve_zone,
    to_aware,
    windows_zone_name,
)


@pytest.mark.parametrize(
    ("graph_name", "iana"),
    [
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        ("India Standard Time", "Asia/Calcutta"),
        ("UTC", "Etc/UTC"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("Asia/Kolkata", "Asia/Kolkata"),
    ],
)
def test_windows_and_iana_names_resolve_to_zoneinfo(graph_name: str, iana: str) -> None:
    resolved = resolve_zone(graph_name)
    assert resolved.iana_name == iana
    assert not resolved.substituted


@pytest.mark.parametrize(
    ("iana", "windows"),
    [
        ("America/New_York", "Eastern Standard Time"),
        ("Europe/Berlin", "W. Europe Standard Time"),
        ("Asia/Kolkata", "India Standard Time"),
        ("Asia/Calcutta", "India Standard Time"),
        ("Etc/UTC", "UTC"),
    ],
)
def test_iana_zones_are_written_with_their_windows_name(iana: str, windows: str) -> None:
    assert windows_zone_name(ZoneInfo(iana)) == windows


def test_a_legacy_custom_outlook_zone_reads_as_utc_and_is_flagged() -> None:
    resolved = resolve_zone(CUSTOM_ZONE)
    assert resolved.iana_name == "UTC"
    assert resolved.substituted


@pytest.mark.parametrize("name", ["Mars Standard Time", "", "../etc/passwd", "Europe/Atlantis"])
def test_unknown_zone_names_are_refused_not_read_as_utc(name: str) -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        resolve_zone(name)
    assert caught.value.code == "graph.unknown_time_zone"


def test_graph_seven_digit_fractions_parse() -> None:
    assert parse_wall_time("2017-04-15T11:00:00.1234567") == datetime(2017, 4, 15, 11, 0, 0, 123456)
    assert format_wall_time(datetime(2017, 4, 15, 11, 0)) == "2017-04-15T11:00:00.0000000"


def test_utc_values_read_in_the_event_zone_across_daylight_saving() -> None:
    eastern = ZoneInfo("America/New_York")
    summer = to_aware("2026-07-01T14:00:00.0000000", "UTC").astimezone(eastern)
    winter = to_aware("2026-01-15T15:00:00.0000000", "UTC").astimezone(eastern)
    assert (summer.hour, winter.hour) == (10, 10)


def test_all_day_bounds_give_an_exclusive_end_date() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert all_day_dates(start, start + timedelta(days=1)) == (date(2026, 5, 1), date(2026, 5, 2))
    assert all_day_dates(start, start + timedelta(days=3)) == (date(2026, 5, 1), date(2026, 5, 4))


_zones = st.sampled_from(sorted(key for key in tz_win if "/" in key and not key.startswith("Etc/")))


@settings(max_examples=150, deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)),
    zone_key=_zones,
)
def test_written_wall_time_and_windows_name_read_back_as_the_same_instant(
    instant: datetime, zone_key: str
) -> None:
    moment = instant.replace(tzinfo=UTC)
    zone = ZoneInfo(zone_key)
    local = moment.astimezone(zone)
    windows = windows_zone_name(zone)
    read_back = to_aware(format_wall_time(local.replace(tzinfo=None)), windows)
    # The wall clock always survives; the instant does too unless the wall time is ambiguous (the
    # repeated hour when clocks go back), which dateTimeTimeZone cannot express either.
    assert read_back.replace(tzinfo=None) == local.replace(tzinfo=None)
    ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    if not ambiguous and resolve_zone(windows).zone.key == zone_key:
        assert read_back == moment
