"""Admin-defined custom fields on Individuals and Contacts, and their values (SPEC §1).

Fields of type Email take part in attendee matching: setting, changing or clearing such a value,
changing a field's type to or from Email, and deleting a field all update the email index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import DuplicateError, InvalidInputError, NotFoundError
from calsync.crm.models import (
    Contact,
    CustomFieldDefinition,
    CustomFieldValue,
    FieldType,
    Individual,
    RecordType,
)
from calsync.crm.services.changes import UNCHANGED, Unchanged
from calsync.crm.services.custom_field_values import CustomValue, canonical_value, read_value
from calsync.crm.services.email_index import reindex_holders_of_field, reindex_person
from calsync.crm.services.people import checked_record_type, get_person
from calsync.crm.services.validation import require, required_text

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_LABEL_LENGTH = 200


@dataclass(frozen=True)
class CustomFieldChanges:
    """What to change on a definition; fields left UNCHANGED keep their value."""

    label: str | Unchanged = UNCHANGED
    field_type: FieldType | str | Unchanged = UNCHANGED


def _checked_field_type(value: FieldType | str) -> FieldType:
    try:
        return FieldType(value)
    except ValueError:
        raise InvalidInputError(
            f"unknown field type '{value}'; use one of: "
            + ", ".join(field_type.value for field_type in FieldType),
            field="field_type",
        ) from None


def define_custom_field(
    session: Session,
    record_type: RecordType | str,
    key: str,
    label: str,
    field_type: FieldType | str,
) -> CustomFieldDefinition:
    """Add a custom field to Individuals or Contacts. `key` is its stable machine name."""
    kind = checked_record_type(record_type)
    checked_key = (key or "").strip()
    if not KEY_PATTERN.match(checked_key):
        raise InvalidInputError(
            "key must start with a lower-case letter and use only a-z, 0-9 and _ (at most 64)",
            field="key",
        )
    checked_label = required_text(label, "label", MAX_LABEL_LENGTH)
    checked_type = _checked_field_type(field_type)
    if _find_definition(session, kind, checked_key) is not None:
        raise DuplicateError(
            f"{kind.value} already has a custom field '{checked_key}'", field="key"
        )
    definition = CustomFieldDefinition(
        record_type=kind, key=checked_key, label=checked_label, field_type=checked_type
    )
    session.add(definition)
    session.flush()
    return definition


def _find_definition(session: Session, kind: RecordType, key: str) -> CustomFieldDefinition | None:
    return session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.record_type == kind, CustomFieldDefinition.key == key
        )
    )


def update_custom_field(
    session: Session, definition_id: int, changes: CustomFieldChanges
) -> CustomFieldDefinition:
    """Rename a field or change its type; a type change converts every existing value first.

    If any existing value is not valid for the new type, nothing changes and the error says how
    many values are in the way and one example.
    """
    definition = require(session, CustomFieldDefinition, definition_id, "custom_field_id")
    new_label = (
        definition.label
        if isinstance(changes.label, Unchanged)
        else required_text(changes.label, "label", MAX_LABEL_LENGTH)
    )
    new_type = (
        definition.field_type
        if isinstance(changes.field_type, Unchanged)
        else _checked_field_type(changes.field_type)
    )
    converted: list[tuple[CustomFieldValue, str]] = []
    if new_type is not definition.field_type:
        values = session.scalars(
            select(CustomFieldValue).where(CustomFieldValue.definition_id == definition.id)
        ).all()
        failures: list[CustomFieldValue] = []
        for value in values:
            try:
                converted.append((value, canonical_value(new_type, value.value, "field_type")))
            except InvalidInputError:
                failures.append(value)
        if failures:
            example = failures[0]
            raise InvalidInputError(
                f"{len(failures)} existing value(s) are not valid as {new_type.value} (for example "
                f"'{example.value}'); change or clear them first",
                field="field_type",
            )
    old_type = definition.field_type
    definition.label = new_label
    definition.field_type = new_type
    for value, text in converted:
        value.value = text
    session.flush()
    if old_type is not new_type and FieldType.EMAIL in (old_type, new_type):
        reindex_holders_of_field(session, definition.id)
    return definition


def delete_custom_field(session: Session, definition_id: int) -> None:
    """Delete a field and all its values; Email values stop matching (index rows cascade)."""
    definition = require(session, CustomFieldDefinition, definition_id, "custom_field_id")
    session.delete(definition)
    session.flush()


def list_custom_fields(
    session: Session, record_type: RecordType | str
) -> list[CustomFieldDefinition]:
    """The custom fields of Individuals or of Contacts, by label."""
    kind = checked_record_type(record_type)
    return list(
        session.scalars(
            select(CustomFieldDefinition)
            .where(CustomFieldDefinition.record_type == kind)
            .order_by(CustomFieldDefinition.label, CustomFieldDefinition.id)
        )
    )


def set_custom_values(
    session: Session,
    record_type: RecordType | str,
    record_id: int,
    values: Mapping[str, object],
) -> dict[str, CustomValue]:
    """Set several custom values of one record by key; None or "" clears a value.

    Every value is checked against its field's type before anything is written. Returns all the
    record's values afterwards.
    """
    kind = checked_record_type(record_type)
    person = get_person(session, kind, record_id)
    planned: list[tuple[CustomFieldDefinition, str | None]] = []
    for key, value in values.items():
        definition = _find_definition(session, kind, key)
        if definition is None:
            raise NotFoundError(
                f"{kind.value} has no custom field '{key}'", field=f"custom_fields.{key}"
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            planned.append((definition, None))
        else:
            planned.append(
                (definition, canonical_value(definition.field_type, value, f"custom_fields.{key}"))
            )
    touches_email = False
    for definition, text in planned:
        _write(session, definition, person, text)
        touches_email = touches_email or definition.field_type is FieldType.EMAIL
    session.flush()
    if touches_email:
        reindex_person(session, person)
    return custom_values(session, kind, record_id)


def set_custom_value(
    session: Session, record_type: RecordType | str, record_id: int, key: str, value: object
) -> dict[str, CustomValue]:
    """Set (or with None, clear) one custom value; see `set_custom_values`."""
    return set_custom_values(session, record_type, record_id, {key: value})


def _write(
    session: Session,
    definition: CustomFieldDefinition,
    person: Individual | Contact,
    text: str | None,
) -> None:
    owner_column = (
        CustomFieldValue.individual_id
        if isinstance(person, Individual)
        else CustomFieldValue.contact_id
    )
    current = session.scalar(
        select(CustomFieldValue).where(
            CustomFieldValue.definition_id == definition.id, owner_column == person.id
        )
    )
    if text is None:
        if current is not None:
            session.delete(current)
        return
    if current is None:
        current = CustomFieldValue(definition_id=definition.id, value=text)
        if isinstance(person, Individual):
            current.individual_id = person.id
        else:
            current.contact_id = person.id
        session.add(current)
    else:
        current.value = text


def custom_values(
    session: Session, record_type: RecordType | str, record_id: int
) -> dict[str, CustomValue]:
    """A record's custom values by key, as Python values of their field types."""
    kind = checked_record_type(record_type)
    owner_column = (
        CustomFieldValue.individual_id
        if kind is RecordType.INDIVIDUAL
        else CustomFieldValue.contact_id
    )
    rows = session.execute(
        select(CustomFieldDefinition.key, CustomFieldDefinition.field_type, CustomFieldValue.value)
        .join(CustomFieldValue, CustomFieldValue.definition_id == CustomFieldDefinition.id)
        .where(owner_column == record_id)
        .order_by(CustomFieldDefinition.key)
    )
    return {key: read_value(field_type, stored) for key, field_type, stored in rows}
