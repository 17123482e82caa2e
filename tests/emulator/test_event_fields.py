"""Event fields over raw HTTP: time zones, all-day rules, Teams meetings, validation errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.emulator import ADELE, KIOSK

EVENTS = f"/users/{ADELE}/events"


def timed(start: str, end: str, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    return {
        "subject": "Site visit",
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
        **extra,
    }


@pytest.mark.parametrize(
    ("zone", "utc_start"),
    [
        ("Pacific Standard Time", "2024-01-15T17:00:00.0000000"),
        ("America/Los_Angeles", "2024-01-15T17:00:00.0000000"),
        ("India Standard Time", "2024-01-15T03:30:00.0000000"),
        ("Asia/Kolkata", "2024-01-15T03:30:00.0000000"),
        ("UTC", "2024-01-15T09:00:00.0000000"),
    ],
)
async def test_windows_and_iana_zone_names_are_both_understood(
    emulator_client: httpx.AsyncClient, zone: str, utc_start: str
) -> None:
    reply = await emulator_client.post(
        EVENTS, json=timed("2024-01-15T09:00:00", "2024-01-15T10:00:00", zone)
    )
    assert reply.status_code == 201, reply.text
    event = reply.json()
    assert event["start"] == {"dateTime": utc_start, "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == zone


async def test_prefer_outlook_timezone_renders_and_is_echoed(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (
        await emulator_client.post(
            EVENTS, json=timed("2024-07-01T09:00:00", "2024-07-01T10:00:00", "Europe/Berlin")
        )
    ).json()
    reply = await emulator_client.get(
        f"{EVENTS}/{created['id']}", headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'}
    )
    assert reply.json()["start"] == {
        "dateTime": "2024-07-01T16:00:00.0000000",
        "timeZone": "Tokyo Standard Time",
    }
    assert reply.headers["Preference-Applied"] == 'outlook.timezone="Tokyo Standard Time"'
    bad = await emulator_client.get(
        f"{EVENTS}/{created['id']}", headers={"Prefer": 'outlook.timezone="Moon/Base"'}
    )
    assert bad.status_code == 400


async def test_all_day_events_are_floating_dates_shown_as_midnight_in_any_zone(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = await emulator_client.post(
        EVENTS,
        json=timed(
            "2024-05-01T00:00:00", "2024-05-03T00:00:00", "Pacific Standard Time", isAllDay=True
        ),
    )
    assert created.status_code == 201
    assert created.json()["start"] == {"dateTime": "2024-05-01T00:00:00.0000000", "timeZone": "UTC"}
    assert created.json()["end"]["dateTime"] == "2024-05-03T00:00:00.0000000"
    zoned = await emulator_client.get(
        f"{EVENTS}/{created.json()['id']}",
        headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'},
    )
    assert zoned.json()["start"] == {
        "dateTime": "2024-05-01T00:00:00.0000000",
        "timeZone": "Tokyo Standard Time",
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (timed("2024-05-01T09:00:00", "2024-05-02T00:00:00", isAllDay=True), "midnight"),
        (
            {
                **timed("2024-05-01T00:00:00", "2024-05-02T00:00:00", isAllDay=True),
                "end": {"dateTime": "2024-05-02T00:00:00", "timeZone": "Europe/Berlin"},
            },
            "same time zone",
        ),
        (timed("2024-05-01T00:00:00", "2024-05-01T00:00:00", isAllDay=True), "one day"),
        (timed("2024-05-01T10:00:00", "2024-05-01T09:00:00"), "end must not be before start"),
        (
            timed("2024-05-01T10:00:00", "2024-05-01T11:00:00", "Mars Standard Time"),
            "Mars Standard Time",
        ),
        (timed("2024-05-01T10:00:00+02:00", "2024-05-01T11:00:00"), "start.dateTime"),
        (timed("2024-05-32T10:00:00", "2024-05-01T11:00:00"), "start.dateTime"),
        ({"subject": "No times"}, "start is required"),
        (timed("2024-05-01T10:00:00", "2024-05-01T11:00:00", showAs="away"), "showAs"),
        (timed("2024-05-01T10:00:00", "2024-05-01T11:00:00", importance=3), "importance"),
        (timed("2024-05-01T10:00:00", "2024-05-01T11:00:00", isReminderOn="yes"), "isReminderOn"),
        (timed("2024-05-01T10:00:00", "2024-05-01T11:00:00", colour="red"), "colour"),
        (
            timed(
                "2024-05-01T10:00:00",
                "2024-05-01T11:00:00",
                attendees=[{"emailAddress": {"address": "not-an-address"}}],
            ),
            "attendees[0].emailAddress.address",
        ),
        (
            timed(
                "2024-05-01T10:00:00",
                "2024-05-01T11:00:00",
                attendees=[{"type": "chair", "emailAddress": {"address": "a@b.example"}}],
            ),
            "attendees[0].type",
        ),
        (
            timed(
                "2024-05-01T10:00:00",
                "2024-05-01T11:00:00",
                attendees=[
                    {"emailAddress": {"address": f"guest{n}@b.example"}} for n in range(501)
                ],
            ),
            "at most 500",
        ),
    ],
)
async def test_invalid_events_are_refused_naming_the_problem_and_nothing_is_saved(
    emulator_client: httpx.AsyncClient, body: dict[str, Any], named: str
) -> None:
    reply = await emulator_client.post(EVENTS, json=body)
    assert reply.status_code == 400, reply.text
    assert named in reply.json()["error"]["message"]
    assert (await emulator_client.get(EVENTS)).json()["value"] == []


async def test_a_bad_patch_leaves_the_event_untouched(emulator_client: httpx.AsyncClient) -> None:
    created = (
        await emulator_client.post(EVENTS, json=timed("2024-05-01T10:00:00", "2024-05-01T11:00:00"))
    ).json()
    reply = await emulator_client.patch(
        f"{EVENTS}/{created['id']}",
        json={
            "subject": "Half applied?",
            "end": {"dateTime": "2024-05-01T08:00:00", "timeZone": "UTC"},
        },
    )
    assert reply.status_code == 400
    again = (await emulator_client.get(f"{EVENTS}/{created['id']}")).json()
    assert again["subject"] == "Site visit"
    assert again["changeKey"] == created["changeKey"]


async def test_bodies_must_be_json(emulator_client: httpx.AsyncClient) -> None:
    broken = await emulator_client.post(
        EVENTS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "BadRequest")
    form = await emulator_client.post(
        EVENTS, content=b"subject=x", headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 415


async def test_teams_meetings_get_a_join_url_that_cannot_be_switched_off(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (
        await emulator_client.post(
            EVENTS,
            json=timed(
                "2024-05-01T10:00:00",
                "2024-05-01T11:00:00",
                isOnlineMeeting=True,
                onlineMeetingProvider="teamsForBusiness",
                body={"contentType": "html", "content": "<p>Agenda</p>"},
            ),
        )
    ).json()
    assert created["isOnlineMeeting"] is True
    assert created["onlineMeetingProvider"] == "teamsForBusiness"
    assert created["onlineMeeting"]["joinUrl"].startswith(
        "https://teams.microsoft.com/l/meetup-join/"
    )
    assert created["onlineMeetingUrl"] is None
    assert created["onlineMeeting"]["joinUrl"] in created["body"]["content"]
    assert "Microsoft Teams meeting" in created["bodyPreview"]
    patched = (
        await emulator_client.patch(
            f"{EVENTS}/{created['id']}",
            json={"isOnlineMeeting": False, "onlineMeetingProvider": "skypeForBusiness"},
        )
    ).json()
    assert patched["isOnlineMeeting"] is True
    assert patched["onlineMeetingProvider"] == "teamsForBusiness"
    assert patched["onlineMeeting"] == created["onlineMeeting"]


async def test_teams_can_be_switched_on_later(emulator_client: httpx.AsyncClient) -> None:
    created = (
        await emulator_client.post(EVENTS, json=timed("2024-05-01T10:00:00", "2024-05-01T11:00:00"))
    ).json()
    assert created["onlineMeeting"] is None
    patched = (
        await emulator_client.patch(
            f"{EVENTS}/{created['id']}",
            json={"isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"},
        )
    ).json()
    assert patched["onlineMeeting"]["joinUrl"]


async def test_a_mailbox_that_cannot_host_teams_silently_gets_no_meeting(
    emulator_client: httpx.AsyncClient,
) -> None:
    reply = await emulator_client.post(
        f"/users/{KIOSK}/events",
        json=timed(
            "2024-05-01T10:00:00",
            "2024-05-01T11:00:00",
            isOnlineMeeting=True,
            onlineMeetingProvider="teamsForBusiness",
        ),
    )
    assert reply.status_code == 201
    event = reply.json()
    assert (event["isOnlineMeeting"], event["onlineMeetingProvider"]) == (False, "unknown")
    assert event["onlineMeeting"] is None


async def test_location_replaces_locations_and_body_type_preference(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (
        await emulator_client.post(
            EVENTS,
            json=timed(
                "2024-05-01T10:00:00",
                "2024-05-01T11:00:00",
                locations=[{"displayName": "Room 1"}, {"displayName": "Room 2"}],
                body={"contentType": "html", "content": "<b>Bold</b> plan"},
            ),
        )
    ).json()
    assert created["location"]["displayName"] == "Room 1"
    patched = (
        await emulator_client.patch(
            f"{EVENTS}/{created['id']}", json={"location": {"displayName": "Room 9"}}
        )
    ).json()
    assert [loc["displayName"] for loc in patched["locations"]] == ["Room 9"]
    text = await emulator_client.get(
        f"{EVENTS}/{created['id']}", headers={"Prefer": 'outlook.body-content-type="text"'}
    )
    assert text.json()["body"] == {"contentType": "text", "content": "Bold plan"}


async def test_an_all_day_series_expands_into_whole_days(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = await emulator_client.post(
        EVENTS,
        json=timed(
            "2024-03-29T00:00:00",
            "2024-03-30T00:00:00",
            "W. Europe Standard Time",
            isAllDay=True,
            recurrence={
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["friday"]},
                "range": {"type": "numbered", "startDate": "2024-03-29", "numberOfOccurrences": 2},
            },
        ),
    )
    assert created.status_code == 201, created.text
    found = (
        await emulator_client.get(
            f"/users/{ADELE}/calendarView",
            params={"startDateTime": "2024-03-01T00:00:00", "endDateTime": "2024-05-01T00:00:00"},
        )
    ).json()
    assert [
        (e["start"]["dateTime"], e["end"]["dateTime"], e["isAllDay"]) for e in found["value"]
    ] == [
        ("2024-03-29T00:00:00.0000000", "2024-03-30T00:00:00.0000000", True),
        ("2024-04-05T00:00:00.0000000", "2024-04-06T00:00:00.0000000", True),
    ]
