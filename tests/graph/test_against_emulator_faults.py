"""The Graph client under the emulator's injected faults: throttling storms, expired tokens, dead
delta links, connections dropped after a write was applied, throttled items inside a ``$batch``."""

from __future__ import annotations

import asyncio

import pytest

from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.drafts import EventDraft
from calsync.graph.errors import ResyncRequired, ServiceUnavailable
from calsync.graph.writes import CreateEvent
from tests.fixtures.emulator import ADELE, MEGAN

from .emulator_support import WINDOW_END, WINDOW_START, meeting, settings_for


async def _subjects(graph: GraphClient, mailbox: str = ADELE) -> list[str | None]:
    return sorted([e.subject async for e in graph.calendar_view(mailbox, WINDOW_START, WINDOW_END)])


async def _seed(graph: GraphClient, count: int, mailbox: str = ADELE) -> None:
    for n in range(count):
        await graph.create_event(
            mailbox, meeting(f"Review {n:03d}", 2 + n % 25, 8 + n % 9), transaction_id=f"seed-{n}"
        )


async def test_a_throttling_storm_delays_writes_but_loses_and_duplicates_nothing(
    graph: GraphClient, control: EmulatorControl
) -> None:
    # Outlook-style budget: 15 requests per 2 seconds per mailbox, plus scattered injected 429s.
    await asyncio.to_thread(control.set_throttling, requests_per_window=15, window_seconds=2)
    await asyncio.to_thread(
        control.add_fault, "throttled", next_requests=6, mailbox=ADELE, retry_after_seconds=1
    )
    drafts = [meeting(f"Storm {n:02d}", 2 + n % 20) for n in range(40)]
    await asyncio.gather(
        *(
            graph.create_event(ADELE, draft, transaction_id=f"storm-{n}")
            for n, draft in enumerate(drafts)
        )
    )
    assert await _subjects(graph) == sorted(d.subject for d in drafts)
    assert graph.transport.limits.for_mailbox(ADELE).peak_in_flight <= 4
    counts = await asyncio.to_thread(control.request_counts)
    assert counts["total"] > 40  # the throttled attempts were really made and retried


async def test_an_access_token_expiring_mid_round_is_refreshed_and_the_round_completes(
    graph: GraphClient, control: EmulatorControl
) -> None:
    await _seed(graph, 60)
    token_before = await graph.transport.tokens.token()
    delta = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)
    ids: set[str] = set()
    async for page in delta:
        ids.update(event.id for event in page.changed)
        if delta.pages_read == 1:
            await asyncio.to_thread(control.expire_access_tokens)
    assert len(ids) == 60
    assert delta.finished
    assert await graph.transport.tokens.token() != token_before


async def test_a_delta_link_that_dies_mid_round_signals_resync_and_a_new_round_recovers(
    graph: GraphClient, control: EmulatorControl
) -> None:
    await _seed(graph, 60)
    delta = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)

    async def read() -> None:
        async for _ in delta:
            if delta.pages_read == 1:
                await asyncio.to_thread(control.expire_delta_tokens, ADELE)

    with pytest.raises(ResyncRequired) as caught:
        await read()
    assert caught.value.status == 410
    fresh = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)
    assert sum([len(page.changed) async for page in fresh]) == 60


async def test_a_saved_delta_link_that_expired_signals_resync(
    graph: GraphClient, control: EmulatorControl
) -> None:
    await _seed(graph, 3)
    first = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)
    _ = [page async for page in first]
    await asyncio.to_thread(control.expire_delta_tokens, ADELE)
    with pytest.raises(ResyncRequired):
        _ = [page async for page in graph.delta_round(ADELE, delta_link=first.delta_link)]


async def test_a_create_whose_answer_was_lost_is_not_duplicated(
    graph: GraphClient, control: EmulatorControl
) -> None:
    await asyncio.to_thread(
        control.add_fault,
        "apply_then_drop",
        next_requests=1,
        mailbox=ADELE,
        method="POST",
        path_pattern="/events$",
    )
    created = await graph.create_event(ADELE, meeting("Onboarding", 9), transaction_id="crm-77-r1")
    assert created.subject == "Onboarding"
    assert await _subjects(graph) == ["Onboarding"]


async def test_dropped_connections_and_gateway_timeouts_on_reads_are_retried(
    graph: GraphClient, control: EmulatorControl
) -> None:
    created = await graph.create_event(ADELE, meeting("Planning", 3), transaction_id="crm-80")
    await asyncio.to_thread(control.add_fault, "drop", next_requests=1, method="GET", mailbox=ADELE)
    await asyncio.to_thread(
        control.add_fault, "gateway_timeout", next_requests=1, method="GET", mailbox=ADELE
    )
    assert (await graph.get_event(ADELE, created.id)).subject == "Planning"


async def test_a_throttled_item_inside_a_batch_is_resent_alone(
    graph: GraphClient, control: EmulatorControl
) -> None:
    await asyncio.to_thread(
        control.add_fault,
        "throttled",
        next_requests=1,
        mailbox=MEGAN,
        method="POST",
        path_pattern="/events$",
        retry_after_seconds=1,
    )
    operations = [CreateEvent(meeting(f"Batch {n}", 10 + n), f"batch-{n}") for n in range(5)]
    outcomes = await graph.write_batch(MEGAN, operations)
    assert all(outcome.ok for outcome in outcomes)
    assert sorted(outcome.attempts for outcome in outcomes) == [1, 1, 1, 1, 2]
    assert await _subjects(graph, MEGAN) == [f"Batch {n}" for n in range(5)]


async def test_an_outage_longer_than_the_retry_cap_is_reported(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    await asyncio.to_thread(
        control.add_fault, "unavailable", rate=1.0, mailbox=ADELE, retry_after_seconds=1
    )
    async with GraphClient(settings_for(emulator_server, max_retry_seconds=2.5)) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.update_event(ADELE, "AAMkAny", EventDraft(subject="x"), etag="*")
    assert caught.value.status == 503
    assert caught.value.attempts == 3  # waits of 1 s + 1 s fit in 2.5 s, a third would not
