"""Unit-test doubles for the Graph client: a scripted Graph behind ``httpx.MockTransport``, fixed
tokens and virtual time, so retry and throttling tests run in milliseconds and assert the waits they
would do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.settings import GraphSettings
from calsync.graph.transport import GraphTransport

from .emulator_support import settings_for

GRAPH = "https://graph.microsoft.com/v1.0"
MAILBOX = "ana.advisor@contoso.example"


class FixedTokens:
    """A token provider that hands out ``token-1``, ``token-2`` … and counts refreshes."""

    def __init__(self) -> None:
        self.generation = 1
        self.refreshes: list[str] = []

    async def token(self) -> str:
        return f"token-{self.generation}"

    async def refresh(self, rejected: str) -> str:
        self.refreshes.append(rejected)
        if rejected == f"token-{self.generation}":
            self.generation += 1
        return f"token-{self.generation}"


@dataclass
class VirtualTime:
    """A clock that only moves when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedGraph:
    """Records every request and answers with ``handler``."""

    handler: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def bodies(self) -> list[Any]:
        return [
            json.loads(request.content) if request.content else None for request in self.requests
        ]


def settings(**overrides: Any) -> GraphSettings:
    values: dict[str, Any] = {
        "tenant_id": "contoso-tenant",
        "client_id": "calsync-app",
        "client_secret": "s3cret",
        "max_retry_seconds": 60.0,
        "max_attempts": 6,
        "backoff_base_seconds": 1.0,
        "backoff_max_seconds": 8.0,
    }
    values.update(overrides)
    return GraphSettings(**values)


def graph_error(
    status: int, code: str, message: str = "details vary", **headers: str
) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "innerError": {"request-id": "req-1"}}}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Harness:
    graph: ScriptedGraph
    tokens: FixedTokens
    time: VirtualTime
    client: GraphClient

    @property
    def transport(self) -> GraphTransport:
        return self.client.transport


@pytest.fixture
def make_client() -> Callable[..., Harness]:
    """Build a ``GraphClient`` over a scripted Graph: ``make_client(handler,
    **settings_overrides)``."""

    def build(handler: Handler, **overrides: Any) -> Harness:
        graph = ScriptedGraph(handler)
        tokens = FixedTokens()
        time = VirtualTime()
        config = settings(**overrides)
        transport = GraphTransport(
            config,
            tokens,
            http=httpx.AsyncClient(transport=httpx.MockTransport(graph)),
            sleep=time.sleep,
            clock=time.clock,
            jitter=lambda: 0.5,
        )
        return Harness(graph, tokens, time, GraphClient(config, transport=transport))

    return build


def event_json(event_id: str, subject: str = "Annual review", **extra: Any) -> dict[str, Any]:
    """An event as Graph returns it by default: UTC times with 7 fractional digits."""
    body: dict[str, Any] = {
        "@odata.etag": f'W/"etag-{event_id}"',
        "id": event_id,
        "subject": subject,
        "type": "singleInstance",
        "start": {"dateTime": "2026-03-10T15:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-10T16:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "Eastern Standard Time",
        "originalEndTimeZone": "Eastern Standard Time",
        "isAllDay": False,
    }
    body.update(extra)
    return body


# ----- against the TLS emulator ------------------------------------------------------------------


@pytest.fixture
async def graph(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> AsyncIterator[GraphClient]:
    async with GraphClient(settings_for(emulator_server)) as client:
        yield client
