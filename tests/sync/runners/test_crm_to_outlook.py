"""SPEC §2 end to end: a CRM event reaches Outlook at once, with invitations, and edits and
deletions follow; nothing echoes back."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from calsync.crm.errors import TeamsInvitationSentError
from calsync.crm.models import SyncStatus
from calsync.crm.services.event_input import AttendeeInput
from calsync.emulator.control_client import EmulatorControl
from calsync.graph.drafts import EventDraft
from calsync.sync.storage.models import LinkOrigin, OutboxEntry, RunStatus, SyncRun
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_a_crm_event_is_in_outlook_with_the_invitation_at_the_records_email(
    world: World,
) -> None:
    chris = world.individual("Client", "chris@fabrikam.example", alternate_email="c@home.example")
    start = soon(3).replace(tzinfo=None)  # 10:00 wall time in Adele's zone (New York)
    event_id = world.crm_create(
        ADELE,
        "Annual review",
        start,
        attendees=(AttendeeInput(individual_id=chris),),
        time_zone="America/New_York",
        location="Room 4",
        description="Bring the statements",
    )

    report = await world.sync.push_pending()

    assert report.pushed == 1
    link = world.link_of(event_id)
    assert link is not None
    assert link.origin is LinkOrigin.CRM
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Annual review"
    assert outlook.location is not None
    assert outlook.location.display_name == "Room 4"
    assert [a.email_address.address for a in outlook.attendees or [] if a.email_address] == [
        "chris@fabrikam.example"
    ]
    times = outlook.times()
    assert times.zone.zone == ZoneInfo("America/New_York")
    assert (times.start.hour, times.start.minute) == (10, 0)
    event = world.crm_event(event_id)
    assert event is not None
    assert event.sync_status is SyncStatus.SYNCED
    assert event.invitation_sent_at is not None


async def test_a_pull_after_a_push_writes_nothing_and_a_second_run_neither(world: World) -> None:
    event_id = world.crm_create(ADELE, "Planning", soon(2))
    await world.sync.push_pending()
    before = world.crm_event(event_id)

    first = await world.sync.run_once()
    second = await world.sync.run_once()

    after = world.crm_event(event_id)
    assert before is not None
    assert after is not None
    assert after.version == before.version
    assert sum(pull.crm_writes + pull.graph_writes for pull in first.pulls) == 0
    assert sum(pull.crm_writes + pull.graph_writes for pull in second.pulls) == 0
    assert all(push.pushed == 0 for push in (*first.pushes, *second.pushes))
    assert len(await world.outlook_events(ADELE)) == 1


async def test_crm_edits_reach_outlook_and_a_crm_deletion_cancels_the_meeting(
    world: World,
) -> None:
    event_id = world.crm_create(
        ADELE, "Review", soon(4), attendees=(AttendeeInput(email="guest@fabrikam.example"),)
    )
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None

    world.crm_update(event_id, subject="Review (moved)", start=soon(5), end=soon(5, 11))
    await world.sync.push_pending()

    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Review (moved)"
    assert outlook.times().start == soon(5)

    world.crm_delete(event_id)
    report = await world.sync.push_pending()

    assert report.pushed == 1
    assert await world.outlook_events(ADELE) == []
    assert world.link_of(event_id) is None
    assert [line.code for line in world.log("cancel_in_microsoft365")] == ["cancel_in_microsoft365"]


async def test_all_day_events_stay_all_day_on_both_sides(world: World) -> None:
    day = soon(6).date()
    event_id = world.crm_create(ADELE, "Offsite", day, is_all_day=True)
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.is_all_day
    assert (outlook.times().start_date, outlook.times().end_date) == (day, day + timedelta(days=1))

    created = await world.outlook.create_event(
        ADELE,
        EventDraft(
            subject="Holiday",
            start=day + timedelta(days=2),
            end=day + timedelta(days=4),
            time_zone="America/New_York",
            is_all_day=True,
        ),
        transaction_id="outlook-holiday",
    )
    await world.sync.run_once()

    [holiday] = [e for e in world.crm_events(ADELE) if e.subject == "Holiday"]
    assert holiday.is_all_day
    assert (holiday.start_date, holiday.end_date) == (
        day + timedelta(days=2),
        day + timedelta(days=4),
    )
    holiday_link = world.link_of(holiday.id)
    assert holiday_link is not None
    assert holiday_link.graph_id == created.id


async def test_a_save_that_changes_no_synced_field_is_written_nowhere(
    world: World, control: EmulatorControl
) -> None:
    event_id = world.crm_create(ADELE, "Steady", soon(3))
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None
    etag = (await world.outlook_event(ADELE, link.graph_id)).etag

    world.crm_update(event_id, subject="Steady")  # saved again, same content: a new version
    control.clear_request_counts()
    report = await world.sync.push_pending()

    assert report.graph_writes == 0
    assert control.request_counts()["total"] == 0
    assert (await world.outlook_event(ADELE, link.graph_id)).etag == etag
    event = world.crm_event(event_id)
    assert event is not None
    assert event.sync_status is SyncStatus.SYNCED


async def test_a_failed_push_stays_in_the_outbox_with_the_error_on_the_event(
    world: World, control: EmulatorControl
) -> None:
    control.add_fault("unavailable", next_requests=50, mailbox=ADELE, retry_after_seconds=0)
    event_id = world.crm_create(ADELE, "During an outage", soon(3))

    report = await world.sync.push_pending()

    assert report.failed == 1
    event = world.crm_event(event_id)
    assert event is not None
    assert event.sync_status is SyncStatus.ERROR
    assert "graph.service_unavailable" in (event.sync_message or "")
    with world.sessions() as session:
        assert session.scalars(select(OutboxEntry.crm_event_id)).all() == [event_id]

    control.clear_faults()
    await world.sync.push_pending()

    event = world.crm_event(event_id)
    assert event is not None
    assert event.sync_status is SyncStatus.SYNCED
    assert [e.subject for e in await world.outlook_events(ADELE)] == ["During an outage"]
    with world.sessions() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
        statuses = [run.status for run in session.scalars(select(SyncRun).order_by(SyncRun.id))]
    assert statuses == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]


async def test_teams_cannot_be_unchecked_once_the_invitation_went_out(world: World) -> None:
    event_id = world.crm_create(ADELE, "Video review", soon(3), is_teams_meeting=True)
    await world.sync.push_pending()

    with pytest.raises(TeamsInvitationSentError) as refused:
        world.crm_update(event_id, is_teams_meeting=False)

    assert refused.value.field == "is_teams_meeting"
    event = world.crm_event(event_id)
    assert event is not None
    assert event.is_teams_meeting
