"""Retries, Retry-After, token refresh, limits: the transport's behaviour under Graph's failure
modes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from calsync.graph.errors import (
    GraphConnectionError,
    NotFound,
    ServiceUnavailable,
    Throttled,
    Unauthenticated,
)
from calsync.graph.limits import MailboxLimiter

from .conftest import MAILBOX, Harness, event_json, graph_error

Build = Callable[..., Harness]


def _sequence(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    remaining = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        item = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(item, Exception):
            raise item
        return item

    return answer


async def test_every_request_asks_for_immutable_ids_and_carries_the_token(
    make_client: Build,
) -> None:
    harness = make_client(_sequence(httpx.Response(200, json=event_json("AAMk1"))))
    await harness.client.get_event(MAILBOX, "AAMk1")
    request = harness.graph.requests[0]
    assert 'IdType="ImmutableId"' in request.headers["prefer"]
    assert request.headers["authorization"] == "Bearer token-1"
    assert request.url.path == "/v1.0/users/ana.advisor@contoso.example/events/AAMk1"


async def test_a_429_waits_exactly_retry_after_then_succeeds(make_client: Build) -> None:
    harness = make_client(
        _sequence(
            graph_error(429, "activityLimitReached", **{"Retry-After": "7"}),
            graph_error(429, "activityLimitReached", **{"Retry-After": "3"}),
            httpx.Response(200, json=event_json("AAMk1")),
        )
    )
    event = await harness.client.get_event(MAILBOX, "AAMk1")
    assert event.id == "AAMk1"
    assert harness.time.sleeps == [7.0, 3.0]


async def test_503_and_504_back_off_exponentially_with_jitter(make_client: Build) -> None:
    harness = make_client(
        _sequence(
            graph_error(503, "serviceNotAvailable"),
            graph_error(504, "gatewayTimeout"),
            graph_error(503, "serviceNotAvailable"),
            httpx.Response(200, json=event_json("AAMk1")),
        )
    )
    await harness.client.get_event(MAILBOX, "AAMk1")
    # jitter is pinned at 0.5 of the ceiling: base 1 s doubling → 0.5, 1, 2
    assert harness.time.sleeps == [0.5, 1.0, 2.0]


async def test_a_dropped_connection_is_retried(make_client: Build) -> None:
    harness = make_client(
        _sequence(
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            httpx.ReadTimeout("read timed out"),
            httpx.Response(200, json=event_json("AAMk1")),
        )
    )
    await harness.client.get_event(MAILBOX, "AAMk1")
    assert len(harness.graph.requests) == 3


async def test_the_retry_time_cap_reports_the_last_error_instead_of_waiting_forever(
    make_client: Build,
) -> None:
    harness = make_client(
        _sequence(graph_error(429, "activityLimitReached", **{"Retry-After": "25"})),
        max_retry_seconds=60.0,
        max_attempts=100,
    )
    with pytest.raises(Throttled) as caught:
        await harness.client.get_event(MAILBOX, "AAMk1")
    # 25 + 25 fit in 60 s; a third wait would pass the cap, so three attempts and then the error.
    assert harness.time.sleeps == [25.0, 25.0]
    assert caught.value.attempts == 3
    assert caught.value.retry_after == 25.0
    assert "after 3 attempts" in str(caught.value)


async def test_the_attempt_cap_reports_the_last_error(make_client: Build) -> None:
    harness = make_client(_sequence(graph_error(503, "serviceNotAvailable")), max_attempts=3)
    with pytest.raises(ServiceUnavailable) as caught:
        await harness.client.get_event(MAILBOX, "AAMk1")
    assert caught.value.attempts == 3
    assert len(harness.graph.requests) == 3


async def test_connection_failures_that_outlast_the_cap_surface_as_connection_errors(
    make_client: Build,
) -> None:
    harness = make_client(_sequence(httpx.ConnectError("connection refused")), max_attempts=2)
    with pytest.raises(GraphConnectionError) as caught:
        await harness.client.get_event(MAILBOX, "AAMk1")
    assert caught.value.code == "graph.connection_failed"


async def test_errors_that_retrying_cannot_fix_are_raised_at_once(make_client: Build) -> None:
    harness = make_client(_sequence(graph_error(404, "ErrorItemNotFound")))
    with pytest.raises(NotFound):
        await harness.client.get_event(MAILBOX, "AAMk1")
    assert len(harness.graph.requests) == 1
    assert harness.time.sleeps == []


async def test_a_401_is_answered_by_one_refresh_and_a_resend(make_client: Build) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer token-1":
            return graph_error(401, "InvalidAuthenticationToken")
        return httpx.Response(200, json=event_json("AAMk1"))

    harness = make_client(handler)
    await harness.client.get_event(MAILBOX, "AAMk1")
    assert harness.tokens.refreshes == ["token-1"]
    assert [r.headers["authorization"] for r in harness.graph.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_a_token_that_is_still_refused_after_refresh_is_reported(make_client: Build) -> None:
    harness = make_client(_sequence(graph_error(401, "InvalidAuthenticationToken")))
    with pytest.raises(Unauthenticated):
        await harness.client.get_event(MAILBOX, "AAMk1")
    assert len(harness.tokens.refreshes) == 1
    assert len(harness.graph.requests) == 2


async def test_a_read_retries_one_transient_412(make_client: Build) -> None:
    harness = make_client(
        _sequence(
            graph_error(412, "ErrorIrresolvableConflict"), httpx.Response(200, json=event_json("A"))
        )
    )
    assert (await harness.client.get_event(MAILBOX, "A")).id == "A"


async def test_no_more_than_four_requests_per_mailbox_are_in_flight() -> None:
    limiter = MailboxLimiter(concurrency=4, budget=1000, window_seconds=600)
    release = asyncio.Event()

    async def request() -> None:
        async with limiter.slot():
            await release.wait()

    tasks = [asyncio.create_task(request()) for _ in range(10)]
    await asyncio.sleep(0.01)
    assert limiter.in_flight == 4
    release.set()
    await asyncio.gather(*tasks)
    assert limiter.peak_in_flight == 4


class ManualClock:
    """A clock that moves only when told to, or by the time a limiter sleeps (recorded)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def test_the_request_budget_makes_the_next_request_wait_for_the_window() -> None:
    clock = ManualClock()
    limiter = MailboxLimiter(
        concurrency=4, budget=3, window_seconds=600, clock=clock, sleep=clock.sleep
    )
    for offset in (0.0, 10.0, 20.0, 30.0):
        clock.now = max(clock.now, offset)
        async with limiter.slot():
            pass
    assert clock.waits == [
        570.0
    ]  # the fourth request waits until the first leaves the 10-minute window


async def test_every_item_of_a_batch_counts_against_the_mailbox_budget() -> None:
    """Outlook throttles each $batch item on its own (GRAPH.md §7): a batch of 3 spends 3."""
    clock = ManualClock()
    limiter = MailboxLimiter(
        concurrency=4, budget=5, window_seconds=600, clock=clock, sleep=clock.sleep
    )
    async with limiter.slot(3):  # t=0: 3 of 5 spent
        pass
    clock.now = 10.0
    async with limiter.slot():  # t=10: 4 of 5
        pass
    clock.now = 20.0
    async with limiter.slot(3):  # needs room for 3: the batch's three starts must leave first
        pass
    assert clock.waits == [580.0]
    with pytest.raises(ValueError, match="items"):
        async with limiter.slot(0):
            pass


async def test_a_batch_holds_as_many_slots_as_outlook_runs_its_items_at_once() -> None:
    """Outlook runs up to 4 items of a batch in parallel: while a batch of 20 is in flight no
    other request to that mailbox starts, and two batches never deadlock on partial slots."""
    limiter = MailboxLimiter(concurrency=4, budget=1000, window_seconds=600)
    release = asyncio.Event()
    started: list[str] = []

    async def request(name: str, items: int) -> None:
        async with limiter.slot(items):
            started.append(name)
            await release.wait()

    batch = asyncio.create_task(request("batch", 20))
    await asyncio.sleep(0.01)
    others = [
        asyncio.create_task(request("single", 1)),
        asyncio.create_task(request("batch-2", 2)),
        asyncio.create_task(request("batch-3", 3)),
    ]
    await asyncio.sleep(0.01)
    assert started == ["batch"]
    assert limiter.in_flight == 4
    release.set()
    await asyncio.wait_for(asyncio.gather(batch, *others), timeout=5)
    assert sorted(started) == ["batch", "batch-2", "batch-3", "single"]
    assert limiter.peak_in_flight == 4


async def test_mailboxes_are_limited_separately_and_case_insensitively(make_client: Build) -> None:
    harness = make_client(_sequence(httpx.Response(200, json=event_json("A"))))
    limits = harness.transport.limits
    assert limits.for_mailbox("Ana@Contoso.example") is limits.for_mailbox("ana@contoso.example")
    assert limits.for_mailbox("ben@contoso.example") is not limits.for_mailbox(
        "ana@contoso.example"
    )


async def test_a_429_holds_off_every_request_to_that_mailbox(make_client: Build) -> None:
    answers = [graph_error(429, "activityLimitReached", **{"Retry-After": "5"})]

    def answer(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, json=event_json("A"))

    harness = make_client(answer, max_attempts=1)  # give up at once: only the hold-off remains
    with pytest.raises(Throttled):
        await harness.client.get_event(MAILBOX, "A")
    before = harness.time.now
    await harness.client.get_event(MAILBOX, "A")  # another request to the same mailbox waits
    assert harness.time.now - before == 5.0
    await harness.client.get_event("ben@contoso.example", "A")  # other mailboxes do not
    assert harness.time.now - before == 5.0
