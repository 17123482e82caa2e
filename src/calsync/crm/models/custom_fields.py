"""Admin-defined custom fields on Individuals and Contacts, and their values (SPEC §1)."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models.base import Base, Timestamped, enum_column
from calsync.crm.models.people import RecordType


class FieldType(enum.StrEnum):
    """The type of a custom field; values are validated against it. Email fields take part in
    matching.
    """

    TEXT = "Text"
    EMAIL = "Email"
    NUMBER = "Number"
    DATE = "Date"
    CHECKBOX = "Checkbox"


class CustomFieldDefinition(Base, Timestamped):
    """One custom field an administrator added to a record type."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("record_type", "key", name="uq_custom_field_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[RecordType] = mapped_column(enum_column(RecordType, "record_type"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    field_type: Mapped[FieldType] = mapped_column(enum_column(FieldType, "field_type"))


class CustomFieldValue(Base, Timestamped):
    """The value of one custom field on one record, stored as canonical text (see
    services.custom_fields).
    """

    __tablename__ = "custom_field_values"
    __table_args__ = (
        CheckConstraint(
            "(individual_id IS NULL) <> (contact_id IS NULL)", name="exactly_one_owner"
        ),
        UniqueConstraint("definition_id", "individual_id", name="uq_custom_value_individual"),
        UniqueConstraint("definition_id", "contact_id", name="uq_custom_value_contact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), index=True
    )
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("individuals.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text)
