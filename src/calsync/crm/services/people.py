"""Individuals and Contacts (SPEC §1): the people the firm serves and works with.

Their `email` and `alternate_email` take part in attendee matching, so every save re-indexes the
record. Deleting a person keeps the events they attended: those attendees become plain addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.addresses import optional_email
from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Contact, Individual, RecordType, User
from calsync.crm.services.attendee_linking import unlink_record
from calsync.crm.services.email_index import person_kind, reindex_person
from calsync.crm.services.validation import bounded_text, require, required_text

MAX_NAME_LENGTH = 200
MAX_PHONE_LENGTH = 50


@dataclass(frozen=True, kw_only=True)
class PersonInput:
    """The fields Individuals and Contacts share; a save replaces all of them."""

    first_name: str = ""
    last_name: str
    email: str | None = None
    alternate_email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class IndividualInput(PersonInput):
    """An Individual's fields; `advisor_id` is the staff User looking after them."""

    advisor_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ContactInput(PersonInput):
    """A Contact's fields; `organization_name` is the organisation they work for."""

    organization_name: str | None = None


def _checked_phone(value: str | None) -> str | None:
    phone = bounded_text(value, "phone", MAX_PHONE_LENGTH)
    if not phone:
        return None
    if not any(character.isdigit() for character in phone):
        raise InvalidInputError(f"'{phone}' is not a phone number", field="phone")
    return phone


def _person_values(data: PersonInput) -> dict[str, object]:
    values: dict[str, object] = {
        "first_name": bounded_text(data.first_name, "first_name", MAX_NAME_LENGTH),
        "last_name": required_text(data.last_name, "last_name", MAX_NAME_LENGTH),
        "email": optional_email(data.email, "email"),
        "alternate_email": optional_email(data.alternate_email, "alternate_email"),
        "phone": _checked_phone(data.phone),
    }
    return values


def _individual_values(session: Session, data: IndividualInput) -> dict[str, object]:
    values = _person_values(data)
    if data.advisor_id is not None:
        require(session, User, data.advisor_id, "advisor_id")
    values["advisor_id"] = data.advisor_id
    return values


def _contact_values(data: ContactInput) -> dict[str, object]:
    values = _person_values(data)
    organization = bounded_text(data.organization_name, "organization_name", MAX_NAME_LENGTH)
    values["organization_name"] = organization or None
    return values


def _save(session: Session, person: Individual | Contact, values: dict[str, object]) -> None:
    for name, value in values.items():
        setattr(person, name, value)
    session.add(person)
    session.flush()
    reindex_person(session, person)


def create_individual(session: Session, data: IndividualInput) -> Individual:
    """Add an Individual after checking every field."""
    individual = Individual()
    _save(session, individual, _individual_values(session, data))
    return individual


def update_individual(session: Session, individual_id: int, data: IndividualInput) -> Individual:
    """Replace an Individual's fields after checking every one of them."""
    individual = require(session, Individual, individual_id, "individual_id")
    _save(session, individual, _individual_values(session, data))
    return individual


def create_contact(session: Session, data: ContactInput) -> Contact:
    """Add a Contact after checking every field."""
    contact = Contact()
    _save(session, contact, _contact_values(data))
    return contact


def update_contact(session: Session, contact_id: int, data: ContactInput) -> Contact:
    """Replace a Contact's fields after checking every one of them."""
    contact = require(session, Contact, contact_id, "contact_id")
    _save(session, contact, _contact_values(data))
    return contact


def individual_input_of(individual: Individual) -> IndividualInput:
    """The current fields of an Individual, to change some with `dataclasses.replace`."""
    return IndividualInput(
        first_name=individual.first_name,
        last_name=individual.last_name,
        email=individual.email,
        alternate_email=individual.alternate_email,
        phone=individual.phone,
        advisor_id=individual.advisor_id,
    )


def contact_input_of(contact: Contact) -> ContactInput:
    """The current fields of a Contact, to change some with `dataclasses.replace`."""
    return ContactInput(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        alternate_email=contact.alternate_email,
        phone=contact.phone,
        organization_name=contact.organization_name,
    )


def get_individual(session: Session, individual_id: int) -> Individual:
    """The Individual with `individual_id`; raises NotFoundError if there is none."""
    return require(session, Individual, individual_id, "individual_id")


def get_contact(session: Session, contact_id: int) -> Contact:
    """The Contact with `contact_id`; raises NotFoundError if there is none."""
    return require(session, Contact, contact_id, "contact_id")


def get_person(
    session: Session, record_type: RecordType | str, record_id: int
) -> Individual | Contact:
    """An Individual or Contact by record type and id."""
    kind = checked_record_type(record_type)
    if kind is RecordType.INDIVIDUAL:
        return get_individual(session, record_id)
    return get_contact(session, record_id)


def checked_record_type(value: RecordType | str) -> RecordType:
    """`value` as a RecordType; raises naming `record_type` if it is neither kind."""
    try:
        return RecordType(value)
    except ValueError:
        raise InvalidInputError(
            f"unknown record type '{value}'; use individual or contact", field="record_type"
        ) from None


def list_individuals(
    session: Session, *, offset: int = 0, limit: int | None = None
) -> list[Individual]:
    """Individuals by last and first name; `offset`/`limit` cut a page in the database."""
    query = select(Individual).order_by(Individual.last_name, Individual.first_name, Individual.id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def list_contacts(session: Session, *, offset: int = 0, limit: int | None = None) -> list[Contact]:
    """Contacts by last and first name; `offset`/`limit` cut a page in the database."""
    query = select(Contact).order_by(Contact.last_name, Contact.first_name, Contact.id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def delete_person(session: Session, person: Individual | Contact) -> None:
    """Delete an Individual or Contact with its Contact Point Emails and custom values.

    Events keep their attendees as plain addresses (an attendee without an address is removed).
    """
    unlink_record(session, person_kind(person), person.id)
    session.delete(person)
    session.flush()


def delete_individual(session: Session, individual_id: int) -> None:
    """Delete an Individual (see `delete_person`)."""
    delete_person(session, get_individual(session, individual_id))


def delete_contact(session: Session, contact_id: int) -> None:
    """Delete a Contact (see `delete_person`)."""
    delete_person(session, get_contact(session, contact_id))
