"""Admin → Microsoft 365 sync → Sync Settings: how often mailboxes run, the window, who is synced,
and how long the sync log is kept.

The frequency and window go through the organisation service (`update_sync_settings`, which holds
the allowed frequencies and window bounds); each user's sync on/off through the user service. All
of one save is written together or, when anything is refused, nothing is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError
from calsync.crm.models import User
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.users import UserChanges, list_users, update_user
from calsync.web.database import DbSession
from calsync.web.pages.forms import FieldError, field_message, integer, read_form
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.sync_access import SYNC_PAGE, SyncDisabled, enabled_organization
from calsync.web.pages.sync_overview import FREQUENCY_OPTIONS

router = APIRouter()

PAGE = SYNC_PAGE + "/settings"
LABELS = {
    "run_frequency_minutes": "Run frequency",
    "window_past_days": "Days in the past",
    "window_future_days": "Days in the future",
    "sync_log_retention_days": "Keep the sync log (days)",
}


def _render(
    request: Request,
    admin: User,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    synced_ids: set[int] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    organization = enabled_organization(session)
    users = list_users(session)
    shown = {
        "run_frequency_minutes": str(organization.run_frequency_minutes),
        "window_past_days": str(organization.window_past_days),
        "window_future_days": str(organization.window_future_days),
        "sync_log_retention_days": str(organization.sync_log_retention_days),
    }
    shown.update(values or {})
    context: dict[str, Any] = {
        "nav": "sync",
        "settings": shown,
        "frequency_options": FREQUENCY_OPTIONS,
        "users": users,
        "synced_ids": (
            synced_ids if synced_ids is not None else {u.id for u in users if u.sync_enabled}
        ),
        "errors": errors or {},
    }
    return render(request, "sync_settings.html", context, user=admin, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
def sync_settings_page(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    try:
        return _render(request, admin, db)
    except SyncDisabled:
        return RedirectResponse(SYNC_PAGE, status_code=303)


@router.post(PAGE, response_class=HTMLResponse)
async def save_sync_settings(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    form = await read_form(request)
    try:
        enabled_organization(db)
    except SyncDisabled:
        return RedirectResponse(SYNC_PAGE, status_code=303)
    values = {name: str(form.get(name) or "").strip() for name in LABELS}
    synced_ids = {
        int(raw) for raw in form.getlist("synced_user") if isinstance(raw, str) and raw.isdigit()
    }
    numbers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, label in LABELS.items():
        try:
            numbers[name] = integer(form, name, label)
        except FieldError as unreadable:
            errors[name] = unreadable.message
    if errors:
        return _render(
            request, admin, db, values=values, synced_ids=synced_ids, errors=errors, status_code=422
        )
    try:
        update_sync_settings(
            db,
            SyncSettingsChanges(
                run_frequency_minutes=numbers["run_frequency_minutes"],
                window_past_days=numbers["window_past_days"],
                window_future_days=numbers["window_future_days"],
                sync_log_retention_days=numbers["sync_log_retention_days"],
            ),
        )
        for user in list_users(db):
            if user.sync_enabled != (user.id in synced_ids):
                update_user(db, user.id, UserChanges(sync_enabled=user.id in synced_ids))
    except CrmError as refused:
        db.rollback()
        field = refused.field if refused.field in LABELS else "_form"
        message = (
            refused.message if field == "_form" else field_message(LABELS[field], refused.message)
        )
        return _render(
            request,
            admin,
            db,
            values=values,
            synced_ids=synced_ids,
            errors={field: message},
            status_code=422,
        )
    db.commit()
    return RedirectResponse(f"{PAGE}?notice=saved", status_code=303)
