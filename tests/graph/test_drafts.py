from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tzlocal.windows_tz import tz_win

from calsync.graph.drafts import DraftAttendee, EventDraft
from calsync.graph.errors import InvalidArgument, InvalidEventDraft
from calsync.graph.models import Event, EventTimes, Location
from calsync.graph.timezones import windows_zone_name
from calsync.graph.writes import CreateEvent, DeleteEvent, UpdateEvent, event_path, mailbox_path

NEW_YORK = ZoneInfo("America/New_York")


def test_a_ten_oclock_new_york_meeting_is_sent_as_ten_oclock_eastern() -> None:
    draft = EventDraft(
        subject="Annual review",
        start=datetime(2026, 7, 1, 14, 0, tzinfo=UTC),  # 10:00 EDT
        end=datetime(2026, 7, 1, 15, 0, tzinfo=UTC),
        time_zone="America/New_York",
        attendees=(DraftAttendee("Client@Example.com", "Chris Client"),),
        location=Location(display_name="Office, 5th floor"),
        is_online_meeting=True,
        online_meeting_provider="teamsForBusiness",
    )
    body = draft.to_graph()
    assert body["start"] == {
        "dateTime": "2026-07-01T10:00:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert body["end"]["dateTime"] == "2026-07-01T11:00:00.0000000"
    assert body["isAllDay"] is False
    assert body["attendees"] == [
        {
            "emailAddress": {"address": "Client@Example.com", "name": "Chris Client"},
            "type": "required",
        }
    ]
    assert body["location"] == {"displayName": "Office, 5th floor"}
    assert body["isOnlineMeeting"] is True


def test_an_all_day_event_is_sent_as_midnight_to_midnight_in_its_zone() -> None:
    draft = EventDraft(
        subject="Office closed",
        start=date(2026, 12, 24),
        end=date(2026, 12, 27),
        time_zone="Europe/Berlin",
        is_all_day=True,
    )
    body = draft.to_graph()
    assert body["start"] == {
        "dateTime": "2026-12-24T00:00:00.0000000",
        "timeZone": "W. Europe Standard Time",
    }
    assert body["end"]["dateTime"] == "2026-12-27T00:00:00.0000000"
    assert body["isAllDay"] is True


def test_an_update_draft_sends_only_the_fields_it_changes() -> None:
    assert EventDraft(subject="Moved to Friday").to_graph() == {"subject": "Moved to Friday"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": datetime(2026, 1, 1, 10, tzinfo=UTC)}, "end"),
        (
            {
                "start": datetime(2026, 1, 1, 10, tzinfo=UTC),
                "end": datetime(2026, 1, 1, 11, tzinfo=UTC),
            },
            "time_zone",
        ),
        (
            {
                "start": datetime(2026, 1, 1, 10),
                "end": datetime(2026, 1, 1, 11),
                "time_zone": "UTC",
            },
            "start",
        ),
        (
            {
                "start": datetime(2026, 1, 1, 11, tzinfo=UTC),
                "end": datetime(2026, 1, 1, 10, tzinfo=UTC),
                "time_zone": "UTC",
            },
            "end",
        ),
        ({"start": date(2026, 1, 1), "end": date(2026, 1, 2), "time_zone": "UTC"}, "start"),
        (
            {
                "start": datetime(2026, 1, 1, tzinfo=UTC),
                "end": date(2026, 1, 2),
                "time_zone": "UTC",
                "is_all_day": True,
            },
            "start",
        ),
        (
            {
                "start": datetime(2026, 1, 1, 10, tzinfo=UTC),
                "end": datetime(2026, 1, 1, 11, tzinfo=UTC),
                "time_zone": "Mars/Olympus",
            },
            "time_zone",
        ),
        ({"show_as": "away"}, "show_as"),
        ({"attendees": (DraftAttendee("not-an-address"),)}, "attendees[0].address"),
        ({"attendees": (DraftAttendee("a@b.example", kind="cc"),)}, "attendees[0].kind"),
        ({"attendees": tuple(DraftAttendee(f"p{n}@b.example") for n in range(501))}, "attendees"),
        ({"subject": "x" * 256}, "subject"),
        ({"is_all_day": True}, "is_all_day"),
    ],
)
def test_bad_drafts_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidEventDraft) as caught:
        EventDraft(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.code == "graph.invalid_event"


def test_create_carries_the_callers_transaction_id() -> None:
    draft = EventDraft(
        subject="Kick-off",
        start=datetime(2026, 3, 2, 9, tzinfo=NEW_YORK),
        end=datetime(2026, 3, 2, 10, tzinfo=NEW_YORK),
        time_zone="America/New_York",
    )
    spec = CreateEvent(draft, "crm-event-17-rev-1").request("ana@contoso.example")
    assert (spec.method, spec.path) == ("POST", "/users/ana@contoso.example/events")
    assert spec.body is not None
    assert spec.body["transactionId"] == "crm-event-17-rev-1"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: CreateEvent(EventDraft(subject="x"), "t-1"), "start"),
        (lambda: CreateEvent(EventDraft(subject="x"), " "), "transaction_id"),
        (lambda: UpdateEvent("AAMk1", EventDraft(subject="x"), ""), "etag"),
        (lambda: DeleteEvent("AAMk1", ""), "etag"),
        (lambda: UpdateEvent("AAMk1", EventDraft(), "*").request("a@b"), "changes"),
        (lambda: mailbox_path(""), "mailbox"),
        (lambda: event_path("a@b.example", " "), "event_id"),
    ],
)
def test_bad_write_operations_are_refused_before_sending(build: object, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_update_and_delete_are_conditional_on_the_etag() -> None:
    update = UpdateEvent("AAMk/1+x=", EventDraft(subject="x"), 'W/"abc"').request("a@b.example")
    assert dict(update.headers) == {"If-Match": 'W/"abc"'}
    assert update.path == "/users/a@b.example/events/AAMk%2F1%2Bx="
    delete = DeleteEvent("AAMk1", 'W/"abc"').request("a@b.example")
    assert (delete.method, dict(delete.headers)) == ("DELETE", {"If-Match": 'W/"abc"'})


_ZONES = sorted(key for key in tz_win if "/" in key and not key.startswith("Etc/"))


@settings(max_examples=120, deadline=None)
@example(instant=datetime(2016, 3, 13, 0, 0), minutes=420, zone_key="America/Montreal")
@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2050, 1, 1)),
    minutes=st.integers(min_value=15, max_value=600),
    zone_key=st.sampled_from(_ZONES),
)
def test_what_a_draft_writes_reads_back_as_the_same_times_in_the_same_zone(
    instant: datetime, minutes: int, zone_key: str
) -> None:
    start = instant.replace(tzinfo=UTC)
    end = start + timedelta(minutes=minutes)
    body = EventDraft(start=start, end=end, time_zone=zone_key).to_graph()
    event = Event.model_validate(
        {"id": "AAMk1", **body, "originalStartTimeZone": body["start"]["timeZone"]}
    )
    times = event.times()
    # Outlook shows the zone's Windows name; today's wall clock in the caller's zone is kept...
    assert times.zone.graph_name == windows_zone_name(ZoneInfo(zone_key))
    if ZoneInfo(zone_key).utcoffset(start) == times.zone.zone.utcoffset(start):
        assert times.start.replace(tzinfo=None) == start.astimezone(ZoneInfo(zone_key)).replace(
            tzinfo=None
        )
    # ...and the instant always is, except for a wall time that occurs twice (clocks going back),
    # which Graph's dateTimeTimeZone cannot tell apart either.
    local = start.astimezone(times.zone.zone)
    ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    if not ambiguous:
        assert times.start == start
        # Elapsed time in UTC: subtracting two datetimes of one zone compares wall clocks, which
        # is an hour off across a daylight-saving change.
        elapsed = times.end.astimezone(UTC) - times.start.astimezone(UTC)
        assert elapsed == timedelta(minutes=minutes) or _crosses_fold(times)


def _crosses_fold(times: EventTimes) -> bool:
    end = times.end
    return end.replace(fold=1 - end.fold).utcoffset() != end.utcoffset()
