"""calendarView and instances: windows, overlap, series expansion, exceptions, cancelled slots."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.emulator import ADELE

EVENTS = f"/users/{ADELE}/events"
VIEW = f"/users/{ADELE}/calendarView"


def event(subject: str, start: str, end: str, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": subject,
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
    }
    body.update(extra)
    return body


def weekly_standup(**range_: Any) -> dict[str, Any]:
    rng = {"type": "endDate", "startDate": "2024-09-02", "endDate": "2024-09-30"}
    rng.update(range_)
    return event(
        "Weekly stand-up",
        "2024-09-02T09:00:00",
        "2024-09-02T09:15:00",
        "W. Europe Standard Time",
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]},
            "range": rng,
        },
    )


async def view(client: httpx.AsyncClient, start: str, end: str, **params: str) -> list[Any]:
    reply = await client.get(
        VIEW, params={"startDateTime": start, "endDateTime": end, "$top": "100", **params}
    )
    assert reply.status_code == 200, reply.text
    return list(reply.json()["value"])


async def test_window_is_required_and_must_not_be_empty(emulator_client: httpx.AsyncClient) -> None:
    missing = await emulator_client.get(VIEW, params={"startDateTime": "2024-01-01T00:00:00"})
    assert missing.status_code == 400
    assert "endDateTime" in missing.json()["error"]["message"]
    backwards = await emulator_client.get(
        VIEW, params={"startDateTime": "2024-01-02T00:00:00", "endDateTime": "2024-01-01T00:00:00"}
    )
    assert backwards.status_code == 400


async def test_events_overlapping_the_window_edges_are_included(
    emulator_client: httpx.AsyncClient,
) -> None:
    for subject, start, end in [
        ("before", "2024-03-01T08:00:00", "2024-03-01T09:00:00"),
        ("straddles start", "2024-03-01T09:30:00", "2024-03-01T10:30:00"),
        ("inside", "2024-03-01T11:00:00", "2024-03-01T11:30:00"),
        ("straddles end", "2024-03-01T11:45:00", "2024-03-01T12:30:00"),
        ("after", "2024-03-01T12:00:00", "2024-03-01T13:00:00"),
    ]:
        await emulator_client.post(EVENTS, json=event(subject, start, end))
    found = await view(emulator_client, "2024-03-01T10:00:00Z", "2024-03-01T12:00:00Z")
    assert [e["subject"] for e in found] == ["straddles start", "inside", "straddles end"]


async def test_window_offsets_are_honoured_and_prefer_timezone_does_not_move_it(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(
        EVENTS,
        json=event("Berlin morning", "2024-03-01T09:00:00", "2024-03-01T10:00:00", "Europe/Berlin"),
    )
    in_window = await view(
        emulator_client, "2024-03-01T09:00:00+01:00", "2024-03-01T10:00:00+01:00"
    )
    assert len(in_window) == 1
    reply = await emulator_client.get(
        VIEW,
        params={"startDateTime": "2024-03-01T08:00:00", "endDateTime": "2024-03-01T09:00:00"},
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
    )
    (shown,) = reply.json()["value"]
    assert shown["start"] == {
        "dateTime": "2024-03-01T00:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert 'outlook.timezone="Pacific Standard Time"' in reply.headers["Preference-Applied"]


async def test_a_series_expands_into_occurrences_and_events_lists_only_the_master(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(EVENTS, json=weekly_standup())).json()
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["range"]["endDate"] == "2024-09-30"
    found = await view(emulator_client, "2024-08-01T00:00:00", "2024-11-01T00:00:00")
    assert [e["start"]["dateTime"][:16] for e in found] == [
        "2024-09-02T07:00",
        "2024-09-09T07:00",
        "2024-09-16T07:00",
        "2024-09-23T07:00",
        "2024-09-30T07:00",
    ]
    assert {e["type"] for e in found} == {"occurrence"}
    assert {e["seriesMasterId"] for e in found} == {master["id"]}
    assert all(e["recurrence"] is None for e in found)
    assert len({e["iCalUId"] for e in found}) == 5
    listed = (await emulator_client.get(EVENTS)).json()["value"]
    assert [e["type"] for e in listed] == ["seriesMaster"]


async def test_occurrence_times_keep_their_wall_clock_across_a_dst_change(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(
        EVENTS,
        json=weekly_standup(startDate="2024-10-21", endDate="2024-11-04")
        | {
            "start": {"dateTime": "2024-10-21T09:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2024-10-21T09:15:00", "timeZone": "W. Europe Standard Time"},
        },
    )
    found = await view(emulator_client, "2024-10-01T00:00:00", "2024-12-01T00:00:00")
    assert [e["start"]["dateTime"][:16] for e in found] == [
        "2024-10-21T07:00",
        "2024-10-28T08:00",
        "2024-11-04T08:00",
    ]


async def test_an_edited_occurrence_becomes_an_exception_and_a_deleted_one_disappears(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(EVENTS, json=weekly_standup())).json()
    occurrences = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    second, third = occurrences[1], occurrences[2]
    moved = await emulator_client.patch(
        f"{EVENTS}/{second['id']}",
        json={
            "subject": "Stand-up (moved)",
            "start": {"dateTime": "2024-09-10T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-09-10T10:15:00", "timeZone": "UTC"},
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["type"] == "exception"
    assert moved.json()["originalStart"].startswith("2024-09-09T07:00:00")
    assert (await emulator_client.delete(f"{EVENTS}/{third['id']}")).status_code == 204
    found = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    assert [(e["type"], e["start"]["dateTime"][:16]) for e in found] == [
        ("occurrence", "2024-09-02T07:00"),
        ("exception", "2024-09-10T10:00"),
        ("occurrence", "2024-09-23T07:00"),
        ("occurrence", "2024-09-30T07:00"),
    ]
    instances = await emulator_client.get(
        f"{EVENTS}/{master['id']}/instances",
        params={"startDateTime": "2024-09-01T00:00:00", "endDateTime": "2024-10-01T00:00:00"},
    )
    assert [e["id"] for e in instances.json()["value"]] == [e["id"] for e in found]
    assert (await emulator_client.get(f"{EVENTS}/{third['id']}")).status_code == 404


async def test_moving_an_occurrence_onto_a_neighbours_day_is_refused(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(EVENTS, json=weekly_standup())
    occurrences = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    reply = await emulator_client.patch(
        f"{EVENTS}/{occurrences[1]['id']}",
        json={
            "start": {"dateTime": "2024-09-16T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-09-16T10:15:00", "timeZone": "UTC"},
        },
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "ErrorOccurrenceCrossingBoundary"


async def test_changing_the_series_rule_discards_its_exceptions(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(EVENTS, json=weekly_standup())).json()
    occurrences = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    await emulator_client.patch(f"{EVENTS}/{occurrences[0]['id']}", json={"subject": "Special"})
    await emulator_client.patch(
        f"{EVENTS}/{master['id']}",
        json={
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]},
                "range": {"type": "endDate", "startDate": "2024-09-02", "endDate": "2024-09-30"},
            }
        },
    )
    found = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    assert [(e["subject"], e["start"]["dateTime"][:10]) for e in found] == [
        ("Weekly stand-up", "2024-09-02"),
        ("Weekly stand-up", "2024-09-16"),
        ("Weekly stand-up", "2024-09-30"),
    ]


async def test_cancelling_one_occurrence_removes_only_that_slot(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(EVENTS, json=weekly_standup())
    occurrences = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    reply = await emulator_client.post(
        f"{EVENTS}/{occurrences[0]['id']}/cancel", json={"comment": "Public holiday"}
    )
    assert (reply.status_code, reply.content) == (202, b"")
    found = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    assert len(found) == 4
    assert occurrences[0]["id"] not in {e["id"] for e in found}


async def test_numbered_and_no_end_ranges(emulator_client: httpx.AsyncClient) -> None:
    numbered = weekly_standup(type="numbered", numberOfOccurrences=3)
    numbered["recurrence"]["range"].pop("endDate")
    await emulator_client.post(EVENTS, json=numbered)
    found = await view(emulator_client, "2024-01-01T00:00:00", "2025-01-01T00:00:00")
    assert len(found) == 3
    forever = event(
        "Payroll",
        "2024-01-31T10:00:00",
        "2024-01-31T11:00:00",
        recurrence={
            "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            "range": {"type": "noEnd", "startDate": "2024-01-31"},
        },
    )
    await emulator_client.post(EVENTS, json=forever)
    found = await view(
        emulator_client,
        "2030-01-01T00:00:00",
        "2031-01-01T00:00:00",
        **{"$filter": "subject eq 'Payroll'"},
    )
    assert [e["start"]["dateTime"][:10] for e in found] == [
        "2030-01-31",
        "2030-03-31",
        "2030-05-31",
        "2030-07-31",
        "2030-08-31",
        "2030-10-31",
        "2030-12-31",
    ]


async def test_a_series_edit_reaches_edited_occurrences_except_their_own_changes(
    emulator_client: httpx.AsyncClient, emulator_app: Any
) -> None:
    master = (await emulator_client.post(EVENTS, json=weekly_standup())).json()
    occurrences = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    await emulator_client.patch(f"{EVENTS}/{occurrences[0]['id']}", json={"subject": "Kick-off"})
    await emulator_client.patch(
        f"{EVENTS}/{occurrences[1]['id']}", json={"location": {"displayName": "Room 7"}}
    )
    heard: list[Any] = []
    emulator_app.state.emulator.store.add_listener(heard.append)
    await emulator_client.patch(
        f"{EVENTS}/{master['id']}", json={"subject": "Daily sync", "importance": "high"}
    )
    found = await view(emulator_client, "2024-09-01T00:00:00", "2024-10-01T00:00:00")
    assert [(e["type"], e["subject"], e["importance"]) for e in found[:3]] == [
        ("exception", "Kick-off", "high"),
        ("exception", "Daily sync", "high"),
        ("occurrence", "Daily sync", "high"),
    ]
    assert found[1]["location"]["displayName"] == "Room 7"
    assert sorted(n.event_id for n in heard) == sorted(
        [master["id"], occurrences[0]["id"], occurrences[1]["id"]]
    )
