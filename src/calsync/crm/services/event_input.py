"""What a caller gives to create or change an event, before any checking.

`EventInput` holds every field a person can edit; a save replaces all of them, so a partial change
is `dataclasses.replace(event_input_of(event), subject=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from calsync.crm.models import AttendeeType, Event, ResponseStatus, ShowAs


@dataclass(frozen=True, kw_only=True, slots=True)
class AttendeeInput:
    """One attendee: a record (`user_id`, `individual_id` or `contact_id`) or a bare `email`.

    With a record, `email` is the address the invitation goes to (default: the record's `email`).
    A bare email that belongs to records becomes one attendee per record (SPEC §3).
    """

    user_id: int | None = None
    individual_id: int | None = None
    contact_id: int | None = None
    email: str | None = None
    name: str | None = None
    attendee_type: AttendeeType | str = AttendeeType.REQUIRED
    response_status: ResponseStatus | str = ResponseStatus.NONE


@dataclass(frozen=True, kw_only=True, slots=True)
class EventInput:
    """The editable fields of an event.

    `start`/`end` are aware datetimes, or naive ones read as wall-clock time in `time_zone`; for an
    all-day event they are dates and `end` is exclusive (a one-day event on 3 March ends on
    4 March). `time_zone` defaults to the owner's. `recurrence_rule` is the CRM's own recurrence
    (an RRULE line); such series are not synced to Microsoft 365.
    """

    owner_id: int | None
    subject: str
    start: datetime | date
    end: datetime | date
    time_zone: str | None = None
    is_all_day: bool = False
    description: str = ""
    location: str = ""
    show_as: ShowAs | str = ShowAs.BUSY
    is_private: bool = False
    is_teams_meeting: bool = False
    recurrence_rule: str | None = None
    attendees: tuple[AttendeeInput, ...] = ()


def event_input_of(event: Event) -> EventInput:
    """The current editable fields of `event`, to change some with `dataclasses.replace`."""
    start: datetime | date
    end: datetime | date
    if event.is_all_day and event.start_date is not None and event.end_date is not None:
        start, end = event.start_date, event.end_date
    else:
        start, end = event.start_at, event.end_at
    return EventInput(
        owner_id=event.owner_id,
        subject=event.subject,
        start=start,
        end=end,
        time_zone=event.time_zone,
        is_all_day=event.is_all_day,
        description=event.description,
        location=event.location,
        show_as=event.show_as,
        is_private=event.is_private,
        is_teams_meeting=event.is_teams_meeting,
        recurrence_rule=event.recurrence_rule,
        attendees=tuple(
            AttendeeInput(
                user_id=attendee.user_id,
                individual_id=attendee.individual_id,
                contact_id=attendee.contact_id,
                email=attendee.email,
                name=attendee.name,
                attendee_type=attendee.attendee_type,
                response_status=attendee.response_status,
            )
            for attendee in event.attendees
        ),
    )
