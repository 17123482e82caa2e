"""`$batch` seen from a client: per-item results, dependsOn/424, limits, throttling per item."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from calsync.emulator.batch import batch_endpoint
from calsync.emulator.errors import GraphApiError, error_body
from calsync.emulator.throttling import MailboxThrottle, ThrottleSettings, ThrottlingMiddleware
from calsync.emulator.traffic import MailboxKey

ADA = MailboxKey(id="5f0c1d2e-0000-4000-8000-00000000ada0", address="ada@contoso.com")
TOKEN = "Bearer emulator-test-token"


def resolve(segment: str) -> MailboxKey | None:
    return ADA if ADA.matches(segment) else None


class CalendarDouble:
    """Event routes standing in for the emulator core, with a bearer check like Graph's."""

    def __init__(self, throttle: MailboxThrottle) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.throttle = throttle

    def app(self) -> Starlette:
        async def create(request: Request) -> JSONResponse:
            self._authorize(request)
            if request.headers.get("content-type") != "application/json":
                raise GraphApiError(415, "UnsupportedMediaType", "Content-Type must be JSON")
            body = json.loads(await request.body())
            if not body.get("subject"):
                raise GraphApiError(400, "ErrorInvalidRequest", "subject: required")
            event_id = f"evt-{len(self.events) + 1}"
            self.events[event_id] = {"id": event_id, **body}
            return JSONResponse(
                self.events[event_id], status_code=201, headers={"Location": f"/events/{event_id}"}
            )

        async def read(request: Request) -> JSONResponse:
            self._authorize(request)
            event = self.events.get(request.path_params["event_id"])
            if event is None:
                raise GraphApiError(404, "ErrorItemNotFound", "not found")
            return JSONResponse(event)

        async def delete(request: Request) -> Response:
            self._authorize(request)
            self.events.pop(request.path_params["event_id"], None)
            return Response(status_code=204)

        async def graph_error(request: Request, exc: Exception) -> JSONResponse:
            assert isinstance(exc, GraphApiError)
            return JSONResponse(error_body(exc.code, exc.message, None), status_code=exc.status)

        app = Starlette(
            routes=[
                Route("/v1.0/$batch", batch_endpoint, methods=["POST"]),
                Route("/v1.0/users/{user}/events", create, methods=["POST"]),
                Route("/v1.0/users/{user}/events/{event_id}", read, methods=["GET"]),
                Route("/v1.0/users/{user}/events/{event_id}", delete, methods=["DELETE"]),
            ],
            exception_handlers={GraphApiError: graph_error},
        )
        app.add_middleware(ThrottlingMiddleware, throttle=self.throttle, resolve_mailbox=resolve)
        return app

    @staticmethod
    def _authorize(request: Request) -> None:
        if request.headers.get("authorization") != TOKEN:
            raise GraphApiError(401, "InvalidAuthenticationToken", "Access token is empty.")


@pytest.fixture
def calendar() -> CalendarDouble:
    return CalendarDouble(MailboxThrottle(ThrottleSettings()))


async def post_batch(
    calendar: CalendarDouble, body: object, token: str | None = TOKEN
) -> httpx.Response:
    headers = {"Authorization": token} if token else {}
    transport = httpx.ASGITransport(app=calendar.app())
    async with httpx.AsyncClient(transport=transport, base_url="https://graph.test") as client:
        return await client.post("/v1.0/$batch", json=body, headers=headers)


def create_item(item_id: str, subject: str, **extra: object) -> dict[str, object]:
    return {
        "id": item_id,
        "method": "POST",
        "url": "/users/ada@contoso.com/events",
        "headers": {"Content-Type": "application/json"},
        "body": {"subject": subject},
        **extra,
    }


async def test_items_run_through_the_app_and_answer_status_headers_and_body(
    calendar: CalendarDouble,
) -> None:
    response = await post_batch(
        calendar,
        {
            "requests": [
                create_item("1", "Quarterly review"),
                {
                    "id": "2",
                    "dependsOn": ["1"],
                    "method": "GET",
                    "url": "/users/ada@contoso.com/events/evt-1",
                },
                {
                    "id": "3",
                    "dependsOn": ["2"],
                    "method": "DELETE",
                    "url": "users/ada@contoso.com/events/evt-1",
                },
            ]
        },
    )
    assert response.status_code == 200
    first, second, third = response.json()["responses"]
    assert (first["id"], first["status"]) == ("1", 201)
    assert first["headers"]["Location"] == "/events/evt-1"
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["body"] == {"id": "evt-1", "subject": "Quarterly review"}
    assert (second["status"], second["body"]["subject"]) == (200, "Quarterly review")
    assert third["status"] == 204
    assert "body" not in third
    assert calendar.events == {}


async def test_failed_dependency_gives_424_and_is_not_run(calendar: CalendarDouble) -> None:
    response = await post_batch(
        calendar,
        {
            "requests": [
                create_item("create", ""),  # refused: no subject
                create_item("after", "Follow-up", dependsOn=["CREATE"]),
                create_item("independent", "Lunch"),
            ]
        },
    )
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"create": 400, "after": 424, "independent": 201}
    failed = next(r for r in response.json()["responses"] if r["id"] == "after")
    assert failed["body"]["error"]["code"] == "FailedDependency"
    assert [e["subject"] for e in calendar.events.values()] == ["Lunch"]


async def test_items_are_throttled_one_by_one_so_a_429_sits_inside_a_200_batch(
    calendar: CalendarDouble,
) -> None:
    calendar.throttle.configure(ThrottleSettings(requests_per_window=2, window_seconds=600))
    response = await post_batch(
        calendar,
        {
            "requests": [
                create_item(str(n), f"Meeting {n}", dependsOn=[str(n - 1)] if n > 1 else [])
                for n in range(1, 4)
            ]
        },
    )
    assert response.status_code == 200
    first, second, third = response.json()["responses"]
    assert (first["status"], second["status"]) == (201, 201)
    assert third["status"] == 429
    assert int(third["headers"]["Retry-After"]) >= 1
    assert third["body"]["error"]["code"] == "activityLimitReached"


async def test_items_carry_the_batch_callers_token(calendar: CalendarDouble) -> None:
    response = await post_batch(
        calendar, {"requests": [create_item("1", "Review")]}, token="Bearer someone-else"
    )
    assert response.json()["responses"][0]["status"] == 401


async def test_twenty_one_items_refuse_the_whole_batch(calendar: CalendarDouble) -> None:
    response = await post_batch(
        calendar, {"requests": [create_item(str(n), "x") for n in range(21)]}
    )
    assert response.status_code == 400
    assert "20" in response.json()["error"]["message"]
    assert calendar.events == {}


@pytest.mark.parametrize(
    ("requests", "field"),
    [
        ([create_item("a", "x"), create_item("A", "y")], "requests[].id"),
        ([{**create_item("a", "x"), "headers": {}}], "requests[0].headers"),
        ([create_item("a", "x", dependsOn=["zzz"])], "requests[id=a].dependsOn"),
        (
            [create_item("a", "x", dependsOn=["b"]), create_item("b", "y", dependsOn=["a"])],
            "dependsOn",
        ),
        (
            [{**create_item("a", "x"), "url": "https://graph.microsoft.com/v1.0/me"}],
            "requests[0].url",
        ),
        ([{**create_item("a", "x"), "method": "BREW"}], "requests[0].method"),
        ([{**create_item("a", "x"), "id": ""}], "requests[0].id"),
        ([{**create_item("a", "x"), "url": "/$batch"}], "requests[0].url"),
        ([], "requests"),
    ],
)
async def test_malformed_batch_is_refused_whole_naming_the_field(
    calendar: CalendarDouble, requests: list[object], field: str
) -> None:
    response = await post_batch(calendar, {"requests": requests})
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]
    assert calendar.events == {}
