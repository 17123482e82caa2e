"""`/events`: staff users' calendars.

Staff see and change only the events on their own calendar (their internal copies of colleagues'
events show there too, read-only); administrators may see and change every calendar. Every event
response carries an `ETag` (its version); PUT, PATCH and DELETE honour `If-Match` (see `etags`).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from calsync.crm.models import Event, User
from calsync.crm.services import calendar as calendar_service
from calsync.crm.services import events as event_service
from calsync.crm.services.event_input import AttendeeInput, EventInput, event_input_of
from calsync.web.api.etags import expected_version, set_etag
from calsync.web.api.schemas.common import MAX_RECORD_ID, Moment, RecordId
from calsync.web.api.schemas.errors import error_responses
from calsync.web.api.schemas.events import (
    AttendeeIn,
    AttendeeOut,
    CalendarEntryOut,
    EventFields,
    EventOut,
    EventPatch,
)
from calsync.web.auth import CurrentUser, may_use_calendar_of
from calsync.web.database import DbSession
from calsync.web.errors import ApiError
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(prefix="/events", tags=["events"])

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The ETag from your last read; refused with 412 if the event changed since.",
    ),
]
WRITE_ERRORS = error_responses(409, 412)


def _not_yours(field: str | None = None) -> ApiError:
    return ApiError(
        403,
        "not_your_event",
        "this event is on another user's calendar; staff see and change only their own events",
        field,
    )


def _visible_event(session: Session, event_id: int, user: User) -> Event:
    event = event_service.get_event(session, event_id)
    if not may_use_calendar_of(user, event.owner_id):
        raise _not_yours()
    return event


def _shown_time(event_time: datetime, zone_name: str) -> datetime:
    return event_time.astimezone(ZoneInfo(zone_name))


def _event_out(event: Event) -> EventOut:
    start: datetime | date
    end: datetime | date
    if event.is_all_day and event.start_date is not None and event.end_date is not None:
        start, end = event.start_date, event.end_date
    else:
        start = _shown_time(event.start_at, event.time_zone)
        end = _shown_time(event.end_at, event.time_zone)
    return EventOut(
        id=event.id,
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
        teams_join_url=event.teams_join_url,
        recurrence_rule=event.recurrence_rule,
        recurring_in_microsoft365=event.m365_recurrence_summary,
        series_event_id=event.series_event_id,
        original_start=event.original_start,
        origin=event.origin,
        copy_of_event_id=event.copy_of_event_id,
        is_copy=event.is_copy,
        sync_status=event.sync_status,
        sync_message=event.sync_message,
        version=event.version,
        attendees=[
            AttendeeOut(
                user_id=attendee.user_id,
                individual_id=attendee.individual_id,
                contact_id=attendee.contact_id,
                email=attendee.email,
                name=attendee.name,
                attendee_type=attendee.attendee_type,
                response_status=attendee.response_status,
                is_internal=attendee.is_internal,
            )
            for attendee in event.attendees
        ],
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _attendee_input(attendee: AttendeeIn | str) -> AttendeeInput:
    if isinstance(attendee, str):
        return AttendeeInput(email=attendee)
    return AttendeeInput(**attendee.model_dump())


def _service_fields(sent: dict[str, Any]) -> dict[str, Any]:
    """Request fields as `EventInput` takes them (attendees as `AttendeeInput`s)."""
    if "attendees" in sent:
        sent = {**sent, "attendees": tuple(_attendee_input(a) for a in sent["attendees"])}
    return sent


def _owner_for(user: User, requested_owner_id: int | None) -> int:
    owner_id = user.id if requested_owner_id is None else requested_owner_id
    if not may_use_calendar_of(user, owner_id):
        raise _not_yours("owner_id")
    return owner_id


def _respond(response: Response, event: Event) -> EventOut:
    set_etag(response, event.version)
    return _event_out(event)


@router.get("", response_model=Page[CalendarEntryOut])
def list_events(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
    start: Annotated[Moment, Query(description="Range start, with an offset (ISO 8601).")],
    end: Annotated[Moment, Query(description="Range end (exclusive), with an offset.")],
    owner_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_RECORD_ID, description="Whose calendar; default: the caller's."),
    ] = None,
) -> Page[CalendarEntryOut]:
    """A calendar's events overlapping [start, end), by start; CRM-recurring series are expanded
    into their occurrences, and internal copies are included (read-only)."""
    owner = _owner_for(user, owner_id)
    entries = calendar_service.list_events(session, owner, start, end)
    window = entries[page.offset : page.offset + page.fetch_count]
    items = [
        CalendarEntryOut(
            event_id=entry.event_id,
            subject=entry.subject,
            start=entry.start_date
            if entry.is_all_day and entry.start_date
            else _shown_time(entry.start, entry.time_zone),
            end=entry.end_date
            if entry.is_all_day and entry.end_date
            else _shown_time(entry.end, entry.time_zone),
            time_zone=entry.time_zone,
            is_all_day=entry.is_all_day,
            location=entry.location,
            show_as=entry.show_as,
            is_private=entry.is_private,
            is_copy=entry.is_copy,
            is_recurring=entry.is_recurring,
            sync_status=entry.sync_status,
            version=entry.version,
        )
        for entry in window
    ]
    return build_page(request, page, items)


@router.post("", status_code=201, responses=WRITE_ERRORS)
def create_event(
    body: EventFields, response: Response, session: DbSession, user: CurrentUser
) -> EventOut:
    """Create an event on the caller's calendar (administrators: on anyone's)."""
    fields = _service_fields(body.model_dump(exclude={"attendees"}) | {"attendees": body.attendees})
    fields["owner_id"] = _owner_for(user, body.owner_id)
    event = event_service.create_event(session, EventInput(**fields))
    return _respond(response, event)


@router.get("/{event_id}")
def get_event(
    event_id: RecordId, response: Response, session: DbSession, user: CurrentUser
) -> EventOut:
    return _respond(response, _visible_event(session, event_id, user))


def _save(
    session: Session, user: User, event: Event, data: EventInput, if_match: str | None
) -> Event:
    if data.owner_id != event.owner_id:
        _owner_for(user, data.owner_id)
    version = expected_version(if_match, event.version)
    return event_service.update_event(session, event.id, version, data)


@router.put("/{event_id}", responses=WRITE_ERRORS)
def replace_event(
    event_id: RecordId,
    body: EventFields,
    response: Response,
    session: DbSession,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> EventOut:
    """Replace every editable field of an event (fields left out take their defaults)."""
    event = _visible_event(session, event_id, user)
    fields = _service_fields(body.model_dump(exclude={"attendees"}) | {"attendees": body.attendees})
    if fields["owner_id"] is None:
        fields["owner_id"] = event.owner_id
    return _respond(response, _save(session, user, event, EventInput(**fields), if_match))


@router.patch("/{event_id}", responses=WRITE_ERRORS)
def update_event(
    event_id: RecordId,
    body: EventPatch,
    response: Response,
    session: DbSession,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> EventOut:
    """Change the fields sent; `attendees`, when sent, replaces the whole list."""
    event = _visible_event(session, event_id, user)
    data = dataclasses.replace(event_input_of(event), **_service_fields(body.sent_fields()))
    return _respond(response, _save(session, user, event, data, if_match))


@router.delete("/{event_id}", status_code=204, responses=WRITE_ERRORS)
def delete_event(
    event_id: RecordId, session: DbSession, user: CurrentUser, if_match: IfMatch = None
) -> Response:
    """Delete an event, with its attendees' copies (and, for a series, its occurrences)."""
    event = _visible_event(session, event_id, user)
    event_service.delete_event(session, event.id, expected_version(if_match, event.version))
    return Response(status_code=204)
