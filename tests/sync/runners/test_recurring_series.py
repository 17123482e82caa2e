"""SPEC §5 edge cases found by the stateful test (tests/sync/test_stateful_sync.py), each pinned
end to end against the emulator."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from calsync.graph.models import PatternedRecurrence, RecurrencePattern, RecurrenceRange
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def _daily_series(world: World, subject: str, count: int) -> str:
    start = soon(5, 15)
    pattern = PatternedRecurrence(
        pattern=RecurrencePattern(type="daily", interval=1),
        range=RecurrenceRange(
            type="numbered",
            start_date=start.astimezone(ZoneInfo("America/New_York")).date(),
            number_of_occurrences=count,
        ),
    )
    master = await world.outlook_create(ADELE, subject, start, recurrence=pattern)
    return master.id


async def _instances(world: World, master_id: str) -> list[str]:
    found = [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(30))]
    return [e.id for e in sorted(found, key=lambda e: e.times().start)]


async def test_a_series_deleted_after_all_its_occurrences_were_cancelled_leaves_the_crm(
    world: World,
) -> None:
    master_id = await _daily_series(world, "Budget sprint", 2)
    await world.sync.run_once()
    for occurrence in await _instances(world, master_id):
        await world.outlook_delete(ADELE, occurrence)
    await world.sync.run_once()
    [series] = world.crm_events(ADELE)  # the series stays while Outlook still has it

    await world.outlook_delete(ADELE, master_id)
    await world.sync.run_once()

    assert world.crm_events(ADELE) == []
    assert world.crm_event(series.id) is None
    assert world.link_of(series.id) is None
