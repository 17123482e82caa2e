"""The event record page: create, read, change and delete one event, and see how it stands with
Microsoft 365 (sync status, Teams join link, the series' recurrence).

Saves go through the CRM's event service; its refusals (a copy, a stale version, unchecking Teams
after the invitation went out, changing a Microsoft 365 series' recurrence, any bad field) come
back as the message next to the field they name, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError, NotFoundError, ReadOnlyCopyError
from calsync.crm.models import Event, Origin, SyncStatus, User
from calsync.crm.services.event_input import event_input_of
from calsync.crm.services.events import (
    SERIES_RECURRENCE_MESSAGE,
    TEAMS_LOCKED_MESSAGE,
    create_event,
    delete_event,
    get_event,
    refuse_copy,
    teams_meeting_locked,
    update_event,
)
from calsync.crm.services.organization import get_organization
from calsync.sync.runners.invitations import uninvited_attendees, uninvited_message
from calsync.sync.storage.models import SyncLinkRecord
from calsync.web.auth import may_use_calendar_of
from calsync.web.database import DbSession
from calsync.web.pages.display import local_datetime, long_date
from calsync.web.pages.event_form import (
    SHOW_AS_LABELS,
    attendee_views,
    error_for,
    event_form_values,
    event_input_from_form,
    submitted_values,
    time_zone_names,
)
from calsync.web.pages.event_sync_history import event_sync_history
from calsync.web.pages.forms import FieldError, read_form, text
from calsync.web.pages.rendering import not_found, render
from calsync.web.pages.signed_in import CurrentUser
from calsync.web.pages.sync_log import DIRECTION_LABELS, KIND_LABELS

router = APIRouter()


def _as_sentence(message: str) -> str:
    """A service's message ("the recurrence … in Outlook") as a sentence on the page."""
    return message[:1].upper() + message[1:] + "."


NOT_FOUND_MESSAGE = "This event does not exist (any more), or it is on another user's calendar."


@dataclass(frozen=True)
class SyncView:
    """How the event stands with Microsoft 365, in words, and when it last synced."""

    label: str
    badge_class: str
    message: str | None
    synced_at: SyncedAt | None = None


@dataclass(frozen=True)
class SyncedAt:
    """When the event last synced: in words in the viewer's zone, and as an ISO instant."""

    text: str
    iso: str
    zone: str


def last_synced(db: Session, event: Event, zone: str) -> SyncedAt | None:
    """When a change of the event last went to or came from Microsoft 365: the time its sync link
    was last written (the engine rewrites it with the merge base after every exchange; a run that
    finds nothing new for the event leaves it). None without a link, and while a write is in
    flight (the link then carries the intent recorded before the write, not a finished sync)."""
    row = db.execute(
        select(SyncLinkRecord.updated_at, SyncLinkRecord.pending_snapshot).where(
            SyncLinkRecord.crm_event_id == event.id
        )
    ).first()
    if row is None or row.pending_snapshot is not None:
        return None
    instant: datetime = row.updated_at
    return SyncedAt(
        text=local_datetime(instant, zone), iso=instant.astimezone(UTC).isoformat(), zone=zone
    )


def sync_view(
    event: Event, synced_at: SyncedAt | None = None, uninvited: list[str] | None = None
) -> SyncView:
    """`uninvited`: the attendees Outlook could not invite (records without an e-mail address),
    said next to "Synced" so nobody believes they were invited."""
    if event.sync_status is SyncStatus.SYNCED:
        note = uninvited_message(uninvited) if uninvited else None
        return SyncView("Synced with Microsoft 365", "badge-linked", note, synced_at)
    if event.sync_status is SyncStatus.PENDING:
        return SyncView("Waiting to sync", "", None, synced_at)
    if event.sync_status is SyncStatus.ERROR:
        return SyncView("Sync error", "badge-error", event.sync_message, synced_at)
    return SyncView("Not synced", "badge-unmatched", event.sync_message)


def describe_when(event: Event) -> str:
    """The event's time as a person reads it, in the event's own zone."""
    if event.is_all_day and event.start_date and event.end_date:
        last = event.end_date - timedelta(days=1)
        if last <= event.start_date:
            return f"{long_date(event.start_date)} (all day)"
        return f"{long_date(event.start_date)} – {long_date(last)} (all day)"
    start = local_datetime(event.start_at, event.time_zone)
    end_local = event.end_at.astimezone(ZoneInfo(event.time_zone))
    same_day = end_local.date() == event.start_at.astimezone(ZoneInfo(event.time_zone)).date()
    end = f"{end_local:%H:%M}" if same_day else local_datetime(event.end_at, event.time_zone)
    return f"{start} – {end}"


def _series_of(db: Session, event: Event) -> Event | None:
    return db.get(Event, event.series_event_id) if event.series_event_id is not None else None


def _read_only_reason(db: Session, event: Event) -> str | None:
    try:
        refuse_copy(db, event)
    except ReadOnlyCopyError as refused:
        return refused.message[:1].upper() + refused.message[1:] + "."
    return None


def _render_event(
    request: Request,
    user: User,
    db: Session,
    event: Event | None,
    *,
    values: dict[str, object],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    series = _series_of(db, event) if event is not None else None
    sync_enabled = get_organization(db).sync_enabled
    m365_summary = (event.m365_recurrence_summary if event else None) or (
        series.m365_recurrence_summary if series else None
    )
    context: dict[str, Any] = {
        "nav": "calendar" if event else "new-event",
        "event": event,
        "heading": event.subject if event else "New event",
        "form": values,
        "errors": errors or {},
        "form_action": f"/events/{event.id}" if event else "/events/new",
        "submit_label": "Save" if event else "Create event",
        "read_only_reason": _read_only_reason(db, event) if event else None,
        "teams_locked_reason": (
            _as_sentence(TEAMS_LOCKED_MESSAGE)
            if event is not None and teams_meeting_locked(event)
            else None
        ),
        "m365_recurrence_summary": m365_summary,
        "recurrence_locked_reason": (
            _as_sentence(SERIES_RECURRENCE_MESSAGE)
            if m365_summary or (event is not None and event.series_event_id is not None)
            else None
        ),
        "attendees": attendee_views(db, event.attendees) if event else [],
        "time_zone_options": [(name, name) for name in time_zone_names()],
        "show_as_options": [(value.value, label) for value, label in SHOW_AS_LABELS.items()],
        "show_as_label": SHOW_AS_LABELS.get(event.show_as, "") if event else "",
        "when": describe_when(event) if event else "",
        "calendar_date": (
            event.start_at.astimezone(ZoneInfo(user.time_zone)).date().isoformat() if event else ""
        ),
        "sync_enabled": sync_enabled,
        "sync": (
            sync_view(
                event,
                last_synced(db, event, user.time_zone) if sync_enabled else None,
                uninvited_attendees(db, event) if sync_enabled else None,
            )
            if event
            else None
        ),
        "sync_history": event_sync_history(db, event) if event and sync_enabled else [],
        "kind_labels": {kind.value: label for kind, label in KIND_LABELS.items()},
        "direction_labels": {d.value: label for d, label in DIRECTION_LABELS.items()},
        "origin_label": (
            "Created in Microsoft 365"
            if event is not None and event.origin is Origin.MICROSOFT365
            else "Created in CalSync"
        ),
    }
    return render(request, "event.html", context, user=user, status_code=status_code)


def _prefill(
    user: User, start: str | None, end: str | None, all_day: str | None
) -> dict[str, object]:
    """Values of a new event's form: a slot chosen on the calendar, or the next whole hour."""
    zone = ZoneInfo(user.time_zone)
    is_all_day = all_day == "1"
    values: dict[str, object] = {
        "subject": "",
        "all_day": is_all_day,
        "time_zone": user.time_zone,
        "location": "",
        "show_as": "busy",
        "is_private": False,
        "is_teams_meeting": False,
        "description": "",
        "recurrence_rule": "",
        "add_email": "",
    }
    if is_all_day:
        days = _chosen_days(start, end)
        if days is not None:
            first, after = days
            last = max(first, after - timedelta(days=1))  # the form asks for the last day
            values.update(
                start_date=first.isoformat(), end_date=last.isoformat(), start_time="", end_time=""
            )
            return values
    slot = _chosen_slot(start, end)
    if slot is None:
        next_hour = datetime.now(zone).replace(minute=0, second=0, microsecond=0)
        slot = (next_hour + timedelta(hours=1), next_hour + timedelta(hours=2))
    starts, ends = slot
    values.update(
        start_date=starts.date().isoformat(),
        start_time=f"{starts:%H:%M}",
        end_date=ends.date().isoformat(),
        end_time=f"{ends:%H:%M}",
    )
    return values


def _chosen_days(start: str | None, end: str | None) -> tuple[date, date] | None:
    """The days the calendar selection covered (end exclusive), if it sent readable ones."""
    try:
        return date.fromisoformat((start or "")[:10]), date.fromisoformat((end or "")[:10])
    except ValueError:
        return None


def _chosen_slot(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """The wall-clock times the calendar selection covered, if it sent readable ones."""
    try:
        return datetime.fromisoformat(start or ""), datetime.fromisoformat(end or "")
    except ValueError:
        return None


@router.get("/events/new", response_class=HTMLResponse)
def new_event_page(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    start: str | None = None,
    end: str | None = None,
    all_day: str | None = None,
) -> Response:
    return _render_event(request, user, db, None, values=_prefill(user, start, end, all_day))


@router.post("/events/new", response_class=HTMLResponse)
async def create_event_from_form(request: Request, user: CurrentUser, db: DbSession) -> Response:
    form = await read_form(request)
    try:
        event = create_event(db, event_input_from_form(form, owner_id=user.id, current=None))
    except (CrmError, FieldError) as refused:
        db.rollback()
        return _render_event(
            request,
            user,
            db,
            None,
            values=submitted_values(form),
            errors=_errors_of(refused),
            status_code=422,
        )
    db.commit()
    return RedirectResponse(f"/events/{event.id}?notice=created", status_code=303)


def _errors_of(refused: CrmError | FieldError) -> dict[str, str]:
    return error_for(refused.field, refused.message)


def _load(db: Session, event_id: int, user: User) -> Event | None:
    """The event, if it exists and is on a calendar `user` may use (else None: "not found")."""
    try:
        event = get_event(db, event_id)
    except NotFoundError:
        return None
    return event if may_use_calendar_of(user, event.owner_id) else None


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: int, user: CurrentUser, db: DbSession) -> Response:
    event = _load(db, event_id, user)
    if event is None:
        return not_found(request, user, NOT_FOUND_MESSAGE, "/calendar", "My calendar")
    return _render_event(request, user, db, event, values=event_form_values(event))


def _version(raw: str) -> int:
    return int(raw) if raw.isdigit() else -1


@router.post("/events/{event_id}", response_class=HTMLResponse)
async def save_event(request: Request, event_id: int, user: CurrentUser, db: DbSession) -> Response:
    form = await read_form(request)
    event = _load(db, event_id, user)
    if event is None:
        return not_found(request, user, NOT_FOUND_MESSAGE, "/calendar", "My calendar")
    try:
        current = event_input_of(event)
        data = event_input_from_form(form, owner_id=event.owner_id, current=current)
        update_event(db, event_id, _version(text(form, "version")), data)
    except (CrmError, FieldError) as refused:
        db.rollback()
        db.refresh(event)
        return _render_event(
            request,
            user,
            db,
            event,
            values=submitted_values(form),
            errors=_errors_of(refused),
            status_code=409 if refused.code == "version_conflict" else 422,
        )
    db.commit()
    return RedirectResponse(f"/events/{event_id}?notice=saved", status_code=303)


@router.post("/events/{event_id}/delete", response_class=HTMLResponse)
async def delete_event_from_page(
    request: Request, event_id: int, user: CurrentUser, db: DbSession
) -> Response:
    form = await read_form(request)
    event = _load(db, event_id, user)
    if event is None:
        return not_found(request, user, NOT_FOUND_MESSAGE, "/calendar", "My calendar")
    try:
        delete_event(db, event_id, _version(text(form, "version")))
    except CrmError as refused:
        db.rollback()
        db.refresh(event)
        return _render_event(
            request,
            user,
            db,
            event,
            values=event_form_values(event),
            errors=_errors_of(refused),
            status_code=409,
        )
    db.commit()
    return RedirectResponse("/calendar?notice=deleted", status_code=303)
