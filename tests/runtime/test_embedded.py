"""`make demo`'s sync, end to end: the embedded emulator with the demo firm's mailboxes, the sync
enabled against it through MSAL, and the sync service running with the API — an event created
through the API appears in Outlook within seconds, and one created in Outlook appears in the CRM
at its next run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import Event, User
from calsync.crm.services.api_tokens import create_api_token
from calsync.demo_data import seed_demo_data
from calsync.graph.client import GraphClient
from calsync.graph.drafts import EventDraft
from calsync.graph.models import Event as GraphEvent
from calsync.graph.settings import GraphSettings
from calsync.runtime.embedded import EmbeddedMicrosoft365, start_embedded_microsoft365
from calsync.runtime.lifespan import install_sync_runtime
from calsync.web import WebSettings, create_app


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, EmbeddedMicrosoft365, str]]:
    url = f"sqlite:///{tmp_path / 'calsync.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        summary = seed_demo_data(session, date.today())
        token = create_api_token(session, summary.admin.id, "demo test").secret
        session.commit()
    engine.dispose()
    embedded = start_embedded_microsoft365(url, tmp_path, port=0)
    try:
        yield url, embedded, token
    finally:
        embedded.stop()


def outlook(embedded: EmbeddedMicrosoft365) -> GraphClient:
    """Someone using Outlook: a Graph client of its own on the same tenant."""
    config = embedded.server.config
    return GraphClient(
        GraphSettings(
            tenant_id=config.tenant,
            client_id=config.client_id,
            client_secret=config.client_secret,
            authority_host=embedded.endpoints.authority_host,
            graph_url=embedded.endpoints.graph_url,
            ca_bundle=embedded.endpoints.ca_bundle,
        )
    )


async def calendar(embedded: EmbeddedMicrosoft365, mailbox: str) -> list[GraphEvent]:
    now = datetime.now(UTC)
    async with outlook(embedded) as graph:
        return [
            event
            async for event in graph.calendar_view(
                mailbox, now - timedelta(days=7), now + timedelta(days=60)
            )
        ]


def test_the_demo_syncs_both_ways_without_a_manual_step(
    demo: tuple[str, EmbeddedMicrosoft365, str],
) -> None:
    url, embedded, token = demo
    assert embedded.check.mailbox in embedded.mailboxes
    app = create_app(WebSettings(database_url=url))
    install_sync_runtime(app, endpoints=embedded.endpoints, box=embedded.box, tick_seconds=0.05)
    headers = {"Authorization": f"Bearer {token}"}
    marcus = next(address for address in embedded.mailboxes if address.startswith("marcus"))
    priya = next(address for address in embedded.mailboxes if address.startswith("priya"))
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with TestClient(app) as api:
        users = {
            user["email"]: user["id"]
            for user in api.get("/api/v1/users", headers=headers).json()["items"]
        }
        created = api.post(
            "/api/v1/events",
            headers=headers,
            json={
                "owner_id": users[marcus],
                "subject": "Plan review with the Hartmans",
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "time_zone": "America/New_York",
            },
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 10
        while not any(
            event.subject == "Plan review with the Hartmans"
            for event in asyncio.run(calendar(embedded, marcus))
        ):
            assert time.monotonic() < deadline, "not in Outlook within 10 s"
            time.sleep(0.1)

        async def create_in_outlook() -> None:
            async with outlook(embedded) as graph:
                await graph.create_event(
                    priya,
                    EventDraft(
                        subject="Lunch with Emma Brightwater",
                        start=start + timedelta(days=1),
                        end=start + timedelta(days=1, hours=1),
                        time_zone="America/Chicago",
                    ),
                    transaction_id="outlook-lunch-1",
                )

        asyncio.run(create_in_outlook())
        # The next run of Priya's mailbox; "sync now" stands in for waiting out the period.
        ran = api.post("/api/v1/sync/runs", headers=headers, json={"user_id": users[priya]})
        assert ran.status_code == 202, ran.text
        engine = create_database_engine(url)
        try:
            deadline = time.monotonic() + 15
            while True:
                with create_session_factory(engine)() as session:
                    owner = select(User.id).where(User.email_normalized == priya)
                    found = session.scalar(
                        select(Event).where(
                            Event.subject == "Lunch with Emma Brightwater",
                            Event.owner_id.in_(owner),
                        )
                    )
                if found is not None:
                    break
                assert time.monotonic() < deadline, "not in the CRM within 15 s"
                time.sleep(0.1)
        finally:
            engine.dispose()


def test_the_demo_emulator_comes_back_on_the_port_its_delta_links_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calsync.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        seed_demo_data(session, date.today())
        session.commit()
    engine.dispose()
    first = start_embedded_microsoft365(url, tmp_path)  # 8765, or a free port if it is taken
    port = first.server.port
    first.stop()
    again = start_embedded_microsoft365(url, tmp_path)
    try:
        assert again.server.port == port
        assert again.endpoints.graph_url == f"https://127.0.0.1:{port}/v1.0"
    finally:
        again.stop()
