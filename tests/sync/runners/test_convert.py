"""Graph events as the core sees them (`graph_event_of`): the same meeting whatever form Graph sent
it in, read from the owner's mailbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.graph.models import Event
from calsync.graph.timezones import format_wall_time, windows_zone_name
from calsync.sync.attendees import AttendeeRole
from calsync.sync.errors import InvalidEventData
from calsync.sync.fields import AllDaySpan, ShowAs, TimedSpan
from calsync.sync.runners.convert import graph_attendees_of, graph_event_of
from tests.sync.events import ACCOUNTANT, ADVISOR, CLIENT

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC"]


def graph_event(**fields: Any) -> Event:
    """Dana's review as Graph returns it: UTC times, the zone it was made in, two guests."""
    wire: dict[str, Any] = {
        "id": "AAMkReview",
        "@odata.etag": 'W/"etag-1"',
        "subject": "Annual portfolio review",
        "type": "singleInstance",
        "originalStartTimeZone": "Eastern Standard Time",
        "start": {"dateTime": "2027-03-15T14:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2027-03-15T15:00:00.0000000", "timeZone": "UTC"},
        "isAllDay": False,
        "isOrganizer": True,
        "showAs": "busy",
        "body": {"contentType": "html", "content": "<html><body><p>Agenda</p></body></html>"},
        "organizer": {"emailAddress": {"address": ADVISOR, "name": "Dana Whitfield"}},
        "attendees": [
            {"emailAddress": {"address": CLIENT.upper()}, "type": "required"},
            {"emailAddress": {"address": f" {ACCOUNTANT} "}, "type": "optional"},
        ],
    }
    wire.update(fields)
    return Event.model_validate(wire)


def test_a_timed_event_is_its_instants_in_the_zone_it_was_made_in() -> None:
    timing = graph_event_of(graph_event(), ADVISOR).snapshot.timing
    assert timing == TimedSpan(
        datetime(2027, 3, 15, 10, tzinfo=ZoneInfo("America/New_York")),
        datetime(2027, 3, 15, 11, tzinfo=ZoneInfo("America/New_York")),
    )
    assert isinstance(timing, TimedSpan)
    assert timing.time_zone == "America/New_York"


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    minutes=st.integers(min_value=0, max_value=3 * 24 * 60),
    shown_in=st.sampled_from(ZONES),
    made_in=st.sampled_from(ZONES),
)
def test_the_same_meeting_in_any_zone_graph_shows_it_in_is_the_same_timing(
    start: datetime, minutes: int, shown_in: str, made_in: str
) -> None:
    """Graph shows times in UTC, or in the zone `Prefer: outlook.timezone` asks for; the span is
    the same instants either way, and the zone it carries is the one the meeting was made in."""
    begins = start.replace(tzinfo=UTC)
    ends = begins + timedelta(minutes=minutes)
    zone = ZoneInfo(shown_in)
    shown = {
        "start": {
            "dateTime": format_wall_time(begins.astimezone(zone).replace(tzinfo=None)),
            "timeZone": windows_zone_name(shown_in),
        },
        "end": {
            "dateTime": format_wall_time(ends.astimezone(zone).replace(tzinfo=None)),
            "timeZone": windows_zone_name(shown_in),
        },
        "originalStartTimeZone": windows_zone_name(made_in),
    }
    event = graph_event(**shown)
    times = event.times()

    timing = graph_event_of(event, ADVISOR).snapshot.timing

    assert timing == TimedSpan(begins, ends)
    assert timing == TimedSpan(times.start, times.end, times.zone.zone.key)
    assert isinstance(timing, TimedSpan)
    assert ZoneInfo(timing.time_zone).utcoffset(begins) == ZoneInfo(made_in).utcoffset(begins)


def test_an_all_day_event_is_its_days() -> None:
    event = graph_event(
        isAllDay=True,
        start={"dateTime": "2027-03-15T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2027-03-17T00:00:00.0000000", "timeZone": "UTC"},
    )
    assert graph_event_of(event, ADVISOR).snapshot.timing == AllDaySpan(
        date(2027, 3, 15), date(2027, 3, 17)
    )


@pytest.mark.parametrize("missing", ["start", "end"])
def test_an_event_without_a_time_names_the_missing_one(missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        graph_event_of(graph_event(**{missing: None}), ADVISOR)


def test_an_unknown_show_as_value_names_the_graph_field() -> None:
    assert graph_event_of(graph_event(showAs="OOF"), ADVISOR).snapshot.show_as is ShowAs.OOF
    with pytest.raises(InvalidEventData, match="not a show-as value") as error:
        graph_event_of(graph_event(showAs="onHoliday"), ADVISOR)
    assert error.value.field == "showAs"


def test_the_organizers_copy_lists_the_guests_and_an_attendees_copy_the_organizer_too() -> None:
    event = graph_event()
    organizers = graph_event_of(event, ADVISOR).snapshot.attendee_addresses
    clients = graph_event_of(event, CLIENT).snapshot.attendee_addresses
    assert organizers == frozenset({CLIENT, ACCOUNTANT})
    assert clients == frozenset({ADVISOR, ACCOUNTANT})


def test_attendees_without_an_address_are_left_out_and_unknown_types_count_as_required() -> None:
    event = graph_event(
        attendees=[
            {"emailAddress": {"address": "  "}, "type": "required"},
            {"emailAddress": None},
            {"emailAddress": {"address": CLIENT}, "type": "chaperone"},
            {"emailAddress": {"address": ACCOUNTANT}, "type": "resource"},
        ]
    )
    attendees = graph_attendees_of(event)
    assert [(a.address, a.role) for a in attendees] == [
        (CLIENT, AttendeeRole.REQUIRED),
        (ACCOUNTANT, AttendeeRole.RESOURCE),
    ]
    assert graph_event_of(event, ADVISOR).snapshot.attendee_addresses == {CLIENT, ACCOUNTANT}


def test_an_html_body_is_compared_as_its_text_and_a_missing_body_as_empty() -> None:
    assert graph_event_of(graph_event(), ADVISOR).snapshot.body == "Agenda"
    assert graph_event_of(graph_event(body=None), ADVISOR).snapshot.body == ""
