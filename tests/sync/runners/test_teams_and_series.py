"""SPEC §4 (Teams) and §5 (recurring events) end to end against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync.crm.errors import RecurrenceManagedInMicrosoft365Error
from calsync.crm.models import Event, SyncStatus
from calsync.sync.storage.models import LogKind
from tests.fixtures.emulator import ADELE, KIOSK
from tests.sync.runners.world import World, soon, weekly


async def test_the_teams_join_url_comes_back_to_the_crm(world: World) -> None:
    event_id = world.crm_create(ADELE, "Video call", soon(3), is_teams_meeting=True)

    await world.sync.push_pending()

    event = world.crm_event(event_id)
    assert event is not None
    assert event.is_teams_meeting
    assert event.teams_join_url is not None
    assert event.teams_join_url.startswith("https://")
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.join_url == event.teams_join_url
    report = await world.sync.run_once()
    assert sum(pull.crm_writes + pull.graph_writes for pull in report.pulls) == 0


async def test_a_mailbox_that_cannot_host_teams_gives_a_visible_warning(world: World) -> None:
    event_id = world.crm_create(KIOSK, "Walk-in video call", soon(3), is_teams_meeting=True)

    await world.sync.push_pending()

    event = world.crm_event(event_id)
    assert event is not None
    assert not event.is_teams_meeting
    assert event.teams_join_url is None
    [warning] = world.log("teams_not_available")
    assert warning.severity == "warning"
    assert KIOSK in warning.message
    assert warning.crm_event_id == event_id
    report = await world.sync.run_once()
    assert sum(pull.crm_writes + pull.graph_writes for pull in report.pulls) == 0


async def _outlook_series(world: World, count: int = 4) -> str:
    start = soon(7, 15)  # 15:00 UTC is a weekday afternoon in New York, same date
    master = await world.outlook_create(
        ADELE, "Weekly check-in", start, recurrence=weekly(start, count)
    )
    return master.id


async def test_an_outlook_series_becomes_a_crm_series_with_its_occurrences(world: World) -> None:
    master_id = await _outlook_series(world)

    await world.sync.run_once()

    events = world.crm_events(ADELE)
    [series] = [e for e in events if e.m365_recurrence_summary]
    occurrences = [e for e in events if e.series_event_id == series.id]
    assert len(occurrences) == 4
    assert series.m365_recurrence_summary.startswith("Every week on")
    link = world.link_of(series.id)
    assert link is not None
    assert link.graph_id == master_id
    assert sorted(o.start_at for o in occurrences) == [
        soon(7, 15) + timedelta(weeks=n) for n in range(4)
    ]
    second = await world.sync.run_once()
    assert sum(pull.crm_writes + pull.graph_writes for pull in second.pulls) == 0


async def test_occurrence_edits_and_cancellations_in_outlook_reach_the_crm(world: World) -> None:
    master_id = await _outlook_series(world)
    await world.sync.run_once()
    instances = [
        event async for event in world.outlook.instances(ADELE, master_id, soon(0), soon(60))
    ]
    instances.sort(key=lambda e: e.times().start)

    await world.outlook_update(ADELE, instances[1].id, subject="Weekly check-in (client joins)")
    await world.outlook.cancel_event(ADELE, instances[2].id)
    await world.sync.run_once()

    occurrences = sorted(
        (e for e in world.crm_events(ADELE) if e.series_event_id is not None),
        key=lambda e: e.start_at,
    )
    assert [o.subject for o in occurrences] == [
        "Weekly check-in",
        "Weekly check-in (client joins)",
        "Weekly check-in",
    ]


async def test_an_occurrence_edited_in_the_crm_becomes_an_exception_in_outlook(
    world: World,
) -> None:
    master_id = await _outlook_series(world)
    await world.sync.run_once()
    first = min(
        (e for e in world.crm_events(ADELE) if e.series_event_id is not None),
        key=lambda e: e.start_at,
    )

    world.crm_update(first.id, location="Board room")
    await world.sync.push_pending()

    link = world.link_of(first.id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.type == "exception"
    assert outlook.location is not None
    assert outlook.location.display_name == "Board room"
    assert outlook.series_master_id == master_id
    assert [line.message for line in world.log("updated_in_microsoft365")][-1].endswith(
        "(the occurrence is now an exception)."
    )


async def test_a_crm_made_recurring_event_stays_in_the_crm_and_says_why(world: World) -> None:
    event_id = world.crm_create(
        ADELE, "Daily stand-up", soon(2), recurrence_rule="FREQ=DAILY;COUNT=5"
    )

    await world.sync.run_once()

    assert await world.outlook_events(ADELE) == []
    event = world.crm_event(event_id)
    assert isinstance(event, Event)
    assert event.sync_status is SyncStatus.NOT_SYNCED
    assert event.sync_message
    assert not [line for line in world.log() if line.kind is LogKind.ERROR]


async def test_series_fields_edited_in_the_crm_reach_the_master_but_the_recurrence_is_refused(
    world: World,
) -> None:
    master_id = await _outlook_series(world)
    await world.sync.run_once()
    [series] = [e for e in world.crm_events(ADELE) if e.m365_recurrence_summary]

    with pytest.raises(RecurrenceManagedInMicrosoft365Error):
        world.crm_update(series.id, recurrence_rule="FREQ=DAILY;COUNT=3")
    world.crm_update(series.id, location="Main office")
    await world.sync.run_once()

    master = await world.outlook_event(ADELE, master_id)
    assert master.location is not None
    assert master.location.display_name == "Main office"
    assert master.recurrence is not None
    assert master.recurrence.range.number_of_occurrences == 4
    second = await world.sync.run_once()
    assert sum(pull.graph_writes for pull in second.pulls) == 0
