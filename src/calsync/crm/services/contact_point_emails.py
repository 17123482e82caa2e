"""Contact Point Emails (SPEC §1): extra addresses of one Individual or Contact.

Each one takes part in attendee matching, so every change re-indexes the record it belongs to.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.addresses import checked_email
from calsync.crm.models import Contact, ContactPointEmail, Individual, RecordType
from calsync.crm.services.email_index import reindex_person
from calsync.crm.services.people import checked_record_type, get_contact, get_individual, get_person
from calsync.crm.services.validation import bounded_text, require

MAX_LABEL_LENGTH = 100


def _person_of(session: Session, point: ContactPointEmail) -> Individual | Contact:
    if point.individual_id is not None:
        return get_individual(session, point.individual_id)
    return get_contact(session, point.contact_id or 0)


def add_contact_point_email(
    session: Session, record_type: RecordType | str, record_id: int, email: str, label: str = ""
) -> ContactPointEmail:
    """Give an Individual or Contact one more address."""
    person = get_person(session, record_type, record_id)
    address = checked_email(email, "email")
    checked_label = bounded_text(label, "label", MAX_LABEL_LENGTH)
    point = ContactPointEmail(email=address, label=checked_label)
    if isinstance(person, Individual):
        point.individual_id = person.id
    else:
        point.contact_id = person.id
    session.add(point)
    session.flush()
    reindex_person(session, person)
    return point


def update_contact_point_email(
    session: Session, point_id: int, email: str, label: str = ""
) -> ContactPointEmail:
    """Change the address (and label) of a Contact Point Email."""
    point = require(session, ContactPointEmail, point_id, "contact_point_email_id")
    address = checked_email(email, "email")
    checked_label = bounded_text(label, "label", MAX_LABEL_LENGTH)
    point.email = address
    point.label = checked_label
    session.flush()
    reindex_person(session, _person_of(session, point))
    return point


def delete_contact_point_email(session: Session, point_id: int) -> None:
    """Remove a Contact Point Email; its address stops matching the record."""
    point = require(session, ContactPointEmail, point_id, "contact_point_email_id")
    person = _person_of(session, point)
    session.delete(point)
    session.flush()
    reindex_person(session, person)


def list_contact_point_emails(
    session: Session, record_type: RecordType | str, record_id: int
) -> list[ContactPointEmail]:
    """The Contact Point Emails of one Individual or Contact, oldest first."""
    kind = checked_record_type(record_type)
    column = (
        ContactPointEmail.individual_id
        if kind is RecordType.INDIVIDUAL
        else ContactPointEmail.contact_id
    )
    return list(
        session.scalars(
            select(ContactPointEmail).where(column == record_id).order_by(ContactPointEmail.id)
        )
    )
