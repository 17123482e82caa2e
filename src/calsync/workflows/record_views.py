"""Read the record a run is about, and the users it names, into the planner's plain views."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import (
    Contact,
    CustomFieldDefinition,
    CustomFieldValue,
    Individual,
    RecordType,
    User,
)
from calsync.workflows.errors import RecordNotFoundError
from calsync.workflows.planning import RecordView, UserView
from calsync.workflows.record_schema import STANDARD_FIELDS, USER_FIELDS

Person = Individual | Contact


def load_person(session: Session, record_type: RecordType, record_id: int) -> Person:
    """The Individual or Contact a run is about; raises naming `record_id` when there is none."""
    person: Person | None = (
        session.get(Individual, record_id)
        if record_type is RecordType.INDIVIDUAL
        else session.get(Contact, record_id)
    )
    if person is None:
        raise RecordNotFoundError(f"no {record_type.value} with id {record_id}", field="record_id")
    return person


def custom_values(session: Session, record_type: RecordType, record_id: int) -> dict[str, str]:
    """The record's custom field values by key, as the canonical text the CRM stores."""
    owner_column = (
        CustomFieldValue.individual_id
        if record_type is RecordType.INDIVIDUAL
        else CustomFieldValue.contact_id
    )
    rows = session.execute(
        select(CustomFieldDefinition.key, CustomFieldValue.value)
        .join(CustomFieldDefinition, CustomFieldValue.definition_id == CustomFieldDefinition.id)
        .where(owner_column == record_id)
    )
    return {row.key: row.value for row in rows}


def field_values(
    session: Session, record_type: RecordType, person: Person
) -> dict[str, str | None]:
    """The record's fields as workflows name them: `first_name` …, `name`, `custom.<key>`."""
    values: dict[str, str | None] = {}
    for field in STANDARD_FIELDS[record_type]:
        value = person.display_name if field == "name" else getattr(person, field)
        values[field] = None if value is None else str(value)
    for key, value in custom_values(session, record_type, person.id).items():
        values[f"custom.{key}"] = value
    return values


def record_view(session: Session, record_type: RecordType, record_id: int) -> RecordView:
    person = load_person(session, record_type, record_id)
    fields = field_values(session, record_type, person)
    return RecordView(
        record_type=record_type,
        id=person.id,
        name=person.display_name,
        email=person.email,
        values={f"record.{field}": value for field, value in fields.items()},
        user_ids={
            field: getattr(person, column) for field, column in USER_FIELDS[record_type].items()
        },
    )


def user_views(session: Session, user_ids: Iterable[int | None]) -> dict[int, UserView]:
    """The users with these ids that exist, by id."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.id.in_(wanted)))
    return {
        user.id: UserView(id=user.id, name=user.name, email=user.email, time_zone=user.time_zone)
        for user in users
    }
