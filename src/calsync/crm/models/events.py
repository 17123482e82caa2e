"""Events and their attendees (SPEC §1, §4, §5, §6)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from calsync.crm.models.base import Base, Timestamped, enum_column


class ShowAs(enum.StrEnum):
    """How the time shows on the owner's free/busy, with Microsoft Graph's values."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    WORKING_ELSEWHERE = "workingElsewhere"


class Origin(enum.StrEnum):
    """Where the event was first created."""

    CRM = "crm"
    MICROSOFT365 = "microsoft365"


class SyncStatus(enum.StrEnum):
    """Where the event stands with Microsoft 365; `sync_message` says why when it is not synced or
    failed.
    """

    NOT_SYNCED = "not_synced"
    PENDING = "pending"
    SYNCED = "synced"
    ERROR = "error"


class ResponseStatus(enum.StrEnum):
    """An attendee's answer, with Microsoft Graph's values."""

    NONE = "none"
    ORGANIZER = "organizer"
    TENTATIVELY_ACCEPTED = "tentativelyAccepted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_RESPONDED = "notResponded"


class AttendeeType(enum.StrEnum):
    """Required, optional or a resource (a room), with Microsoft Graph's values."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"


class Event(Base, Timestamped):
    """A meeting on a staff user's CRM calendar.

    `start_at`/`end_at` are UTC instants for every event (for all-day events: midnight of the dates
    in the
    event's zone), so one range query serves all kinds; `start_date`/`end_date` (end exclusive)
    carry the
    all-day dates themselves. `version` grows on every change and guards updates (optimistic
    concurrency).
    """

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("end_at >= start_at", name="end_not_before_start"),
        CheckConstraint(
            "(is_all_day AND start_date IS NOT NULL AND end_date IS NOT NULL)"
            " OR (NOT is_all_day AND start_date IS NULL AND end_date IS NULL)",
            name="all_day_dates",
        ),
        Index("ix_events_owner_range", "owner_id", "start_at", "end_at"),
        # At most one copy of an event per internal attendee (SPEC §6).
        UniqueConstraint("copy_of_event_id", "owner_id", name="uq_events_one_copy_per_attendee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    is_all_day: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    show_as: Mapped[ShowAs] = mapped_column(enum_column(ShowAs, "show_as"), default=ShowAs.BUSY)
    is_private: Mapped[bool] = mapped_column(default=False)
    is_teams_meeting: Mapped[bool] = mapped_column(default=False)
    teams_join_url: Mapped[str | None] = mapped_column(Text)
    # When Microsoft 365 sent the invitation; from then on the Teams flag may not be cleared (SPEC
    # §4).
    invitation_sent_at: Mapped[datetime | None]
    origin: Mapped[Origin] = mapped_column(enum_column(Origin, "origin"), default=Origin.CRM)
    # The CRM's own recurrence (an RFC 5545 RRULE body); such series are not synced (SPEC §5).
    recurrence_rule: Mapped[str | None] = mapped_column(String(500))
    # Last instant covered by `recurrence_rule` (None: no end), so range queries can skip ended
    # series.
    recurrence_end_at: Mapped[datetime | None]
    # Readable recurrence of a series owned by Microsoft 365; written only by the sync engine.
    m365_recurrence_summary: Mapped[str | None] = mapped_column(Text)
    # An occurrence or exception of a Microsoft 365 series points at the series' master event.
    series_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    original_start: Mapped[datetime | None]
    # An internal attendee's read-only copy points at the owner's event it follows (SPEC §6).
    copy_of_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    sync_status: Mapped[SyncStatus] = mapped_column(
        enum_column(SyncStatus, "sync_status"), default=SyncStatus.PENDING
    )
    sync_message: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    attendees: Mapped[list[EventAttendee]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="EventAttendee.position",
    )

    __mapper_args__ = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        "version_id_col": version,
        "version_id_generator": False,
    }

    @property
    def is_copy(self) -> bool:
        """True for an internal attendee's read-only copy."""
        return self.copy_of_event_id is not None


class EventAttendee(Base):
    """One attendee: a link to an Individual, Contact or User, or only an email address.

    `email` is the address the invitation goes to; `email_normalized` lets a bare address be linked
    later
    when a record gains it (SPEC §3).
    """

    __tablename__ = "event_attendees"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN individual_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="at_most_one_record",
        ),
        CheckConstraint(
            "email IS NOT NULL OR user_id IS NOT NULL OR individual_id IS NOT NULL"
            " OR contact_id IS NOT NULL",
            name="record_or_email",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("individuals.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320), index=True)
    # Display name that came with a bare address (for example from Outlook); records have their own.
    name: Mapped[str | None] = mapped_column(String(200))
    attendee_type: Mapped[AttendeeType] = mapped_column(
        enum_column(AttendeeType, "attendee_type"), default=AttendeeType.REQUIRED
    )
    response_status: Mapped[ResponseStatus] = mapped_column(
        enum_column(ResponseStatus, "response_status"), default=ResponseStatus.NONE
    )
    is_internal: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="attendees")

    @property
    def is_bare_email(self) -> bool:
        """True when no record matched the address (yet)."""
        return self.user_id is None and self.individual_id is None and self.contact_id is None
