"""Deterministic tests for what the stateful sync test (tests/sync/test_stateful_sync.py) found or
must keep true: each replays one sequence end to end against the emulator, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from calsync.crm.models import Event
from calsync.graph.models import (
    Location,
)
from calsync.sync.runners.common import no_checkpoint
from tests.fixtures.emulator import ADELE, LEE, MEGAN
from tests.sync.runners.world import World, daily, soon

NEW_YORK = ZoneInfo("America/New_York")


async def _daily_series(
    world: World, organizer: str, subject: str, attendees: tuple[str, ...] = ()
) -> str:
    """A synced Outlook series of three daily meetings at 15:00 UTC; returns the master's id."""
    start = soon(7, 15)
    master = await world.outlook_create(
        organizer, subject, start, recurrence=daily(start, 3), attendees=attendees
    )
    await world.sync.run_once()
    return master.id


def _crm_series(world: World, mailbox: str) -> tuple[Event, list[Event]]:
    events = world.crm_events(mailbox)
    [master] = [e for e in events if e.m365_recurrence_summary is not None]
    occurrences = sorted((e for e in events if e.series_event_id is not None), key=_start)
    return master, occurrences


def _start(event: Event) -> datetime:
    return event.start_at


async def _outlook_slots(world: World, mailbox: str, master_id: str) -> list[datetime]:
    return sorted(
        event.original_start
        for event in await world.outlook_events(mailbox)
        if event.series_master_id == master_id and event.original_start is not None
    )


async def test_an_occurrence_deleted_in_the_crm_after_a_series_edit_stays_deleted(
    world: World,
) -> None:
    """Found by the stateful test: the series' location was edited in the CRM, then one of its
    occurrences deleted, before the next sync. Pushing the series field moved the occurrence in
    Outlook to the new value (our own write), so the occurrence's delete met a 412 and the pull
    took the change for an Outlook edit of an event deleted in the CRM — and brought the deleted
    meeting back. The pushed series value is now the deleted occurrence's merge base too."""
    master_id = await _daily_series(world, LEE, "Planning")
    master, [first, second, third] = _crm_series(world, LEE)

    world.crm_update(master.id, location="Main office")
    world.crm_delete(first.id)
    await world.sync.run_once()
    await world.sync.run_once()

    _, occurrences = _crm_series(world, LEE)
    assert [e.start_at for e in occurrences] == [second.start_at, third.start_at]
    assert [e.location for e in occurrences] == ["Main office", "Main office"]
    assert await _outlook_slots(world, LEE, master_id) == [second.start_at, third.start_at]
    assert world.log("restored_by_outlook_edit") == []


async def test_an_occurrence_deleted_after_its_series_edit_was_pushed_stays_deleted(
    world: World,
) -> None:
    """Found by the stateful test: a series edited in the CRM is pushed at once (the save's push),
    and before the next pull brings the series' new value back to the CRM's occurrences, the
    person deletes one of them. Outlook's occurrence shows the pushed series value (our own
    write) while its link still holds the old one, so the pull read "edited in Outlook" against
    "deleted in the CRM" and brought the meeting back. A deleted occurrence's fields that show the
    series' synced value are now part of its merge base: the deletion goes through."""
    master_id = await _daily_series(world, LEE, "Planning")
    master, [first, second, third] = _crm_series(world, LEE)

    world.crm_update(master.id, subject="Planning (new room)", location="Main office")
    await world.sync.push_pending()
    world.crm_delete(first.id)
    await world.sync.run_once()
    await world.sync.run_once()

    _, occurrences = _crm_series(world, LEE)
    assert [(e.start_at, e.subject, e.location) for e in occurrences] == [
        (second.start_at, "Planning (new room)", "Main office"),
        (third.start_at, "Planning (new room)", "Main office"),
    ]
    assert await _outlook_slots(world, LEE, master_id) == [second.start_at, third.start_at]
    assert world.log("restored_by_outlook_edit") == []


async def test_an_occurrence_edited_after_its_series_edit_was_pushed_keeps_its_edit(
    world: World,
) -> None:
    """Found by the stateful test, the same window as the deletion above: the series renamed in the
    CRM is pushed at once, and before a pull brings the new name to the CRM's occurrences the
    person renames one occurrence. Outlook's occurrence shows the pushed series name (our own
    write), so the occurrence's CRM edit lost a "conflict" to the CRM's own series edit. An
    occurrence edit beats a series edit, as in Outlook: it becomes an exception."""
    master_id = await _daily_series(world, LEE, "Planning")
    master, [first, _, _] = _crm_series(world, LEE)

    world.crm_update(master.id, subject="Planning (new room)")
    await world.sync.push_pending()
    world.crm_update(first.id, subject="Planning (kick-off)")
    await world.sync.run_once()
    await world.sync.run_once()

    _, occurrences = _crm_series(world, LEE)
    assert [e.subject for e in occurrences] == [
        "Planning (kick-off)",
        "Planning (new room)",
        "Planning (new room)",
    ]
    outlook = {
        e.original_start: e
        for e in await world.outlook_events(LEE)
        if e.series_master_id == master_id
    }
    assert (outlook[first.start_at].type, outlook[first.start_at].subject) == (
        "exception",
        "Planning (kick-off)",
    )
    assert world.log("conflict_microsoft365_won") == []


async def test_the_organizer_edits_an_occurrence_an_attendee_deleted(world: World) -> None:
    """An emulator bug the stateful test found: the attendee's deleted occurrence was a tombstone
    the organizer's edit was stored on without the event's fields, and every calendarView of her
    mailbox answered 500. The update puts the occurrence back on her calendar, and the sync
    brings it back to her CRM copy."""
    master_id = await _daily_series(world, ADELE, "Review", attendees=(MEGAN,))
    copies = sorted(
        (e for e in await world.outlook_events(MEGAN) if e.series_master_id),
        key=lambda e: e.original_start or e.times().start,
    )
    organizer = sorted(
        (e for e in await world.outlook_events(ADELE) if e.series_master_id == master_id),
        key=lambda e: e.original_start or e.times().start,
    )
    await world.outlook_delete(MEGAN, copies[1].id)

    await world.outlook_update(ADELE, organizer[1].id, subject="Review (agenda)")

    shown = await world.outlook_events(MEGAN)
    restored = [e for e in shown if e.series_master_id and e.subject == "Review (agenda)"]
    assert len([e for e in shown if e.series_master_id]) == 3
    assert len(restored) == 1
    await world.sync.run_once()
    assert "Review (agenda)" in [e.subject for e in world.crm_events(MEGAN)]


@pytest.mark.parametrize("point", ["pull.after_read", "pull.after_graph_writes"])
async def test_an_occurrence_edited_in_the_crm_while_its_mailbox_is_pulled_reaches_outlook(
    world: World, point: str
) -> None:
    """Issue 5: the pull reads Microsoft 365 with no database session open, so a person can save
    an occurrence in the CRM while the round is read (`pull.after_read`) or after it was planned
    and its Graph writes made (`pull.after_graph_writes`; the write transaction then re-reads
    what each plan was built from and plans the moved event again). The round carries an Outlook
    edit of the series' location; the person renames one occurrence. Both must survive: the
    CRM's name reaches Outlook, making that occurrence an exception, the series' location
    reaches the CRM, and once the two sides agree nothing is written back anywhere (no echo)."""
    master_id = await _daily_series(world, ADELE, "Portfolio review")
    _, [first, second, third] = _crm_series(world, ADELE)
    await world.outlook_update(ADELE, master_id, location=Location(display_name="Suite 9"))
    edits: list[str] = []

    def person_saves_the_occurrence(reached: str) -> None:
        if reached == point and not edits:
            world.crm_update(second.id, subject="Portfolio review (with Maria)")
            edits.append(reached)

    world.checkpoint = person_saves_the_occurrence
    pulled = await world.sync.pull_mailbox(ADELE)
    world.checkpoint = no_checkpoint

    assert edits == [point]
    if point == "pull.after_graph_writes":
        # Planned before the save: left for the next run rather than overwriting it.
        assert not pulled.cursor_advanced
        assert [line.crm_event_id for line in world.log("changed_in_crm_meanwhile")] == [second.id]
    await world.sync.run_once()
    await world.sync.run_once()

    _, occurrences = _crm_series(world, ADELE)
    assert [(e.subject, e.location) for e in occurrences] == [
        ("Portfolio review", "Suite 9"),
        ("Portfolio review (with Maria)", "Suite 9"),
        ("Portfolio review", "Suite 9"),
    ]
    outlook = {
        e.original_start: e
        for e in await world.outlook_events(ADELE)
        if e.series_master_id == master_id
    }
    edited = outlook[second.start_at]
    assert (edited.type, edited.subject) == ("exception", "Portfolio review (with Maria)")
    assert edited.location is not None
    assert edited.location.display_name == "Suite 9"
    assert [outlook[e.start_at].subject for e in (first, third)] == ["Portfolio review"] * 2
    assert world.log("conflict_microsoft365_won") == []
    settled = world.crm_event(second.id)
    assert settled is not None

    quiet = await world.sync.run_once()

    assert [(p.crm_writes, p.graph_writes) for p in quiet.pulls] == [(0, 0)] * len(quiet.pulls)
    assert sum(push.graph_writes for push in quiet.pushes) == 0
    again = world.crm_event(second.id)
    assert again is not None
    assert again.version == settled.version
    pushed = [
        line for line in world.log("updated_in_microsoft365") if line.crm_event_id == second.id
    ]
    assert len(pushed) == 1


async def test_a_crm_save_after_the_pulls_own_graph_write_is_not_lost_to_it(world: World) -> None:
    """Found by the stateful test: a pull merged a CRM rename with an Outlook change of another
    field and wrote the rename to Outlook; then, before its commit, the person renamed the event
    again in the CRM. The write transaction rightly left the event for the next run, but without a
    record of its own Graph write, so the next merge read the first rename in Outlook as an Outlook
    edit and let it win the "conflict" over the person's newer name. The pull now records that
    write as a write in flight on the link, as the push does before sending."""
    event_id = world.crm_create(ADELE, "Annual review", soon(6))
    await world.sync.run_once()
    link = world.link_of(event_id)
    assert link is not None
    world.crm_update(event_id, subject="Annual review (Maria)")  # not pushed before the pull
    await world.outlook_update(ADELE, link.graph_id, location=Location(display_name="Room 7"))
    saved: list[str] = []

    def person_renames_it_again(reached: str) -> None:
        if reached == "pull.after_graph_writes" and not saved:
            world.crm_update(event_id, subject="Annual review (Maria and Li)")
            saved.append(reached)

    world.checkpoint = person_renames_it_again
    pulled = await world.sync.pull_mailbox(ADELE)
    world.checkpoint = no_checkpoint

    assert saved == ["pull.after_graph_writes"]
    assert not pulled.cursor_advanced
    await world.sync.run_once()
    await world.sync.run_once()

    event = world.crm_event(event_id)
    assert event is not None
    assert (event.subject, event.location) == ("Annual review (Maria and Li)", "Room 7")
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Annual review (Maria and Li)"
    assert world.log("conflict_microsoft365_won") == []
