"""The normalized-email index that makes attendee matching (SPEC §3) one indexed lookup.

Each row says "this address, lower-cased and trimmed, belongs to that record through that source".
The
services rewrite a record's rows whenever one of its email sources changes; deleting a record, a
Contact
Point Email or a custom field definition removes its rows through the foreign keys.
"""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models.base import Base, enum_column


class EmailSource(enum.StrEnum):
    """Where on a record an address was found, in the order of SPEC §3."""

    EMAIL = "email"
    ALTERNATE_EMAIL = "alternate_email"
    CUSTOM_FIELD = "custom_field"
    CONTACT_POINT_EMAIL = "contact_point_email"


class EmailIndexEntry(Base):
    """One address of one User, Individual or Contact."""

    __tablename__ = "email_index"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN individual_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_record",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email_normalized: Mapped[str] = mapped_column(String(320), index=True)
    source: Mapped[EmailSource] = mapped_column(enum_column(EmailSource, "email_source"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("individuals.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    custom_field_definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_field_definitions.id", ondelete="CASCADE"), index=True
    )
    contact_point_email_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_point_emails.id", ondelete="CASCADE"), index=True
    )
