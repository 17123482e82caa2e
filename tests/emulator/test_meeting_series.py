"""Meetings that repeat: answers to one occurrence, and organizer edits reaching every copy.

Exchange keeps what an exception changed and reads everything else from its series (MS-OXOCAL
ExceptionInfo override flags), and tracks an attendee's answer per occurrence
(recipExceptionalResponse); see calsync.emulator.series_carry.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.emulator import ADELE, LEE, MEGAN

ORGANIZER = f"/users/{ADELE}"
WINDOW = {"startDateTime": "2024-06-01T00:00:00", "endDateTime": "2024-07-01T00:00:00"}


def weekly_meeting(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Pipeline review",
        "body": {"contentType": "text", "content": "Bring the numbers"},
        "location": {"displayName": "Room 1"},
        "start": {"dateTime": "2024-06-10T14:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2024-06-10T15:00:00", "timeZone": "UTC"},
        "attendees": [
            {"type": "required", "emailAddress": {"address": MEGAN}},
            {"type": "required", "emailAddress": {"address": LEE}},
        ],
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2024-06-10", "numberOfOccurrences": 3},
        },
    }
    body.update(changes)
    return body


async def view(client: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/users/{address}/calendarView", params=WINDOW)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["value"])


async def copy_master(client: httpx.AsyncClient, address: str) -> dict[str, Any]:
    (master,) = (await client.get(f"/users/{address}/events")).json()["value"]
    return dict(master)


def status_of(event: dict[str, Any], address: str) -> str:
    (entry,) = [a for a in event["attendees"] if a["emailAddress"]["address"] == address]
    return str(entry["status"]["response"])


async def inbox(client: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/users/{address}/mailFolders/inbox/messages")
    return list(reply.json()["value"])


async def test_accepting_one_occurrence_answers_that_occurrence_only(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())).json()
    megan_before = await view(emulator_client, MEGAN)
    second = megan_before[1]

    reply = await emulator_client.post(
        f"/users/{MEGAN}/events/{second['id']}/accept",
        json={"comment": "Only this one, the others clash", "sendResponse": True},
    )
    assert (reply.status_code, reply.content) == (202, b"")

    megan = await view(emulator_client, MEGAN)
    assert [e["id"] for e in megan] == [e["id"] for e in megan_before]  # ids stay the same
    assert [e["type"] for e in megan] == ["occurrence", "exception", "occurrence"]
    assert [e["responseStatus"]["response"] for e in megan] == [
        "notResponded",
        "accepted",
        "notResponded",
    ]
    assert [e["showAs"] for e in megan] == ["tentative", "busy", "tentative"]
    assert (await copy_master(emulator_client, MEGAN))["responseStatus"]["response"] == (
        "notResponded"
    )

    organizer = await view(emulator_client, ADELE)
    assert [e["type"] for e in organizer] == ["occurrence", "exception", "occurrence"]
    assert [status_of(e, MEGAN) for e in organizer] == ["none", "accepted", "none"]
    assert [status_of(e, LEE) for e in organizer] == ["none", "none", "none"]
    organizer_master = (await emulator_client.get(f"{ORGANIZER}/events/{master['id']}")).json()
    assert status_of(organizer_master, MEGAN) == "none"

    assert [e["type"] for e in await view(emulator_client, LEE)] == ["occurrence"] * 3
    (mail,) = await inbox(emulator_client, ADELE)
    assert mail["meetingMessageType"] == "meetingAccepted"
    assert mail["body"]["content"] == "Only this one, the others clash"
    assert mail["subject"] == "Accepted: Pipeline review"
    assert mail["startDateTime"]["dateTime"].startswith("2024-06-17T14:00")


async def test_declining_one_occurrence_quietly_then_accepting_the_series(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())
    first = (await view(emulator_client, MEGAN))[0]
    declined = await emulator_client.post(
        f"/users/{MEGAN}/events/{first['id']}/decline", json={"sendResponse": False}
    )
    assert declined.status_code == 202
    assert await inbox(emulator_client, ADELE) == []  # sendResponse false: no mail

    series = await copy_master(emulator_client, MEGAN)
    await emulator_client.post(f"/users/{MEGAN}/events/{series['id']}/accept", json={})

    megan = await view(emulator_client, MEGAN)
    assert [(e["responseStatus"]["response"], e["showAs"]) for e in megan] == [
        ("declined", "free"),  # answered on its own, so the series answer does not reach it
        ("accepted", "busy"),
        ("accepted", "busy"),
    ]
    organizer = await view(emulator_client, ADELE)
    assert [status_of(e, MEGAN) for e in organizer] == ["declined", "accepted", "accepted"]
    assert [m["meetingMessageType"] for m in await inbox(emulator_client, ADELE)] == [
        "meetingAccepted"
    ]


async def test_the_organizer_cannot_answer_an_occurrence_of_their_own_series(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())
    own = (await view(emulator_client, ADELE))[0]
    reply = await emulator_client.post(f"{ORGANIZER}/events/{own['id']}/accept", json={})
    assert reply.status_code == 400
    assert [e["type"] for e in await view(emulator_client, ADELE)] == ["occurrence"] * 3


async def test_series_edits_reach_the_exceptions_in_every_attendee_copy(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())).json()
    organizer_slots = await view(emulator_client, ADELE)
    await emulator_client.patch(
        f"{ORGANIZER}/events/{organizer_slots[0]['id']}", json={"subject": "Pipeline + hiring"}
    )
    megan_second = (await view(emulator_client, MEGAN))[1]
    await emulator_client.post(f"/users/{MEGAN}/events/{megan_second['id']}/accept", json={})

    edited = await emulator_client.patch(
        f"{ORGANIZER}/events/{master['id']}",
        json={
            "subject": "Pipeline review (Q3)",
            "location": {"displayName": "Room 4"},
            "body": {"contentType": "text", "content": "Numbers and forecast"},
        },
    )
    assert edited.status_code == 200

    for address in (MEGAN, LEE):
        copies = await view(emulator_client, address)
        assert [e["subject"] for e in copies] == [
            "Pipeline + hiring",  # the organizer's own change to that occurrence stays
            "Pipeline review (Q3)",
            "Pipeline review (Q3)",
        ], address
        assert [e["location"]["displayName"] for e in copies] == ["Room 4"] * 3
        assert all("Numbers and forecast" in e["bodyPreview"] for e in copies)
        assert all(e["isOrganizer"] is False for e in copies)
    megan = await view(emulator_client, MEGAN)
    assert [e["type"] for e in megan] == ["exception", "exception", "occurrence"]
    assert megan[1]["responseStatus"]["response"] == "accepted"  # her answer survives
    organizer = await view(emulator_client, ADELE)
    assert [e["subject"] for e in organizer] == [
        "Pipeline + hiring",
        "Pipeline review (Q3)",
        "Pipeline review (Q3)",
    ]
    assert status_of(organizer[1], MEGAN) == "accepted"
    # Every copy of an occurrence, exception or not, shares the organizer's occurrence iCalUId.
    assert [e["iCalUId"] for e in megan] == [e["iCalUId"] for e in organizer]
    assert len({e["iCalUId"] for e in organizer}) == 3


async def test_changing_the_series_times_drops_the_copies_exceptions(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())).json()
    megan_first = (await view(emulator_client, MEGAN))[0]
    await emulator_client.post(f"/users/{MEGAN}/events/{megan_first['id']}/decline", json={})
    await emulator_client.patch(
        f"{ORGANIZER}/events/{master['id']}",
        json={
            "start": {"dateTime": "2024-06-10T16:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-06-10T17:00:00", "timeZone": "UTC"},
        },
    )
    megan = await view(emulator_client, MEGAN)
    assert [e["type"] for e in megan] == ["occurrence"] * 3
    assert all(e["start"]["dateTime"].startswith("2024-06-") for e in megan)
    assert [e["start"]["dateTime"][11:16] for e in megan] == ["16:00"] * 3


async def test_cancelling_an_occurrence_removes_it_and_cancelling_the_series_marks_the_rest(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())).json()
    organizer_slots = await view(emulator_client, ADELE)
    megan_third = (await view(emulator_client, MEGAN))[2]
    await emulator_client.post(f"/users/{MEGAN}/events/{megan_third['id']}/accept", json={})
    await emulator_client.post(f"{ORGANIZER}/events/{organizer_slots[0]['id']}/cancel", json={})
    for address in (MEGAN, LEE):
        remaining = await view(emulator_client, address)
        assert [e["start"]["dateTime"][:10] for e in remaining] == ["2024-06-17", "2024-06-24"]

    await emulator_client.post(
        f"{ORGANIZER}/events/{master['id']}/cancel", json={"comment": "Review moved to Teams"}
    )
    megan = await view(emulator_client, MEGAN)
    assert [e["isCancelled"] for e in megan] == [True, True]
    assert all(e["subject"] == "Canceled: Pipeline review" for e in megan)
    assert megan[1]["type"] == "exception"


async def test_an_occurrence_an_attendee_deleted_comes_back_when_the_organizer_updates_it(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())
    megan_second = (await view(emulator_client, MEGAN))[1]
    await emulator_client.post(f"/users/{MEGAN}/events/{megan_second['id']}/accept", json={})
    deleted = await emulator_client.delete(f"/users/{MEGAN}/events/{megan_second['id']}")
    assert deleted.status_code == 204
    assert len(await view(emulator_client, MEGAN)) == 2

    organizer_second = (await view(emulator_client, ADELE))[1]
    edited = await emulator_client.patch(
        f"{ORGANIZER}/events/{organizer_second['id']}", json={"subject": "Pipeline + hiring"}
    )
    assert edited.status_code == 200

    # The update is a new meeting request for that occurrence: it is on her calendar again,
    # tentative and unanswered, with the organizer's change; the others are as they were.
    megan = await view(emulator_client, MEGAN)
    assert [e["subject"] for e in megan] == [
        "Pipeline review",
        "Pipeline + hiring",
        "Pipeline review",
    ]
    assert megan[1]["type"] == "exception"
    assert megan[1]["isOrganizer"] is False
    assert megan[1]["showAs"] == "tentative"
    assert megan[1]["responseStatus"]["response"] == "notResponded"
    assert megan[1]["iCalUId"] == organizer_second["iCalUId"]
    assert [e["subject"] for e in await view(emulator_client, LEE)] == [e["subject"] for e in megan]


async def test_an_attendee_added_later_gets_the_series_with_its_edited_and_cancelled_occurrences(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (
        await emulator_client.post(
            f"{ORGANIZER}/events",
            json=weekly_meeting(attendees=[{"emailAddress": {"address": MEGAN}}]),
        )
    ).json()
    slots = await view(emulator_client, ADELE)
    await emulator_client.patch(
        f"{ORGANIZER}/events/{slots[0]['id']}", json={"subject": "Pipeline + hiring"}
    )
    await emulator_client.post(f"{ORGANIZER}/events/{slots[1]['id']}/cancel", json={})
    added = await emulator_client.patch(
        f"{ORGANIZER}/events/{master['id']}",
        json={
            "attendees": [
                {"emailAddress": {"address": MEGAN}},
                {"emailAddress": {"address": LEE}},
            ]
        },
    )
    assert added.status_code == 200

    lee = await view(emulator_client, LEE)
    assert [(e["type"], e["subject"], e["start"]["dateTime"][:10]) for e in lee] == [
        ("exception", "Pipeline + hiring", "2024-06-10"),
        ("occurrence", "Pipeline review", "2024-06-24"),
    ]
    assert all(e["responseStatus"]["response"] == "notResponded" for e in lee)
    assert [status_of(e, LEE) for e in await view(emulator_client, ADELE)] == ["none", "none"]


async def test_a_bad_response_body_is_refused_naming_the_field_and_changes_nothing(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(f"{ORGANIZER}/events", json=weekly_meeting())
    first = (await view(emulator_client, MEGAN))[0]
    url = f"/users/{MEGAN}/events/{first['id']}/accept"
    for body, field in [
        ({"sendResponse": "yes"}, "sendResponse:"),
        ({"comment": 42}, "comment:"),
        ({"comment": "ok", "mood": "happy"}, "mood:"),
        ({"proposedNewTime": {}}, "proposedNewTime:"),
        ([], "body:"),
    ]:
        reply = await emulator_client.post(url, json=body)
        assert reply.status_code == 400, body
        assert reply.json()["error"]["message"].startswith(field)
    assert [e["type"] for e in await view(emulator_client, MEGAN)] == ["occurrence"] * 3
    assert await inbox(emulator_client, ADELE) == []
