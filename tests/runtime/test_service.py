"""The sync service in one process: CRM changes pushed within seconds of their commit, mailboxes
pulled on their schedule, failures retried, nothing while the sync is disabled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from calsync.crm.models import SyncStatus
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.emulator.control_client import EmulatorControl
from calsync.runtime import metrics
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import enable_sync, save_connection
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.sync.runners.pull import PullReport
from calsync.sync.runners.push import PushReport
from calsync.sync.storage.models import DeltaCursor
from tests.fixtures.emulator import ADELE, MEGAN
from tests.runtime.conftest import FAST_GRAPH
from tests.sync.runners.world import World, soon


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Wait until `check()` is true; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not true within {seconds} s")
        await asyncio.sleep(0.05)


class MovableClock:
    """The wall clock, plus however far a test moved it forward (the scheduler's clock only)."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def runtime(
    world: World, endpoints: GraphEndpoints, box: SecretBox, clock: MovableClock
) -> AsyncIterator[SyncRuntime]:
    runtime = SyncRuntime(
        world.sessions,
        endpoints=endpoints,
        box=box,
        clock=clock,
        tick_seconds=0.05,
        push_poll_seconds=60.0,
        graph_overrides=FAST_GRAPH,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_a_crm_event_reaches_microsoft_365_seconds_after_its_commit(
    world: World,
    runtime: SyncRuntime,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
) -> None:
    await enable_sync(world.sessions, connection, endpoints, box)
    pushed_before = metrics.PUSH_LATENCY._sum.get()
    event_id = world.crm_create(ADELE, "Onboarding call with the Garcias", soon(3))

    async def in_outlook() -> bool:
        return any(
            event.subject == "Onboarding call with the Garcias"
            for event in await world.outlook_events(ADELE)
        )

    # The push poll is a minute: only the commit's wake-up can bring it here this fast.
    await eventually(in_outlook, seconds=10)
    await eventually(lambda: _status_is(world, event_id, SyncStatus.SYNCED))
    assert metrics.PUSH_LATENCY._sum.get() > pushed_before


async def test_an_outlook_event_reaches_the_crm_at_the_mailboxs_scheduled_run(
    world: World,
    runtime: SyncRuntime,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
    clock: MovableClock,
) -> None:
    await enable_sync(world.sessions, connection, endpoints, box)
    await asyncio.sleep(0.3)  # the scheduler has seen the mailboxes
    clock.ahead += timedelta(minutes=1)  # every mailbox's first run is due within a minute
    await eventually(lambda: _pulled(world, MEGAN))
    await world.outlook_create(MEGAN, "Quarterly planning (Outlook)", soon(5))

    async def in_crm() -> bool:
        return any(
            event.subject == "Quarterly planning (Outlook)" for event in world.crm_events(MEGAN)
        )

    await asyncio.sleep(0.3)
    assert not await in_crm()  # the next run is about a period (15 minutes) away
    clock.ahead += timedelta(minutes=23)  # its slot comes at most 1.5 periods after the last run
    await eventually(in_crm)


async def test_nothing_runs_while_the_sync_is_disabled_and_waiting_changes_go_out_once_enabled(
    world: World,
    runtime: SyncRuntime,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
) -> None:
    event_id = world.crm_create(ADELE, "Estate planning review", soon(4))
    await asyncio.sleep(0.5)
    assert await world.outlook_events(ADELE) == []
    assert await runtime.schedule_due_runs() == []
    await enable_sync(world.sessions, connection, endpoints, box)
    runtime.wake_push()
    await eventually(lambda: _status_is(world, event_id, SyncStatus.SYNCED))
    assert [event.subject for event in await world.outlook_events(ADELE)] == [
        "Estate planning review"
    ]


async def test_a_failed_push_shows_on_the_event_and_is_retried_until_it_succeeds(
    world: World,
    runtime: SyncRuntime,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
    control: EmulatorControl,
) -> None:
    await enable_sync(world.sessions, connection, endpoints, box)
    control.add_fault("unavailable", next_requests=2, method="POST", path_pattern="/events$")
    event_id = world.crm_create(ADELE, "Retirement income review", soon(6))
    await eventually(lambda: _status_is(world, event_id, SyncStatus.ERROR))
    event = world.crm_event(event_id)
    assert event is not None
    assert event.sync_message is not None
    assert "retried automatically" in event.sync_message
    # Backoff: 1 s, then 2 s; the third attempt finds Microsoft 365 back.
    await eventually(lambda: _status_is(world, event_id, SyncStatus.SYNCED), seconds=15)
    subjects = [event.subject for event in await world.outlook_events(ADELE)]
    assert subjects == ["Retirement income review"]


async def test_disabling_stops_the_runs_and_keeps_the_links(
    world: World,
    runtime: SyncRuntime,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
) -> None:
    await enable_sync(world.sessions, connection, endpoints, box)
    event_id = world.crm_create(ADELE, "Tax strategy session", soon(2))
    await eventually(lambda: _status_is(world, event_id, SyncStatus.SYNCED))
    with world.sessions() as session:
        update_sync_settings(session, SyncSettingsChanges(sync_enabled=False))
        session.commit()
    world.crm_update(event_id, subject="Tax strategy session (moved)")
    await asyncio.sleep(0.5)
    assert [event.subject for event in await world.outlook_events(ADELE)] == [
        "Tax strategy session"
    ]
    assert world.link_of(event_id) is not None


class _OverlapRecordingEngine:
    """An engine whose pulls take a while and record how many ran at once per mailbox."""

    def __init__(self, mailboxes: list[str]) -> None:
        self.mailboxes = mailboxes
        self.running: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.pulls = 0

    async def push_pending(self) -> PushReport:
        return PushReport()

    async def pull_mailbox(self, address: str) -> PullReport:
        self.running[address] = self.running.get(address, 0) + 1
        self.most_at_once[address] = max(self.most_at_once.get(address, 0), self.running[address])
        self.pulls += 1
        await asyncio.sleep(0.05)
        self.running[address] -= 1
        return PullReport(address)

    def synced_mailboxes(self) -> list[str]:
        return self.mailboxes


async def test_never_two_runs_of_one_mailbox_at_once_even_with_sync_now_on_top(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    mailboxes = [f"advisor{number}@harborview.example" for number in range(20)]
    engine = _OverlapRecordingEngine(mailboxes)
    moment = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    runtime = SyncRuntime(
        world.sessions,
        endpoints=endpoints,
        box=box,
        engine_factory=lambda _sessions, _graph: engine,
        clock=lambda: moment[0],
        tick_seconds=0.01,
        engine_concurrency=4,
    )
    await runtime.start()
    try:
        for _ in range(5):
            await runtime.sync_now()
            await runtime.sync_now(mailboxes[0])
            moment[0] += timedelta(minutes=16)  # every mailbox due again on the schedule
            await asyncio.sleep(0.1)
        await eventually(_no_runs_left(runtime, engine), seconds=20)
    finally:
        await runtime.stop()
    # Every "sync now" was honoured (all mailboxes five times, the first five times more), whatever
    # the scheduler added, and no mailbox ever ran twice at once.
    assert engine.pulls >= 5 * (len(mailboxes) + 1)
    assert set(engine.most_at_once.values()) == {1}


def _no_runs_left(
    runtime: SyncRuntime, engine: _OverlapRecordingEngine
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        # Runs queued behind a mailbox's lock or an engine turn count too: between two runs of one
        # mailbox neither the engine nor the lock is busy, yet the next run is on its way.
        return (
            not runtime.runs_in_progress()
            and not any(engine.running.values())
            and not any(runtime.locks.is_running(mailbox) for mailbox in engine.mailboxes)
        )

    return check


async def _pulled(world: World, mailbox: str) -> bool:
    with world.sessions() as session:
        return (
            session.scalar(select(DeltaCursor.last_run_at).where(DeltaCursor.mailbox == mailbox))
            is not None
        )


async def _status_is(world: World, event_id: int, status: SyncStatus) -> bool:
    event = world.crm_event(event_id)
    return event is not None and event.sync_status is status


async def test_every_mailbox_is_pulled_again_each_period_on_the_schedule(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    mailboxes = [f"advisor{number}@harborview.example" for number in range(10)]
    engine = _OverlapRecordingEngine(mailboxes)
    moment = [datetime(2026, 11, 26, 9, 0, tzinfo=UTC)]
    runtime = SyncRuntime(
        world.sessions,
        endpoints=endpoints,
        box=box,
        engine_factory=lambda _sessions, _graph: engine,
        clock=lambda: moment[0],
        tick_seconds=0.01,
    )
    await runtime.start()
    try:
        await asyncio.sleep(0.1)  # the scheduler sees the mailboxes
        for _ in range(4):
            moment[0] += timedelta(minutes=23)  # at most 1.5 periods: every mailbox is due
            await eventually(_no_runs_left(runtime, engine))
            await asyncio.sleep(0.1)
            await eventually(_no_runs_left(runtime, engine))
    finally:
        await runtime.stop()
    assert engine.pulls == 4 * len(mailboxes)
