"""Injected faults seen from a client: statuses, Retry-After, next-N counts, seeded rates, drops."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calsync.emulator.errors import GraphApiError
from calsync.emulator.faults import (
    ConnectionDroppedError,
    FaultInjectionMiddleware,
    FaultInjector,
    FaultKind,
    FaultRule,
)
from calsync.emulator.traffic import MailboxKey

ADA = MailboxKey(id="5f0c1d2e-0000-4000-8000-00000000ada0", address="ada@contoso.com")


def resolve(segment: str) -> MailboxKey | None:
    return ADA if ADA.matches(segment) else None


class CalendarDouble:
    """A stand-in for the emulator's event routes: records which writes were applied."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def app(self, injector: FaultInjector) -> Starlette:
        async def create(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            self.created.append(body["subject"])
            return JSONResponse({"id": f"evt-{len(self.created)}", **body}, status_code=201)

        async def list_events(request: Request) -> JSONResponse:
            return JSONResponse({"value": [{"subject": s} for s in self.created]})

        app = Starlette(
            routes=[
                Route("/v1.0/users/{user}/events", create, methods=["POST"]),
                Route("/v1.0/users/{user}/events", list_events, methods=["GET"]),
            ]
        )
        app.add_middleware(FaultInjectionMiddleware, injector=injector, resolve_mailbox=resolve)
        return app


@pytest.fixture
def calendar() -> CalendarDouble:
    return CalendarDouble()


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://graph.test")


async def test_next_two_requests_get_429_with_retry_after_then_requests_pass(
    calendar: CalendarDouble,
) -> None:
    injector = FaultInjector()
    injector.add(FaultRule(kind=FaultKind.THROTTLED, next_requests=2, retry_after_seconds=7))
    async with client_for(calendar.app(injector)) as client:
        statuses = []
        for _ in range(3):
            response = await client.get("/v1.0/users/ada@contoso.com/events")
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "7"
                assert response.json()["error"]["code"] == "activityLimitReached"
                assert "request-id" in response.json()["error"]["innerError"]
    assert statuses == [429, 429, 200]
    assert injector.rules() == []


async def test_503_and_504_faults_do_not_apply_the_write(calendar: CalendarDouble) -> None:
    injector = FaultInjector()
    injector.add(FaultRule(kind=FaultKind.UNAVAILABLE, next_requests=1, retry_after_seconds=3))
    injector.add(FaultRule(kind=FaultKind.GATEWAY_TIMEOUT, next_requests=1))
    async with client_for(calendar.app(injector)) as client:
        first = await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Review"})
        second = await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Review"})
        third = await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Review"})
    assert (first.status_code, first.headers["Retry-After"]) == (503, "3")
    assert first.json()["error"]["code"] == "serviceNotAvailable"
    assert second.status_code == 504
    assert third.status_code == 201
    assert calendar.created == ["Review"]


async def test_rule_limited_to_a_mailbox_and_method_spares_other_requests(
    calendar: CalendarDouble,
) -> None:
    injector = FaultInjector()
    injector.add(
        FaultRule(kind=FaultKind.UNAVAILABLE, next_requests=5, mailbox=ADA.id, method="POST")
    )
    async with client_for(calendar.app(injector)) as client:
        other_mailbox = await client.post(
            "/v1.0/users/bob@contoso.com/events", json={"subject": "x"}
        )
        read = await client.get("/v1.0/users/ADA@contoso.com/events")
        write = await client.post("/v1.0/users/ADA@contoso.com/events", json={"subject": "y"})
    assert (other_mailbox.status_code, read.status_code, write.status_code) == (201, 200, 503)
    assert injector.rules()[0]["remainingRequests"] == 4


async def test_path_pattern_targets_only_matching_paths(calendar: CalendarDouble) -> None:
    injector = FaultInjector()
    injector.add(
        FaultRule(kind=FaultKind.THROTTLED, next_requests=1, path_pattern=r"/calendarView")
    )
    async with client_for(calendar.app(injector)) as client:
        response = await client.get("/v1.0/users/ada@contoso.com/events")
    assert response.status_code == 200
    assert len(injector.rules()) == 1


async def test_rate_based_faults_repeat_exactly_with_the_same_seed(
    calendar: CalendarDouble,
) -> None:
    async def run(seed: int) -> list[int]:
        injector = FaultInjector(seed=seed)
        injector.add(FaultRule(kind=FaultKind.UNAVAILABLE, rate=0.3))
        async with client_for(calendar.app(injector)) as client:
            return [
                (await client.get("/v1.0/users/ada@contoso.com/events")).status_code
                for _ in range(40)
            ]

    first, again = await run(11), await run(11)
    assert first == again
    assert 3 <= first.count(503) <= 25


async def test_slow_fault_delays_then_applies(calendar: CalendarDouble) -> None:
    injector = FaultInjector()
    injector.add(FaultRule(kind=FaultKind.SLOW, next_requests=1, delay_seconds=0.2))
    async with client_for(calendar.app(injector)) as client:
        started = time.monotonic()
        response = await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Slow"})
        waited = time.monotonic() - started
    assert response.status_code == 201
    assert waited >= 0.2
    assert calendar.created == ["Slow"]


async def test_in_process_drop_fails_the_call_and_apply_then_drop_keeps_the_write(
    calendar: CalendarDouble,
) -> None:
    injector = FaultInjector()
    injector.add(FaultRule(kind=FaultKind.DROP, next_requests=1))
    injector.add(FaultRule(kind=FaultKind.APPLY_THEN_DROP, next_requests=1))
    async with client_for(calendar.app(injector)) as client:
        with pytest.raises(ConnectionDroppedError):
            await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Lost"})
        with pytest.raises(ConnectionDroppedError):
            await client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Kept"})
    assert calendar.created == ["Kept"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served_calendar(calendar: CalendarDouble) -> Iterator[tuple[str, FaultInjector]]:
    injector = FaultInjector()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(calendar.app(injector), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", injector
    server.should_exit = True
    thread.join(timeout=10)


def test_real_connection_drop_gives_no_response_and_nothing_is_written(
    served_calendar: tuple[str, FaultInjector], calendar: CalendarDouble
) -> None:
    base_url, injector = served_calendar
    injector.add(FaultRule(kind=FaultKind.DROP, next_requests=1))
    with httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Lost"})
        assert client.get("/v1.0/users/ada@contoso.com/events").json() == {"value": []}
    assert calendar.created == []


def test_real_apply_then_drop_fails_for_the_client_although_the_write_happened(
    served_calendar: tuple[str, FaultInjector], calendar: CalendarDouble
) -> None:
    base_url, injector = served_calendar
    injector.add(FaultRule(kind=FaultKind.APPLY_THEN_DROP, next_requests=1, method="POST"))
    with httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v1.0/users/ada@contoso.com/events", json={"subject": "Board meeting"})
        listed = client.get("/v1.0/users/ada@contoso.com/events").json()
    assert listed == {"value": [{"subject": "Board meeting"}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "meltdown", "nextRequests": 1}, "kind"),
        ({"kind": "throttled"}, "rate"),
        ({"kind": "throttled", "rate": 0.5, "nextRequests": 2}, "rate"),
        ({"kind": "throttled", "rate": 1.5}, "rate"),
        ({"kind": "throttled", "nextRequests": 0}, "nextRequests"),
        ({"kind": "throttled", "nextRequests": 1.5}, "nextRequests"),
        ({"kind": "slow", "nextRequests": 1}, "delaySeconds"),
        ({"kind": "drop", "nextRequests": 1, "method": "BREW"}, "method"),
        ({"kind": "drop", "nextRequests": 1, "pathPattern": "(unclosed"}, "pathPattern"),
        ({"kind": "drop", "nextRequests": 1, "colour": "red"}, "colour"),
    ],
)
def test_bad_rule_is_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(GraphApiError) as refused:
        FaultRule.from_json(body)
    assert refused.value.status == 400
    assert refused.value.message.startswith(f"{field}:")
