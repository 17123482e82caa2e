"""SPEC §5 end to end, beyond test_teams_and_series.py and test_recurring_series.py: the readable
summary of a two-weekly series, exceptions and cancellations made before the first run, a
recurrence changed in Outlook, attendees edited on a series in the CRM, refused recurrence edits
that change nothing, a whole series or one occurrence deleted on either side, and a series deleted
in the CRM while Outlook edited it (SPEC §2: it comes back)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from calsync.crm.errors import RecurrenceManagedInMicrosoft365Error
from calsync.crm.models import Event
from calsync.crm.services.event_input import AttendeeInput
from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.models import PatternedRecurrence, RecurrencePattern, RecurrenceRange
from calsync.sync.recurrence_summary import format_day
from calsync.sync.storage.models import OutboxEntry
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon, weekly

NEW_YORK = ZoneInfo("America/New_York")


async def _weekly_series(world: World, subject: str, count: int) -> tuple[str, datetime]:
    start = soon(3, 15)  # 15:00 UTC: the same date in New York
    master = await world.outlook_create(ADELE, subject, start, recurrence=weekly(start, count))
    return master.id, start


def _split(world: World) -> tuple[Event, list[Event]]:
    """Adele's series and its occurrences in time order."""
    events = world.crm_events(ADELE)
    [series] = [e for e in events if e.m365_recurrence_summary]
    occurrences = sorted((e for e in events if e.series_event_id == series.id), key=_start)
    return series, occurrences


def _start(event: Event) -> datetime:
    return event.start_at


async def test_a_two_weekly_series_shows_outlooks_rule_in_words_and_every_occurrence(
    world: World,
) -> None:
    today = soon(0).astimezone(NEW_YORK).date()
    monday = today + timedelta(days=7 - today.weekday())
    start = datetime(monday.year, monday.month, monday.day, 9, 30, tzinfo=NEW_YORK)
    until = monday + timedelta(days=30)  # the Wednesday of the third meeting week
    await world.outlook_create(
        ADELE,
        "Planning round",
        start,
        recurrence=PatternedRecurrence(
            pattern=RecurrencePattern(
                type="weekly",
                interval=2,
                days_of_week=["wednesday", "monday"],
                first_day_of_week="sunday",
            ),
            range=RecurrenceRange(type="endDate", start_date=monday, end_date=until),
        ),
    )

    await world.sync.run_once()

    series, occurrences = _split(world)
    assert series.m365_recurrence_summary == (
        f"Every 2 weeks on Monday and Wednesday, until {format_day(until)}"
    )
    assert [o.start_at.astimezone(NEW_YORK).date() for o in occurrences] == [
        monday + timedelta(days=offset) for offset in (0, 2, 14, 16, 28, 30)
    ]
    assert {o.start_at.astimezone(NEW_YORK).strftime("%H:%M") for o in occurrences} == {"09:30"}


async def test_exceptions_and_cancellations_made_before_the_first_run_arrive_as_they_are(
    world: World,
) -> None:
    master_id, start = await _weekly_series(world, "Weekly check-in", 4)
    instances = await world.instances(master_id)
    await world.outlook_update(ADELE, instances[1], subject="Weekly check-in (auditors)")
    await world.outlook.cancel_event(ADELE, instances[2])

    await world.sync.run_once()

    _, occurrences = _split(world)
    assert [(o.subject, o.start_at) for o in occurrences] == [
        ("Weekly check-in", start),
        ("Weekly check-in (auditors)", start + timedelta(weeks=1)),
        ("Weekly check-in", start + timedelta(weeks=3)),
    ]


async def test_a_recurrence_changed_in_outlook_changes_the_summary_and_the_occurrences(
    world: World,
) -> None:
    master_id, start = await _weekly_series(world, "Weekly check-in", 3)
    await world.sync.run_once()
    series, _ = _split(world)
    assert (series.m365_recurrence_summary or "").endswith(", 3 times")

    await world.outlook_update(ADELE, master_id, recurrence=weekly(start, 5))
    await world.sync.run_once()

    series, occurrences = _split(world)
    assert (series.m365_recurrence_summary or "").endswith(", 5 times")
    assert [o.start_at for o in occurrences] == [start + timedelta(weeks=n) for n in range(5)]


async def test_an_attendee_added_to_a_series_in_the_crm_is_invited_to_every_occurrence(
    world: World,
) -> None:
    master_id, _ = await _weekly_series(world, "Weekly check-in", 3)
    await world.sync.run_once()
    series, _ = _split(world)
    chris = world.individual("Client", "chris@fabrikam.example")

    world.crm_update(series.id, attendees=(AttendeeInput(individual_id=chris),))
    await world.sync.run_once()

    instances = [
        await world.outlook_event(ADELE, graph_id) for graph_id in await world.instances(master_id)
    ]
    assert len(instances) == 3
    for instance in instances:
        invited = [a.email_address.address for a in instance.attendees or [] if a.email_address]
        assert invited == ["chris@fabrikam.example"]
    _, occurrences = _split(world)
    assert [[a.individual_id for a in o.attendees] for o in occurrences] == [[chris]] * 3
    master = await world.outlook_event(ADELE, master_id)
    assert master.recurrence is not None
    assert master.recurrence.range.number_of_occurrences == 3


async def test_refused_recurrence_edits_change_nothing_on_either_side(world: World) -> None:
    master_id, _ = await _weekly_series(world, "Weekly check-in", 3)
    single = await world.outlook_create(ADELE, "One-off", soon(20))
    await world.sync.run_once()
    series, occurrences = _split(world)
    [one_off] = [e for e in world.crm_events(ADELE) if e.subject == "One-off"]
    etags = {
        graph_id: (await world.outlook_event(ADELE, graph_id)).etag
        for graph_id in (master_id, single.id)
    }
    versions = {e.id: e.version for e in (series, occurrences[0], one_off)}

    for event_id in versions:
        with pytest.raises(RecurrenceManagedInMicrosoft365Error) as refused:
            world.crm_update(event_id, recurrence_rule="FREQ=DAILY;COUNT=2", location="Lobby")
        assert refused.value.field == "recurrence_rule"
        assert "Microsoft 365" in str(refused.value) or "Outlook" in str(refused.value)

    with world.sessions() as session:
        rows = session.execute(
            select(Event.id, Event.version, Event.location, Event.recurrence_rule).where(
                Event.id.in_(versions)
            )
        ).all()
        assert {row[0]: tuple(row[1:]) for row in rows} == {
            event_id: (version, "", None) for event_id, version in versions.items()
        }
        assert session.scalars(select(OutboxEntry)).all() == []
    await world.sync.run_once()
    for graph_id, etag in etags.items():
        assert (await world.outlook_event(ADELE, graph_id)).etag == etag


async def test_a_series_deleted_in_outlook_leaves_the_crm_with_all_its_occurrences(
    world: World,
) -> None:
    master_id, _ = await _weekly_series(world, "Weekly check-in", 4)
    await world.sync.run_once()
    series, occurrences = _split(world)

    await world.outlook_delete(ADELE, master_id)
    await world.sync.run_once()

    assert world.crm_events(ADELE) == []
    assert all(world.crm_event(e.id) is None for e in (series, *occurrences))


async def _synced_series_with_a_guest(world: World) -> tuple[GraphModelEvent, datetime]:
    """A weekly series of four in Adele's calendar inviting an outside guest, synced once."""
    start = soon(3, 15)
    master = await world.outlook_create(
        ADELE,
        "Weekly check-in",
        start,
        attendees=("guest@tailspin.example",),
        recurrence=weekly(start, 4),
    )
    await world.sync.run_once()
    return master, start


async def test_a_series_deleted_in_the_crm_is_removed_from_outlook(world: World) -> None:
    master_id, _ = await _weekly_series(world, "Weekly check-in", 4)
    await world.sync.run_once()
    series, _ = _split(world)

    world.crm_delete(series.id)
    await world.sync.run_once()

    assert await world.outlook_events(ADELE) == []
    assert world.crm_events(ADELE) == []
    assert world.link_of(series.id) is None
    assert master_id not in [e.id for e in await world.outlook_events(ADELE)]


async def test_one_occurrence_deleted_in_the_crm_is_cancelled_alone_in_outlook(
    world: World,
) -> None:
    master, start = await _synced_series_with_a_guest(world)
    series, occurrences = _split(world)

    world.crm_delete(occurrences[1].id)
    await world.sync.run_once()
    await world.sync.run_once()

    instances = [
        await world.outlook_event(ADELE, graph_id) for graph_id in await world.instances(master.id)
    ]
    assert [i.times().start for i in instances] == [start + timedelta(weeks=n) for n in (0, 2, 3)]
    _, left = _split(world)
    assert [o.start_at for o in left] == [i.times().start for i in instances]
    assert world.crm_event(series.id) is not None


async def test_a_series_with_guests_deleted_in_the_crm_is_cancelled_for_them(
    world: World,
) -> None:
    await _synced_series_with_a_guest(world)
    series, _ = _split(world)

    world.crm_delete(series.id)
    await world.sync.run_once()
    await world.sync.run_once()

    assert await world.outlook_events(ADELE) == []
    assert world.crm_events(ADELE) == []
    assert series.id in {line.crm_event_id for line in world.log("cancel_in_microsoft365")}


async def test_a_series_deleted_in_the_crm_while_edited_in_outlook_comes_back_whole(
    world: World,
) -> None:
    master, start = await _synced_series_with_a_guest(world)
    series, _ = _split(world)

    await world.outlook_update(ADELE, master.id, subject="Weekly check-in (new agenda)")
    world.crm_delete(series.id)
    await world.sync.push_pending()
    await world.sync.run_once()

    restored, occurrences = _split(world)
    assert restored.subject == "Weekly check-in (new agenda)"
    assert [o.start_at for o in occurrences] == [start + timedelta(weeks=n) for n in range(4)]
    assert len(await world.instances(master.id)) == 4
    assert not world.log("cancel_in_microsoft365")


async def test_an_occurrence_moved_in_the_crm_is_moved_alone_in_outlook(world: World) -> None:
    master_id, start = await _weekly_series(world, "Weekly check-in", 3)
    await world.sync.run_once()
    _, occurrences = _split(world)
    moved = occurrences[1].start_at + timedelta(hours=2)

    world.crm_update(occurrences[1].id, start=moved, end=moved + timedelta(hours=1))
    await world.sync.run_once()
    await world.sync.run_once()

    instances = sorted(
        [e async for e in world.outlook.instances(ADELE, master_id, soon(0), soon(60))],
        key=lambda e: e.times().start,
    )
    assert [(i.times().start, i.type) for i in instances] == [
        (start, "occurrence"),
        (moved, "exception"),
        (start + timedelta(weeks=2), "occurrence"),
    ]
    _, after = _split(world)
    assert [o.start_at for o in after] == [i.times().start for i in instances]
