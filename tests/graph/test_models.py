from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from calsync.graph.models import DeltaPage, ErrorBody, Event

from .conftest import event_json

FULL_EVENT = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('a')/events/$entity",
    "@odata.etag": 'W/"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ=="',
    "id": "AAMkAGI1AAAt9AHjAAA=",
    "createdDateTime": "2017-04-15T03:00:50.7579581Z",
    "lastModifiedDateTime": "2017-04-15T03:00:51.245372Z",
    "changeKey": "ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==",
    "categories": [],
    "transactionId": "crm-42-r1",
    "originalStartTimeZone": "Pacific Standard Time",
    "originalEndTimeZone": "Pacific Standard Time",
    "iCalUId": (
        "040000008200E00074C5B7101A82E00800000000DA2B357D94B5D2010000000000000000"
        "10000000EC4597557F0CB34EA4CC2887EA7B17C3"
    ),
    "reminderMinutesBeforeStart": 15,
    "isReminderOn": True,
    "subject": "Let's go brunch",
    "body": {"contentType": "html", "content": "<html><body>Does noon work?</body></html>"},
    "start": {"dateTime": "2017-04-15T19:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2017-04-15T20:00:00.0000000", "timeZone": "UTC"},
    "isAllDay": False,
    "isCancelled": False,
    "isOrganizer": True,
    "showAs": "busy",
    "type": "singleInstance",
    "seriesMasterId": None,
    "recurrence": None,
    "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    "location": {
        "displayName": "Harry's Bar",
        "locationType": "default",
        "uniqueIdType": "private",
    },
    "attendees": [
        {
            "type": "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.example"},
        }
    ],
    "organizer": {"emailAddress": {"name": "Dana Swope", "address": "danas@contoso.example"}},
    "isOnlineMeeting": True,
    "onlineMeetingProvider": "teamsForBusiness",
    "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x"},
    "someFuturePropertyGraphAdds": {"nested": [1, 2, 3]},
}


def test_a_full_graph_event_parses_with_unknown_fields_ignored() -> None:
    event = Event.model_validate_json(json.dumps(FULL_EVENT))
    assert event.etag == 'W/"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ=="'
    assert event.ical_uid is not None
    assert event.ical_uid.startswith("0400000082")
    assert event.transaction_id == "crm-42-r1"
    assert event.attendees is not None
    attendee = event.attendees[0]
    assert attendee.email_address is not None
    assert attendee.email_address.address == "samanthab@contoso.example"
    assert attendee.status is not None
    assert attendee.status.response == "none"
    assert event.join_url == "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x"
    assert event.created_date_time == datetime.fromisoformat("2017-04-15T03:00:50.757958+00:00")


def test_times_are_read_in_utc_and_shown_in_the_zone_the_event_was_created_in() -> None:
    times = Event.model_validate(FULL_EVENT).times()
    assert times.zone.iana_name == "America/Los_Angeles"
    assert times.start == datetime(2017, 4, 15, 12, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert times.start.hour == 12
    assert times.end.hour == 13
    assert not times.is_all_day
    assert times.start_date is None


def test_all_day_events_are_dates_with_an_exclusive_end() -> None:
    event = Event.model_validate(
        event_json(
            "allday",
            isAllDay=True,
            start={"dateTime": "2026-05-01T00:00:00.0000000", "timeZone": "UTC"},
            end={"dateTime": "2026-05-03T00:00:00.0000000", "timeZone": "UTC"},
            originalStartTimeZone="Pacific Standard Time",
        )
    )
    times = event.times()
    # Read in UTC, a US-zone all-day event must not slide to the previous day.
    assert (times.start_date, times.end_date) == (date(2026, 5, 1), date(2026, 5, 3))
    assert times.start.tzinfo == ZoneInfo("America/Los_Angeles")


def test_a_custom_outlook_zone_is_flagged_on_the_event() -> None:
    event = Event.model_validate(event_json("x", originalStartTimeZone="tzone://Microsoft/Custom"))
    times = event.times()
    assert times.zone_substituted
    assert times.start == datetime.fromisoformat("2026-03-10T15:00:00+00:00")


def test_an_unknown_original_zone_falls_back_to_utc_flagged() -> None:
    event = Event.model_validate(event_json("x", originalStartTimeZone="Customized Time Zone 7"))
    assert event.event_zone().substituted


def test_a_series_master_carries_its_recurrence() -> None:
    master = Event.model_validate(
        event_json(
            "master",
            type="seriesMaster",
            recurrence={
                "pattern": {
                    "type": "weekly",
                    "interval": 2,
                    "daysOfWeek": ["monday", "wednesday"],
                    "firstDayOfWeek": "sunday",
                    "index": "first",
                    "month": 0,
                    "dayOfMonth": 0,
                },
                "range": {
                    "type": "endDate",
                    "startDate": "2026-03-09",
                    "endDate": "2027-06-30",
                    "recurrenceTimeZone": "Eastern Standard Time",
                    "numberOfOccurrences": 0,
                },
            },
        )
    )
    assert master.recurrence is not None
    assert master.recurrence.pattern.days_of_week == ["monday", "wednesday"]
    assert master.recurrence.range.end_date == date(2027, 6, 30)


def test_a_delta_page_separates_changes_from_removals() -> None:
    page = DeltaPage.model_validate(
        {
            "@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/a/calendarView/delta?$deltatoken=R0",
            "value": [
                {
                    "@odata.type": "#microsoft.graph.event",
                    "id": "gone",
                    "@removed": {"reason": "deleted"},
                },
                event_json("kept"),
            ],
        }
    )
    assert page.removed_ids == ["gone"]
    assert [event.id for event in page.changed] == ["kept"]
    assert page.next_link is None
    assert page.delta_link is not None


def test_graph_seven_digit_times_are_read_to_the_microsecond() -> None:
    event = Event.model_validate(
        {
            **FULL_EVENT,
            "start": {"dateTime": "2017-04-15T19:00:00.1234567", "timeZone": "UTC"},
            "end": {"dateTime": "2017-04-15T20:00:00.9999999", "timeZone": "Pacific Standard Time"},
        }
    )
    times = event.times()
    assert times.start == datetime(2017, 4, 15, 19, 0, 0, 123456, tzinfo=ZoneInfo("UTC"))
    assert times.end == datetime(
        2017, 4, 15, 20, 0, 0, 999999, tzinfo=ZoneInfo("America/Los_Angeles")
    )


def test_an_impossible_graph_time_is_refused_naming_the_date_time() -> None:
    event = Event.model_validate(
        {**FULL_EVENT, "start": {"dateTime": "2017-02-30T19:00:00.0000000", "timeZone": "UTC"}}
    )
    with pytest.raises(ValueError, match=r"dateTime '2017-02-30T19:00:00\.0000000'"):
        event.times()


def test_an_event_without_times_says_which_field_is_missing() -> None:
    with pytest.raises(ValueError, match="start"):
        Event.model_validate({"id": "partial", "subject": "x"}).times()


def test_error_envelope_parses() -> None:
    body = ErrorBody.model_validate(
        {"error": {"code": "ErrorItemNotFound", "message": "x", "innerError": {"request-id": "r1"}}}
    )
    assert body.error.code == "ErrorItemNotFound"
    assert body.error.inner_error is not None
    assert body.error.inner_error.request_id == "r1"
