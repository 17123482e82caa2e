"""Meetings between emulated mailboxes: invitations, copies, updates, responses, cancels."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.emulator import ADELE, LEE, MEGAN

ORGANIZER = f"/users/{ADELE}"


def invitation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Contract renewal with Northwind",
        "body": {"contentType": "text", "content": "Bring the draft"},
        "start": {"dateTime": "2024-06-10T14:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2024-06-10T15:00:00", "timeZone": "UTC"},
        "attendees": [
            {"type": "required", "emailAddress": {"address": MEGAN, "name": "Megan Bowen"}},
            {"type": "optional", "emailAddress": {"address": "buyer@northwind.example"}},
        ],
    }
    body.update(changes)
    return body


async def events_of(client: httpx.AsyncClient, address: str) -> list[dict[str, Any]]:
    return list((await client.get(f"/users/{address}/events")).json()["value"])


async def messages(client: httpx.AsyncClient, address: str, folder: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/users/{address}/mailFolders/{folder}/messages")
    assert reply.status_code == 200, reply.text
    return list(reply.json()["value"])


async def test_a_meeting_lands_in_the_attendees_calendar_as_their_own_copy(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    assert [a["status"] for a in created["attendees"]] == [
        {"response": "none", "time": "0001-01-01T00:00:00Z"}
    ] * 2
    assert [a["type"] for a in created["attendees"]] == ["required", "optional"]
    (copy,) = await events_of(emulator_client, MEGAN)
    assert copy["id"] != created["id"]
    assert copy["iCalUId"] == created["iCalUId"]
    assert copy["isOrganizer"] is False
    assert copy["showAs"] == "tentative"
    assert copy["responseStatus"]["response"] == "notResponded"
    assert copy["organizer"]["emailAddress"]["address"] == ADELE
    assert await events_of(emulator_client, LEE) == []

    (sent,) = await messages(emulator_client, ADELE, "sentitems")
    assert sent["@odata.type"] == "#microsoft.graph.eventMessage"
    assert sent["meetingMessageType"] == "meetingRequest"
    assert {r["emailAddress"]["address"] for r in sent["toRecipients"]} == {
        MEGAN,
        "buyer@northwind.example",
    }
    (received,) = await messages(emulator_client, MEGAN, "inbox")
    assert received["meetingMessageType"] == "meetingRequest"
    assert received["subject"] == "Contract renewal with Northwind"


async def test_organizer_updates_override_the_attendees_own_edits(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    (copy,) = await events_of(emulator_client, MEGAN)
    edited = await emulator_client.patch(
        f"/users/{MEGAN}/events/{copy['id']}",
        json={"subject": "My private title", "categories": ["Red category"]},
    )
    assert edited.status_code == 200
    await emulator_client.patch(
        f"{ORGANIZER}/events/{created['id']}",
        json={
            "subject": "Contract renewal (moved)",
            "start": {"dateTime": "2024-06-11T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-06-11T15:00:00", "timeZone": "UTC"},
        },
    )
    (copy,) = await events_of(emulator_client, MEGAN)
    assert copy["subject"] == "Contract renewal (moved)"
    assert copy["start"]["dateTime"].startswith("2024-06-11T14:00")
    assert copy["categories"] == ["Red category"]
    assert len(await messages(emulator_client, MEGAN, "inbox")) == 2


async def test_responses_update_the_organizers_attendee_status(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (
        await emulator_client.post(
            f"{ORGANIZER}/events",
            json=invitation(
                attendees=[{"emailAddress": {"address": MEGAN}}, {"emailAddress": {"address": LEE}}]
            ),
        )
    ).json()
    (megan_copy,) = await events_of(emulator_client, MEGAN)
    (lee_copy,) = await events_of(emulator_client, LEE)
    accepted = await emulator_client.post(
        f"/users/{MEGAN}/events/{megan_copy['id']}/accept",
        json={"comment": "See you there", "sendResponse": True},
    )
    assert accepted.status_code == 202
    await emulator_client.post(f"/users/{LEE}/events/{lee_copy['id']}/decline", json={})
    organizer_view = (await emulator_client.get(f"{ORGANIZER}/events/{created['id']}")).json()
    statuses = {
        a["emailAddress"]["address"]: a["status"]["response"] for a in organizer_view["attendees"]
    }
    assert statuses == {MEGAN: "accepted", LEE: "declined"}
    assert organizer_view["changeKey"] != created["changeKey"]
    (megan_copy,) = await events_of(emulator_client, MEGAN)
    assert megan_copy["responseStatus"]["response"] == "accepted"
    assert megan_copy["showAs"] == "busy"
    inbox = await messages(emulator_client, ADELE, "inbox")
    assert {m["meetingMessageType"] for m in inbox} == {"meetingAccepted", "meetingDeclined"}


async def test_the_organizer_cannot_respond_and_an_attendee_cannot_cancel(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    own = await emulator_client.post(f"{ORGANIZER}/events/{created['id']}/accept", json={})
    assert own.status_code == 400
    (copy,) = await events_of(emulator_client, MEGAN)
    cancel = await emulator_client.post(f"/users/{MEGAN}/events/{copy['id']}/cancel", json={})
    assert cancel.status_code == 400
    assert "organizer" in cancel.json()["error"]["message"]


async def test_cancel_and_delete_by_the_organizer_send_cancellations(
    emulator_client: httpx.AsyncClient,
) -> None:
    cancelled = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    reply = await emulator_client.post(
        f"{ORGANIZER}/events/{cancelled['id']}/cancel", json={"comment": "Customer postponed"}
    )
    assert (reply.status_code, reply.content) == (202, b"")
    assert (await emulator_client.get(f"{ORGANIZER}/events/{cancelled['id']}")).status_code == 404
    (copy,) = await events_of(emulator_client, MEGAN)
    assert copy["isCancelled"] is True
    assert copy["subject"].startswith("Canceled: ")
    inbox = await messages(emulator_client, MEGAN, "inbox")
    assert inbox[0]["meetingMessageType"] == "meetingCancelled"
    assert inbox[0]["body"]["content"] == "Customer postponed"

    deleted = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    await emulator_client.delete(f"{ORGANIZER}/events/{deleted['id']}")
    sent = await messages(emulator_client, ADELE, "sentitems")
    assert [m["meetingMessageType"] for m in sent[:2]] == ["meetingCancelled", "meetingRequest"]


async def test_removing_an_attendee_cancels_their_copy_and_adding_one_invites_them(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = (await emulator_client.post(f"{ORGANIZER}/events", json=invitation())).json()
    await emulator_client.patch(
        f"{ORGANIZER}/events/{created['id']}",
        json={"attendees": [{"emailAddress": {"address": LEE}}]},
    )
    (megan_copy,) = await events_of(emulator_client, MEGAN)
    assert megan_copy["isCancelled"] is True
    (lee_copy,) = await events_of(emulator_client, LEE)
    assert lee_copy["iCalUId"] == created["iCalUId"]


async def test_series_meetings_copy_occurrence_edits_and_cancellations(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (
        await emulator_client.post(
            f"{ORGANIZER}/events",
            json=invitation(
                recurrence={
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {
                        "type": "numbered",
                        "startDate": "2024-06-10",
                        "numberOfOccurrences": 3,
                    },
                }
            ),
        )
    ).json()
    window = {"startDateTime": "2024-06-01T00:00:00", "endDateTime": "2024-07-01T00:00:00"}
    occurrences = (
        await emulator_client.get(f"{ORGANIZER}/events/{master['id']}/instances", params=window)
    ).json()["value"]
    await emulator_client.patch(
        f"{ORGANIZER}/events/{occurrences[0]['id']}", json={"subject": "First one, longer agenda"}
    )
    await emulator_client.post(f"{ORGANIZER}/events/{occurrences[1]['id']}/cancel", json={})
    copies = (await emulator_client.get(f"/users/{MEGAN}/calendarView", params=window)).json()[
        "value"
    ]
    assert [(c["type"], c["subject"]) for c in copies] == [
        ("exception", "First one, longer agenda"),
        ("occurrence", "Contract renewal with Northwind"),
    ]
    assert all(c["isOrganizer"] is False for c in copies)


async def test_mail_folders_other_than_inbox_and_sent_items_are_not_found(
    emulator_client: httpx.AsyncClient,
) -> None:
    reply = await emulator_client.get(f"/users/{ADELE}/mailFolders/drafts/messages")
    assert reply.status_code == 404
