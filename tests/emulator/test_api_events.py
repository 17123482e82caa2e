"""Event CRUD over raw HTTP: shapes, ids, change keys, If-Match, transactionId, validation."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.fixtures.emulator import ADELE

EVENTS = f"/users/{ADELE}/events"


def lunch(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Quarterly review with Fabrikam",
        "body": {"contentType": "HTML", "content": "<p>Agenda attached</p>"},
        "start": {"dateTime": "2024-05-06T12:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2024-05-06T13:30:00", "timeZone": "Pacific Standard Time"},
        "location": {"displayName": "Fabrikam HQ"},
    }
    body.update(changes)
    return body


async def test_created_event_comes_back_in_utc_with_graph_shaped_fields(
    emulator_client: httpx.AsyncClient,
) -> None:
    reply = await emulator_client.post(EVENTS, json=lunch())
    assert reply.status_code == 201
    event = reply.json()
    assert event["start"] == {"dateTime": "2024-05-06T19:00:00.0000000", "timeZone": "UTC"}
    assert event["end"] == {"dateTime": "2024-05-06T20:30:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == "Pacific Standard Time"
    assert event["type"] == "singleInstance"
    assert event["isOrganizer"] is True
    assert event["responseStatus"] == {"response": "organizer", "time": "0001-01-01T00:00:00Z"}
    assert event["organizer"]["emailAddress"]["address"] == ADELE
    assert event["locations"] == [event["location"]]
    assert event["body"]["contentType"] == "html"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["createdDateTime"])
    assert event["@odata.etag"].startswith('W/"')
    assert event["@odata.etag"] != event["changeKey"]
    assert event["transactionId"] is None
    fetched = (await emulator_client.get(f"{EVENTS}/{event['id']}")).json()
    assert fetched["subject"] == "Quarterly review with Fabrikam"
    assert fetched["changeKey"] == event["changeKey"]


async def test_the_event_is_reachable_under_every_default_calendar_path(
    emulator_client: httpx.AsyncClient,
) -> None:
    event = (await emulator_client.post(f"/users/{ADELE}/calendar/events", json=lunch())).json()
    calendar = (await emulator_client.get(f"/users/{ADELE}/calendar")).json()
    for path in (
        EVENTS,
        f"/users/{ADELE}/calendar/events",
        f"/users/{ADELE}/calendars/{calendar['id']}/events",
    ):
        reply = await emulator_client.get(f"{path}/{event['id']}")
        assert reply.status_code == 200, path
    missing = await emulator_client.get(f"/users/{ADELE}/calendars/AAMkAGnope/events")
    assert missing.status_code == 404


async def test_immutable_ids_are_returned_on_request_and_both_forms_resolve(
    emulator_client: httpx.AsyncClient,
) -> None:
    prefer = {"Prefer": 'IdType="ImmutableId"'}
    event = (await emulator_client.post(EVENTS, json=lunch(), headers=prefer)).json()
    rest = (await emulator_client.get(f"{EVENTS}/{event['id']}")).json()
    assert rest["id"] != event["id"]
    again = await emulator_client.get(f"{EVENTS}/{rest['id']}", headers=prefer)
    assert again.json()["id"] == event["id"]
    assert "IdType" in again.headers["Preference-Applied"]


async def test_patch_changes_the_change_key_and_etag_and_ignores_read_only_fields(
    emulator_client: httpx.AsyncClient,
) -> None:
    event = (await emulator_client.post(EVENTS, json=lunch())).json()
    reply = await emulator_client.patch(
        f"{EVENTS}/{event['id']}",
        json={
            "subject": "Moved review",
            "id": "ignored",
            "isOrganizer": False,
            "@odata.etag": 'W/"x"',
            "createdDateTime": "2000-01-01T00:00:00Z",
        },
    )
    assert reply.status_code == 200
    updated = reply.json()
    assert updated["subject"] == "Moved review"
    assert updated["id"] == event["id"]
    assert updated["isOrganizer"] is True
    assert updated["createdDateTime"] == event["createdDateTime"]
    assert updated["lastModifiedDateTime"] > event["lastModifiedDateTime"]
    assert updated["changeKey"] != event["changeKey"]
    assert updated["@odata.etag"] != event["@odata.etag"]


async def test_if_match_with_a_stale_etag_is_412_and_star_always_matches(
    emulator_client: httpx.AsyncClient,
) -> None:
    event = (await emulator_client.post(EVENTS, json=lunch())).json()
    url = f"{EVENTS}/{event['id']}"
    first = await emulator_client.patch(
        url, json={"subject": "v2"}, headers={"If-Match": event["@odata.etag"]}
    )
    assert first.status_code == 200
    stale = await emulator_client.patch(
        url, json={"subject": "v3"}, headers={"If-Match": event["@odata.etag"]}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "ErrorIrresolvableConflict"
    assert (await emulator_client.get(url)).json()["subject"] == "v2"
    stale_delete = await emulator_client.delete(url, headers={"If-Match": event["@odata.etag"]})
    assert stale_delete.status_code == 412
    assert (await emulator_client.delete(url, headers={"If-Match": "*"})).status_code == 204
    gone = await emulator_client.get(url)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ErrorItemNotFound"


async def test_a_retried_create_with_the_same_transaction_id_returns_the_first_event(
    emulator_client: httpx.AsyncClient,
) -> None:
    first = await emulator_client.post(EVENTS, json=lunch(transactionId="crm-42-create"))
    retry = await emulator_client.post(
        EVENTS, json=lunch(transactionId="crm-42-create", subject="Changed on retry")
    )
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["subject"] == "Quarterly review with Fabrikam"
    assert retry.json()["transactionId"] == "crm-42-create"
    listed = (await emulator_client.get(EVENTS)).json()["value"]
    assert len(listed) == 1


async def test_garbage_ids_are_malformed_and_unknown_ones_not_found(
    emulator_client: httpx.AsyncClient,
) -> None:
    garbage = await emulator_client.get(f"{EVENTS}/not-an-id")
    assert (garbage.status_code, garbage.json()["error"]["code"]) == (
        400,
        "ErrorInvalidIdMalformed",
    )
    event = (await emulator_client.post(EVENTS, json=lunch())).json()
    truncated = await emulator_client.get(f"{EVENTS}/{event['id'][:-5]}")
    assert truncated.json()["error"]["code"] == "ErrorInvalidIdMalformed"
    await emulator_client.delete(f"{EVENTS}/{event['id']}")
    gone = await emulator_client.get(f"{EVENTS}/{event['id']}")
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "ErrorItemNotFound")


async def test_another_mailbox_cannot_read_the_event_by_id(
    emulator_client: httpx.AsyncClient,
) -> None:
    event = (await emulator_client.post(EVENTS, json=lunch())).json()
    reply = await emulator_client.get(f"/users/megan.bowen@contoso.com/events/{event['id']}")
    assert reply.status_code == 404


async def test_mailboxes_resolve_by_id_and_by_address_in_any_case(
    emulator_client: httpx.AsyncClient,
) -> None:
    user = (await emulator_client.get(f"/users/{ADELE.upper()}")).json()
    event = (await emulator_client.post(f"/users/{user['id']}/events", json=lunch())).json()
    reply = await emulator_client.get(f"{EVENTS}/{event['id']}")
    assert reply.status_code == 200


async def test_unknown_routes_and_methods_answer_in_graph_error_shape(
    emulator_client: httpx.AsyncClient,
) -> None:
    for reply in (
        await emulator_client.get("/users/x/somethingElse"),
        await emulator_client.put(EVENTS, json={}),
    ):
        assert reply.status_code in (400, 405)
        assert set(reply.json()["error"]) == {"code", "message", "innerError"}
