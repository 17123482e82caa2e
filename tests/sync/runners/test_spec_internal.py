"""SPEC §6 end to end, beyond test_internal_and_safety.py: the owner's later edit overrides an
attendee's edit of the same field, a CRM meeting's colleague keeps exactly one copy on each side
through the owner's edits and her own changes to her invitation, colleagues added to or removed
from an Outlook meeting gain or lose their version, and an owner's deletion leaves every
calendar."""

from __future__ import annotations

from sqlalchemy import select

from calsync.crm.models import Event
from calsync.crm.services.event_input import AttendeeInput
from calsync.graph.drafts import DraftAttendee
from calsync.graph.models import Location
from tests.fixtures.emulator import ADELE, LEE, MEGAN
from tests.sync.runners.world import World, soon


def _copies_of(world: World, event_id: int) -> list[Event]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(Event).where(Event.copy_of_event_id == event_id).order_by(Event.owner_id)
            ).all()
        )


async def test_the_owners_later_edit_overrides_an_attendees_edit_of_the_same_field(
    world: World,
) -> None:
    created = await world.outlook_create(MEGAN, "Strategy", soon(5), attendees=(ADELE, LEE))
    await world.sync.run_once()
    [adele_version] = world.crm_events(ADELE)

    world.crm_update(adele_version.id, location="My desk")  # Adele's own version is editable
    await world.sync.run_once()
    quiet = await world.sync.run_once()

    # The location is the organizer's in Graph: it stays in Adele's CRM version (docs/sync-engine.md
    # §4), and the runs neither revert it nor keep rewriting her mailbox copy.
    assert world.crm_events(ADELE)[0].location == "My desk"
    [adele_copy] = await world.outlook_events(ADELE)
    assert adele_copy.location is None or adele_copy.location.display_name == ""
    assert sum(pull.crm_writes + pull.graph_writes for pull in quiet.pulls) == 0
    assert all(push.pushed == 0 for push in quiet.pushes)

    await world.outlook_update(
        MEGAN, created.id, location=Location(display_name="Board room"), subject="Strategy (final)"
    )
    await world.sync.run_once()
    await world.sync.run_once()

    for mailbox in (MEGAN, ADELE, LEE):
        [event] = world.crm_events(mailbox)
        assert (event.subject, event.location) == ("Strategy (final)", "Board room"), mailbox
        assert len(await world.outlook_events(mailbox)) == 1, mailbox


async def test_a_colleague_keeps_one_copy_on_each_side_through_edits_on_both(
    world: World,
) -> None:
    event_id = world.crm_create(
        ADELE, "Team review", soon(4), attendees=(AttendeeInput(user_id=world.users[MEGAN]),)
    )
    await world.sync.run_once()
    [invitation] = await world.outlook_events(MEGAN)

    world.crm_update(event_id, subject="Team review (moved)", start=soon(6), end=soon(6, 11))
    await world.outlook_update(MEGAN, invitation.id, show_as="tentative")  # her own copy
    await world.sync.run_once()
    await world.sync.run_once()

    [copy] = _copies_of(world, event_id)
    assert copy.owner_id == world.users[MEGAN]
    assert (copy.subject, copy.start_at) == ("Team review (moved)", soon(6))
    assert world.crm_events(MEGAN) == []  # her invitation never became a second event
    [in_her_mailbox] = await world.outlook_events(MEGAN)
    assert in_her_mailbox.subject == "Team review (moved)"
    assert in_her_mailbox.times().start == soon(6)
    assert [e.subject for e in world.crm_events(ADELE)] == ["Team review (moved)"]


async def test_an_outlook_meeting_the_owner_deletes_in_the_crm_leaves_every_calendar(
    world: World,
) -> None:
    await world.outlook_create(MEGAN, "Strategy", soon(5), attendees=(ADELE, LEE))
    await world.sync.run_once()
    [owners] = world.crm_events(MEGAN)

    world.crm_delete(owners.id)
    await world.sync.run_once()
    await world.sync.run_once()

    for mailbox in (MEGAN, ADELE, LEE):
        assert world.crm_events(mailbox) == [], mailbox
        assert await world.outlook_events(mailbox) == [], mailbox
    deleted = sorted(str(line.mailbox) for line in world.log("deleted_in_crm"))
    assert deleted == sorted([ADELE, LEE])  # the attendees' versions went with the meeting


async def test_colleagues_added_to_or_removed_from_an_outlook_meeting_gain_or_lose_their_version(
    world: World,
) -> None:
    created = await world.outlook_create(MEGAN, "Strategy", soon(5), attendees=(ADELE,))
    await world.sync.run_once()
    assert [e.subject for e in world.crm_events(ADELE)] == ["Strategy"]

    await world.outlook_update(MEGAN, created.id, attendees=(DraftAttendee(LEE),))
    await world.sync.run_once()
    await world.sync.run_once()

    assert world.crm_events(ADELE) == []  # uninvited: her version left with her copy
    assert [e.subject for e in world.crm_events(LEE)] == ["Strategy"]
    [owners] = world.crm_events(MEGAN)
    assert [(a.user_id, a.is_internal) for a in owners.attendees] == [(world.users[LEE], True)]
    for mailbox in (MEGAN, LEE):
        assert len(await world.outlook_events(mailbox)) == 1, mailbox
