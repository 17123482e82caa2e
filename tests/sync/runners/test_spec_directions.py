"""SPEC §2 end to end, the rules the older runner tests leave implicit: a Contact is invited at
the `email` of its record and the meeting mail goes out with the push, an Outlook event keeps its
own time zone in the CRM, nothing echoes back from the CRM to Outlook, each field changed on both
sides is a logged conflict, and delete-versus-edit for meetings with guests (which Graph cancels
rather than deletes) in both directions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.people import ContactInput, create_contact
from calsync.graph.models import Location
from calsync.sync.storage.models import Direction, LogKind
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_a_contact_is_invited_at_the_email_of_its_record_as_soon_as_the_event_is_pushed(
    world: World,
) -> None:
    with world.sessions() as session:
        contact = create_contact(
            session,
            ContactInput(
                last_name="Partner",
                email="dana@northwind.example",
                alternate_email="dana.home@northwind.example",
            ),
        )
        add_contact_point_email(session, "contact", contact.id, "dana.pa@northwind.example")
        contact_id = contact.id
        session.commit()
    individual = world.individual("Client", "chris@fabrikam.example", alternate_email="c@h.example")
    event_id = world.crm_create(
        ADELE,
        "Partnership review",
        soon(3),
        attendees=(AttendeeInput(contact_id=contact_id), AttendeeInput(individual_id=individual)),
    )

    report = await world.sync.push_pending()  # what the push worker runs right after the save

    assert report.pushed == 1
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    invited = sorted(
        str(a.email_address.address) for a in outlook.attendees or [] if a.email_address
    )
    assert invited == ["chris@fabrikam.example", "dana@northwind.example"]
    assert await world.sent_items(ADELE) == ["Partnership review"]  # the invitation went out


async def test_an_outlook_event_keeps_its_own_time_zone_in_the_crm(world: World) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    day = soon(12).date()
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=berlin)
    created = await world.outlook_create(ADELE, "Frankfurt visit", start, zone="Europe/Berlin")

    await world.sync.run_once()

    [event] = world.crm_events(ADELE)
    assert event.time_zone == "Europe/Berlin"
    local = event.start_at.astimezone(berlin)
    assert (local.date(), local.hour, local.minute) == (day, 10, 0)
    outlook = await world.outlook_event(ADELE, created.id)
    assert outlook.times().zone.zone == berlin  # the run did not rewrite it in another zone


async def test_an_outlook_edit_is_not_written_back_to_outlook_nor_again_to_the_crm(
    world: World,
) -> None:
    created = await world.outlook_create(ADELE, "Budget call", soon(6))
    await world.sync.run_once()
    await world.outlook_update(ADELE, created.id, subject="Budget call (Q3)")
    etag = (await world.outlook_event(ADELE, created.id)).etag

    first = await world.sync.run_once()
    [event] = world.crm_events(ADELE)
    second = await world.sync.run_once()

    assert event.subject == "Budget call (Q3)"
    assert sum(pull.crm_writes for pull in first.pulls) == 1
    assert sum(pull.graph_writes for pull in first.pulls) == 0
    assert all(push.pushed == 0 for push in first.pushes)
    assert (await world.outlook_event(ADELE, created.id)).etag == etag
    assert sum(pull.crm_writes + pull.graph_writes for pull in second.pulls) == 0
    after = world.crm_event(event.id)
    assert after is not None
    assert after.version == event.version
    assert not [
        line for line in world.log() if line.direction is Direction.CRM_TO_MICROSOFT_365
    ]  # the log shows no write towards Outlook at all


async def test_an_outlook_save_that_changes_no_synced_field_is_written_nowhere(
    world: World,
) -> None:
    created = await world.outlook_create(ADELE, "Quiet", soon(4))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)
    before = await world.outlook_event(ADELE, created.id)

    # Outlook saves again with only fields the sync does not carry: a new change key in Graph.
    await world.outlook_update(ADELE, created.id, categories=("Blue category",))
    after_save = await world.outlook_event(ADELE, created.id)
    assert after_save.change_key != before.change_key
    report = await world.sync.run_once()

    assert sum(pull.crm_writes + pull.graph_writes for pull in report.pulls) == 0
    unchanged = world.crm_event(event.id)
    assert unchanged is not None
    assert unchanged.version == event.version
    assert (await world.outlook_event(ADELE, created.id)).change_key == after_save.change_key


async def test_a_crm_event_moved_to_another_zone_in_outlook_takes_that_zone(world: World) -> None:
    event_id = world.crm_create(ADELE, "Roadshow", soon(3))
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None

    await world.outlook_update(
        ADELE, link.graph_id, start=soon(4), end=soon(4, 11), time_zone="Europe/Berlin"
    )
    await world.sync.run_once()

    event = world.crm_event(event_id)
    assert event is not None
    assert (event.time_zone, event.start_at, event.end_at) == (
        "Europe/Berlin",
        soon(4),
        soon(4, 11),
    )


async def test_a_meeting_deleted_in_the_crm_while_edited_in_outlook_comes_back_uncancelled(
    world: World,
) -> None:
    """Graph's cancel has no If-Match: the push reads the meeting first, so the Outlook edit is not
    lost to a cancellation sent to the guests."""
    event_id = world.crm_create(
        ADELE, "Review", soon(3), attendees=(AttendeeInput(email="guest@tailspin.example"),)
    )
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None
    await world.outlook_update(ADELE, link.graph_id, subject="Review (new agenda)")
    world.crm_delete(event_id)

    waiting = await world.sync.push_pending()  # the push worker, right after the deletion
    await world.sync.run_once()

    assert waiting.waiting_for_pull == 1
    [restored] = world.crm_events(ADELE)
    assert restored.subject == "Review (new agenda)"
    assert [e.id for e in await world.outlook_events(ADELE)] == [link.graph_id]
    assert world.log("restored_by_outlook_edit")
    assert not world.log("cancel_in_microsoft365")
    assert await world.sent_items(ADELE) == ["Review (new agenda)", "Review"]


async def test_each_field_changed_on_both_sides_is_its_own_conflict_in_the_log(
    world: World,
) -> None:
    created = await world.outlook_create(ADELE, "Quarterly", soon(8))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    world.crm_update(event.id, subject="Quarterly (CRM)", location="CRM room", show_as="free")
    await world.outlook_update(
        ADELE, created.id, subject="Quarterly (Outlook)", location=Location(display_name="Annex")
    )
    await world.sync.run_once()

    after = world.crm_event(event.id)
    assert after is not None
    assert (after.subject, after.location, after.show_as) == (
        "Quarterly (Outlook)",
        "Annex",
        "free",
    )
    outlook = await world.outlook_event(ADELE, created.id)
    assert (outlook.subject, outlook.show_as) == ("Quarterly (Outlook)", "free")
    conflicts = [line for line in world.log() if line.kind is LogKind.CONFLICT]
    assert sorted(str(line.field) for line in conflicts) == ["location", "subject"]
    assert all(line.crm_event_id == event.id for line in conflicts)
    assert "CRM room" in next(line.message for line in conflicts if line.field == "location")


async def test_a_meeting_cancelled_in_outlook_while_edited_in_the_crm_leaves_the_crm(
    world: World,
) -> None:
    """The push worker sends the CRM edit first and finds the meeting gone; the pull then removes
    the CRM event and says which edit was lost (SPEC §2: Microsoft 365 wins)."""
    event_id = world.crm_create(
        ADELE, "Review", soon(3), attendees=(AttendeeInput(email="guest@tailspin.example"),)
    )
    await world.sync.push_pending()
    link = world.link_of(event_id)
    assert link is not None
    await world.outlook.cancel_event(ADELE, link.graph_id)
    world.crm_update(event_id, location="New room")

    await world.sync.push_pending()
    await world.sync.run_once()
    await world.sync.run_once()

    assert world.crm_event(event_id) is None
    assert await world.outlook_events(ADELE) == []
    [lost] = world.log("crm_edit_lost_to_outlook_deletion")
    assert "location" in lost.message
    assert lost.crm_event_id == event_id
