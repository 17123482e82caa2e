"""`calsync serve` with CALSYNC_RUNTIME=jobs (PostgreSQL): the web process runs no sync itself.
A commit that changed events defers one push job (a burst of commits: still one), "sync now"
defers a pull per mailbox, and change notifications defer one debounced follow-up pull."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from calsync.crm.services.event_input import EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.users import create_user
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.held_deletions import NothingHeldError
from calsync.runtime.host import RuntimeHost
from calsync.runtime.jobs import names
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.runtimes import DeferringRuntime
from calsync.runtime.jobs.settings import JobsConfigurationError
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import CLIENT_STATE, WebhookSettings
from calsync.sync.runners.cursors import cursor_for
from calsync.sync.storage.models import CursorStatus, SyncRun
from calsync.web import WebSettings, create_app
from tests.fixtures.postgres import PostgresServer
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres

MAILBOXES = ("ana@harborview.example", "ben@harborview.example")
# Nothing may reach a real tenant: Microsoft 365 is "at" a closed loopback port.
NOWHERE = GraphEndpoints(authority_host="https://127.0.0.1:9", graph_url="https://127.0.0.1:9/v1.0")


@pytest.fixture
def database_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield url


def _jobs(url: str, task: str) -> list[tuple[object, ...]]:
    with psycopg.connect(conninfo_of(url)) as connection:
        return connection.execute(
            "SELECT args->>'mailbox', args->>'reason', priority, lock, queueing_lock, "
            "scheduled_at, status FROM procrastinate_jobs WHERE task_name = %s ORDER BY id",
            (task,),
        ).fetchall()


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_web_process_defers_jobs_and_runs_none(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_RUNTIME", "jobs")
    box = SecretBox([Fernet.generate_key()])
    app = create_app(WebSettings(database_url=database_url))
    webhooks = WebhookSettings("https://calsync.harborview.example", box.derive(CLIENT_STATE))
    install_sync_runtime(app, endpoints=NOWHERE, box=box, webhooks=webhooks)
    with TestClient(app):
        host = app.state.sync_runtime
        assert isinstance(host, RuntimeHost)
        assert isinstance(host.runtime, DeferringRuntime)
        sessions = app.state.session_factory
        with sessions() as session:
            users = [
                create_user(session, name=a, email=a, time_zone="UTC", sync_enabled=True)
                for a in MAILBOXES
            ]
            save_connection(session, TenantConnection("harborview", "app", "secret"), box)
            update_sync_settings(session, SyncSettingsChanges(sync_enabled=True))
            session.commit()
            owner = users[0].id
        start = datetime.now(UTC) + timedelta(days=2)
        for number in range(3):
            with sessions() as session:
                create_event(
                    session,
                    EventInput(
                        owner_id=owner,
                        subject=f"Review {number}",
                        start=start,
                        end=start + timedelta(hours=1),
                    ),
                )
                session.commit()
        _eventually(lambda: len(_jobs(database_url, names.PUSH_TASK)) == 1)
        time.sleep(0.3)
        # Three commits, one push waiting: it reads the whole outbox when it runs.
        [push] = _jobs(database_url, names.PUSH_TASK)
        assert push[2:5] == (names.PUSH_PRIORITY, "push", "push")

        queued = asyncio.run(host.sync_now())
        assert queued == list(MAILBOXES)
        pulls = _jobs(database_url, names.PULL_TASK)
        assert [(p[0], p[1], p[2], p[3], p[4]) for p in pulls] == [
            (m, "sync_now", names.FOLLOW_UP_PRIORITY, f"mailbox:{m}", f"follow-up:{m}")
            for m in MAILBOXES
        ]

        # Change notifications for a subscription of Ben's: one follow-up after the debounce
        # (his "sync now" pull still waits, so it takes them along: no new job); a wrong
        # clientState triggers nothing.
        keeper = host.subscriptions
        assert keeper is not None
        keeper.by_id["sub-ben"] = MAILBOXES[1]
        keeper.by_id["sub-carla"] = "carla@harborview.example"
        good = {"subscriptionId": "sub-carla", "clientState": webhooks.client_state}
        forged = {"subscriptionId": "sub-carla", "clientState": "guess"}
        host.on_notifications([good, good, forged, {**good, "subscriptionId": "sub-ben"}])
        _eventually(lambda: len(_jobs(database_url, names.PULL_TASK)) == 3)
        time.sleep(0.5)
        follow_ups = [p for p in _jobs(database_url, names.PULL_TASK) if p[1] == "notification"]
        assert len(follow_ups) == 1
        mailbox, _, priority, _, queueing_lock, scheduled_at, status = follow_ups[0]
        assert (mailbox, priority, queueing_lock, status) == (
            "carla@harborview.example",
            names.FOLLOW_UP_PRIORITY,
            "follow-up:carla@harborview.example",
            "todo",
        )
        assert isinstance(scheduled_at, datetime)
        assert scheduled_at > datetime.now(UTC) - timedelta(seconds=5)

        # An administrator's decision on held deletions: refused at once when nothing is held,
        # else queued for a worker (in turn with the mailbox's pulls).
        with sessions() as session:
            cursor = cursor_for(session, MAILBOXES[0], datetime.now(UTC))
            cursor.status = CursorStatus.NEEDS_ATTENTION
            cursor.status_message = "most of this mailbox's events would be deleted"
            session.commit()
        with pytest.raises(NothingHeldError):
            asyncio.run(host.call(host.runtime.decide_held_deletions(MAILBOXES[1], confirm=True)))
        asyncio.run(host.call(host.runtime.decide_held_deletions(MAILBOXES[0], confirm=False)))
        [decision] = _jobs(database_url, names.HELD_DELETIONS_TASK)
        assert decision[0] == MAILBOXES[0]
        assert decision[3] == f"mailbox:{MAILBOXES[0]}"

        # No push, no pull ran in this process.
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_jobs_mode_on_sqlite_is_refused_naming_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_RUNTIME", "jobs")
    app = create_app(WebSettings(database_url=f"sqlite:///{tmp_path}/calsync.sqlite3"))
    install_sync_runtime(app, endpoints=NOWHERE, box=SecretBox([Fernet.generate_key()]))
    with pytest.raises(JobsConfigurationError) as refused, TestClient(app):
        pass
    assert refused.value.field == "CALSYNC_DATABASE_URL"
