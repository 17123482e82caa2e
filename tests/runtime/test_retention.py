"""Sync log retention: lines and runs older than the organisation's setting are pruned in small
batches, by the sync service when it starts and once a day after that; newer ones stay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.retention import PruneReport, prune_batch
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.sync.storage.models import (
    Direction,
    LogKind,
    RunKind,
    RunStatus,
    SyncLogEntry,
    SyncRun,
)
from tests.runtime.test_service import eventually
from tests.sync.runners.world import World

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _run(session: Session, started: datetime, status: RunStatus = RunStatus.SUCCEEDED) -> int:
    run = SyncRun(kind=RunKind.PULL, mailbox="adele@harborview.example", started_at=started)
    run.status = status
    session.add(run)
    session.flush()
    return run.id


def _line(session: Session, at: datetime, message: str, run_id: int | None = None) -> None:
    session.add(
        SyncLogEntry(
            run_id=run_id,
            at=at,
            mailbox="adele@harborview.example",
            kind=LogKind.ACTION,
            direction=Direction.MICROSOFT_365_TO_CRM,
            code="created_in_crm",
            message=message,
        )
    )


def _keep_for(world: World, days: int) -> None:
    with world.sessions() as session:
        update_sync_settings(session, SyncSettingsChanges(sync_log_retention_days=days))
        session.commit()


def _messages(world: World) -> list[str]:
    with world.sessions() as session:
        return sorted(session.scalars(select(SyncLogEntry.message)).all())


def _run_ids(world: World) -> list[int]:
    with world.sessions() as session:
        return sorted(session.scalars(select(SyncRun.id)).all())


def test_lines_and_runs_past_the_retention_go_in_small_batches_and_newer_ones_stay(
    world: World,
) -> None:
    _keep_for(world, 30)
    with world.sessions() as session:
        old_run = _run(session, NOW - timedelta(days=40))
        for number in range(6):
            _line(session, NOW - timedelta(days=31 + number), f"old {number}")
        _line(session, NOW - timedelta(days=40), "old with its run", old_run)
        crashed = _run(session, NOW - timedelta(days=45), RunStatus.RUNNING)
        # An old run with a line written since (the list of a long-held deletion) stays with it.
        old_run_with_new_line = _run(session, NOW - timedelta(days=50))
        _line(session, NOW - timedelta(days=2), "recent line of an old run", old_run_with_new_line)
        recent_run = _run(session, NOW - timedelta(days=1))
        _line(session, NOW - timedelta(days=1), "recent", recent_run)
        _line(session, NOW - timedelta(days=29, hours=23), "just inside the retention")
        session.commit()
    report = PruneReport(NOW - timedelta(days=30))
    batches = 0
    with world.sessions() as session:
        while prune_batch(session, report.cutoff, report, batch_size=3):
            batches += 1

    assert (report.log_lines, report.runs) == (7, 2)
    assert batches == 4  # lines 3 + 3 + 1, then the two runs
    assert _messages(world) == [
        "just inside the retention",
        "recent",
        "recent line of an old run",
    ]
    assert old_run not in _run_ids(world)
    assert crashed not in _run_ids(world)
    assert _run_ids(world) == sorted([old_run_with_new_line, recent_run])


@dataclass
class _Quiet:
    pushed: int = 0
    failed: int = 0
    graph_writes: int = 0


class _IdleEngine:
    """An engine with no mailboxes: the service's scheduler runs, nothing is pulled."""

    async def push_pending(self) -> _Quiet:
        return _Quiet()

    async def pull_mailbox(self, address: str) -> _Quiet:
        raise AssertionError("no mailbox is synced")

    def synced_mailboxes(self) -> list[str]:
        return []

    def confirm_held_deletions(self, mailbox: str) -> None:
        raise AssertionError("nothing is held")

    def discard_held_deletions(self, mailbox: str) -> None:
        raise AssertionError("nothing is held")


def _gone(world: World, message: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return message not in _messages(world)

    return check


async def test_the_service_prunes_when_it_starts_and_again_a_day_later(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    _keep_for(world, 7)
    moment = [NOW]
    with world.sessions() as session:
        _line(session, NOW - timedelta(days=8), "a week and a day old")
        _line(session, NOW - timedelta(days=6, hours=2), "six days old")
        session.commit()
    runtime = SyncRuntime(
        world.sessions,
        endpoints=endpoints,
        box=box,
        engine_factory=lambda _sessions, _graph: _IdleEngine(),
        clock=lambda: moment[0],
        tick_seconds=0.01,
    )
    await runtime.start()
    try:
        await eventually(_gone(world, "a week and a day old"))
        assert "six days old" in _messages(world)

        moment[0] += timedelta(hours=23)  # "six days old" is past the week now, but no day passed
        await runtime.schedule_due_runs()
        await asyncio.sleep(0.2)
        assert "six days old" in _messages(world)

        moment[0] += timedelta(hours=1)
        await eventually(_gone(world, "six days old"))
    finally:
        await runtime.stop()
