"""The facade's writes, series masters and subscriptions, as Graph sees them on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from calsync.graph.drafts import EventDraft
from calsync.graph.errors import (
    AccessDenied,
    GraphError,
    InvalidArgument,
    InvalidEventDraft,
    InvalidResponse,
    NotFound,
    PreconditionFailed,
)
from calsync.graph.models import Event

from .conftest import MAILBOX, Harness, event_json, graph_error

Build = Callable[..., Harness]


async def test_create_sends_the_event_zone_and_transaction_id_and_returns_the_event(
    make_client: Build,
) -> None:
    harness = make_client(lambda request: httpx.Response(201, json=event_json("AAMkNew")))
    draft = EventDraft(
        subject="Portfolio review",
        start=datetime(2026, 3, 10, 15, tzinfo=UTC),
        end=datetime(2026, 3, 10, 16, tzinfo=UTC),
        time_zone="America/New_York",
    )
    event = await harness.client.create_event(MAILBOX, draft, transaction_id="crm-17-r1")
    assert event.id == "AAMkNew"
    [body] = harness.graph.bodies()
    assert body["transactionId"] == "crm-17-r1"
    assert body["start"] == {
        "dateTime": "2026-03-10T11:00:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert harness.graph.requests[0].headers["content-type"] == "application/json"


async def test_a_create_retried_after_a_504_sends_the_same_transaction_id(
    make_client: Build,
) -> None:
    answers = [graph_error(504, "gatewayTimeout"), httpx.Response(201, json=event_json("AAMkNew"))]
    harness = make_client(lambda request: answers.pop(0))
    draft = EventDraft(
        start=datetime(2026, 3, 10, 15, tzinfo=UTC),
        end=datetime(2026, 3, 10, 16, tzinfo=UTC),
        time_zone="UTC",
    )
    await harness.client.create_event(MAILBOX, draft, transaction_id="crm-18-r1")
    assert [body["transactionId"] for body in harness.graph.bodies()] == ["crm-18-r1", "crm-18-r1"]


async def test_a_stale_etag_on_update_is_a_precondition_failure_without_retry(
    make_client: Build,
) -> None:
    harness = make_client(lambda request: graph_error(412, "ErrorIrresolvableConflict"))
    with pytest.raises(PreconditionFailed):
        await harness.client.update_event(MAILBOX, "AAMk1", EventDraft(subject="x"), etag='W/"old"')
    assert len(harness.graph.requests) == 1
    assert harness.graph.requests[0].headers["if-match"] == 'W/"old"'


async def test_delete_and_cancel(make_client: Build) -> None:
    harness = make_client(
        lambda request: httpx.Response(204 if request.method == "DELETE" else 202)
    )
    await harness.client.delete_event(MAILBOX, "AAMk1", etag="*")
    await harness.client.cancel_event(MAILBOX, "AAMk2", comment="Client rescheduled")
    delete, cancel = harness.graph.requests
    assert delete.method == "DELETE"
    assert delete.headers["if-match"] == "*"
    assert cancel.url.path.endswith("/events/AAMk2/cancel")
    assert json.loads(cancel.content) == {"comment": "Client rescheduled"}


async def test_bad_input_is_refused_before_any_request(make_client: Build) -> None:
    harness = make_client(lambda request: httpx.Response(500))
    with pytest.raises(InvalidEventDraft, match="start"):
        await harness.client.create_event(MAILBOX, EventDraft(subject="x"), transaction_id="t")
    with pytest.raises(InvalidArgument, match="mailbox"):
        await harness.client.get_event("", "AAMk1")
    assert harness.graph.requests == []


async def test_a_series_master_is_fetched_by_id_and_other_types_are_refused(
    make_client: Build,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        kind = "seriesMaster" if request.url.path.endswith("/M") else "occurrence"
        return httpx.Response(200, json=event_json(request.url.path.rsplit("/", 1)[1], type=kind))

    harness = make_client(answer)
    assert (await harness.client.get_series_master(MAILBOX, "M")).type == "seriesMaster"
    with pytest.raises(NotFound):
        await harness.client.get_series_master(MAILBOX, "O")


def _batch_answer(answer_item: Callable[[str], tuple[int, Any]]) -> Callable[..., httpx.Response]:
    """A scripted ``$batch`` endpoint answering each GET item with ``answer_item(event id)``, in
    reverse order (Graph may answer in any order); single GETs get the same answer."""

    def answer(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/$batch"):
            status, body = answer_item(request.url.path.rsplit("/", 1)[1])
            return httpx.Response(status, json=body)
        responses = []
        for item in reversed(json.loads(request.content)["requests"]):
            assert item["method"] == "GET"
            assert item["headers"]["Prefer"] == 'IdType="ImmutableId"'
            status, body = answer_item(item["url"].rsplit("/", 1)[1])
            responses.append({"id": item["id"], "status": status, "headers": {}, "body": body})
        return httpx.Response(200, json={"responses": responses})

    return answer


async def test_series_masters_are_fetched_twenty_to_a_batch_each_with_its_own_outcome(
    make_client: Build,
) -> None:
    def item(event_id: str) -> tuple[int, Any]:
        if event_id.startswith("gone"):
            return 404, {"error": {"code": "ErrorItemNotFound", "message": "not found"}}
        kind = "occurrence" if event_id.startswith("occ") else "seriesMaster"
        return 200, event_json(event_id, type=kind)

    harness = make_client(_batch_answer(item))
    wanted = [f"M{n}" for n in range(23)] + ["gone-1", "occ-1"]
    results = await harness.client.get_series_masters(MAILBOX, wanted)

    assert [len(body["requests"]) for body in harness.graph.bodies()] == [20, 5]
    assert [r.id for r in results[:23] if not isinstance(r, GraphError)] == wanted[:23]
    assert isinstance(results[23], NotFound)
    assert isinstance(results[24], NotFound)
    assert "not a series master" in str(results[24])
    assert await harness.client.get_series_masters(MAILBOX, []) == []


async def test_a_series_master_answered_412_in_a_batch_is_fetched_again_on_its_own(
    make_client: Build,
) -> None:
    batch_answers = iter([(412, {"error": {"code": "ErrorIrresolvableConflict", "message": "x"}})])

    def item(event_id: str) -> tuple[int, Any]:
        return next(batch_answers, (200, event_json(event_id, type="seriesMaster")))

    harness = make_client(_batch_answer(item))
    [master] = await harness.client.get_series_masters(MAILBOX, ["M1"])
    assert isinstance(master, Event)
    assert master.id == "M1"
    assert [r.method for r in harness.graph.requests] == ["POST", "GET"]


async def test_a_batch_of_series_masters_that_fails_whole_gives_each_id_the_error(
    make_client: Build,
) -> None:
    harness = make_client(lambda request: graph_error(403, "ErrorAccessDenied"), max_attempts=1)
    results = await harness.client.get_series_masters(MAILBOX, ["M1", "M2"])
    assert [type(r) for r in results] == [AccessDenied, AccessDenied]


async def test_a_series_master_batch_item_that_is_not_an_event_is_an_invalid_response(
    make_client: Build,
) -> None:
    harness = make_client(_batch_answer(lambda event_id: (200, {"subject": "no id"})))
    [result] = await harness.client.get_series_masters(MAILBOX, ["M1"])
    assert isinstance(result, InvalidResponse)
    assert "/events/M1" in str(result)


async def test_subscriptions_are_created_renewed_and_deleted(make_client: Build) -> None:
    expires = datetime(2026, 3, 12, 10, tzinfo=UTC)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(204)
        body = json.loads(request.content)
        return httpx.Response(
            201, json={"id": "sub-1", "expirationDateTime": body["expirationDateTime"]}
        )

    harness = make_client(answer)
    created = await harness.client.create_subscription(
        MAILBOX,
        notification_url="https://calsync.example/hooks/graph",
        lifecycle_notification_url="https://calsync.example/hooks/lifecycle",
        client_state="opaque-secret",
        expires_at=expires,
    )
    renewed = await harness.client.renew_subscription(
        "sub-1", expires_at=expires + timedelta(days=1)
    )
    await harness.client.delete_subscription("sub-1")
    assert created.id == "sub-1"
    assert renewed.expiration_date_time == expires + timedelta(days=1)
    create_body = harness.graph.bodies()[0]
    assert create_body["resource"] == f"/users/{MAILBOX}/events"
    assert create_body["changeType"] == "created,updated,deleted"
    assert 'IdType="ImmutableId"' in harness.graph.requests[0].headers["prefer"]
    assert [r.method for r in harness.graph.requests] == ["POST", "PATCH", "DELETE"]
