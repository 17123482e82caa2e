"""Checking a whole `EventInput` into the values to store (SPEC §1, §5, §9).

Everything is checked before anything is written, and each error names the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.matching import Match
from calsync.crm.models import ShowAs, User
from calsync.crm.recurrence import check_rule
from calsync.crm.services.event_attendees import PlannedAttendee, plan_attendees
from calsync.crm.services.event_input import EventInput
from calsync.crm.services.event_times import EventTimes, event_times
from calsync.crm.services.validation import KnownRecords, bounded_text, required_text
from calsync.crm.time_zones import checked_time_zone

MAX_SUBJECT_LENGTH = 255
MAX_LOCATION_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 100_000
CRM_RECURRENCE_NOT_SYNCED = (
    "Recurring events created in the CRM are not synced to Microsoft 365. To have the series in "
    "Outlook, create it there; it will then sync to the CRM."
)


@dataclass(frozen=True, slots=True)
class CheckedEvent:
    """An event's values after every check, ready to store."""

    owner: User
    subject: str
    description: str
    location: str
    zone: ZoneInfo
    is_all_day: bool
    times: EventTimes
    show_as: ShowAs
    is_private: bool
    is_teams_meeting: bool
    recurrence_rule: str | None
    recurrence_end_at: datetime | None
    attendees: list[PlannedAttendee]


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("must be true or false", field=field)
    return value


def _show_as(value: ShowAs | str) -> ShowAs:
    try:
        return ShowAs(value)
    except ValueError:
        allowed = ", ".join(member.value for member in ShowAs)
        raise InvalidInputError(
            f"unknown show-as '{value}'; use one of: {allowed}", field="show_as"
        ) from None


def check_event(
    session: Session,
    data: EventInput,
    *,
    matches: Mapping[str, list[Match]] | None = None,
    known: KnownRecords | None = None,
) -> CheckedEvent:
    """Check every field of `data`; raises the first problem found, naming its field.

    `matches`: attendee addresses already matched in this transaction (see `plan_attendees`).
    `known`: records already read in this transaction (see `KnownRecords`), for many checks in a
    row.
    """
    if data.owner_id is None:
        raise InvalidInputError("an event needs an owner (a staff user)", field="owner_id")
    records = known if known is not None else KnownRecords(session)
    owner = records.require(User, data.owner_id, "owner_id")
    subject = required_text(data.subject, "subject", MAX_SUBJECT_LENGTH)
    zone = checked_time_zone(owner.time_zone if data.time_zone is None else data.time_zone)
    is_all_day = _flag(data.is_all_day, "is_all_day")
    times = event_times(data.start, data.end, zone, is_all_day)
    rule_text: str | None = None
    recurrence_end_at: datetime | None = None
    if data.recurrence_rule is not None and data.recurrence_rule.strip():
        first_start = times.start_at.astimezone(zone)
        checked = check_rule(data.recurrence_rule, first_start)
        rule_text = checked.text
        if checked.last_start is not None:
            recurrence_end_at = (checked.last_start + (times.end_at - times.start_at)).astimezone(
                UTC
            )
    return CheckedEvent(
        owner=owner,
        subject=subject,
        description=bounded_text(data.description, "description", MAX_DESCRIPTION_LENGTH),
        location=bounded_text(data.location, "location", MAX_LOCATION_LENGTH),
        zone=zone,
        is_all_day=is_all_day,
        times=times,
        show_as=_show_as(data.show_as),
        is_private=_flag(data.is_private, "is_private"),
        is_teams_meeting=_flag(data.is_teams_meeting, "is_teams_meeting"),
        recurrence_rule=rule_text,
        recurrence_end_at=recurrence_end_at,
        attendees=plan_attendees(session, data.attendees, matches=matches, known=records),
    )
