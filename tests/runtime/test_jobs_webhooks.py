"""Webhooks in jobs mode, against the emulator's real subscriptions: a worker's subscription job
subscribes every synced mailbox (and adopts them the next time instead of adding more); an event
created in Outlook makes the emulator notify `calsync serve`, which learns the worker's
subscription from Graph and defers a follow-up pull of that mailbox."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import uvicorn

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.users import create_user
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.drafts import EventDraft
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.jobs import names
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.tasks import keep_subscriptions
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import CLIENT_STATE, NOTIFICATIONS_PATH, WebhookSettings
from calsync.web import WebSettings, create_app
from tests.fixtures.emulator import ADELE, LEE, MEGAN
from tests.fixtures.postgres import PostgresServer
from tests.graph.emulator_support import settings_for
from tests.runtime.conftest import stop_server
from tests.runtime.job_context import job_context
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres

SYNCED = (ADELE, MEGAN, LEE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _settled(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.1)


@pytest.fixture
def database_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield url


async def test_workers_keep_subscriptions_and_serve_defers_the_notified_pull(
    database_url: str,
    endpoints: GraphEndpoints,
    connection: TenantConnection,
    box: SecretBox,
    control: EmulatorControl,
    emulator_server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    with sessions() as session:
        for address in SYNCED:
            create_user(session, name=address, email=address, time_zone="UTC", sync_enabled=True)
        save_connection(session, connection, box)
        update_sync_settings(session, SyncSettingsChanges(sync_enabled=True))
        session.commit()
    install_job_schema(database_url)
    port = _free_port()
    webhooks = WebhookSettings(f"http://127.0.0.1:{port}", box.derive(CLIENT_STATE))

    # `calsync serve` in jobs mode, reachable by the emulator.
    monkeypatch.setenv("CALSYNC_RUNTIME", "jobs")
    app = create_app(WebSettings(database_url=database_url))
    install_sync_runtime(app, endpoints=endpoints, box=box, webhooks=webhooks)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    await _settled(lambda: server.started)

    def ours() -> dict[str, str]:
        return {
            item["id"]: item["resource"]
            for item in control.subscriptions()
            if item["notificationUrl"] == webhooks.public_url + NOTIFICATIONS_PATH
        }

    def follow_ups() -> list[str]:
        with psycopg.connect(conninfo_of(database_url)) as db:
            rows = db.execute(
                "SELECT args->>'mailbox' FROM procrastinate_jobs WHERE task_name = %s "
                "AND args->>'reason' = 'notification'",
                (names.PULL_TASK,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    try:
        async with job_context(
            database_url, sessions, endpoints=endpoints, box=box, webhooks=webhooks
        ) as context:
            await keep_subscriptions(context)
            first = ours()
            assert len(first) == len(SYNCED)
            # Another worker, another day: it adopts them instead of subscribing again.
            await keep_subscriptions(context)
            assert ours() == first

            async with GraphClient(settings_for(emulator_server)) as outlook:
                start = datetime.now(UTC) + timedelta(days=3)
                await outlook.create_event(
                    MEGAN,
                    EventDraft(
                        subject="Call from the Okafors (Outlook)",
                        start=start,
                        end=start + timedelta(hours=1),
                        time_zone="UTC",
                    ),
                    transaction_id=str(uuid.uuid4()),
                )
            await _settled(lambda: follow_ups() == [MEGAN])
    finally:
        stop_server(server, thread)
        app.state.engine.dispose()
        engine.dispose()
