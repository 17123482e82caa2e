"""Outlook-style throttling seen from a client: budget per mailbox, concurrency cap, Retry-After."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calsync.emulator.errors import GraphApiError
from calsync.emulator.throttling import MailboxThrottle, ThrottleSettings, ThrottlingMiddleware
from calsync.emulator.traffic import MailboxKey

ADA = MailboxKey(id="5f0c1d2e-0000-4000-8000-00000000ada0", address="ada@contoso.com")
BOB = MailboxKey(id="5f0c1d2e-0000-4000-8000-00000000b0b0", address="bob@contoso.com")


def resolve(segment: str) -> MailboxKey | None:
    return next((m for m in (ADA, BOB) if m.matches(segment)), None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttled_app(throttle: MailboxThrottle, gate: asyncio.Event | None = None) -> Starlette:
    async def events(request: Request) -> JSONResponse:
        if gate is not None:
            await gate.wait()
        return JSONResponse({"value": []})

    app = Starlette(routes=[Route("/v1.0/users/{user}/events", events)])
    app.add_middleware(ThrottlingMiddleware, throttle=throttle, resolve_mailbox=resolve)
    return app


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://graph.test")


async def test_budget_exhausted_gives_429_with_retry_after_until_the_window_moves() -> None:
    clock = FakeClock()
    throttle = MailboxThrottle(ThrottleSettings(requests_per_window=3, window_seconds=60), clock)
    async with client_for(throttled_app(throttle)) as client:
        statuses = [
            (await client.get("/v1.0/users/ada@contoso.com/events")).status_code for _ in range(3)
        ]
        clock.now += 10
        refused = await client.get(f"/v1.0/users/{ADA.id}/events")
        other_mailbox = await client.get("/v1.0/users/bob@contoso.com/events")
        clock.now += 50
        after_window = await client.get("/v1.0/users/ada@contoso.com/events")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"
    assert refused.json()["error"]["code"] == "activityLimitReached"
    assert other_mailbox.status_code == 200
    # The refused request counted too: at t=60 the window still holds it, so one slot is free
    # only because the three from t=0 aged out.
    assert after_window.status_code == 200


async def test_throttled_requests_count_against_the_budget() -> None:
    clock = FakeClock()
    throttle = MailboxThrottle(ThrottleSettings(requests_per_window=2, window_seconds=100), clock)
    async with client_for(throttled_app(throttle)) as client:
        for _ in range(2):
            await client.get("/v1.0/users/ada@contoso.com/events")
        clock.now += 50
        for _ in range(3):  # a client that hammers while throttled
            assert (await client.get("/v1.0/users/ada@contoso.com/events")).status_code == 429
        clock.now += 51  # the first two aged out, but the three refused ones still count
        still_refused = await client.get("/v1.0/users/ada@contoso.com/events")
    assert still_refused.status_code == 429
    assert int(still_refused.headers["Retry-After"]) == 49


async def test_fifth_concurrent_request_to_a_mailbox_is_refused() -> None:
    gate = asyncio.Event()
    throttle = MailboxThrottle(ThrottleSettings(max_concurrent=4))
    async with client_for(throttled_app(throttle, gate)) as client:
        in_flight = [
            asyncio.create_task(client.get("/v1.0/users/ada@contoso.com/events")) for _ in range(4)
        ]
        await asyncio.sleep(0.05)
        fifth = await client.get("/v1.0/users/ada@contoso.com/events")
        gate.set()
        finished = await asyncio.gather(*in_flight)
        after = await client.get("/v1.0/users/ada@contoso.com/events")
    assert fifth.status_code == 429
    assert fifth.headers["Retry-After"] == "1"
    assert "concurren" in fifth.json()["error"]["message"].lower()
    assert [r.status_code for r in finished] == [200] * 4
    assert after.status_code == 200


async def test_disabled_throttling_lets_everything_through() -> None:
    throttle = MailboxThrottle(ThrottleSettings(requests_per_window=1, enabled=False))
    async with client_for(throttled_app(throttle)) as client:
        statuses = {
            (await client.get("/v1.0/users/ada@contoso.com/events")).status_code for _ in range(5)
        }
    assert statuses == {200}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requestsPerWindow": 0}, "requestsPerWindow"),
        ({"maxConcurrent": 2.5}, "maxConcurrent"),
        ({"windowSeconds": "ten"}, "windowSeconds"),
        ({"enabled": "yes"}, "enabled"),
        ({"burst": 3}, "burst"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(GraphApiError) as refused:
        ThrottleSettings().updated_from_json(body)
    assert refused.value.message.startswith(f"{field}:")


def test_settings_update_keeps_fields_not_given() -> None:
    updated = ThrottleSettings().updated_from_json({"maxConcurrent": 2})
    assert updated == ThrottleSettings(max_concurrent=2)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=80),
    budget=st.integers(min_value=1, max_value=6),
)
def test_no_window_ever_admits_more_than_the_budget(gaps: list[float], budget: int) -> None:
    """Whatever the arrival pattern, a request is refused exactly when the last 60 s hold more
    requests than the budget, counting the refused ones (Outlook counts those too)."""
    clock = FakeClock()
    throttle = MailboxThrottle(
        ThrottleSettings(requests_per_window=budget, window_seconds=60, max_concurrent=1000),
        clock,
    )
    every_request: list[float] = []
    for gap in gaps:
        clock.now += gap
        every_request.append(clock.now)
        refused = throttle.enter(ADA.id)
        if refused is None:
            throttle.leave(ADA.id)
        else:
            assert refused.retry_after_seconds >= 1
        in_window = [t for t in every_request if t > clock.now - 60]
        assert (refused is not None) == (len(in_window) > budget)
