"""A crash after a push's Graph write but before the CRM recorded it never costs a CRM edit.

The sequence that lost an edit: the push sends a CRM change, Graph applies it, the process dies
before the new change key and merge base are committed; a person then edits the event again in the
CRM. The retry's PATCH carries the old change key (412) and the pull saw Microsoft 365 "changed"
since the base — with our own older value — and let it win over the newer CRM edit. The push now
commits the values it is about to send first, so the next run recognises its own write.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from calsync.crm.services.event_input import AttendeeInput
from calsync.emulator.control_client import EmulatorControl
from calsync.graph.models import Location
from calsync.sync.storage.models import OutboxEntry
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, daily, soon


class Crash(RuntimeError):
    """The process dies at a checkpoint."""


def crash_at(point: str) -> Callable[[str], None]:
    def checkpoint(reached: str) -> None:
        if reached == point:
            raise Crash(point)

    return checkpoint


async def _push_and_crash(world: World, point: str = "push.after_graph_write") -> None:
    world.checkpoint = crash_at(point)
    with pytest.raises(Crash):
        await world.sync.push_pending()
    world.checkpoint = lambda point: None


def _subject(world: World, event_id: int) -> str:
    event = world.crm_event(event_id)
    assert event is not None
    return event.subject


def _outbox(world: World) -> list[int]:
    with world.sessions() as session:
        return sorted(set(session.scalars(select(OutboxEntry.crm_event_id)).all()))


async def _outlook_subjects(world: World) -> list[str]:
    return sorted(event.subject or "" for event in await world.outlook_events(ADELE))


async def test_a_crm_edit_made_after_a_crashed_batch_wins_over_the_value_we_pushed(
    world: World,
) -> None:
    event_ids = [world.crm_create(ADELE, f"Review {n}", soon(n + 1)) for n in range(3)]
    await world.sync.run_once()
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Review {event_id} v1", location="Room 1")
    await _push_and_crash(world)  # the batch reached Graph; nothing was recorded
    assert sorted(_outbox(world)) == sorted(event_ids)
    edited = event_ids[0]
    world.crm_update(edited, subject=f"Review {edited} v2")

    await world.sync.push_pending()  # the retry
    await world.sync.run_once()  # push, pull, push

    assert _subject(world, edited) == f"Review {edited} v2"
    link = world.link_of(edited)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == f"Review {edited} v2"
    assert outlook.location is not None
    assert outlook.location.display_name == "Room 1"
    assert world.log("conflict_microsoft365_won") == []
    for event_id in event_ids:
        if event_id != edited:
            assert _subject(world, event_id) == f"Review {event_id} v1"
    assert await _outlook_subjects(world) == sorted(
        f"Review {event_id} v2" if event_id == edited else f"Review {event_id} v1"
        for event_id in event_ids
    )
    assert _outbox(world) == []


async def test_the_pull_recognises_our_unrecorded_write_before_any_retry(world: World) -> None:
    event_id = world.crm_create(ADELE, "Budget", soon(2))
    await world.sync.run_once()
    world.crm_update(event_id, subject="Budget v1", description="Numbers")
    await _push_and_crash(world, "push.before_commit")
    world.crm_update(event_id, subject="Budget v2")

    report = await world.sync.pull_mailbox(ADELE)

    assert report.crm_writes == 0  # nothing of ours echoed back into the CRM
    assert _subject(world, event_id) == "Budget v2"
    link = world.link_of(event_id)
    assert link is not None
    assert link.pending_snapshot is None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Budget v2"
    assert world.log("conflict_microsoft365_won") == []
    await world.sync.push_pending()
    assert _outbox(world) == []
    assert (await world.sync.pull_mailbox(ADELE)).crm_writes == 0


async def test_an_outlook_edit_made_after_our_unrecorded_write_still_wins_its_field(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Offsite", soon(4))
    await world.sync.run_once()
    world.crm_update(event_id, subject="Offsite v1")
    await _push_and_crash(world)
    link = world.link_of(event_id)
    assert link is not None
    await world.outlook_update(
        ADELE, link.graph_id, location=Location(display_name="Outlook's room")
    )
    world.crm_update(event_id, subject="Offsite v2")

    await world.sync.run_once()

    event = world.crm_event(event_id)
    assert event is not None
    assert (event.subject, event.location) == ("Offsite v2", "Outlook's room")
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Offsite v2"
    assert world.log("conflict_microsoft365_won") == []


async def test_a_crm_deletion_after_an_unrecorded_write_cancels_the_meeting(world: World) -> None:
    chris = world.individual("Client", "chris@fabrikam.example")
    event_id = world.crm_create(
        ADELE, "Kick-off", soon(3), attendees=(AttendeeInput(individual_id=chris),)
    )
    await world.sync.run_once()
    world.crm_update(event_id, subject="Kick-off v1")
    await _push_and_crash(world)
    world.crm_delete(event_id)

    await world.sync.pull_mailbox(ADELE)  # before any retry of the push
    await world.sync.run_once()

    assert world.crm_event(event_id) is None
    assert await world.outlook_events(ADELE) == []
    assert world.log("restored_by_outlook_edit") == []


async def test_a_create_that_crashed_before_its_link_is_relinked_and_the_newer_crm_edit_kept(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Planning", soon(2), location="Room 1")
    await _push_and_crash(world)
    world.crm_update(event_id, subject="Planning v2")

    report = await world.sync.pull_mailbox(ADELE)

    assert report.crm_writes == 0
    assert _subject(world, event_id) == "Planning v2"
    outlook = await world.outlook_events(ADELE)
    assert [event.subject for event in outlook] == ["Planning v2"]
    link = world.link_of(event_id)
    assert link is not None
    assert link.graph_id == outlook[0].id
    await world.sync.run_once()
    assert await _outlook_subjects(world) == ["Planning v2"]
    assert _subject(world, event_id) == "Planning v2"
    assert world.log("conflict_microsoft365_won") == []
    assert _outbox(world) == []


async def test_a_retried_create_after_a_crash_neither_duplicates_nor_loses_the_newer_edit(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Workshop", soon(5))
    await _push_and_crash(world)
    world.crm_update(event_id, subject="Workshop v2", location="Hall")

    await world.sync.push_pending()

    outlook = await world.outlook_events(ADELE)
    assert [
        (event.subject, event.location.display_name if event.location else "") for event in outlook
    ] == [("Workshop v2", "Hall")]
    await world.sync.run_once()
    event = world.crm_event(event_id)
    assert event is not None
    assert (event.subject, event.location) == ("Workshop v2", "Hall")
    assert await _outlook_subjects(world) == ["Workshop v2"]
    assert world.log("conflict_microsoft365_won") == []
    assert _outbox(world) == []


async def test_a_crash_before_the_batch_was_sent_leaves_an_intent_that_costs_nothing(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Quarterly call", soon(6))
    await world.sync.run_once()
    world.crm_update(event_id, subject="Quarterly call v1")
    await _push_and_crash(world, "push.before_graph_write")
    link = world.link_of(event_id)
    assert link is not None
    assert link.pending_snapshot is not None  # committed before anything was sent
    world.crm_update(event_id, subject="Quarterly call v2")

    report = await world.sync.push_pending()

    assert (report.pushed, report.waiting_for_pull, report.failed) == (1, 0, 0)
    link = world.link_of(event_id)
    assert link is not None
    assert link.pending_snapshot is None
    assert (await world.outlook_event(ADELE, link.graph_id)).subject == "Quarterly call v2"
    await world.sync.run_once()
    assert _subject(world, event_id) == "Quarterly call v2"
    assert world.log("conflict_microsoft365_won") == []
    assert _outbox(world) == []


async def test_an_occurrence_edit_survives_a_crash_after_its_series_edit_reached_outlook(
    world: World,
) -> None:
    """The series' pushed subject reached every occurrence in Outlook before the crash; the
    occurrence's own CRM subject, pushed after it, must still win there."""
    master_id, _, _ = await _series_write_lost_in_a_crash(world)

    await world.sync.run_once()

    outlook = sorted(
        [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(30))],
        key=lambda e: e.times().start,
    )
    assert [e.subject for e in outlook] == _SERIES_AFTER
    crm = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id), key=lambda e: e.start_at
    )
    assert [e.subject for e in crm] == [e.subject for e in outlook]
    assert world.log("conflict_microsoft365_won") == []


_SERIES_AFTER = [
    "Budget sprint (moved to Q3)",
    "Budget sprint with the auditors",
    "Budget sprint (moved to Q3)",
]


async def _series_write_lost_in_a_crash(world: World) -> tuple[str, int, int]:
    """A synced three-day series; the CRM renames the series and, differently, its second day;
    the push's batch writes the master to Graph and the process dies before recording it.
    Returns the master's Graph id, the CRM series and the second occurrence."""
    start = soon(5, 15)
    master = await world.outlook_create(ADELE, "Budget sprint", start, recurrence=daily(start, 3))
    await world.sync.run_once()
    events = world.crm_events(ADELE)
    [series] = [event for event in events if event.m365_recurrence_summary]
    second = sorted((e for e in events if e.series_event_id), key=lambda e: e.start_at)[1]
    world.crm_update(series.id, subject="Budget sprint (moved to Q3)")
    world.crm_update(second.id, subject="Budget sprint with the auditors")
    await _push_and_crash(world)  # the master's batch went first, then the crash
    series_link = world.link_of(series.id)
    assert series_link is not None
    assert series_link.pending_snapshot is not None  # the master's write is not recorded
    return master.id, series.id, second.id


async def _assert_both_sides_hold_the_series_and_the_occurrence_edit(
    world: World, master_id: str, series_id: int
) -> None:
    outlook = sorted(
        [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(30))],
        key=lambda e: e.times().start,
    )
    assert [e.subject for e in outlook] == _SERIES_AFTER
    assert [e.type for e in outlook] == ["occurrence", "exception", "occurrence"]
    crm = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id), key=lambda e: e.start_at
    )
    assert [e.subject for e in crm] == _SERIES_AFTER
    assert _subject(world, series_id) == "Budget sprint (moved to Q3)"
    assert len(world.crm_events(ADELE)) == 4  # the series and its three occurrences, once each
    outlook_view = await world.outlook_events(ADELE)
    assert sorted(e.subject or "" for e in outlook_view) == sorted(_SERIES_AFTER)
    assert world.log("conflict_microsoft365_won") == []
    assert _outbox(world) == []


async def test_an_occurrence_edit_survives_when_the_pull_finds_the_unrecorded_series_write_first(
    world: World,
) -> None:
    """Like the test above, but the next run is a pull: it settles the master's write as our own
    and must rebase the occurrences as recording that write would have, or the series value (our
    own write, reaching the occurrence in Outlook) beats the occurrence's own CRM subject."""
    master_id, series_id, second_id = await _series_write_lost_in_a_crash(world)

    await world.sync.pull_mailbox(ADELE)  # the pull finds the master's write first

    series_link = world.link_of(series_id)
    assert series_link is not None
    assert series_link.pending_snapshot is None
    assert _subject(world, second_id) == "Budget sprint with the auditors"
    await world.sync.run_once()
    quiet = await world.sync.run_once()
    await _assert_both_sides_hold_the_series_and_the_occurrence_edit(world, master_id, series_id)
    assert all(pull.crm_writes + pull.graph_writes == 0 for pull in quiet.pulls)
    assert sum(push.pushed for push in quiet.pushes) == 0


async def test_the_pull_keeps_the_rebase_when_it_cannot_send_the_occurrence_edit(
    world: World, control: EmulatorControl
) -> None:
    """The pull settles the master's write (its link no longer says a write is in flight) but
    Microsoft 365 refuses the occurrence's PATCH: the occurrence's rebased base must be stored
    with the master's link, or the next run sees the series value as an Outlook edit."""
    master_id, series_id, second_id = await _series_write_lost_in_a_crash(world)
    second_link = world.link_of(second_id)
    assert second_link is not None
    control.add_fault(
        "unavailable",
        next_requests=50,
        mailbox=ADELE,
        method="PATCH",
        path_pattern=second_link.graph_id,
        retry_after_seconds=0,
    )

    report = await world.sync.pull_mailbox(ADELE)

    assert not report.cursor_advanced
    series_link = world.link_of(series_id)
    assert series_link is not None
    assert series_link.pending_snapshot is None
    control.clear_faults()
    await world.sync.run_once()
    await world.sync.run_once()
    await _assert_both_sides_hold_the_series_and_the_occurrence_edit(world, master_id, series_id)


async def test_every_write_of_a_batch_has_its_intent_committed_before_the_batch_is_sent(
    world: World,
) -> None:
    """The intents of a batch's writes share one transaction, committed before the `$batch`
    goes out: a crash just before sending leaves each of them, and the next push settles each
    one and sends the newest CRM values without a conflict."""
    event_ids = [world.crm_create(ADELE, f"Standup {n}", soon(n + 2)) for n in range(3)]
    await world.sync.run_once()
    for event_id in event_ids:
        world.crm_update(event_id, subject=f"Standup v1 {event_id}")
    await _push_and_crash(world, "push.before_graph_write")
    for event_id in event_ids:
        link = world.link_of(event_id)
        assert link is not None
        assert link.pending_snapshot is not None
    world.crm_update(event_ids[0], subject=f"Standup v2 {event_ids[0]}")

    report = await world.sync.push_pending()

    assert (report.pushed, report.waiting_for_pull, report.failed) == (3, 0, 0)
    assert await _outlook_subjects(world) == sorted(
        [f"Standup v2 {event_ids[0]}", f"Standup v1 {event_ids[1]}", f"Standup v1 {event_ids[2]}"]
    )
    await world.sync.run_once()
    assert world.log("conflict_microsoft365_won") == []
    assert _outbox(world) == []
