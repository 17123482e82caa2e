"""``$batch`` of writes: per-item results, per-item retries, typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from calsync.graph.drafts import EventDraft
from calsync.graph.errors import InvalidArgument, PreconditionFailed, Throttled
from calsync.graph.writes import CancelEvent, CreateEvent, DeleteEvent, UpdateEvent

from .conftest import MAILBOX, Harness, event_json

Build = Callable[..., Harness]


def _draft(subject: str) -> EventDraft:
    return EventDraft(
        subject=subject,
        start=datetime(2026, 4, 1, 14, tzinfo=UTC),
        end=datetime(2026, 4, 1, 15, tzinfo=UTC),
        time_zone="America/Chicago",
    )


def _item(item_id: str, status: int, body: Any = None, **headers: str) -> dict[str, Any]:
    return {"id": item_id, "status": status, "headers": headers, "body": body}


async def test_only_the_throttled_item_is_resent_after_its_retry_after(make_client: Build) -> None:
    rounds: list[list[dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        rounds.append(items)
        if len(rounds) == 1:
            responses = [
                _item(
                    "2",
                    429,
                    {"error": {"code": "activityLimitReached", "message": "x"}},
                    **{"Retry-After": "4"},
                ),
                _item("1", 201, event_json("new-1", "First")),
                _item("3", 204),
            ]
        else:
            responses = [_item("2", 201, event_json("new-2", "Second"))]
        return httpx.Response(200, json={"responses": responses})

    harness = make_client(answer)
    outcomes = await harness.client.write_batch(
        MAILBOX,
        [
            CreateEvent(_draft("First"), "tx-1"),
            CreateEvent(_draft("Second"), "tx-2"),
            DeleteEvent("AAMk3", 'W/"e3"'),
        ],
    )
    assert [outcome.ok for outcome in outcomes] == [True, True, True]
    assert [o.event.subject if o.event else None for o in outcomes] == ["First", "Second", None]
    assert outcomes[1].attempts == 2
    assert [[item["id"] for item in r] for r in rounds] == [["1", "2", "3"], ["2"]]
    assert (
        rounds[1][0]["body"]["transactionId"] == "tx-2"
    )  # the resent create is deduplicated by Graph
    assert harness.time.sleeps == [4.0]


async def test_items_carry_their_own_headers(make_client: Build) -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.extend(json.loads(request.content)["requests"])
        return httpx.Response(
            200, json={"responses": [_item("1", 200, event_json("A")), _item("2", 202)]}
        )

    harness = make_client(answer)
    await harness.client.write_batch(
        MAILBOX,
        [UpdateEvent("A", EventDraft(subject="Moved"), 'W/"a1"'), CancelEvent("B", "Sorry, ill")],
    )
    update, cancel = sent
    assert update["method"] == "PATCH"
    assert update["url"] == f"/users/{MAILBOX}/events/A"
    assert update["headers"]["If-Match"] == 'W/"a1"'
    assert update["headers"]["Content-Type"] == "application/json"
    assert 'IdType="ImmutableId"' in update["headers"]["Prefer"]
    assert cancel["url"].endswith("/events/B/cancel")
    assert cancel["body"] == {"comment": "Sorry, ill"}


async def test_final_item_errors_are_typed_and_not_retried(make_client: Build) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "responses": [
                    _item(
                        "1", 412, {"error": {"code": "ErrorIrresolvableConflict", "message": "x"}}
                    )
                ]
            },
        )

    harness = make_client(answer)
    [outcome] = await harness.client.write_batch(MAILBOX, [DeleteEvent("A", 'W/"old"')])
    assert isinstance(outcome.error, PreconditionFailed)
    assert len(harness.graph.requests) == 1


async def test_an_item_throttled_past_the_cap_is_reported_not_swallowed(make_client: Build) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ids = [item["id"] for item in json.loads(request.content)["requests"]]
        responses = [
            _item(
                i,
                429,
                {"error": {"code": "activityLimitReached", "message": "x"}},
                **{"Retry-After": "30"},
            )
            if i == "1"
            else _item(i, 201, event_json("B"))
            for i in ids
        ]
        return httpx.Response(200, json={"responses": responses})

    harness = make_client(answer, max_retry_seconds=45.0)
    outcomes = await harness.client.write_batch(
        MAILBOX, [CreateEvent(_draft("A"), "tx-a"), CreateEvent(_draft("B"), "tx-b")]
    )
    assert isinstance(outcomes[0].error, Throttled)
    assert outcomes[0].attempts == 2
    assert outcomes[1].ok
    assert outcomes[1].attempts == 1


async def test_batches_hold_one_to_twenty_writes(make_client: Build) -> None:
    harness = make_client(lambda request: httpx.Response(500))
    with pytest.raises(InvalidArgument, match="at most 20"):
        await harness.client.write_batch(MAILBOX, [DeleteEvent(f"e{n}", "*") for n in range(21)])
    with pytest.raises(InvalidArgument, match="at least one"):
        await harness.client.write_batch(MAILBOX, [])
    assert harness.graph.requests == []
