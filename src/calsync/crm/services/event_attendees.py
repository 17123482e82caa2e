"""Checking an event's attendees and deciding the rows to store (SPEC §1, §3).

A record attendee is stored as a link with the address its invitation goes to. A bare address is
matched against every record first: each record it belongs to becomes an attendee, and an address
that matches nothing stays a plain email, to be linked when a record gains it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from calsync.crm.addresses import normalize_email, optional_email
from calsync.crm.errors import InvalidInputError
from calsync.crm.matching import Match, RecordKind, match_emails
from calsync.crm.models import AttendeeType, Contact, Individual, ResponseStatus, User
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.validation import KnownRecords, bounded_text

EnumT = TypeVar("EnumT", AttendeeType, ResponseStatus)
# Microsoft Graph refuses events with more attendees than this (GRAPH.md, attendees).
MAX_ATTENDEES = 500


@dataclass(frozen=True, slots=True)
class PlannedAttendee:
    """An attendee row as it will be stored."""

    user_id: int | None
    individual_id: int | None
    contact_id: int | None
    email: str | None
    name: str | None
    attendee_type: AttendeeType
    response_status: ResponseStatus

    @property
    def email_normalized(self) -> str | None:
        """The address in matching form."""
        return normalize_email(self.email) if self.email else None

    @property
    def is_internal(self) -> bool:
        """A staff user is an internal attendee."""
        return self.user_id is not None

    @property
    def identity(self) -> tuple[str, object]:
        """What makes two attendees the same person on one event."""
        if self.user_id is not None:
            return ("user", self.user_id)
        if self.individual_id is not None:
            return ("individual", self.individual_id)
        if self.contact_id is not None:
            return ("contact", self.contact_id)
        return ("email", self.email_normalized)


def _enum_value(kind: type[EnumT], value: EnumT | str, field: str) -> EnumT:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInputError(
            f"unknown value '{value}'; use one of: {allowed}", field=field
        ) from None


def _too_many(count: int) -> InvalidInputError:
    return InvalidInputError(
        f"an event can have at most {MAX_ATTENDEES} attendees (Microsoft 365's limit); "
        f"this one has {count}",
        field="attendees",
    )


def _record_address(known: KnownRecords, attendee: AttendeeInput, field: str) -> str | None:
    if attendee.user_id is not None:
        return known.require(User, attendee.user_id, f"{field}.user_id").email
    if attendee.individual_id is not None:
        return known.require(Individual, attendee.individual_id, f"{field}.individual_id").email
    if attendee.contact_id is not None:
        return known.require(Contact, attendee.contact_id, f"{field}.contact_id").email
    return None


def _from_match(match: Match, base: PlannedAttendee) -> PlannedAttendee:
    return PlannedAttendee(
        user_id=match.record_id if match.kind is RecordKind.USER else None,
        individual_id=match.record_id if match.kind is RecordKind.INDIVIDUAL else None,
        contact_id=match.record_id if match.kind is RecordKind.CONTACT else None,
        email=base.email,
        name=base.name,
        attendee_type=base.attendee_type,
        response_status=base.response_status,
    )


def plan_attendees(
    session: Session,
    attendees: Sequence[AttendeeInput],
    *,
    matches: Mapping[str, list[Match]] | None = None,
    known: KnownRecords | None = None,
) -> list[PlannedAttendee]:
    """Check every attendee and return the rows to store, without duplicates, in input order.

    `matches` are `match_emails` results the caller already has in this transaction (a bulk import
    matches a whole round's addresses in one query); addresses it lacks are matched here.
    `known`: records the caller already read in this transaction (see `KnownRecords`).
    """
    if len(attendees) > MAX_ATTENDEES:
        raise _too_many(len(attendees))
    records = known if known is not None else KnownRecords(session)
    # Each checked attendee with the normalised address of a bare one (None for a record): the
    # address it is matched and told apart by.
    checked: list[tuple[PlannedAttendee, str | None]] = []
    for index, attendee in enumerate(attendees):
        field = f"attendees[{index}]"
        linked = (
            (attendee.user_id is not None)
            + (attendee.individual_id is not None)
            + (attendee.contact_id is not None)
        )
        if linked > 1:
            raise InvalidInputError(
                "give only one of user_id, individual_id and contact_id", field=field
            )
        email = optional_email(attendee.email, f"{field}.email")
        record_address = _record_address(records, attendee, field)
        if email is None and not linked:
            raise InvalidInputError(
                "an attendee needs a User, Individual or Contact, or an email address",
                field=f"{field}.email",
            )
        planned = PlannedAttendee(
            user_id=attendee.user_id,
            individual_id=attendee.individual_id,
            contact_id=attendee.contact_id,
            email=email or record_address,
            name=bounded_text(attendee.name, f"{field}.name", 200) or None,
            attendee_type=_enum_value(
                AttendeeType, attendee.attendee_type, f"{field}.attendee_type"
            ),
            response_status=_enum_value(
                ResponseStatus, attendee.response_status, f"{field}.response_status"
            ),
        )
        checked.append((planned, normalize_email(email) if email and not linked else None))
    known_matches = matches or {}
    missing = [
        planned.email
        for planned, address in checked
        if planned.email and address is not None and address not in known_matches
    ]
    matches = {**known_matches, **match_emails(session, missing)} if missing else known_matches
    planned_rows: list[PlannedAttendee] = []
    seen: set[tuple[str, object]] = set()
    for planned, address in checked:
        if not address:
            expanded = [(planned, planned.identity)]
        else:
            found = matches.get(address, [])
            expanded = [(row, row.identity) for row in (_from_match(m, planned) for m in found)]
            expanded = expanded or [(planned, ("email", address))]
        for row, identity in expanded:
            if identity not in seen:
                seen.add(identity)
                planned_rows.append(row)
    if len(planned_rows) > MAX_ATTENDEES:
        raise _too_many(len(planned_rows))
    return planned_rows
