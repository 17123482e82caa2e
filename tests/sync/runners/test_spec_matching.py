"""SPEC §3 end to end, beyond the one-address-per-source case of test_outlook_to_crm.py: an address
in another case with spaces around it, one address shared by several records, an unmatched
address matched once a record gains it, and the organizer counted as an attendee."""

from __future__ import annotations

from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import ContactInput, create_contact
from calsync.crm.services.users import create_user
from calsync.emulator.control_client import EmulatorControl
from tests.fixtures.emulator import ADELE, MEGAN
from tests.sync.runners.world import World, soon

CLIENT_MAILBOX = "olivia.owner@fabrikam.example"
"""A mailbox outside the synced users, standing in for a client who organizes a meeting."""


def _attendee_rows(world: World, event_id: int) -> set[tuple[object, ...]]:
    event = world.crm_event(event_id)
    assert event is not None
    return {
        (a.individual_id, a.contact_id, a.user_id, a.email, a.is_internal) for a in event.attendees
    }


async def test_an_address_in_another_case_with_spaces_around_it_matches_its_record(
    world: World,
) -> None:
    chris = world.individual("Client", "chris@fabrikam.example")
    await world.outlook_create(
        ADELE, "Check-in", soon(3), attendees=("  Chris@Fabrikam.EXAMPLE ", f" {MEGAN.upper()}")
    )

    await world.sync.run_once()

    [event] = world.crm_events(ADELE)
    rows = _attendee_rows(world, event.id)
    assert (chris, None, None, "chris@fabrikam.example", False) in rows
    assert (None, None, world.users[MEGAN], MEGAN, True) in rows  # a User match is internal
    assert len(rows) == 2  # nothing was kept twice as a bare address as well


async def test_an_address_shared_by_several_records_makes_each_of_them_an_attendee(
    world: World,
) -> None:
    shared = "family.office@fabrikam.example"
    by_alternate = world.individual("Alternate", "ann@fabrikam.example", alternate_email=shared)
    with world.sessions() as session:
        define_custom_field(session, "contact", "assistant_email", "Assistant email", "Email")
        by_custom_field = create_contact(session, ContactInput(last_name="Custom")).id
        set_custom_value(session, "contact", by_custom_field, "assistant_email", shared)
        by_point = create_contact(session, ContactInput(last_name="Point"))
        add_contact_point_email(session, "contact", by_point.id, shared.upper())
        by_point_id = by_point.id
        session.commit()
    await world.outlook_create(ADELE, "Family meeting", soon(4), attendees=(shared,))

    await world.sync.run_once()

    [event] = world.crm_events(ADELE)
    assert _attendee_rows(world, event.id) == {
        (by_alternate, None, None, shared, False),
        (None, by_custom_field, None, shared, False),
        (None, by_point_id, None, shared, False),
    }
    outlook = await world.outlook_events(ADELE)
    assert [a.email_address.address for a in outlook[0].attendees or [] if a.email_address] == [
        shared
    ]  # Outlook still invites the one address once


async def test_an_unmatched_address_stays_on_the_event_and_is_matched_once_a_record_has_it(
    world: World,
) -> None:
    created = await world.outlook_create(
        ADELE, "Intro call", soon(5), attendees=("new.prospect@tailspin.example",)
    )
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)
    assert _attendee_rows(world, event.id) == {
        (None, None, None, "new.prospect@tailspin.example", False)
    }
    sent_before = await world.sent_items(ADELE)
    etag = (await world.outlook_event(ADELE, created.id)).etag

    prospect = world.individual(
        "Prospect", "sam@tailspin.example", alternate_email="New.Prospect@tailspin.example"
    )
    report = await world.sync.run_once()

    assert _attendee_rows(world, event.id) == {
        (prospect, None, None, "new.prospect@tailspin.example", False)
    }
    outlook = await world.outlook_event(ADELE, created.id)
    assert [a.email_address.address for a in outlook.attendees or [] if a.email_address] == [
        "new.prospect@tailspin.example"
    ]  # the meeting still invites the address the guest was invited at
    assert outlook.etag == etag
    assert await world.sent_items(ADELE) == sent_before  # no second invitation
    assert all(push.graph_writes == 0 for push in report.pushes)


async def test_an_address_that_becomes_a_colleagues_mailbox_makes_her_an_internal_attendee(
    world: World,
) -> None:
    await world.outlook_create(ADELE, "Onboarding", soon(4), attendees=("new.hire@contoso.com",))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    with world.sessions() as session:
        hire = create_user(
            session, name="New Hire", email="New.Hire@contoso.com", time_zone="UTC"
        ).id
        session.commit()

    assert _attendee_rows(world, event.id) == {(None, None, hire, "new.hire@contoso.com", True)}
    report = await world.sync.run_once()
    assert sum(pull.crm_writes + pull.graph_writes for pull in report.pulls) == 0


async def test_the_organizer_of_an_invitation_is_an_attendee_of_the_crm_event(
    world: World, control: EmulatorControl
) -> None:
    control.add_mailbox(CLIENT_MAILBOX, "Olivia Owner")
    olivia = world.individual("Owner", CLIENT_MAILBOX)
    await world.outlook_create(CLIENT_MAILBOX, "Board dinner", soon(6), attendees=(ADELE,))
    await world.outlook_create(MEGAN, "Team lunch", soon(7), attendees=(ADELE,))

    await world.sync.run_once()

    events = {event.subject: event for event in world.crm_events(ADELE)}
    assert sorted(events) == ["Board dinner", "Team lunch"]
    assert _attendee_rows(world, events["Board dinner"].id) == {
        (olivia, None, None, CLIENT_MAILBOX, False)
    }
    assert _attendee_rows(world, events["Team lunch"].id) == {
        (None, None, world.users[MEGAN], MEGAN, True)
    }
