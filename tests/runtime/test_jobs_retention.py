"""Jobs mode keeps the sync log's retention too: the daily `calsync.prune_sync_log` job deletes the
lines and runs older than the organisation's setting, and is registered as a periodic task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.jobs import names
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.jobs.tasks import prune_sync_log
from calsync.runtime.secrets import SecretBox
from calsync.sync.storage.models import Direction, LogKind, RunKind, SyncLogEntry, SyncRun
from tests.fixtures.postgres import PostgresServer
from tests.runtime.job_context import job_context
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield url


def test_the_prune_job_is_a_daily_periodic_task(database_url: str) -> None:
    job_app = build_job_app(database_url, JobsSettings())
    periodic = [task.task.name for task in job_app.periodic_registry.periodic_tasks.values()]
    assert names.PRUNE_TASK in periodic


async def test_the_prune_job_deletes_what_is_past_the_retention_and_keeps_the_rest(
    database_url: str, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    now = datetime.now(UTC)
    with sessions() as session:
        update_sync_settings(session, SyncSettingsChanges(sync_log_retention_days=30))
        for age_days, message in [(45, "old"), (2, "recent")]:
            run = SyncRun(
                kind=RunKind.PULL,
                mailbox="adele@harborview.example",
                started_at=now - timedelta(days=age_days),
            )
            session.add(run)
            session.flush()
            session.add(
                SyncLogEntry(
                    run_id=run.id,
                    at=now - timedelta(days=age_days),
                    mailbox="adele@harborview.example",
                    kind=LogKind.ACTION,
                    direction=Direction.MICROSOFT_365_TO_CRM,
                    code="created_in_crm",
                    message=message,
                )
            )
        session.commit()
    try:
        async with job_context(database_url, sessions, endpoints=endpoints, box=box) as context:
            await prune_sync_log(context, int(now.timestamp()))
        with sessions() as session:
            assert session.scalars(select(SyncLogEntry.message)).all() == ["recent"]
            started = session.scalars(select(SyncRun.started_at)).all()
            assert [now - at < timedelta(days=3) for at in started] == [True]
    finally:
        engine.dispose()
