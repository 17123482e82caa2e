"""A deleted CRM event's sync state never passes to a new event that SQLite would give its id."""

from __future__ import annotations

from calsync.crm.services.event_input import AttendeeInput
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_a_new_event_never_takes_over_a_deleted_events_meeting(world: World) -> None:
    guest = (AttendeeInput(email="maria@client.example"),)
    old_id = world.crm_create(ADELE, "Annual review", soon(3), attendees=guest)
    await world.sync.push_pending()
    old_link = world.link_of(old_id)
    assert old_link is not None

    world.crm_delete(old_id)  # the newest event: SQLite would give its id to the next one
    new_id = world.crm_create(ADELE, "Onboarding call", soon(4))
    await world.sync.run_once()

    assert new_id != old_id
    assert [e.subject for e in await world.outlook_events(ADELE)] == ["Onboarding call"]
    new_link = world.link_of(new_id)
    assert new_link is not None
    assert new_link.graph_id != old_link.graph_id
    assert world.link_of(old_id) is None


async def test_an_imported_outlook_event_never_takes_a_deleted_events_id(world: World) -> None:
    """The pull creates new Outlook events with one bulk INSERT, outside the ORM's numbering."""
    old_id = world.crm_create(ADELE, "Annual review", soon(3))
    await world.sync.push_pending()
    await world.sync.pull_mailbox(ADELE)
    world.crm_delete(old_id)  # its link stays until the push has cancelled it in Outlook

    await world.outlook_create(ADELE, "Onboarding call", soon(4))
    await world.sync.pull_mailbox(ADELE)

    [imported] = world.crm_events(ADELE)
    assert imported.subject == "Onboarding call"
    assert imported.id != old_id
    new_link = world.link_of(imported.id)
    assert new_link is not None
    assert new_link.crm_event_id == imported.id
