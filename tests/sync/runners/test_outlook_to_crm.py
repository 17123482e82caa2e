"""SPEC §2/§3 end to end: Outlook events reach the CRM on the next run with their attendees
matched, edits follow both ways, conflicts go to Microsoft 365 and are logged."""

from __future__ import annotations

from calsync.crm.models import Origin
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import ContactInput, create_contact
from calsync.sync.storage.models import LinkOrigin, LogKind
from tests.fixtures.emulator import ADELE, MEGAN
from tests.sync.runners.world import World, soon


async def test_an_outlook_event_reaches_the_crm_with_attendees_matched_over_all_sources(
    world: World,
) -> None:
    by_email = world.individual("Primary", "primary@fabrikam.example")
    by_custom_field = world.individual("Custom", None)
    with world.sessions() as session:
        define_custom_field(session, "individual", "personal_email", "Personal email", "Email")
        set_custom_value(
            session, "individual", by_custom_field, "personal_email", "custom@home.example"
        )
        by_alternate = create_contact(
            session, ContactInput(last_name="Alternate", alternate_email="alt@fabrikam.example")
        ).id
        by_point = create_contact(session, ContactInput(last_name="Point"))
        add_contact_point_email(session, "contact", by_point.id, "point@fabrikam.example")
        by_point_id = by_point.id
        session.commit()
    created = await world.outlook_create(
        ADELE,
        "Portfolio check",
        soon(6),
        attendees=(
            "PRIMARY@fabrikam.example",
            "custom@home.example",
            "alt@fabrikam.example",
            "point@fabrikam.example",
            MEGAN,
            "stranger@elsewhere.example",
        ),
    )

    await world.sync.run_once()

    [event] = world.crm_events(ADELE)
    assert event.subject == "Portfolio check"
    assert event.origin is Origin.MICROSOFT365
    records = {(a.individual_id, a.contact_id, a.user_id, a.email) for a in event.attendees}
    assert (by_email, None, None, "primary@fabrikam.example") in records
    assert (by_custom_field, None, None, "custom@home.example") in records
    assert (None, by_alternate, None, "alt@fabrikam.example") in records
    assert (None, by_point_id, None, "point@fabrikam.example") in records
    assert (None, None, world.users[MEGAN], MEGAN) in records
    assert (None, None, None, "stranger@elsewhere.example") in records
    link = world.link_of(event.id)
    assert link is not None
    assert link.graph_id == created.id
    assert link.origin is LinkOrigin.MICROSOFT_365


async def test_outlook_edits_reach_the_crm_and_crm_edits_reach_outlook(world: World) -> None:
    created = await world.outlook_create(ADELE, "Call", soon(7))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    await world.outlook_update(ADELE, created.id, subject="Call (agenda attached)")
    await world.sync.run_once()
    assert world.crm_events(ADELE)[0].subject == "Call (agenda attached)"

    world.crm_update(event.id, location="Zoom room 2")
    await world.sync.run_once()
    outlook = await world.outlook_event(ADELE, created.id)
    assert outlook.location is not None
    assert outlook.location.display_name == "Zoom room 2"
    assert outlook.subject == "Call (agenda attached)"


async def test_a_field_changed_on_both_sides_takes_outlooks_value_and_is_logged(
    world: World,
) -> None:
    created = await world.outlook_create(ADELE, "Quarterly", soon(8))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    world.crm_update(event.id, subject="Quarterly (CRM)", description="CRM-only notes")
    await world.outlook_update(ADELE, created.id, subject="Quarterly (Outlook)")
    await world.sync.run_once()

    after = world.crm_event(event.id)
    assert after is not None
    assert after.subject == "Quarterly (Outlook)"
    assert after.description == "CRM-only notes"
    outlook = await world.outlook_event(ADELE, created.id)
    assert outlook.subject == "Quarterly (Outlook)"
    assert "CRM-only notes" in (outlook.body.content if outlook.body else "")
    [conflict] = [line for line in world.log() if line.kind is LogKind.CONFLICT]
    assert conflict.field == "subject"
    assert "Quarterly (CRM)" in conflict.message
    assert conflict.crm_event_id == event.id


async def test_deleted_in_outlook_while_edited_in_the_crm_deletes_and_logs_the_lost_edit(
    world: World,
) -> None:
    created = await world.outlook_create(ADELE, "Lunch", soon(9))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    world.crm_update(event.id, location="New place")
    await world.outlook_delete(ADELE, created.id)
    await world.sync.pull_mailbox(ADELE)

    assert world.crm_event(event.id) is None
    assert world.log("crm_edit_lost_to_outlook_deletion")
    await world.sync.push_pending()
    assert await world.outlook_events(ADELE) == []


async def test_deleted_in_the_crm_while_edited_in_outlook_comes_back(world: World) -> None:
    created = await world.outlook_create(ADELE, "Dinner", soon(10))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    await world.outlook_update(ADELE, created.id, subject="Dinner (moved)")
    world.crm_delete(event.id)
    await world.sync.run_once()

    [restored] = world.crm_events(ADELE)
    assert restored.subject == "Dinner (moved)"
    assert [e.id for e in await world.outlook_events(ADELE)] == [created.id]
    assert world.log("restored_by_outlook_edit")


async def test_deleted_in_the_crm_and_unchanged_in_outlook_is_deleted_there(world: World) -> None:
    created = await world.outlook_create(ADELE, "Coffee", soon(11))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    world.crm_delete(event.id)
    await world.sync.run_once()

    assert world.crm_events(ADELE) == []
    assert created.id not in [e.id for e in await world.outlook_events(ADELE)]
