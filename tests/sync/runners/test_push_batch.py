"""CRM changes reach Microsoft 365 in JSON `$batch` requests of up to 20 writes per mailbox, and
each item's outcome is applied on its own: a throttled item is resent without duplicating, a
failing item leaves the others pushed, a 412 waits for the pull."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Event, SyncStatus
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.sync.runners import push as push_module
from calsync.sync.runners.push import PushRunner
from calsync.sync.storage.models import OutboxEntry
from tests.fixtures.emulator import ADELE, MEGAN
from tests.graph.emulator_support import settings_for
from tests.sync.runners.world import World, soon, weekly


class GraphRequests:
    """An httpx request hook listing the HTTP requests sent to Graph (a `$batch` of 20 writes is
    one request here; the emulator's own counts see its 20 items)."""

    def __init__(self, graph_url: str) -> None:
        self.graph_url = graph_url.rstrip("/")
        self.sent: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        if str(request.url).startswith(self.graph_url):
            self.sent.append(f"{request.method} {request.url.path}")


@dataclass
class CountedPush:
    """A push runner on its own Graph client, and the requests that client sent."""

    runner: PushRunner
    requests: list[str]


@pytest.fixture
async def counted(world: World, emulator_server: EmulatorServer) -> AsyncIterator[CountedPush]:
    settings = settings_for(emulator_server)
    hook = GraphRequests(settings.graph_url)
    http = httpx.AsyncClient(verify=settings.tls_verification(), event_hooks={"request": [hook]})
    async with http, GraphClient(settings, http=http) as graph:
        yield CountedPush(PushRunner(world.sessions, graph), hook.sent)


def _outbox(world: World) -> list[int]:
    with world.sessions() as session:
        return sorted(set(session.scalars(select(OutboxEntry.crm_event_id)).all()))


async def test_several_crm_changes_go_to_microsoft365_in_one_batch_request(
    world: World, counted: CountedPush
) -> None:
    event_ids = [world.crm_create(ADELE, f"Review {n}", soon(n + 1)) for n in range(5)]

    report = await counted.runner.push_pending()

    assert report.pushed == 5
    assert counted.requests == ["POST /v1.0/$batch"]
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Moved review {event_id}")
    counted.requests.clear()

    report = await counted.runner.push_pending()

    assert report.pushed == 5
    assert counted.requests == ["POST /v1.0/$batch"]
    subjects = sorted(event.subject or "" for event in await world.outlook_events(ADELE))
    assert subjects == sorted(f"Moved review {event_id}" for event_id in event_ids)
    assert _outbox(world) == []


async def test_a_batch_holds_at_most_twenty_writes_and_one_mailbox(
    world: World, counted: CountedPush
) -> None:
    for n in range(23):
        world.crm_create(ADELE, f"Adele {n}", soon(1 + n % 20))
    world.crm_create(MEGAN, "Megan's only", soon(2))

    report = await counted.runner.push_pending()

    assert report.pushed == 24
    assert counted.requests == ["POST /v1.0/$batch"] * 3  # Adele 20 + 3, Megan 1
    assert len(await world.outlook_events(ADELE)) == 23
    assert [event.subject for event in await world.outlook_events(MEGAN)] == ["Megan's only"]


async def test_a_throttled_item_inside_a_successful_batch_is_resent_without_a_duplicate(
    world: World, control: EmulatorControl, counted: CountedPush
) -> None:
    control.add_fault(
        "throttled",
        next_requests=1,
        mailbox=ADELE,
        method="POST",
        path_pattern=r"/events$",
        retry_after_seconds=0,
    )
    event_ids = [world.crm_create(ADELE, f"Planning {n}", soon(n + 1)) for n in range(3)]

    report = await counted.runner.push_pending()

    assert report.pushed == 3
    assert report.failed == 0
    # The batch (answered 200 with one 429 item), then the throttled item alone.
    assert counted.requests == ["POST /v1.0/$batch", "POST /v1.0/$batch"]
    subjects = sorted(event.subject or "" for event in await world.outlook_events(ADELE))
    assert subjects == ["Planning 0", "Planning 1", "Planning 2"]
    for event_id in event_ids:
        link = world.link_of(event_id)
        assert link is not None
        event = world.crm_event(event_id)
        assert event is not None
        assert event.sync_status is SyncStatus.SYNCED


async def test_a_batch_resent_after_a_crash_before_the_commit_duplicates_nothing(
    world: World,
) -> None:
    event_ids = [world.crm_create(ADELE, f"Kick-off {n}", soon(n + 1)) for n in range(4)]

    def crash(point: str) -> None:
        if point == "push.after_graph_write":
            raise RuntimeError("crash after the batch reached Graph")

    world.checkpoint = crash
    with pytest.raises(RuntimeError):
        await world.sync.push_pending()
    assert _outbox(world) == sorted(event_ids)  # nothing recorded: every entry stays
    world.checkpoint = lambda point: None

    report = await world.sync.push_pending()

    assert report.pushed == 4
    outlook = await world.outlook_events(ADELE)
    assert sorted(event.subject or "" for event in outlook) == [f"Kick-off {n}" for n in range(4)]
    for event_id in event_ids:
        link = world.link_of(event_id)
        assert link is not None
        assert link.graph_id in {event.id for event in outlook}
    assert _outbox(world) == []


async def test_one_failing_item_leaves_the_others_pushed_and_keeps_its_entry(
    world: World, control: EmulatorControl, counted: CountedPush
) -> None:
    event_ids = [world.crm_create(ADELE, f"Budget {n}", soon(n + 1)) for n in range(3)]
    await counted.runner.push_pending()
    failing = event_ids[1]
    failing_link = world.link_of(failing)
    assert failing_link is not None
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Budget v2 {event_id}")
    control.add_fault(
        "unavailable",
        next_requests=50,
        mailbox=ADELE,
        method="PATCH",
        path_pattern=failing_link.graph_id,
        retry_after_seconds=0,
    )

    report = await counted.runner.push_pending()

    assert (report.pushed, report.failed) == (2, 1)
    assert _outbox(world) == [failing]
    failed_event = world.crm_event(failing)
    assert failed_event is not None
    assert failed_event.sync_status is SyncStatus.ERROR
    assert "graph.service_unavailable" in (failed_event.sync_message or "")
    for event_id in (event_ids[0], event_ids[2]):
        event = world.crm_event(event_id)
        assert event is not None
        assert event.sync_status is SyncStatus.SYNCED
    subjects = {event.id: event.subject for event in await world.outlook_events(ADELE)}
    assert subjects[failing_link.graph_id] == f"Budget {1}"
    control.clear_faults()

    report = await counted.runner.push_pending()

    assert (report.pushed, report.failed) == (1, 0)
    assert (await world.outlook_event(ADELE, failing_link.graph_id)).subject == (
        f"Budget v2 {failing}"
    )
    recovered = world.crm_event(failing)
    assert recovered is not None
    assert recovered.sync_status is SyncStatus.SYNCED
    assert _outbox(world) == []


async def test_an_item_changed_in_outlook_meanwhile_waits_for_the_pull_and_the_others_go(
    world: World, counted: CountedPush
) -> None:
    event_ids = [world.crm_create(ADELE, f"Offsite {n}", soon(n + 1)) for n in range(2)]
    await counted.runner.push_pending()
    changed_link = world.link_of(event_ids[0])
    assert changed_link is not None
    await world.outlook_update(ADELE, changed_link.graph_id, body="Agenda from Outlook")
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Offsite v2 {event_id}")
    counted.requests.clear()

    report = await counted.runner.push_pending()

    assert (report.pushed, report.waiting_for_pull, report.failed) == (1, 1, 0)
    assert counted.requests == ["POST /v1.0/$batch"]
    assert _outbox(world) == [event_ids[0]]
    assert [entry.crm_event_id for entry in world.log("changed_in_outlook_meanwhile")] == [
        event_ids[0]
    ]


async def test_a_series_master_and_its_occurrences_never_share_a_batch(
    world: World, counted: CountedPush
) -> None:
    start = soon(2)
    master = await world.outlook_create(
        ADELE, "Weekly check-in", start, recurrence=weekly(start, 4)
    )
    await world.sync.run_once()
    [series] = [e for e in world.crm_events(ADELE) if e.m365_recurrence_summary]
    first, second = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id is not None),
        key=lambda e: e.start_at,
    )[:2]
    single = world.crm_create(ADELE, "One-off", soon(5))
    await counted.runner.push_pending()
    world.crm_update(single, location="Lobby")
    world.crm_update(series.id, location="Main office")
    world.crm_update(first.id, location="Board room")
    world.crm_update(second.id, location="Library")
    counted.requests.clear()

    report = await counted.runner.push_pending()

    # [one-off, master], then both occurrences together: never the master with an occurrence.
    assert counted.requests == ["POST /v1.0/$batch"] * 2
    # The master's change reached its occurrences first (new change keys), so, exactly as one
    # request after the other, their PATCHes are refused with 412 and wait for the pull's merge.
    assert (report.pushed, report.failed, report.waiting_for_pull) == (2, 0, 2)
    assert _outbox(world) == sorted([first.id, second.id])
    for graph_id, location in ((master.id, "Main office"), (_graph_id(world, single), "Lobby")):
        outlook = await world.outlook_event(ADELE, graph_id)
        assert outlook.location is not None
        assert outlook.location.display_name == location


def _graph_id(world: World, event_id: int) -> str:
    link = world.link_of(event_id)
    assert link is not None
    return link.graph_id


async def test_an_outcome_the_crm_refuses_to_record_leaves_the_others_of_its_batch_recorded(
    world: World, counted: CountedPush, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's outcomes share one CRM transaction; when the CRM refuses one item's record, the
    others are still recorded (each then in its own transaction) and the refused one keeps its
    entry, with the error on the event and in the sync log."""
    event_ids = [world.crm_create(ADELE, f"Review {n}", soon(n + 1)) for n in range(3)]
    await counted.runner.push_pending()
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Review v2 {event_id}")
    refused = event_ids[1]
    original = push_module.mark_synced

    def mark_synced(session: Session, event_id: int) -> Event:
        if event_id == refused:
            raise InvalidInputError("the event is locked for review", field="sync_status")
        return original(session, event_id)

    monkeypatch.setattr(push_module, "mark_synced", mark_synced)

    report = await counted.runner.push_pending()

    assert (report.pushed, report.failed) == (2, 1)
    assert _outbox(world) == [refused]
    refused_event = world.crm_event(refused)
    assert refused_event is not None
    assert refused_event.sync_status is SyncStatus.ERROR
    assert "locked for review" in (refused_event.sync_message or "")
    assert [line.crm_event_id for line in world.log("invalid_input")] == [refused]
    for event_id in (event_ids[0], event_ids[2]):
        event = world.crm_event(event_id)
        assert event is not None
        assert event.sync_status is SyncStatus.SYNCED
        link = world.link_of(event_id)
        assert link is not None
        assert link.pending_snapshot is None
    assert sorted(line.crm_event_id for line in world.log("updated_in_microsoft365")) == sorted(
        event_ids
    )
    monkeypatch.setattr(push_module, "mark_synced", original)

    report = await counted.runner.push_pending()

    assert (report.pushed, report.failed) == (1, 0)
    assert _outbox(world) == []
