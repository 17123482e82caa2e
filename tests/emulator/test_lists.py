"""GET /events and calendarView options: default page of 10, $top, $skip links, $select,
$filter, $orderby, and 400 for options the emulator does not support."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.emulator import ADELE

EVENTS = f"/users/{ADELE}/events"


async def seed(client: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for n in range(count):
        reply = await client.post(
            EVENTS,
            json={
                "subject": f"Call {n:02d}" if n % 3 else f"Visit {n:02d}",
                "start": {"dateTime": f"2024-04-{n + 1:02d}T09:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"2024-04-{n + 1:02d}T10:00:00", "timeZone": "UTC"},
                "transactionId": f"tx-{n}",
            },
        )
        ids.append(reply.json()["id"])
    return ids


async def test_default_page_is_ten_with_an_absolute_next_link(
    emulator_client: httpx.AsyncClient,
) -> None:
    ids = await seed(emulator_client, 23)
    seen: list[str] = []
    url: str | None = EVENTS
    pages = 0
    while url:
        body = (await emulator_client.get(url)).json()
        seen += [e["id"] for e in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith("https://graph.emulator.test/v1.0/users/")
            assert "$skip=" in url
        pages += 1
    assert pages == 3
    assert seen == ids


async def test_top_sets_the_page_size_and_select_trims_fields(
    emulator_client: httpx.AsyncClient,
) -> None:
    await seed(emulator_client, 5)
    body = (
        await emulator_client.get(EVENTS, params={"$top": "2", "$select": "subject,start"})
    ).json()
    assert len(body["value"]) == 2
    assert set(body["value"][0]) == {"@odata.etag", "id", "subject", "start"}
    follow = (await emulator_client.get(body["@odata.nextLink"])).json()
    assert set(follow["value"][0]) == {"@odata.etag", "id", "subject", "start"}
    assert "$select=subject,start" in body["@odata.nextLink"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("start/dateTime ge '2024-04-04T09:00:00'", 4),
        ("start/dateTime lt '2024-04-02T00:00:00Z'", 1),
        ("subject eq 'Visit 03'", 1),
        ("startswith(subject,'Visit')", 3),
        ("startswith(subject,'Visit') and start/dateTime ge '2024-04-04T00:00:00'", 2),
        ("subject eq 'Call 01' or subject eq 'Call 02'", 2),
        ("not (type eq 'singleInstance')", 0),
        ("type eq 'seriesMaster'", 0),
        ("transactionId eq 'tx-5'", 1),
        ("isAllDay eq false", 7),
    ],
)
async def test_filters(emulator_client: httpx.AsyncClient, expression: str, expected: int) -> None:
    await seed(emulator_client, 7)
    body = (await emulator_client.get(EVENTS, params={"$filter": expression, "$top": "50"})).json()
    assert len(body["value"]) == expected, expression


async def test_filter_by_ical_uid_finds_the_event(emulator_client: httpx.AsyncClient) -> None:
    await seed(emulator_client, 3)
    target = (await emulator_client.get(EVENTS)).json()["value"][1]
    body = (
        await emulator_client.get(EVENTS, params={"$filter": f"iCalUId eq '{target['iCalUId']}'"})
    ).json()
    assert [e["id"] for e in body["value"]] == [target["id"]]


async def test_orderby_start_descending(emulator_client: httpx.AsyncClient) -> None:
    await seed(emulator_client, 4)
    body = (await emulator_client.get(EVENTS, params={"$orderby": "start/dateTime desc"})).json()
    assert [e["start"]["dateTime"][:10] for e in body["value"]] == [
        "2024-04-04",
        "2024-04-03",
        "2024-04-02",
        "2024-04-01",
    ]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$expand": "attachments"}, "BadRequest"),
        ({"$count": "true"}, "BadRequest"),
        ({"$top": "0"}, "BadRequest"),
        ({"$top": "lots"}, "BadRequest"),
        ({"$select": "subject,mood"}, "BadRequest"),
        ({"$orderby": "bodyPreview"}, "BadRequest"),
        ({"$filter": "subject eq"}, "ErrorInvalidUrlQueryFilter"),
        ({"$filter": "mood eq 'happy'"}, "ErrorInvalidUrlQueryFilter"),
        ({"$filter": "subject has 'x'"}, "ErrorInvalidUrlQueryFilter"),
        ({"$filter": "any(attendees)"}, "ErrorInvalidUrlQueryFilter"),
    ],
)
async def test_unsupported_options_are_400(
    emulator_client: httpx.AsyncClient, params: dict[str, str], code: str
) -> None:
    reply = await emulator_client.get(EVENTS, params=params)
    assert (reply.status_code, reply.json()["error"]["code"]) == (400, code)


async def test_calendar_view_pages_with_skip_too(emulator_client: httpx.AsyncClient) -> None:
    await seed(emulator_client, 12)
    window = {"startDateTime": "2024-04-01T00:00:00", "endDateTime": "2024-05-01T00:00:00"}
    first = (await emulator_client.get(f"/users/{ADELE}/calendarView", params=window)).json()
    assert len(first["value"]) == 10
    second = (await emulator_client.get(first["@odata.nextLink"])).json()
    assert len(second["value"]) == 2
    assert "@odata.nextLink" not in second


async def test_calendar_view_refuses_selecting_the_timestamps(
    emulator_client: httpx.AsyncClient,
) -> None:
    await seed(emulator_client, 1)
    window = {"startDateTime": "2024-04-01T00:00:00", "endDateTime": "2024-05-01T00:00:00"}
    refused = await emulator_client.get(
        f"/users/{ADELE}/calendarView", params={**window, "$select": "subject,createdDateTime"}
    )
    assert refused.status_code == 400
    assert "createdDateTime" in refused.json()["error"]["message"]
    plain = (await emulator_client.get(f"/users/{ADELE}/calendarView", params=window)).json()
    assert plain["value"][0]["createdDateTime"]


async def test_lists_show_changes_made_between_two_requests(
    emulator_client: httpx.AsyncClient,
) -> None:
    await seed(emulator_client, 2)
    window = {"startDateTime": "2024-04-01T00:00:00", "endDateTime": "2024-05-01T00:00:00"}
    view = f"/users/{ADELE}/calendarView"
    before = (await emulator_client.get(view, params=window)).json()["value"]
    await emulator_client.patch(f"{EVENTS}/{before[0]['id']}", json={"subject": "Renamed"})
    await emulator_client.delete(f"{EVENTS}/{before[1]['id']}")
    after = (await emulator_client.get(view, params=window)).json()["value"]
    assert [e["subject"] for e in after] == ["Renamed"]
    listed = (await emulator_client.get(EVENTS)).json()["value"]
    assert [e["subject"] for e in listed] == ["Renamed"]
