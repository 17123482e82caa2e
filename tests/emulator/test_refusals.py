"""Requests Graph refuses before reading them: `/me` with an app-only token, oversized bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from calsync.emulator.config import EmulatorConfig
from tests.fixtures.emulator import ADELE


async def test_me_with_an_app_only_token_is_400_as_graph_says(
    emulator_client: httpx.AsyncClient,
) -> None:
    for method, path in [("GET", "/me"), ("GET", "/me/events"), ("POST", "/me/events")]:
        reply = await emulator_client.request(method, path, json={} if method == "POST" else None)
        assert reply.status_code == 400, path
        error = reply.json()["error"]
        assert error["code"] == "BadRequest"
        assert error["message"] == "/me request is only valid with delegated authentication flow."
        assert "request-id" in error["innerError"]


async def test_me_without_a_token_is_401_first(emulator_client: httpx.AsyncClient) -> None:
    reply = await emulator_client.get("/me", headers={"Authorization": ""})
    assert reply.status_code == 401


def event_with_body_of(size: int) -> bytes:
    payload = {
        "subject": "Board pack",
        "body": {"contentType": "text", "content": ""},
        "start": {"dateTime": "2026-12-08T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-08T10:00:00", "timeZone": "UTC"},
    }
    padding = size - len(json.dumps(payload).encode())
    payload["body"] = {"contentType": "text", "content": "x" * padding}
    encoded = json.dumps(payload).encode()
    assert len(encoded) == size
    return encoded


async def events_of_adele(client: httpx.AsyncClient) -> list[object]:
    return list((await client.get(f"/users/{ADELE}/events")).json()["value"])


async def test_a_body_over_the_limit_is_413_and_nothing_is_written(
    emulator_client: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    limit = emulator_config.max_request_bytes
    assert limit == 4 * 1024 * 1024
    reply = await emulator_client.post(
        f"/users/{ADELE}/events",
        content=event_with_body_of(limit + 1),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "RequestEntityTooLarge"
    assert await events_of_adele(emulator_client) == []

    at_limit = await emulator_client.post(
        f"/users/{ADELE}/events",
        content=event_with_body_of(limit),
        headers={"Content-Type": "application/json"},
    )
    assert at_limit.status_code == 201


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_chunked_body_over_the_limit_is_measured_too(
    emulator_client: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    emulator_config.max_request_bytes = 2000
    big = event_with_body_of(2001)
    reply = await emulator_client.post(
        f"/users/{ADELE}/events",
        content=chunks(big, 500),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 413
    assert await events_of_adele(emulator_client) == []
    small = await emulator_client.post(
        f"/users/{ADELE}/events",
        content=chunks(event_with_body_of(1500), 500),
        headers={"Content-Type": "application/json"},
    )
    assert small.status_code == 201, small.text
