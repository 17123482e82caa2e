"""Admin → Microsoft 365 sync, once enabled: the connection, each mailbox's state, "Sync now".

The mailbox table is `calsync.runtime.status.mailbox_states`, the same rows the API and
`calsync status` show, so "needs attention" (the mass-deletion guard held a run, SPEC §9) means the
same thing everywhere. "Sync now" asks the running sync service (`SyncRuntime.sync_now`) to pull
the organisation's mailboxes, or one user's, at once and push what waits.

A mailbox that needs attention shows what the guard holds (`calsync.runtime.held_deletions`, the
list the API gives) with *Confirm deletion* and *Keep events*, which record the administrator's
decision through the running sync service and start the mailbox's run that carries it out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError
from calsync.crm.models import User
from calsync.crm.services.organization import RUN_FREQUENCY_CHOICES, get_organization
from calsync.crm.services.users import get_user
from calsync.runtime.errors import SyncServiceError
from calsync.runtime.held_deletions import all_held_deletions, held_deletions
from calsync.runtime.status import mailbox_states
from calsync.web.database import DbSession
from calsync.web.pages.forms import read_form, text
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.sync_access import SYNC_PAGE, sync_runtime
from calsync.web.pages.sync_connection import connection_form_context, render_enable_page

router = APIRouter()


def frequency_label(minutes: int) -> str:
    """A run frequency as a person says it: "every 15 minutes", "hourly", "daily"."""
    if minutes == 60:
        return "Hourly"
    if minutes == 1440:
        return "Daily"
    if minutes % 60 == 0:
        return f"Every {minutes // 60} hours"
    return f"Every {minutes} minutes"


FREQUENCY_OPTIONS = [(str(minutes), frequency_label(minutes)) for minutes in RUN_FREQUENCY_CHOICES]
# A held run may name hundreds of events; the page lists the first ones and says how many more.
HELD_EVENTS_SHOWN = 20


def render_overview(
    request: Request,
    admin: User,
    session: Session,
    *,
    sync_error: str | None = None,
    status_code: int = 200,
) -> Response:
    organization = get_organization(session)
    runtime = sync_runtime(request)
    context = {
        "nav": "sync",
        "organization": organization,
        "frequency": frequency_label(organization.run_frequency_minutes),
        "mailboxes": mailbox_states(session),
        "held": {held.mailbox: held for held in all_held_deletions(session)},
        "held_shown": HELD_EVENTS_SHOWN,
        "service_running": runtime is not None,
        # Why an enabled sync cannot run (a secret sealed with another key, …), as the API says.
        "service_problem": runtime.problem if runtime is not None else None,
        "sync_error": sync_error,
        **connection_form_context(session),
    }
    return render(request, "sync_overview.html", context, user=admin, status_code=status_code)


@router.get(SYNC_PAGE, response_class=HTMLResponse)
def sync_page(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    """The enable page while the sync is off (SPEC §7), the overview once it is on."""
    if not get_organization(db).sync_enabled:
        return render_enable_page(request, admin, db)
    return render_overview(request, admin, db)


@router.post(SYNC_PAGE + "/runs", response_class=HTMLResponse)
async def sync_now(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    """ "Sync now" for the organisation, or for the user named by `user_id`."""
    form = await read_form(request)
    if not get_organization(db).sync_enabled:
        return RedirectResponse(SYNC_PAGE, status_code=303)
    mailbox: str | None = None
    raw_user = text(form, "user_id")
    if raw_user:
        try:
            user = get_user(db, int(raw_user)) if raw_user.isdigit() else None
        except CrmError:
            user = None
        if user is None:
            return render_overview(
                request, admin, db, sync_error="That user no longer exists.", status_code=404
            )
        if not user.sync_enabled:
            message = (
                f"{user.name}'s sync is switched off; switch it on in Sync Settings before "
                "syncing their mailbox."
            )
            return render_overview(request, admin, db, sync_error=message, status_code=409)
        mailbox = user.email_normalized
    # End this request's transaction before the runs start: on SQLite a run would otherwise wait
    # for this request's lock.
    db.commit()
    runtime = sync_runtime(request)
    if runtime is None:
        message = "This server does not run the sync service; start it with `calsync serve`."
        return render_overview(request, admin, db, sync_error=message, status_code=503)
    try:
        await runtime.sync_now(mailbox)
    except SyncServiceError as refused:
        return render_overview(request, admin, db, sync_error=refused.message, status_code=409)
    return RedirectResponse(f"{SYNC_PAGE}?notice=sync-started", status_code=303)


@router.post(SYNC_PAGE + "/held-deletions/{user_id}/{decision}", response_class=HTMLResponse)
async def decide_held_deletions(
    request: Request, user_id: int, decision: str, admin: CurrentAdmin, db: DbSession
) -> Response:
    """*Confirm deletion* (`confirm`) or *Keep events* (`discard`) for one held mailbox."""
    await read_form(request)
    if not get_organization(db).sync_enabled:
        return RedirectResponse(SYNC_PAGE, status_code=303)
    if decision not in ("confirm", "discard"):
        return render_overview(
            request, admin, db, sync_error="Choose to confirm or to keep.", status_code=404
        )
    try:
        user = get_user(db, user_id)
    except CrmError:
        return render_overview(
            request, admin, db, sync_error="That user no longer exists.", status_code=404
        )
    if held_deletions(db, user.email_normalized) is None:
        message = f"Nothing is held for {user.name}'s mailbox any more; no decision is needed."
        return render_overview(request, admin, db, sync_error=message, status_code=409)
    db.commit()  # end this request's transaction before the runtime writes (SQLite's lock)
    runtime = sync_runtime(request)
    if runtime is None:
        message = (
            "This server does not run the sync service; start it with `calsync serve`, or "
            "decide with `calsync sync confirm-deletions` / `calsync sync discard-deletions`."
        )
        return render_overview(request, admin, db, sync_error=message, status_code=503)
    confirm = decision == "confirm"
    try:
        await runtime.call(
            runtime.runtime.decide_held_deletions(user.email_normalized, confirm=confirm)
        )
    except SyncServiceError as refused:
        return render_overview(request, admin, db, sync_error=refused.message, status_code=409)
    notice = "deletions-confirmed" if confirm else "deletions-discarded"
    return RedirectResponse(f"{SYNC_PAGE}?notice={notice}", status_code=303)
