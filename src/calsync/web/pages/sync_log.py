"""Admin → Microsoft 365 sync → Sync log: every write in each direction, conflict, notice and error.

Filters: one user (their mailbox's pulls and the pushes of their events, as
`calsync.runtime.status.sync_log_query` defines it), one kind of line, and a range of days in the
administrator's own time zone. Newest first, 100 lines a page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from calsync.crm.models import User
from calsync.crm.services.users import list_users
from calsync.runtime.status import LogFilter, sync_log_query
from calsync.sync.storage.models import Direction, LogKind
from calsync.web.database import DbSession
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.sync_access import SYNC_PAGE, SyncDisabled, enabled_organization

router = APIRouter()

PAGE = SYNC_PAGE + "/log"
PAGE_SIZE = 100
KIND_LABELS = {
    LogKind.ACTION: "Changes",
    LogKind.CONFLICT: "Conflicts",
    LogKind.NOTICE: "Notices",
    LogKind.ERROR: "Errors",
}
DIRECTION_LABELS = {
    Direction.CRM_TO_MICROSOFT_365: "CRM → Microsoft 365",
    Direction.MICROSOFT_365_TO_CRM: "Microsoft 365 → CRM",
    Direction.NONE: "",
}


def _day(raw: str, label: str, errors: dict[str, str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{label} must be a date like 2027-03-15"
        return None


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


@router.get(PAGE, response_class=HTMLResponse)
def sync_log_page(
    request: Request,
    admin: CurrentAdmin,
    db: DbSession,
    user: str = "",
    kind: str = "",
    since: str = "",
    until: str = "",
    page: str = "1",
) -> Response:
    """The sync log, filtered; a filter that cannot be read is named next to its field."""
    try:
        enabled_organization(db)
    except SyncDisabled:
        return RedirectResponse(SYNC_PAGE, status_code=303)
    errors: dict[str, str] = {}
    users = list_users(db)
    chosen_user: User | None = None
    if user:
        chosen_user = next((u for u in users if str(u.id) == user), None)
        if chosen_user is None:
            errors["user"] = "User: no such user"
    chosen_kind = next((k for k in LogKind if k.value == kind), None)
    if kind and chosen_kind is None:
        errors["kind"] = "Kind: choose one of the listed kinds"
    first_day = _day(since, "From", errors, "since")
    last_day = _day(until, "To", errors, "until")
    if first_day and last_day and last_day < first_day:
        errors["until"] = "To must be on or after From"
    number = max(int(page), 1) if page.isdigit() else 1
    lines: list[Any] = []
    if not errors:
        query = sync_log_query(
            LogFilter(
                user=chosen_user,
                kind=chosen_kind,
                since=_start_of(first_day, admin.time_zone) if first_day else None,
                until=(
                    _start_of(last_day + timedelta(days=1), admin.time_zone) if last_day else None
                ),
            )
        )
        lines = list(db.scalars(query.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    filters = {"user": user, "kind": kind, "since": since, "until": until}
    context = {
        "nav": "sync",
        "filters": filters,
        "errors": errors,
        "users": users,
        "user_names": {u.email_normalized: u.name for u in users},
        "kind_options": [("", "All kinds")]
        + [(k.value, label) for k, label in KIND_LABELS.items()],
        "kind_labels": {k.value: label for k, label in KIND_LABELS.items()},
        "direction_labels": {d.value: label for d, label in DIRECTION_LABELS.items()},
        "lines": lines[:PAGE_SIZE],
        "page": number,
        "has_next": len(lines) > PAGE_SIZE,
        "query_for": lambda n: _query(filters, n),
    }
    return render(request, "sync_log.html", context, user=admin, status_code=422 if errors else 200)


def _query(filters: dict[str, str], number: int) -> str:
    kept = {name: value for name, value in filters.items() if value}
    return "?" + urlencode({**kept, "page": number})
