"""calendarView delta over raw HTTP: rounds, tokens, @removed noise, 410, optional oddities."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.emulator import Emulator
from tests.fixtures.emulator import ADELE, MEGAN

EVENTS = f"/users/{ADELE}/events"
DELTA = f"/users/{ADELE}/calendarView/delta"
WINDOW = {"startDateTime": "2024-06-01T00:00:00Z", "endDateTime": "2024-07-01T00:00:00Z"}


def meeting(subject: str, day: str, hour: int = 9) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T{hour:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{day}T{hour:02d}:30:00", "timeZone": "UTC"},
    }


class Round:
    def __init__(self) -> None:
        self.pages: list[list[dict[str, Any]]] = []
        self.delta_link = ""

    @property
    def items(self) -> list[dict[str, Any]]:
        return [item for page in self.pages for item in page]

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.items}


async def run_round(
    client: httpx.AsyncClient,
    first: str,
    params: dict[str, str] | None = None,
    page_size: int = 2,
) -> Round:
    result = Round()
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    reply = await client.get(first, params=params, headers=headers)
    while True:
        assert reply.status_code == 200, reply.text
        assert "odata.track-changes" in reply.headers["Preference-Applied"]
        body = reply.json()
        result.pages.append(body["value"])
        assert len(body["value"]) <= page_size + 1
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            result.delta_link = body["@odata.deltaLink"]
            return result
        reply = await client.get(body["@odata.nextLink"], headers=headers)


async def test_initial_round_pages_through_everything_in_the_window(
    emulator_client: httpx.AsyncClient,
) -> None:
    for n in range(5):
        await emulator_client.post(EVENTS, json=meeting(f"June {n}", f"2024-06-1{n}"))
    await emulator_client.post(EVENTS, json=meeting("May", "2024-05-20"))
    await emulator_client.post(
        EVENTS,
        json={
            **meeting("Series", "2024-06-03", 15),
            "recurrence": {
                "pattern": {"type": "daily", "interval": 7},
                "range": {"type": "numbered", "startDate": "2024-06-03", "numberOfOccurrences": 3},
            },
        },
    )
    result = await run_round(emulator_client, DELTA, WINDOW)
    assert len(result.pages) >= 4
    subjects = sorted(i["subject"] for i in result.items)
    assert subjects == [
        "June 0",
        "June 1",
        "June 2",
        "June 3",
        "June 4",
        "Series",
        "Series",
        "Series",
    ]
    assert {i["type"] for i in result.items} == {"singleInstance", "occurrence"}
    assert all(i["@odata.type"] == "#microsoft.graph.event" for i in result.items)
    assert result.delta_link.startswith("https://graph.emulator.test/v1.0/users/")
    assert "$deltatoken=" in result.delta_link


async def test_next_round_reports_only_changes_and_deletions(
    emulator_client: httpx.AsyncClient,
) -> None:
    kept = (await emulator_client.post(EVENTS, json=meeting("Kept", "2024-06-10"))).json()
    changed = (await emulator_client.post(EVENTS, json=meeting("Changed", "2024-06-11"))).json()
    deleted = (await emulator_client.post(EVENTS, json=meeting("Deleted", "2024-06-12"))).json()
    first = await run_round(emulator_client, DELTA, WINDOW)
    assert set(first.by_id()) == {kept["id"], changed["id"], deleted["id"]}

    await emulator_client.patch(f"{EVENTS}/{changed['id']}", json={"subject": "Changed v2"})
    await emulator_client.delete(f"{EVENTS}/{deleted['id']}")
    added = (await emulator_client.post(EVENTS, json=meeting("Added", "2024-06-20"))).json()
    second = await run_round(emulator_client, first.delta_link)
    found = second.by_id()
    assert set(found) == {changed["id"], deleted["id"], added["id"]}
    assert found[changed["id"]]["subject"] == "Changed v2"
    assert found[deleted["id"]] == {
        "@odata.type": "#microsoft.graph.event",
        "id": deleted["id"],
        "@removed": {"reason": "deleted"},
    }
    third = await run_round(emulator_client, second.delta_link)
    assert third.items == []


async def test_changes_outside_the_window_arrive_as_removed(
    emulator_client: httpx.AsyncClient,
) -> None:
    leaving = (await emulator_client.post(EVENTS, json=meeting("Leaving", "2024-06-10"))).json()
    first = await run_round(emulator_client, DELTA, WINDOW)
    outside = (await emulator_client.post(EVENTS, json=meeting("Outside", "2024-08-01"))).json()
    await emulator_client.patch(
        f"{EVENTS}/{leaving['id']}",
        json={
            "start": {"dateTime": "2024-07-10T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-07-10T10:00:00", "timeZone": "UTC"},
        },
    )
    second = await run_round(emulator_client, first.delta_link)
    found = second.by_id()
    assert found[outside["id"]]["@removed"] == {"reason": "deleted"}
    assert found[leaving["id"]]["@removed"] == {"reason": "deleted"}


async def test_a_changed_series_reports_new_occurrences_and_removes_lost_ones(
    emulator_client: httpx.AsyncClient,
) -> None:
    master = (
        await emulator_client.post(
            EVENTS,
            json={
                **meeting("Team sync", "2024-06-03"),
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {
                        "type": "endDate",
                        "startDate": "2024-06-03",
                        "endDate": "2024-06-30",
                    },
                },
            },
        )
    ).json()
    first = await run_round(emulator_client, DELTA, WINDOW)
    assert len(first.items) == 4
    await emulator_client.patch(
        f"{EVENTS}/{master['id']}",
        json={
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]},
                "range": {"type": "endDate", "startDate": "2024-06-03", "endDate": "2024-06-30"},
            }
        },
    )
    second = await run_round(emulator_client, first.delta_link)
    removed = {i["id"] for i in second.items if "@removed" in i}
    kept = {i["id"] for i in second.items if "@removed" not in i}
    assert len(kept) == 2
    assert len(removed) == 2
    assert removed | kept == set(first.by_id())
    assert master["id"] not in removed | kept


@pytest.mark.parametrize("option", ["$select", "$filter", "$orderby", "$expand", "$search", "$top"])
async def test_query_options_are_refused_on_delta(
    emulator_client: httpx.AsyncClient, option: str
) -> None:
    reply = await emulator_client.get(DELTA, params={**WINDOW, option: "subject"})
    assert reply.status_code == 400
    assert option in reply.json()["error"]["message"]


async def test_unknown_tampered_and_expired_tokens_are_410_sync_state_not_found(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette
) -> None:
    await emulator_client.post(EVENTS, json=meeting("Any", "2024-06-10"))
    first = await run_round(emulator_client, DELTA, WINDOW)
    token = first.delta_link.split("$deltatoken=", 1)[1]
    for bad in ("garbage", token[:-3] + "abc", "e30." + token.split(".")[1]):
        reply = await emulator_client.get(DELTA, params={"$deltatoken": bad})
        assert reply.status_code == 410
        assert reply.json()["error"]["code"] == "SyncStateNotFound"
    other = await emulator_client.get(
        f"/users/{MEGAN}/calendarView/delta", params={"$deltatoken": token}
    )
    assert other.status_code == 410
    emulator: Emulator = emulator_app.state.emulator
    emulator.store.expire_delta_tokens(MEGAN)
    assert (await emulator_client.get(first.delta_link)).status_code == 200
    emulator.store.expire_delta_tokens(ADELE)
    expired = await emulator_client.get(first.delta_link)
    assert (expired.status_code, expired.json()["error"]["code"]) == (410, "SyncStateNotFound")


async def test_skip_tokens_expire_mid_round_too(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette
) -> None:
    for n in range(3):
        await emulator_client.post(EVENTS, json=meeting(f"E{n}", f"2024-06-1{n}"))
    page = await emulator_client.get(
        DELTA, params=WINDOW, headers={"Prefer": "odata.maxpagesize=1"}
    )
    next_link = page.json()["@odata.nextLink"]
    assert "$skiptoken=" in next_link
    emulator_app.state.emulator.store.expire_delta_tokens()
    assert (await emulator_client.get(next_link)).status_code == 410


async def test_optional_empty_first_page_and_duplicates_do_not_lose_events(
    emulator_client: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    ids = set()
    for n in range(5):
        ids.add(
            (await emulator_client.post(EVENTS, json=meeting(f"E{n}", f"2024-06-1{n}"))).json()[
                "id"
            ]
        )
    emulator_config.delta_empty_first_page = True
    emulator_config.delta_duplicate_items = True
    result = await run_round(emulator_client, DELTA, WINDOW)
    assert result.pages[0] == []
    assert {i["id"] for i in result.items} == ids
    assert len(result.items) > len(ids)


async def test_deleted_mid_round_events_do_not_hide_others(
    emulator_client: httpx.AsyncClient,
) -> None:
    created = [
        (await emulator_client.post(EVENTS, json=meeting(f"E{n}", f"2024-06-1{n}"))).json()
        for n in range(4)
    ]
    headers = {"Prefer": "odata.maxpagesize=2"}
    first_page = (await emulator_client.get(DELTA, params=WINDOW, headers=headers)).json()
    for item in first_page["value"]:
        await emulator_client.delete(f"{EVENTS}/{item['id']}")
    rest = (await emulator_client.get(first_page["@odata.nextLink"], headers=headers)).json()
    seen = {i["id"] for i in first_page["value"]} | {i["id"] for i in rest["value"]}
    assert seen == {c["id"] for c in created}
    following = await run_round(emulator_client, rest["@odata.deltaLink"])
    assert {i["id"] for i in following.items if "@removed" in i} == {
        i["id"] for i in first_page["value"]
    }


async def test_delta_items_follow_prefer_timezone_and_immutable_ids(
    emulator_client: httpx.AsyncClient,
) -> None:
    await emulator_client.post(EVENTS, json=meeting("Zoned", "2024-06-10"))
    reply = await emulator_client.get(
        DELTA,
        params=WINDOW,
        headers={"Prefer": 'outlook.timezone="Eastern Standard Time", IdType="ImmutableId"'},
    )
    (item,) = reply.json()["value"]
    assert item["start"] == {
        "dateTime": "2024-06-10T05:00:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert item["id"].startswith("AAkALg")


async def test_a_delta_link_survives_a_restart_on_the_same_state_file(tmp_path: Any) -> None:
    from calsync.emulator.app import create_app
    from tests.fixtures.emulator import make_emulator_config, token_form

    config = make_emulator_config(state_path=tmp_path / "state.sqlite")

    async def client_for(app: Starlette) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.public_base_url) as c:
            token = (
                await c.post(f"/{config.tenant}/oauth2/v2.0/token", data=token_form(config))
            ).json()["access_token"]
        return httpx.AsyncClient(
            transport=transport,
            base_url=config.public_base_url + "/v1.0",
            headers={"Authorization": f"Bearer {token}"},
        )

    first_app = create_app(config)
    async with await client_for(first_app) as client:
        await client.post(EVENTS, json=meeting("Before restart", "2024-06-10"))
        first = await run_round(client, DELTA, WINDOW)
    first_app.state.emulator.store.close()

    second_app = create_app(config)
    async with await client_for(second_app) as client:
        added = (await client.post(EVENTS, json=meeting("After restart", "2024-06-11"))).json()
        second = await run_round(client, first.delta_link)
    assert [i["id"] for i in second.items] == [added["id"]]
