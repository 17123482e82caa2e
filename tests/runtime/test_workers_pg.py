"""Many machines: 3 `calsync worker` processes on a real PostgreSQL, 100 mailboxes, workers killed
with SIGKILL at random (mid-run) and restarted while CRM and Outlook edits happen. Every mailbox
converges (both sides agree, nothing duplicated) and no mailbox ever ran twice at once."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Event
from calsync.crm.services.event_input import EventInput, event_input_of
from calsync.crm.services.events import create_event, update_event
from calsync.crm.services.users import create_user
from calsync.graph.client import GraphClient
from calsync.graph.drafts import EventDraft
from calsync.graph.settings import GraphSettings
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import enable_sync
from calsync.runtime.host import RuntimeHost
from calsync.runtime.jobs import names
from calsync.runtime.jobs.frontend import deferring_runtime
from calsync.runtime.secrets import SecretBox
from calsync.sync.storage.models import OutboxEntry, RunKind, RunStatus, SyncRun
from tests.fixtures.postgres import PostgresServer
from tests.runtime.jobs_cluster import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    WorkerPool,
    emulator_process,
    fresh_database,
    overlapping,
    run_intervals,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(420)]

MAILBOX_COUNT = 100
WORKER_COUNT = 3
KILL_PHASE_SECONDS = 45.0
# The kill phase goes on past KILL_PHASE_SECONDS (up to this) until enough workers were killed,
# one of them mid-run: on a slow machine workers take longer to start.
KILL_PHASE_LIMIT_SECONDS = 100.0
MIN_KILLS = 5
CONVERGE_TIMEOUT_SECONDS = 150.0


def day(offset: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=offset, hours=hour)


async def test_three_workers_killed_at_random_converge(
    postgres_server: PostgresServer,
    postgres_template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(6)
    mailboxes = [f"advisor{number:03d}@harborview.example" for number in range(MAILBOX_COUNT)]
    key = Fernet.generate_key()
    monkeypatch.setenv("CALSYNC_JOBS_TICK_SECONDS", "2")
    with (
        fresh_database(postgres_server, postgres_template) as url,
        emulator_process(mailboxes, tmp_path) as emulator,
    ):
        engine = create_database_engine(url)
        sessions = create_session_factory(engine)
        endpoints = GraphEndpoints(emulator.base_url, emulator.graph_url, emulator.ca_path)
        box = SecretBox([key])
        users = {}
        with sessions() as session:
            for address in mailboxes:
                user = create_user(
                    session,
                    name=address.split("@")[0],
                    email=address,
                    time_zone="UTC",
                    sync_enabled=True,
                )
                users[address] = user.id
            session.commit()
        outlook_settings = GraphSettings(
            tenant_id=TENANT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authority_host=emulator.base_url,
            graph_url=emulator.graph_url,
            ca_bundle=emulator.ca_path,
            backoff_base_seconds=0.05,
        )
        async with GraphClient(outlook_settings) as outlook:
            # Two meetings per mailbox exist in Outlook before the sync starts.
            graph_ids: dict[str, list[str]] = {address: [] for address in mailboxes}
            for chunk in range(0, MAILBOX_COUNT, 20):
                created = await asyncio.gather(
                    *(
                        outlook.create_event(
                            address,
                            EventDraft(
                                subject=f"Outlook {n} of {address}",
                                start=day(n + 1, 9),
                                end=day(n + 1, 10),
                                time_zone="UTC",
                            ),
                            transaction_id=str(uuid.uuid4()),
                        )
                        for address in mailboxes[chunk : chunk + 20]
                        for n in range(2)
                    )
                )
                for event in created:
                    owner = event.subject.rsplit(" ", 1)[1] if event.subject else ""
                    graph_ids[owner].append(event.id)
            await enable_sync(
                sessions,
                TenantConnection(TENANT, CLIENT_ID, CLIENT_SECRET),
                endpoints,
                box,
                test_mailbox=mailboxes[0],
            )
            # The web process of `calsync serve` with CALSYNC_RUNTIME=jobs: commits defer pushes.
            front = RuntimeHost(
                deferring_runtime(sessions, url, endpoints=endpoints, box=box, webhooks=None)
            )
            await asyncio.to_thread(front.start)
            pool = WorkerPool(
                {
                    "CALSYNC_DATABASE_URL": url,
                    "CALSYNC_RUNTIME": "jobs",
                    "CALSYNC_JOBS_TICK_SECONDS": "2",
                    "CALSYNC_WORKER_HEARTBEAT_SECONDS": "1",
                    "CALSYNC_ENCRYPTION_KEY": key.decode(),
                    "CALSYNC_GRAPH_AUTHORITY_HOST": emulator.base_url,
                    "CALSYNC_GRAPH_URL": emulator.graph_url,
                    "CALSYNC_GRAPH_CA_BUNDLE": str(emulator.ca_path),
                    "CALSYNC_LOG_FORMAT": "json",
                },
                tmp_path,
            )
            try:
                for slot in range(WORKER_COUNT):
                    pool.start(slot)
                crm_ids = await _edit_and_kill(
                    rng, pool, front, sessions, users, outlook, graph_ids, mailboxes
                )
                edits_done = datetime.now(UTC)
                await front.sync_now()
                await _wait_until_settled(front, sessions, mailboxes, edits_done)
            finally:
                pool.stop_all()
                await asyncio.to_thread(front.stop)

            # Every mailbox converged: the same meetings on both sides, none twice.
            for address in mailboxes:
                crm_subjects = _crm_subjects(sessions, users[address])
                outlook_subjects = sorted(
                    [
                        event.subject or ""
                        async for event in outlook.calendar_view(address, day(-20, 0), day(60, 0))
                        if not event.is_cancelled
                    ]
                )
                assert crm_subjects == outlook_subjects, address
                assert len(set(crm_subjects)) == len(crm_subjects), address
                expected = {f"Outlook {n} of {address}" for n in range(2)}
                assert expected <= {s.replace(" (renamed in Outlook)", "") for s in crm_subjects}
            assert len(crm_ids) > 0

        # No mailbox ever ran twice at once: neither in the workers' logs (a run cut short by
        # SIGKILL lasts until the kill) nor in the sync_runs table.
        intervals = run_intervals(pool.incarnations)
        assert overlapping(intervals) == []
        killed = [run for run in pool.incarnations if run.killed_at is not None]
        pushes = run_intervals(pool.incarnations, kind="push")
        cut_short = [run for run in [*intervals, *pushes] if run.cut_short]
        recovered = sum(
            1
            for run in pool.incarnations
            for line in run.log()
            if str(line.get("message", "")).startswith("retrying job")
        )
        print(
            f"{len(pool.incarnations)} worker processes, {len(killed)} killed, "
            f"{len(intervals)} pulls, {len(cut_short)} cut short by SIGKILL, "
            f"{recovered} stalled jobs retried"
        )
        assert len(killed) >= MIN_KILLS
        assert cut_short, "no worker was killed in the middle of a run"
        with sessions() as session:
            runs = session.execute(
                select(SyncRun.mailbox, SyncRun.started_at, SyncRun.finished_at)
                .where(SyncRun.kind == RunKind.PULL, SyncRun.finished_at.is_not(None))
                .order_by(SyncRun.mailbox, SyncRun.started_at)
            ).all()
        previous: dict[str, datetime] = {}
        for mailbox, started, finished in runs:
            assert mailbox not in previous or started >= previous[mailbox], mailbox
            previous[mailbox] = max(finished, previous.get(mailbox, finished))
        engine.dispose()


async def _edit_and_kill(
    rng: random.Random,
    pool: WorkerPool,
    front: RuntimeHost,
    sessions: sessionmaker[Session],
    users: dict[str, int],
    outlook: GraphClient,
    graph_ids: dict[str, list[str]],
    mailboxes: list[str],
) -> list[int]:
    """For KILL_PHASE_SECONDS (longer until MIN_KILLS, one mid-run): CRM creates and edits,
    Outlook edits, "sync now" rounds, and every 3-6 seconds one worker killed (one in the middle
    of a push or pull when there is one) and restarted."""
    crm_ids: list[int] = []
    started = time.monotonic()
    next_kill = started + 6.0
    next_round = started + 3.0
    step = 0

    def enough() -> bool:
        killed = [run for run in pool.incarnations if run.killed_at is not None]
        runs = [*run_intervals(killed), *run_intervals(killed, kind="push")]
        return len(killed) >= MIN_KILLS and any(run.cut_short for run in runs)

    while time.monotonic() - started < KILL_PHASE_SECONDS or (
        time.monotonic() - started < KILL_PHASE_LIMIT_SECONDS and not enough()
    ):
        step += 1
        address = rng.choice(mailboxes)
        action = rng.random()
        if action < 0.45:
            offset = rng.randint(1, 20)
            with sessions() as session:
                event = create_event(
                    session,
                    EventInput(
                        owner_id=users[address],
                        subject=f"CRM {step} of {address}",
                        start=day(offset, 14),
                        end=day(offset, 15),
                    ),
                )
                session.commit()
                crm_ids.append(event.id)
        elif action < 0.7 and crm_ids:
            event_id = rng.choice(crm_ids)
            with sessions() as session:
                event = session.get(Event, event_id)
                assert event is not None
                if " (moved in the CRM)" not in event.subject:
                    update_event(
                        session,
                        event_id,
                        event.version,
                        replace(
                            event_input_of(event), subject=event.subject + " (moved in the CRM)"
                        ),
                    )
                session.commit()
        elif graph_ids[address]:
            graph_id = graph_ids[address].pop()
            await outlook.update_event(
                address,
                graph_id,
                EventDraft(
                    subject=f"Outlook {len(graph_ids[address])} of {address} (renamed in Outlook)"
                ),
                etag="*",
            )
        now = time.monotonic()
        if now >= next_round:
            await front.sync_now()
            next_round = now + 8.0
        if now >= next_kill:
            # Kill a worker in the middle of a push or pull when one is (else any that runs).
            up = [slot for slot, run in pool.live.items() if run.started()]
            busy = [slot for slot in up if pool.live[slot].mid_run()]
            if busy or up:
                slot = rng.choice(busy or up)
                pool.kill(slot)
                pool.start(slot)
                next_kill = now + rng.uniform(3.0, 6.0)
        await asyncio.sleep(rng.uniform(0.05, 0.25))
    return crm_ids


async def _wait_until_settled(
    front: RuntimeHost, sessions: sessionmaker[Session], mailboxes: list[str], edits_done: datetime
) -> None:
    """Until the outbox is empty, no push or pull job is due or running, and every mailbox had a
    successful pull that started after the last edit. Asks "sync now" again for the laggards."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT_SECONDS
    next_nudge = time.monotonic() + 20.0
    while True:
        with sessions() as session:
            outbox = session.scalar(select(OutboxEntry.id).limit(1))
            busy = session.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name IN (:push, :pull) "
                    "AND (status = 'doing' OR (status = 'todo' AND scheduled_at IS NULL) "
                    "OR (status = 'todo' AND scheduled_at < now() + interval '1 second'))"
                ),
                {"push": names.PUSH_TASK, "pull": names.PULL_TASK},
            )
            fresh = set(
                session.scalars(
                    select(SyncRun.mailbox).where(
                        SyncRun.kind == RunKind.PULL,
                        SyncRun.status == RunStatus.SUCCEEDED,
                        SyncRun.started_at > edits_done,
                    )
                ).all()
            )
        lagging = [address for address in mailboxes if address not in fresh]
        if outbox is None and not busy and not lagging:
            return
        assert time.monotonic() < deadline, (
            f"not settled: outbox {'empty' if outbox is None else 'waiting'}, {busy} jobs busy, "
            f"{len(lagging)} mailboxes without a pull since the last edit"
        )
        if time.monotonic() >= next_nudge:
            for address in lagging:
                await front.sync_now(address)
            next_nudge = time.monotonic() + 20.0
        await asyncio.sleep(1.0)


def _crm_subjects(sessions: sessionmaker[Session], user_id: int) -> list[str]:
    with sessions() as session:
        return sorted(
            session.scalars(
                select(Event.subject).where(
                    Event.owner_id == user_id, Event.copy_of_event_id.is_(None)
                )
            ).all()
        )
