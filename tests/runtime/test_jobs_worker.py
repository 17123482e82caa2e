"""A `calsync worker` run in-process against a real PostgreSQL: the job queue's schema installs
idempotently, and the periodic tick runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from cryptography.fernet import Fernet
from procrastinate import JobContext
from procrastinate.jobs import Job

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.users import create_user
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.jobs import names
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.locks import RunLocks
from calsync.runtime.jobs.runtimes import WorkerRuntime
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.services import CONTEXT_KEY, WorkerServices
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.jobs.tasks import tick
from calsync.runtime.secrets import SecretBox
from tests.fixtures.postgres import PostgresServer
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield url


def test_the_job_schema_installs_once_and_then_is_up_to_date(database_url: str) -> None:
    assert install_job_schema(database_url).startswith("installed the job queue")
    assert install_job_schema(database_url).startswith("the job queue is up to date")
    with psycopg.connect(conninfo_of(database_url)) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate_%'"
            )
        }
    assert {
        "procrastinate_jobs",
        "procrastinate_periodic_defers",
        "procrastinate_workers",
    } <= tables


async def test_the_tick_queues_each_mailbox_first_pull_spread_over_a_minute(
    database_url: str,
) -> None:
    """Ten synced mailboxes never pulled: one worker's tick queues one scheduled pull each, at
    distinct moments within the next minute (never all at once), and a second tick adds none."""
    install_job_schema(database_url)
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    box = SecretBox([Fernet.generate_key()])
    mailboxes = [f"advisor{number}@harborview.example" for number in range(10)]
    with sessions() as session:
        for address in mailboxes:
            create_user(session, name=address, email=address, time_zone="UTC", sync_enabled=True)
        update_sync_settings(
            session,
            SyncSettingsChanges(
                sync_enabled=True,
                tenant_id="harborview.onmicrosoft.com",
                client_id="app",
                client_secret_encrypted=box.seal("secret"),
            ),
        )
        session.commit()
    settings = JobsSettings(tick_seconds=1, heartbeat_seconds=1)
    app = build_job_app(database_url, settings)
    runtime = WorkerRuntime(sessions, endpoints=GraphEndpoints(), box=box)
    services = WorkerServices(
        runtime=runtime,
        locks=RunLocks(conninfo_of(database_url)),
        dispatcher=JobDispatcher(app),
        sessions=sessions,
        settings=settings,
    )
    before = datetime.now(UTC)
    async with app.open_async():
        for _ in range(2):
            context = JobContext(
                app=app,
                worker_name="test",
                job=Job(id=1, queue="default", lock=None, queueing_lock=None, task_name="t"),
                additional_context={CONTEXT_KEY: services},
                start_timestamp=before.timestamp(),
                abort_reason=lambda: None,
            )
            await tick(context, timestamp=int(before.timestamp()))
        # Queued again in one batch with one that is new: the waiting ones refuse, the new one
        # is queued on its own.
        later = before + timedelta(seconds=30)
        again = [(mailbox, later) for mailbox in [*mailboxes[:3], "new@harborview.example"]]
        assert await services.dispatcher.defer_scheduled_pulls(again) == 1
    await runtime.close()
    await services.locks.close()
    engine.dispose()
    with psycopg.connect(conninfo_of(database_url)) as connection:
        pulls = connection.execute(
            "SELECT args->>'mailbox', scheduled_at, lock, queueing_lock, priority "
            "FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'",
            (names.PULL_TASK,),
        ).fetchall()
    assert sorted(mailbox for mailbox, *_ in pulls) == sorted(
        [*mailboxes, "new@harborview.example"]
    )
    pulls = [pull for pull in pulls if pull[0] != "new@harborview.example"]
    moments = sorted(at for _, at, *_ in pulls)
    assert len(set(moments)) == len(moments)
    assert before <= moments[0]
    assert moments[-1] <= before + timedelta(minutes=1, seconds=5)
    for mailbox, _, lock, queueing_lock, priority in pulls:
        assert lock == f"mailbox:{mailbox}"
        assert queueing_lock == f"pull:{mailbox}"
        assert priority == names.SCHEDULED_PRIORITY
