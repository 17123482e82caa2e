"""SPEC §9 end to end, beyond test_internal_and_safety.py and the push crash tests: an outage that
delays both directions without losing or doubling anything, a create whose answer was lost, a full
listing that comes back empty, CRM deletions an administrator confirms, and what the sync log and
the run list show of each direction."""

from __future__ import annotations

from sqlalchemy import select

from calsync.crm.models import SyncStatus
from calsync.crm.services.event_input import AttendeeInput
from calsync.emulator.control_client import EmulatorControl
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    Direction,
    LogKind,
    RunKind,
    RunStatus,
    SyncRun,
)
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_an_outage_delays_both_directions_and_then_loses_and_doubles_nothing(
    world: World, control: EmulatorControl
) -> None:
    from_outlook = await world.outlook_create(ADELE, "From Outlook", soon(3))
    from_crm = world.crm_create(ADELE, "From the CRM", soon(4))
    await world.sync.run_once()
    await world.outlook_update(ADELE, from_outlook.id, subject="From Outlook (edited)")
    late_outlook = await world.outlook_create(ADELE, "Made during the outage", soon(5))

    control.add_fault("unavailable", next_requests=500, mailbox=ADELE, retry_after_seconds=0)
    world.crm_update(from_crm, location="Room 7")
    late_crm = world.crm_create(ADELE, "Saved during the outage", soon(6))
    during = [await world.sync.run_once() for _ in range(2)]

    assert all(ADELE in report.failed_mailboxes for report in during)
    waiting = world.crm_event(late_crm)
    assert waiting is not None
    assert waiting.sync_status is SyncStatus.ERROR
    assert waiting.sync_message

    control.clear_faults()
    await world.sync.run_once()
    settled = await world.sync.run_once()

    assert sorted(e.subject for e in world.crm_events(ADELE)) == [
        "From Outlook (edited)",
        "From the CRM",
        "Made during the outage",
        "Saved during the outage",
    ]
    outlook = {str(e.subject): e for e in await world.outlook_events(ADELE)}
    assert sorted(outlook) == sorted(e.subject for e in world.crm_events(ADELE))
    assert outlook["From the CRM"].location is not None
    assert outlook["From the CRM"].location.display_name == "Room 7"
    assert outlook["Made during the outage"].id == late_outlook.id
    assert all(world.link_of(e.id) is not None for e in world.crm_events(ADELE))
    assert sum(pull.crm_writes + pull.graph_writes for pull in settled.pulls) == 0
    assert all(push.pushed == 0 for push in settled.pushes)


async def test_a_create_whose_answer_was_lost_makes_one_meeting_and_one_invitation(
    world: World, control: EmulatorControl
) -> None:
    control.add_fault("apply_then_drop", next_requests=1, method="POST", mailbox=ADELE)
    event_id = world.crm_create(
        ADELE, "Kick-off", soon(3), attendees=(AttendeeInput(email="guest@tailspin.example"),)
    )

    await world.sync.push_pending()
    await world.sync.run_once()
    await world.sync.run_once()

    [meeting] = await world.outlook_events(ADELE)
    assert meeting.subject == "Kick-off"
    link = world.link_of(event_id)
    assert link is not None
    assert link.graph_id == meeting.id
    assert await world.sent_items(ADELE) == ["Kick-off"]
    assert [e.id for e in world.crm_events(ADELE)] == [event_id]


async def test_a_full_listing_that_comes_back_empty_deletes_nothing_until_confirmed(
    world: World, control: EmulatorControl
) -> None:
    created = [await world.outlook_create(ADELE, f"Client {n}", soon(n + 1)) for n in range(7)]
    await world.sync.run_once()
    for event in created:
        await world.outlook_delete(ADELE, event.id)
    control.expire_delta_tokens(ADELE)  # the mailbox comes back as a full listing: empty

    report = await world.sync.pull_mailbox(ADELE)

    assert report.held
    assert len(world.crm_events(ADELE)) == 7
    with world.sessions() as session:
        cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == ADELE))
        assert cursor is not None
        assert cursor.status is CursorStatus.NEEDS_ATTENTION
        assert "no events at all" in (cursor.status_message or "")
    assert (await world.sync.pull_mailbox(ADELE)).held  # still held at the next run
    assert len(world.crm_events(ADELE)) == 7

    world.sync.confirm_held_deletions(ADELE)
    confirmed = await world.sync.pull_mailbox(ADELE)

    assert not confirmed.held
    assert world.crm_events(ADELE) == []


async def test_crm_deletions_an_administrator_confirms_cancel_the_meetings_in_outlook(
    world: World,
) -> None:
    event_ids = [world.crm_create(ADELE, f"Prospect {n}", soon(n + 1)) for n in range(8)]
    await world.sync.push_pending()
    for event_id in event_ids[:6]:
        world.crm_delete(event_id)
    assert (await world.sync.push_pending()).held == 6
    assert len(await world.outlook_events(ADELE)) == 8

    world.sync.confirm_held_deletions(ADELE)
    await world.sync.run_once()

    assert sorted(str(e.subject) for e in await world.outlook_events(ADELE)) == [
        "Prospect 6",
        "Prospect 7",
    ]
    [held] = world.log("most_microsoft365_events_would_be_deleted")
    assert "6 of the 8" in held.message
    deleted = world.log("delete_in_microsoft365")  # no guests, so deleted rather than cancelled
    assert sorted(line.crm_event_id or 0 for line in deleted) == event_ids[:6]
    assert all(held.id < line.id for line in deleted)


async def test_the_log_and_the_runs_show_what_changed_in_each_direction(world: World) -> None:
    from_crm = world.crm_create(ADELE, "From the CRM", soon(3))
    from_outlook = await world.outlook_create(ADELE, "From Outlook", soon(4))
    await world.sync.run_once()
    [imported] = [e for e in world.crm_events(ADELE) if e.subject == "From Outlook"]
    world.crm_update(from_crm, subject="From the CRM (edited)")
    await world.outlook_delete(ADELE, from_outlook.id)

    await world.sync.run_once()

    lines = [
        (line.direction, line.code, line.crm_event_id)
        for line in world.log()
        if line.kind is LogKind.ACTION
    ]
    assert (Direction.CRM_TO_MICROSOFT_365, "created_in_microsoft365", from_crm) in lines
    assert (Direction.MICROSOFT_365_TO_CRM, "created_in_crm", imported.id) in lines
    assert (Direction.CRM_TO_MICROSOFT_365, "updated_in_microsoft365", from_crm) in lines
    assert (Direction.MICROSOFT_365_TO_CRM, "deleted_in_crm", imported.id) in lines
    messages = {line.code: line.message for line in world.log()}
    assert "From the CRM" in messages["created_in_microsoft365"]
    assert ADELE in messages["created_in_microsoft365"]
    assert "From Outlook" in messages["created_in_crm"]
    with world.sessions() as session:
        runs = session.scalars(select(SyncRun)).all()
    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    assert sum(run.graph_writes for run in runs if run.kind is RunKind.PUSH) == 2
    assert sum(run.crm_writes for run in runs if run.kind is RunKind.PULL) == 2
