"""The firm's people (SPEC §1): Individuals it serves, Contacts at other organisations, and their
extra email addresses (Contact Point Emails).
"""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models.base import Base, Timestamped


class RecordType(enum.StrEnum):
    """The kinds of people records that carry custom fields and Contact Point Emails."""

    INDIVIDUAL = "individual"
    CONTACT = "contact"


class PersonColumns(Timestamped):
    """Columns shared by Individuals and Contacts: a name and the email sources of SPEC §3."""

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    alternate_email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))

    @property
    def display_name(self) -> str:
        """First and last name as a person would write them."""
        return f"{self.first_name} {self.last_name}".strip()


class Individual(Base, PersonColumns):
    """A person the firm serves, optionally looked after by an advisor (a staff User)."""

    __tablename__ = "individuals"

    advisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class Contact(Base, PersonColumns):
    """A person at another organisation."""

    __tablename__ = "contacts"

    organization_name: Mapped[str | None] = mapped_column(String(200))


class ContactPointEmail(Base, Timestamped):
    """An extra email address belonging to exactly one Individual or Contact."""

    __tablename__ = "contact_point_emails"
    __table_args__ = (
        CheckConstraint(
            "(individual_id IS NULL) <> (contact_id IS NULL)", name="exactly_one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("individuals.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    label: Mapped[str] = mapped_column(String(100), default="")
