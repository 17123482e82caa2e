"""SPEC §5 edge cases found by the stateful test (tests/sync/test_stateful_sync.py), each pinned
end to end against the emulator."""

from __future__ import annotations

import pytest

from calsync.crm.models import SyncStatus
from calsync.crm.services.event_rules import CRM_RECURRENCE_NOT_SYNCED
from calsync.emulator.control_client import EmulatorControl
from calsync.graph.models import Location
from calsync.sync.storage.models import LogKind
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, daily, soon


async def _daily_series(world: World, subject: str, count: int) -> str:
    start = soon(5, 15)
    master = await world.outlook_create(ADELE, subject, start, recurrence=daily(start, count))
    return master.id


async def test_a_series_deleted_after_all_its_occurrences_were_cancelled_leaves_the_crm(
    world: World,
) -> None:
    master_id = await _daily_series(world, "Budget sprint", 2)
    await world.sync.run_once()
    for occurrence in await world.instances(master_id):
        await world.outlook_delete(ADELE, occurrence)
    await world.sync.run_once()
    [series] = world.crm_events(ADELE)  # the series stays while Outlook still has it

    await world.outlook_delete(ADELE, master_id)
    await world.sync.run_once()

    assert world.crm_events(ADELE) == []
    assert world.crm_event(series.id) is None
    assert world.link_of(series.id) is None


@pytest.mark.parametrize("series_first", [True, False], ids=["series-first", "occurrence-first"])
async def test_crm_edits_of_a_series_and_of_one_occurrence_both_reach_outlook(
    world: World, series_first: bool
) -> None:
    """The CRM's own series edit once beat its occurrence edit as a "conflict" (the pushed series
    change reached the occurrence in Outlook and looked like an Outlook edit)."""
    master_id = await _daily_series(world, "Budget sprint", 3)
    await world.sync.run_once()
    events = world.crm_events(ADELE)
    [series] = [e for e in events if e.m365_recurrence_summary]
    second = sorted((e for e in events if e.series_event_id), key=lambda e: e.start_at)[1]

    edits = [
        (series.id, "Budget sprint (moved to Q3)"),
        (second.id, "Budget sprint with the auditors"),
    ]
    for event_id, subject in edits if series_first else reversed(edits):
        world.crm_update(event_id, subject=subject)
    await world.sync.run_once()

    subjects = [
        (e.subject, e.type)
        for e in sorted(
            [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(30))],
            key=lambda e: e.times().start,
        )
    ]
    assert subjects == [
        ("Budget sprint (moved to Q3)", "occurrence"),
        ("Budget sprint with the auditors", "exception"),
        ("Budget sprint (moved to Q3)", "occurrence"),
    ]
    crm = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id), key=lambda e: e.start_at
    )
    assert [e.subject for e in crm] == [s for s, _ in subjects]
    assert not world.log("conflict_microsoft365_won")


async def test_an_occurrence_edit_survives_a_series_edit_merged_during_a_pull(world: World) -> None:
    """Outlook changed the series meanwhile, so the CRM's series edit reaches the master in the
    pull (merged with the Outlook change), not in the push: the occurrence edit must survive that
    path too."""
    master_id = await _daily_series(world, "Budget sprint", 3)
    await world.sync.run_once()
    events = world.crm_events(ADELE)
    [series] = [e for e in events if e.m365_recurrence_summary]
    second = sorted((e for e in events if e.series_event_id), key=lambda e: e.start_at)[1]

    world.crm_update(series.id, subject="Budget sprint (moved to Q3)")
    world.crm_update(second.id, subject="Budget sprint with the auditors")
    await world.outlook_update(ADELE, master_id, location=Location(display_name="Boardroom"))
    await world.sync.run_once()
    await world.sync.run_once()

    instances = sorted(
        [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(30))],
        key=lambda e: e.times().start,
    )
    assert [(e.subject, e.type) for e in instances] == [
        ("Budget sprint (moved to Q3)", "occurrence"),
        ("Budget sprint with the auditors", "exception"),
        ("Budget sprint (moved to Q3)", "occurrence"),
    ]
    assert {e.location.display_name for e in instances if e.location} == {"Boardroom"}
    crm = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id), key=lambda e: e.start_at
    )
    assert [e.subject for e in crm] == [e.subject for e in instances]
    assert {e.location for e in crm} == {"Boardroom"}


async def test_an_event_given_the_crms_own_recurrence_before_its_push_says_why_it_is_not_synced(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Daily stand-up", soon(2))
    world.crm_update(event_id, recurrence_rule="FREQ=DAILY;COUNT=5")  # before the push ran

    await world.sync.run_once()

    event = world.crm_event(event_id)
    assert event is not None
    assert (event.sync_status, event.sync_message) == (
        SyncStatus.NOT_SYNCED,
        CRM_RECURRENCE_NOT_SYNCED,
    )
    assert await world.outlook_events(ADELE) == []
    assert not [line for line in world.log() if line.kind is LogKind.ERROR]


async def test_a_series_whose_master_cannot_be_read_arrives_with_its_occurrences_next_run(
    world: World, control: EmulatorControl
) -> None:
    master_id = await _daily_series(world, "Onboarding week", 3)
    # Every GET of one event fails (the masters are fetched in a $batch, whose items the
    # emulator serves like single requests): the retries give up, the delta pages still pass.
    control.add_fault(
        "unavailable",
        next_requests=1000,
        mailbox=ADELE,
        method="GET",
        path_pattern=r"/events/[^/]+$",
        retry_after_seconds=0,
    )

    await world.sync.run_once()

    assert world.crm_events(ADELE) == []
    [unavailable] = world.log("series_master_unavailable")
    assert unavailable.graph_id == master_id
    assert "retried on the next run" in unavailable.message

    control.clear_faults()
    await world.sync.run_once()

    events = world.crm_events(ADELE)
    assert sorted(event.subject for event in events) == ["Onboarding week"] * 4
    assert [entry.id for entry in world.log("series_master_unavailable")] == [unavailable.id]
