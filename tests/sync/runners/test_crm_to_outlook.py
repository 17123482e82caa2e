"""SPEC §2 end to end: a CRM event reaches Outlook at once, with invitations, and edits and
deletions follow; nothing echoes back."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from calsync.crm.models import SyncStatus
from calsync.crm.services.event_input import AttendeeInput
from calsync.sync.storage.models import LinkOrigin
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
