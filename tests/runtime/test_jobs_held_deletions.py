"""An administrator's decision on held deletions, carried out by a worker's job against the
emulator: recorded (the mailbox no longer needs attention), then the mailbox is pulled; a decision
arriving after someone else decided does nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.users import create_user
from calsync.emulator.control_client import EmulatorControl
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.tasks import carry_out_held_decision
from calsync.runtime.secrets import SecretBox
from calsync.sync.runners.cursors import cursor_for
from calsync.sync.storage.models import CursorStatus, DeltaCursor, RunKind, SyncRun
from tests.fixtures.emulator import MEGAN
from tests.fixtures.postgres import PostgresServer
from tests.runtime.job_context import job_context
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield url


async def test_a_worker_records_the_decision_then_pulls_the_mailbox(
    database_url: str,
    endpoints: GraphEndpoints,
    connection: TenantConnection,
    box: SecretBox,
    control: EmulatorControl,
) -> None:
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    with sessions() as session:
        create_user(session, name="Megan", email=MEGAN, time_zone="UTC", sync_enabled=True)
        save_connection(session, connection, box)
        update_sync_settings(session, SyncSettingsChanges(sync_enabled=True))
        cursor = cursor_for(session, MEGAN, datetime.now(UTC))
        cursor.status = CursorStatus.NEEDS_ATTENTION
        cursor.status_message = "most of this mailbox's events would be deleted"
        session.commit()
    install_job_schema(database_url)

    def state() -> tuple[object, bool, int]:
        with sessions() as session:
            cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == MEGAN))
            assert cursor is not None
            pulls = session.scalars(
                select(SyncRun).where(SyncRun.kind == RunKind.PULL, SyncRun.mailbox == MEGAN)
            ).all()
            return cursor.status, cursor.deletions_discarded, len(pulls)

    try:
        async with job_context(database_url, sessions, endpoints=endpoints, box=box) as context:
            await carry_out_held_decision(context, MEGAN, False)
            status, _, pulls = state()
            assert status is CursorStatus.OK
            assert pulls == 1
            # Decided already (nothing held any more): a second decision changes nothing.
            await carry_out_held_decision(context, MEGAN, True)
            status, _, pulls = state()
            assert status is CursorStatus.OK
            assert pulls == 1  # returned before pushing or pulling
    finally:
        engine.dispose()
