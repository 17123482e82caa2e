"""Events and their attendees, as the API shows and accepts them.

Times: a timed event's `start`/`end` are shown in the event's own time zone (with its offset);
they may be sent with an offset, or without one to mean wall-clock time in `time_zone`. An all-day
event's `start`/`end` are dates, `end` being the day after the last day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from calsync.crm.models import AttendeeType, Origin, ResponseStatus, ShowAs, SyncStatus
from calsync.web.api.schemas.base import PatchBody, RequestBody
from calsync.web.api.schemas.common import (
    Description,
    Email,
    Location,
    MomentOrDay,
    OptionalName,
    RecurrenceRule,
    ReferenceId,
    Subject,
    TimeZoneName,
)


class AttendeeIn(RequestBody):
    """An attendee: a record reference (one of the ids), or an email address.

    An address that belongs to Individuals, Contacts or Users is linked to them; one that matches
    nothing stays a plain email attendee.
    """

    user_id: ReferenceId | None = None
    individual_id: ReferenceId | None = None
    contact_id: ReferenceId | None = None
    email: Email | None = Field(
        default=None, description="Without an id: the attendee. With one: where to send the invite."
    )
    name: OptionalName | None = None
    attendee_type: AttendeeType = AttendeeType.REQUIRED
    response_status: ResponseStatus = ResponseStatus.NONE


Attendees = Annotated[
    list[AttendeeIn | Email],
    Field(max_length=500, description="Record references, or plain email addresses as strings."),
]


class AttendeeOut(BaseModel):
    user_id: int | None
    individual_id: int | None
    contact_id: int | None
    email: str | None
    name: str | None
    attendee_type: AttendeeType
    response_status: ResponseStatus
    is_internal: bool = Field(description="True for a staff user.")


class EventFields(RequestBody):
    """The fields a person edits; a PUT sends them all."""

    owner_id: ReferenceId | None = Field(
        default=None, description="The staff user whose calendar it is; default: the caller."
    )
    subject: Subject
    start: MomentOrDay
    end: MomentOrDay
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA name; default: the owner's time zone."
    )
    is_all_day: bool = False
    description: Description = ""
    location: Location = ""
    show_as: ShowAs = ShowAs.BUSY
    is_private: bool = False
    is_teams_meeting: bool = False
    recurrence_rule: RecurrenceRule | None = Field(
        default=None,
        description="The CRM's own recurrence, an RRULE such as `FREQ=WEEKLY;BYDAY=MO`. "
        "Such series stay in the CRM: they are not synced to Microsoft 365.",
    )
    attendees: Attendees = Field(default_factory=list)


class EventPatch(PatchBody):
    """Only the fields sent change; `attendees`, when sent, replaces the whole list."""

    nullable_fields = frozenset({"recurrence_rule"})

    owner_id: ReferenceId | None = None
    subject: Subject | None = None
    start: MomentOrDay | None = None
    end: MomentOrDay | None = None
    time_zone: TimeZoneName | None = None
    is_all_day: bool | None = None
    description: Description | None = None
    location: Location | None = None
    show_as: ShowAs | None = None
    is_private: bool | None = None
    is_teams_meeting: bool | None = None
    recurrence_rule: RecurrenceRule | None = None
    attendees: Attendees | None = None


class EventOut(BaseModel):
    """An event. Its `version` is also its ETag; send it back in If-Match to change it safely."""

    id: int
    owner_id: int
    subject: str
    start: datetime | date
    end: datetime | date
    time_zone: str
    is_all_day: bool
    description: str
    location: str
    show_as: ShowAs
    is_private: bool
    is_teams_meeting: bool
    teams_join_url: str | None
    recurrence_rule: str | None
    recurring_in_microsoft365: str | None = Field(
        description="Readable recurrence of a series owned by Microsoft 365 (read-only)."
    )
    series_event_id: int | None
    original_start: datetime | None
    origin: Origin
    copy_of_event_id: int | None = Field(
        description="Set on an internal attendee's read-only copy: the owner's event."
    )
    is_copy: bool
    sync_status: SyncStatus
    sync_message: str | None
    version: int
    attendees: list[AttendeeOut]
    created_at: datetime
    updated_at: datetime


class CalendarEntryOut(BaseModel):
    """One event, or one occurrence of a CRM-recurring series, on a calendar."""

    event_id: int
    subject: str
    start: datetime | date
    end: datetime | date
    time_zone: str
    is_all_day: bool
    location: str
    show_as: ShowAs
    is_private: bool
    is_copy: bool
    is_recurring: bool
    sync_status: SyncStatus
    version: int
