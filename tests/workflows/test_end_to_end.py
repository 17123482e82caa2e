"""The issue's "done when", end to end: an admin's workflow, a client's Stage set to Review, and the
meeting in the advisor's Outlook (the TLS emulator, through the real sync engine) with the client
invited at the email on their record, at 10:00 in the advisor's zone, as a Teams meeting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from calsync.crm.models import Event, FieldType, RecordType
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.workflows.models import RunStatus, WorkflowRun
from calsync.workflows.store import define_workflow
from calsync.workflows.triggers import install_workflow_triggers
from tests.fixtures.emulator import ADELE
from tests.graph.emulator_support import settings_for
from tests.sync.runners.world import World
from tests.workflows.conftest import annual_review

NEW_YORK = ZoneInfo("America/New_York")  # Adele's zone in the World


@pytest.fixture
async def world(
    database_url: str, emulator_server: EmulatorServer, control: EmulatorControl
) -> AsyncIterator[World]:
    async with (
        GraphClient(settings_for(emulator_server)) as graph,
        GraphClient(settings_for(emulator_server)) as outlook,
    ):
        world = World(database_url, graph, outlook)
        install_workflow_triggers(world.sessions)
        try:
            yield world
        finally:
            world.close()


async def test_stage_review_books_the_annual_review_in_the_advisors_outlook(world: World) -> None:
    with world.sessions() as session:
        define_custom_field(session, RecordType.INDIVIDUAL, "stage", "Stage", FieldType.TEXT)
        define_workflow(session, annual_review())
        session.commit()
    client_id = world.individual(
        "Client",
        "chris@fabrikam.example",
        alternate_email="c@home.example",
        advisor_id=world.users[ADELE],
    )
    asked_on = datetime.now(NEW_YORK).date()

    with world.sessions() as session:
        set_custom_value(session, RecordType.INDIVIDUAL, client_id, "stage", "Review")
        session.commit()
    report = await world.sync.push_pending()

    with world.sessions() as session:
        run = session.scalars(select(WorkflowRun)).one()
        assert run.status is RunStatus.SUCCEEDED, run.error_message
        event_id = run.event_ids[0]
        crm_event = session.get(Event, event_id)
        assert crm_event is not None
        join_url = crm_event.teams_join_url
    assert report.pushed == 1
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Annual review: Chris Client"
    assert [a.email_address.address for a in outlook.attendees or [] if a.email_address] == [
        "chris@fabrikam.example"
    ]
    times = outlook.times()
    assert times.zone.zone == NEW_YORK
    start = times.start.astimezone(NEW_YORK)
    assert start.time() == time(10, 0)
    assert start.weekday() < 5
    assert timedelta(days=7) <= start.date() - asked_on <= timedelta(days=9)
    assert times.end - times.start == timedelta(minutes=60)
    assert outlook.is_online_meeting
    assert join_url is not None
    assert outlook.join_url == join_url
    assert start > datetime.now(UTC)
    # Outlook sent the invitation from the advisor's mailbox.
    assert await world.sent_items(ADELE) == ["Annual review: Chris Client"]
