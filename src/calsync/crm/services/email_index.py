"""Keeping the normalized-email index (see `calsync.crm.matching`) in step with the records.

Every service that adds, changes or deletes an email source calls one of the `reindex_*`
functions, which rewrite that record's index rows from its current state; addresses the record has
just gained then link the bare-email attendees waiting for them. Deleting a record, a Contact Point
Email or a custom field definition also removes rows through the table's foreign keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from calsync.crm.addresses import normalize_email
from calsync.crm.matching import RecordKind
from calsync.crm.models import (
    Contact,
    ContactPointEmail,
    CustomFieldDefinition,
    CustomFieldValue,
    EmailIndexEntry,
    EmailSource,
    EventAttendee,
    FieldType,
    Individual,
    User,
)
from calsync.crm.services.attendee_linking import link_bare_attendees

_RECORD_COLUMN = {
    RecordKind.USER: "user_id",
    RecordKind.INDIVIDUAL: "individual_id",
    RecordKind.CONTACT: "contact_id",
}
BULK_CHUNK = 5_000


@dataclass(frozen=True)
class IndexedAddress:
    """One address of a record and where on the record it was found."""

    email: str
    source: EmailSource
    custom_field_definition_id: int | None = None
    contact_point_email_id: int | None = None


def person_kind(person: Individual | Contact) -> RecordKind:
    """The record kind of a person record."""
    return RecordKind.INDIVIDUAL if isinstance(person, Individual) else RecordKind.CONTACT


def _person_addresses(session: Session, person: Individual | Contact) -> list[IndexedAddress]:
    kind = person_kind(person)
    owner_column = _RECORD_COLUMN[kind]
    found = [
        IndexedAddress(email, source)
        for email, source in (
            (person.email, EmailSource.EMAIL),
            (person.alternate_email, EmailSource.ALTERNATE_EMAIL),
        )
        if email
    ]
    custom_values = session.execute(
        select(CustomFieldValue.value, CustomFieldValue.definition_id)
        .join(CustomFieldDefinition)
        .where(
            getattr(CustomFieldValue, owner_column) == person.id,
            CustomFieldDefinition.field_type == FieldType.EMAIL,
        )
    )
    found += [
        IndexedAddress(value, EmailSource.CUSTOM_FIELD, custom_field_definition_id=definition)
        for value, definition in custom_values
    ]
    contact_points = session.execute(
        select(ContactPointEmail.email, ContactPointEmail.id).where(
            getattr(ContactPointEmail, owner_column) == person.id
        )
    )
    found += [
        IndexedAddress(email, EmailSource.CONTACT_POINT_EMAIL, contact_point_email_id=point)
        for email, point in contact_points
    ]
    return found


def _row(kind: RecordKind, record_id: int, address: IndexedAddress) -> dict[str, Any]:
    return {
        "email_normalized": normalize_email(address.email),
        "source": address.source,
        _RECORD_COLUMN[kind]: record_id,
        "custom_field_definition_id": address.custom_field_definition_id,
        "contact_point_email_id": address.contact_point_email_id,
    }


def _replace(
    session: Session, kind: RecordKind, record_id: int, addresses: list[IndexedAddress]
) -> None:
    session.flush()
    column = getattr(EmailIndexEntry, _RECORD_COLUMN[kind])
    before = set(
        session.scalars(select(EmailIndexEntry.email_normalized).where(column == record_id))
    )
    session.execute(delete(EmailIndexEntry).where(column == record_id))
    rows = [_row(kind, record_id, address) for address in addresses]
    rows = [row for row in rows if row["email_normalized"]]
    if rows:
        session.execute(insert(EmailIndexEntry), rows)
    gained = {row["email_normalized"] for row in rows} - before
    link_bare_attendees(session, kind, record_id, gained)


def reindex_user(session: Session, user: User) -> None:
    """Rewrite the index rows of a user (their mailbox)."""
    _replace(session, RecordKind.USER, user.id, [IndexedAddress(user.email, EmailSource.EMAIL)])


def reindex_person(session: Session, person: Individual | Contact) -> None:
    """Rewrite the index rows of an Individual or Contact from all of its email sources."""
    session.flush()
    _replace(session, person_kind(person), person.id, _person_addresses(session, person))


def reindex_holders_of_field(session: Session, definition_id: int) -> None:
    """Rewrite the index rows of every record with a value for a custom field (its type changed)."""
    session.flush()
    holders = session.execute(
        select(CustomFieldValue.individual_id, CustomFieldValue.contact_id).where(
            CustomFieldValue.definition_id == definition_id
        )
    ).all()
    for individual_id, contact_id in holders:
        person: Individual | Contact | None = (
            session.get(Individual, individual_id)
            if individual_id is not None
            else session.get(Contact, contact_id)
        )
        if person is not None:
            reindex_person(session, person)


def _all_rows(session: Session) -> Iterator[dict[str, Any]]:
    for user_id, mailbox in session.execute(select(User.id, User.email)):
        yield _row(RecordKind.USER, user_id, IndexedAddress(mailbox, EmailSource.EMAIL))
    for model, kind in ((Individual, RecordKind.INDIVIDUAL), (Contact, RecordKind.CONTACT)):
        owner_column = _RECORD_COLUMN[kind]
        for record_id, email, alternate in session.execute(
            select(model.id, model.email, model.alternate_email)
        ):
            if email:
                yield _row(kind, record_id, IndexedAddress(email, EmailSource.EMAIL))
            if alternate:
                yield _row(kind, record_id, IndexedAddress(alternate, EmailSource.ALTERNATE_EMAIL))
        for record_id, value, definition_id in session.execute(
            select(
                getattr(CustomFieldValue, owner_column),
                CustomFieldValue.value,
                CustomFieldValue.definition_id,
            )
            .join(CustomFieldDefinition)
            .where(
                getattr(CustomFieldValue, owner_column).is_not(None),
                CustomFieldDefinition.field_type == FieldType.EMAIL,
            )
        ):
            yield _row(
                kind,
                record_id,
                IndexedAddress(
                    value, EmailSource.CUSTOM_FIELD, custom_field_definition_id=definition_id
                ),
            )
        for record_id, email, point_id in session.execute(
            select(
                getattr(ContactPointEmail, owner_column),
                ContactPointEmail.email,
                ContactPointEmail.id,
            ).where(getattr(ContactPointEmail, owner_column).is_not(None))
        ):
            yield _row(
                kind,
                record_id,
                IndexedAddress(
                    email, EmailSource.CONTACT_POINT_EMAIL, contact_point_email_id=point_id
                ),
            )


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def rebuild_email_index(session: Session) -> int:
    """Rebuild the whole index from the records in bulk; returns the number of rows written.

    For imports and repairs: it writes the same rows the per-record maintenance would, with the
    same normalization, in large batches. Bare attendees are linked as the per-record path does.
    """
    session.flush()
    session.execute(delete(EmailIndexEntry))
    rows = [row for row in _all_rows(session) if row["email_normalized"]]
    for chunk in _chunks(rows, BULK_CHUNK):
        session.execute(insert(EmailIndexEntry), chunk)
    _link_all_bare_attendees(session)
    return len(rows)


def _link_all_bare_attendees(session: Session) -> None:

    waiting = session.execute(
        select(
            EmailIndexEntry.email_normalized,
            EmailIndexEntry.user_id,
            EmailIndexEntry.individual_id,
            EmailIndexEntry.contact_id,
        )
        .join(EventAttendee, EventAttendee.email_normalized == EmailIndexEntry.email_normalized)
        .where(
            EventAttendee.user_id.is_(None),
            EventAttendee.individual_id.is_(None),
            EventAttendee.contact_id.is_(None),
        )
        .distinct()
    ).all()
    for email, user_id, individual_id, contact_id in waiting:
        if user_id is not None:
            link_bare_attendees(session, RecordKind.USER, user_id, {email})
        elif individual_id is not None:
            link_bare_attendees(session, RecordKind.INDIVIDUAL, individual_id, {email})
        elif contact_id is not None:
            link_bare_attendees(session, RecordKind.CONTACT, contact_id, {email})
