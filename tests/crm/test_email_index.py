"""The email index: bare attendees are linked when a record gains their address, and a bulk
rebuild gives exactly the rows the per-record maintenance keeps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import EmailIndexEntry, Event, User
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.email_index import rebuild_email_index
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from calsync.crm.services.users import create_user
from tests.crm.conftest import bare, meeting


def _index_rows(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(
            EmailIndexEntry.email_normalized,
            EmailIndexEntry.source,
            EmailIndexEntry.user_id,
            EmailIndexEntry.individual_id,
            EmailIndexEntry.contact_id,
            EmailIndexEntry.custom_field_definition_id,
            EmailIndexEntry.contact_point_email_id,
        )
    ).all()
    return sorted((tuple(row) for row in rows), key=repr)


def test_a_bare_attendee_is_linked_when_a_person_gains_the_address(
    db_session: Session, advisor: User
) -> None:
    event = create_event(db_session, meeting(advisor, attendees=(bare("Oliver@Hughes.example"),)))
    db_session.commit()
    assert event.attendees[0].individual_id is None
    person = create_individual(db_session, IndividualInput(last_name="Hughes"))
    add_contact_point_email(db_session, "individual", person.id, "oliver@hughes.example")
    db_session.commit()
    stored = db_session.get(Event, event.id)
    assert stored is not None
    assert [(a.individual_id, a.email) for a in stored.attendees] == [
        (person.id, "Oliver@Hughes.example")
    ]
    assert stored.version == 2


def test_a_bare_attendee_becoming_a_user_gets_an_internal_copy(
    db_session: Session, advisor: User
) -> None:
    event = create_event(db_session, meeting(advisor, attendees=(bare("ana@kellerwealth.com"),)))
    ana = create_user(db_session, name="Ana Silva", email="ana@kellerwealth.com", time_zone="UTC")
    db_session.commit()
    [attendee] = event.attendees
    assert (attendee.user_id, attendee.is_internal) == (ana.id, True)
    copies = db_session.scalars(select(Event).where(Event.copy_of_event_id == event.id)).all()
    assert [copy.owner_id for copy in copies] == [ana.id]


def test_a_rebuild_gives_the_same_rows_as_incremental_maintenance(
    db_session: Session, advisor: User
) -> None:
    person = create_individual(
        db_session,
        IndividualInput(
            last_name="Hughes", email="o@hughes.example", alternate_email="alt@h.example"
        ),
    )
    contact = create_contact(db_session, ContactInput(last_name="Raman", email="P@Raman.example"))
    define_custom_field(db_session, "contact", "billing", "Billing email", "Email")
    define_custom_field(db_session, "contact", "notes", "Notes", "Text")
    set_custom_value(db_session, "contact", contact.id, "billing", "bills@raman.example")
    set_custom_value(db_session, "contact", contact.id, "notes", "not-an-index@entry.example")
    add_contact_point_email(db_session, "individual", person.id, " Home@Hughes.example ")
    db_session.commit()
    incremental = _index_rows(db_session)

    written = rebuild_email_index(db_session)
    db_session.commit()

    assert written == len(incremental) == 6
    assert _index_rows(db_session) == incremental
