"""My calendar: the signed-in user's events in FullCalendar's day, week and month views.

The page loads its entries from `/calendar/feed` (the CRM's calendar listing: own events, copies of
events the user attends, occurrences of CRM-recurring series) and sends drags and resizes to
`/calendar/events/{id}/times`, which saves them through the CRM's event service like any edit.

Times cross the wire as wall-clock times in the user's time zone without an offset (FullCalendar
runs in UTC mode, see static/js/calendar.js); this module converts them to and from instants.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from datetime import date as date_type
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from calsync.crm.errors import CrmError, NotFoundError
from calsync.crm.models import Event, SyncStatus
from calsync.crm.services.calendar import CalendarEntry, list_events
from calsync.crm.services.event_input import event_input_of
from calsync.crm.services.events import get_event, update_event
from calsync.web.auth import may_use_calendar_of
from calsync.web.database import DbSession
from calsync.web.pages.display import local_datetime, long_date
from calsync.web.pages.forms import FieldError, check_csrf_header
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentUser
from calsync.web.sessions import CsrfError

router = APIRouter()

VIEWS = {"day": "timeGridDay", "week": "timeGridWeek", "month": "dayGridMonth"}


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, user: CurrentUser, view: str = "", date: str = "") -> Response:
    """The calendar, opened on `date` (YYYY-MM-DD, default today) in the chosen view.

    Without a view, the page picks the week, or the day on a phone-sized screen.
    """
    context = {
        "nav": "calendar",
        "time_zone": user.time_zone,
        "initial_view": VIEWS.get(view, ""),
        "initial_date": date if _is_iso_date(date) else "",
    }
    return render(request, "calendar.html", context, user=user)


def _is_iso_date(text: str) -> bool:
    try:
        date_type.fromisoformat(text)
    except ValueError:
        return False
    return True


def _wall_clock(raw: str, zone: ZoneInfo, field: str) -> datetime:
    """A wall-clock time in `zone` as FullCalendar sends it ("…T10:00:00", a trailing Z ignored)."""
    text = raw.strip().removesuffix("Z")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, "must be a date and time like 2027-03-15T10:00:00") from None
    wall = value.replace(tzinfo=None)
    local = wall.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise FieldError(
            field,
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward then)",
        )
    return local


def _wall_text(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


def _read_only_reason(entry: CalendarEntry) -> str | None:
    if entry.is_copy:
        return "read-only copy: only the owner can change it"
    if entry.is_recurring and entry.sync_status is SyncStatus.NOT_SYNCED:
        return "repeating event: open it to change the series"
    return None


def feed_entry(entry: CalendarEntry, zone: ZoneInfo) -> dict[str, Any]:
    """One entry as FullCalendar's event object."""
    reason = _read_only_reason(entry)
    classes = []
    if entry.is_copy:
        classes.append("is-copy")
    elif entry.is_recurring and entry.sync_status is SyncStatus.NOT_SYNCED:
        classes.append("is-crm-series")
    if entry.sync_status is SyncStatus.ERROR:
        classes.append("is-error")
    item: dict[str, Any] = {
        "id": str(entry.event_id),
        "title": entry.subject,
        "url": f"/events/{entry.event_id}",
        "editable": reason is None,
        "classNames": classes,
        "extendedProps": {
            "version": entry.version,
            "read_only_reason": reason,
            "sync_status": entry.sync_status.value,
            "location": entry.location,
        },
    }
    if entry.is_all_day and entry.start_date and entry.end_date:
        item.update(allDay=True, start=entry.start_date.isoformat(), end=entry.end_date.isoformat())
    else:
        item.update(
            allDay=False, start=_wall_text(entry.start, zone), end=_wall_text(entry.end, zone)
        )
    return item


def _error(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, "field": field}}
    )


@router.get("/calendar/feed")
def calendar_feed(user: CurrentUser, db: DbSession, start: str, end: str) -> Response:
    """The entries FullCalendar asks for when it shows [start, end)."""
    zone = ZoneInfo(user.time_zone)
    try:
        range_start = _wall_clock(start, zone, "start")
        range_end = _wall_clock(end, zone, "end")
        entries = list_events(db, user.id, range_start, range_end)
    except (CrmError, FieldError) as refused:
        return _error(422, refused.code, f"{refused.field}: {refused.message}", refused.field)
    return JSONResponse([feed_entry(entry, zone) for entry in entries])


class NewTimes(BaseModel):
    """Where a drag or resize put the event: wall-clock times in the user's zone."""

    model_config = ConfigDict(extra="forbid")

    start: str
    end: str
    all_day: bool
    version: int


def _when(event: Event, zone: ZoneInfo) -> str:
    if event.is_all_day and event.start_date:
        return long_date(event.start_date)
    return local_datetime(event.start_at, zone.key)


@router.post("/calendar/events/{event_id}/times")
def move_event(
    request: Request, event_id: int, times: NewTimes, user: CurrentUser, db: DbSession
) -> Response:
    """Save a drag or resize through the event service; a refusal says why, nothing changes."""
    try:
        check_csrf_header(request)
    except CsrfError as refused:
        return _error(refused.status_code, refused.code, refused.message, None)
    zone = ZoneInfo(user.time_zone)
    try:
        event = get_event(db, event_id)
        if not may_use_calendar_of(user, event.owner_id):
            raise NotFoundError(f"no Event with id {event_id}", field="event_id")
        start: datetime | date
        end: datetime | date
        if times.all_day:
            start = _day(times.start, "start")
            end = _day(times.end, "end")
        else:
            start = _wall_clock(times.start, zone, "start")
            end = _wall_clock(times.end, zone, "end")
        data = dataclasses.replace(
            event_input_of(event), start=start, end=end, is_all_day=times.all_day
        )
        saved = update_event(db, event_id, times.version, data)
    except (CrmError, FieldError) as refused:
        db.rollback()
        status = 409 if refused.code in ("version_conflict",) else 422
        if refused.code == "not_found":
            status = 404
        message = refused.message[:1].upper() + refused.message[1:]
        return _error(status, refused.code, message, refused.field)
    db.commit()
    return JSONResponse({"version": saved.version, "when": _when(saved, zone)})


def _day(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise FieldError(field, "must be a date like 2027-03-15") from None
