"""The event form: what it shows for an event, and how a submitted form becomes an `EventInput`.

The form speaks a person's terms (a start date and time in a chosen zone, an all-day event's last
day, attendees picked from the CRM's people); the CRM's event service speaks in its own. This
module translates between the two and nothing more: every rule is checked by the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from calsync.crm.models import Contact, Event, EventAttendee, Individual, ShowAs, User
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.web.pages.forms import (
    FieldError,
    checkbox,
    date_value,
    field_message,
    text,
    texts,
    time_value,
)

SHOW_AS_LABELS = {
    ShowAs.FREE: "Free",
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.BUSY: "Busy",
    ShowAs.OOF: "Away",
    ShowAs.WORKING_ELSEWHERE: "Working elsewhere",
}

FIELD_LABELS = {
    "subject": "Subject",
    "start_date": "Start date",
    "start_time": "Start time",
    "end_date": "End date",
    "end_time": "End time",
    "time_zone": "Time zone",
    "location": "Location",
    "show_as": "Show as",
    "is_private": "Private",
    "is_teams_meeting": "Teams Meeting",
    "description": "Description",
    "recurrence_rule": "Repeats",
    "attendees": "Attendees",
    "add_email": "Email address",
}

# The service names `start`/`end`; on the form those are a date and a time field.
_SERVICE_FIELDS = {"start": "start_date", "end": "end_date", "is_all_day": "all_day"}


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name Python knows, sorted; the form's time zone choices."""
    return tuple(sorted(available_timezones()))


def form_field_of(service_field: str | None) -> str:
    """The form field a service error points at ("_form" when it is about the whole event)."""
    if not service_field:
        return "_form"
    if service_field.startswith("attendees"):
        return "attendees"
    field = _SERVICE_FIELDS.get(service_field, service_field)
    return field if field in FIELD_LABELS or field == "all_day" else "_form"


def error_for(service_field: str | None, message: str) -> dict[str, str]:
    """{form field: message naming it} for a refusal from the event service."""
    field = form_field_of(service_field)
    if field == "_form":
        return {"_form": message[:1].upper() + message[1:]}
    label = FIELD_LABELS.get(field, "All-day event")
    return {field: field_message(label, message)}


# Attendee tokens -------------------------------------------------------------------------------
# Each attendee travels through the form as "kind:value": user:7, individual:12, contact:3 or
# email:someone@example.com.


def attendee_token(attendee: AttendeeInput) -> str:
    if attendee.user_id is not None:
        return f"user:{attendee.user_id}"
    if attendee.individual_id is not None:
        return f"individual:{attendee.individual_id}"
    if attendee.contact_id is not None:
        return f"contact:{attendee.contact_id}"
    return f"email:{(attendee.email or '').strip().lower()}"


def _attendee_of_token(token: str) -> AttendeeInput:
    kind, _, value = token.partition(":")
    if kind == "email" and value.strip():
        return AttendeeInput(email=value.strip())
    if value.isdigit():
        if kind == "user":
            return AttendeeInput(user_id=int(value))
        if kind == "individual":
            return AttendeeInput(individual_id=int(value))
        if kind == "contact":
            return AttendeeInput(contact_id=int(value))
    raise FieldError("attendees", f"'{token}' is not an attendee this form offered")


def attendees_from_form(
    form: FormData, current: tuple[AttendeeInput, ...]
) -> tuple[AttendeeInput, ...]:
    """The attendees the form keeps and adds; kept ones keep their response and display name.

    The page's person search adds `attendee` tokens; `add_person` (one token) is still read for
    forms made before it.
    """
    known = {attendee_token(attendee): attendee for attendee in current}
    chosen: list[AttendeeInput] = []
    seen: set[str] = set()
    tokens = texts(form, "attendee") + texts(form, "add_person")
    extra_email = text(form, "add_email")
    if extra_email:
        tokens.append(f"email:{extra_email}")
    for token in tokens:
        attendee = known.get(token) or _attendee_of_token(token)
        key = attendee_token(attendee)
        if key not in seen:
            seen.add(key)
            chosen.append(attendee)
    return tuple(chosen)


@dataclass(frozen=True)
class AttendeeView:
    """One attendee as the event page lists it."""

    token: str
    label: str
    kind: str | None
    kind_label: str
    email: str | None
    href: str | None
    response: str


_RESPONSES = {
    "none": "",
    "organizer": "Organiser",
    "tentativelyAccepted": "Tentative",
    "accepted": "Accepted",
    "declined": "Declined",
    "notResponded": "No response yet",
}


def attendee_views(session: Session, attendees: list[EventAttendee]) -> list[AttendeeView]:
    """Each attendee with the record it is linked to, or marked as an unmatched email."""
    views: list[AttendeeView] = []
    for attendee in attendees:
        response = _RESPONSES.get(attendee.response_status.value, "")
        if attendee.user_id is not None:
            user = session.get(User, attendee.user_id)
            views.append(
                AttendeeView(
                    token=f"user:{attendee.user_id}",
                    label=user.name if user else (attendee.email or "Staff user"),
                    kind="user",
                    kind_label="Staff user",
                    email=attendee.email,
                    href=None,
                    response=response,
                )
            )
        elif attendee.individual_id is not None or attendee.contact_id is not None:
            is_individual = attendee.individual_id is not None
            record_id = attendee.individual_id if is_individual else attendee.contact_id
            person: Individual | Contact | None = (
                session.get(Individual, record_id)
                if is_individual
                else session.get(Contact, record_id)
            )
            kind = "individual" if is_individual else "contact"
            views.append(
                AttendeeView(
                    token=f"{kind}:{record_id}",
                    label=person.display_name if person else (attendee.email or kind),
                    kind=kind,
                    kind_label="Individual" if is_individual else "Contact",
                    email=attendee.email,
                    href=f"/people/{kind}s/{record_id}",
                    response=response,
                )
            )
        else:
            address = attendee.email or ""
            views.append(
                AttendeeView(
                    token=f"email:{address.strip().lower()}",
                    label=f"{attendee.name} <{address}>" if attendee.name else address,
                    kind=None,
                    kind_label="",
                    email=address,
                    href=None,
                    response=response,
                )
            )
    return views


# Times -----------------------------------------------------------------------------------------


def event_form_values(event: Event) -> dict[str, object]:
    """The form's fields for an existing event, times in the event's own zone."""
    values: dict[str, object] = {
        "subject": event.subject,
        "all_day": event.is_all_day,
        "time_zone": event.time_zone,
        "location": event.location,
        "show_as": event.show_as.value,
        "is_private": event.is_private,
        "is_teams_meeting": event.is_teams_meeting,
        "description": event.description,
        "recurrence_rule": event.recurrence_rule or "",
        "add_email": "",
    }
    if event.is_all_day and event.start_date and event.end_date:
        last_day = event.end_date - timedelta(days=1)
        values.update(
            start_date=event.start_date.isoformat(),
            end_date=max(last_day, event.start_date).isoformat(),
            start_time="",
            end_time="",
        )
    else:
        zone = ZoneInfo(event.time_zone)
        start, end = event.start_at.astimezone(zone), event.end_at.astimezone(zone)
        values.update(
            start_date=start.date().isoformat(),
            start_time=f"{start:%H:%M}",
            end_date=end.date().isoformat(),
            end_time=f"{end:%H:%M}",
        )
    return values


def submitted_values(form: FormData) -> dict[str, object]:
    """The form's fields as submitted, to show them again next to an error."""
    values: dict[str, object] = {
        name: text(form, name)
        for name in (
            "subject",
            "start_date",
            "start_time",
            "end_date",
            "end_time",
            "time_zone",
            "location",
            "show_as",
            "description",
            "recurrence_rule",
            "add_email",
        )
    }
    values.update(
        all_day=checkbox(form, "all_day"),
        is_private=checkbox(form, "is_private"),
        is_teams_meeting=checkbox(form, "is_teams_meeting"),
    )
    return values


def event_input_from_form(
    form: FormData, *, owner_id: int, current: EventInput | None
) -> EventInput:
    """The `EventInput` a submitted form asks for; unreadable values raise `FieldError`."""
    is_all_day = checkbox(form, "all_day")
    start_day = date_value(form, "start_date", "Start date")
    end_day = date_value(form, "end_date", "End date")
    start: datetime | date
    end: datetime | date
    if is_all_day:
        # The form asks for the last day; the service stores the day after it.
        start, end = start_day, end_day + timedelta(days=1)
    else:
        start = datetime.combine(start_day, time_value(form, "start_time", "Start time"))
        end = datetime.combine(end_day, time_value(form, "end_time", "End time"))
    rule = text(form, "recurrence_rule") if "recurrence_rule" in form else None
    return EventInput(
        owner_id=owner_id,
        subject=text(form, "subject"),
        start=start,
        end=end,
        time_zone=text(form, "time_zone") or None,
        is_all_day=is_all_day,
        description=text(form, "description"),
        location=text(form, "location"),
        show_as=text(form, "show_as") or ShowAs.BUSY,
        is_private=checkbox(form, "is_private"),
        is_teams_meeting=checkbox(form, "is_teams_meeting"),
        recurrence_rule=(rule or None)
        if rule is not None
        else (current.recurrence_rule if current else None),
        attendees=attendees_from_form(form, current.attendees if current else ()),
    )
