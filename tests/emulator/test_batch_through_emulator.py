"""`$batch` on the whole emulator: real routes, bearer tokens, throttling and faults per item."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from calsync.emulator.faults import FaultKind, FaultRule
from calsync.emulator.operations import EmulatorOperations
from calsync.emulator.throttling import ThrottleSettings
from tests.fixtures.emulator import ADELE, MEGAN


def review(subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-12-07T10:00:00", "timeZone": "W. Europe Standard Time"},
    }


def create(item_id: str, mailbox: str, subject: str, **extra: object) -> dict[str, Any]:
    return {
        "id": item_id,
        "method": "POST",
        "url": f"/users/{mailbox}/events",
        "headers": {"Content-Type": "application/json"},
        "body": review(subject),
        **extra,
    }


WEEK = "startDateTime=2026-12-07T00:00:00Z&endDateTime=2026-12-14T00:00:00Z"


def operations_of(app: Starlette) -> EmulatorOperations:
    operations: EmulatorOperations = app.state.operations
    return operations


async def test_create_then_dependent_read_in_one_batch(emulator_client: httpx.AsyncClient) -> None:
    reply = await emulator_client.post(
        "/$batch",
        json={
            "requests": [
                create("create", ADELE, "Portfolio review"),
                {
                    "id": "read",
                    "dependsOn": ["create"],
                    "method": "GET",
                    "url": f"/users/{ADELE}/calendarView?{WEEK}",
                },
            ]
        },
    )
    assert reply.status_code == 200
    created, listed = reply.json()["responses"]
    assert created["status"] == 201
    assert created["body"]["subject"] == "Portfolio review"
    assert listed["status"] == 200
    assert [e["id"] for e in listed["body"]["value"]] == [created["body"]["id"]]


async def test_batch_needs_a_token_like_any_graph_call(
    emulator_app: Starlette, emulator_config: Any
) -> None:
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://graph.test") as client:
        reply = await client.post("/v1.0/$batch", json={"requests": [create("1", ADELE, "x")]})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_429_item_inside_a_200_batch_and_its_dependant_gets_424(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette
) -> None:
    operations_of(emulator_app).throttle.configure(ThrottleSettings(requests_per_window=2))
    reply = await emulator_client.post(
        "/$batch",
        json={
            "requests": [
                create("1", ADELE, "First"),
                create("2", ADELE, "Second", dependsOn=["1"]),
                create("3", ADELE, "Third", dependsOn=["2"]),
                create("4", ADELE, "Fourth", dependsOn=["3"]),
                create("other-mailbox", MEGAN, "Megan's meeting"),
            ]
        },
    )
    assert reply.status_code == 200
    statuses = {r["id"]: r["status"] for r in reply.json()["responses"]}
    assert statuses == {"1": 201, "2": 201, "3": 429, "4": 424, "other-mailbox": 201}
    throttled = next(r for r in reply.json()["responses"] if r["id"] == "3")
    assert int(throttled["headers"]["Retry-After"]) > 0
    counts = operations_of(emulator_app).requests.snapshot()
    assert counts["mailboxes"] == {ADELE: 3, MEGAN: 1}  # the 424 item never reached the mailbox


async def test_injected_fault_hits_one_item_only(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette
) -> None:
    operations_of(emulator_app).faults.add(
        FaultRule(kind=FaultKind.UNAVAILABLE, next_requests=1, mailbox=MEGAN)
    )
    reply = await emulator_client.post(
        "/$batch",
        json={"requests": [create("a", ADELE, "Kept"), create("b", MEGAN, "Refused")]},
    )
    statuses = {r["id"]: r["status"] for r in reply.json()["responses"]}
    assert statuses == {"a": 201, "b": 503}
    view = await emulator_client.get(f"/users/{MEGAN}/calendarView?{WEEK}")
    assert view.json()["value"] == []


async def test_drop_rules_wait_for_a_request_with_a_connection(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette
) -> None:
    faults = operations_of(emulator_app).faults
    faults.add(
        FaultRule(kind=FaultKind.DROP, next_requests=1, method="POST", path_pattern="/events")
    )
    reply = await emulator_client.post("/$batch", json={"requests": [create("a", ADELE, "Kept")]})
    assert reply.json()["responses"][0]["status"] == 201
    assert faults.rules()[0]["remainingRequests"] == 1  # not used up by the batch item
