"""Turning a page's data into HTML: the Jinja2 environment and the context every page shares.

Every page gets the signed-in user (for the navigation), the CSRF token its forms must carry, and a
short notice after a successful save. Autoescaping is on for all templates, so nothing a person
typed can become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from calsync.crm.models import User
from calsync.web.pages.display import register_filters
from calsync.web.sessions import CSRF_FORM_FIELD, CSRF_HEADER, BrowserSessions

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
register_filters(templates.env)

# Notices shown after a redirect; the query string only names one, so no text is ever reflected.
NOTICES = {
    "saved": "Saved.",
    "created": "Created.",
    "deleted": "Deleted.",
    "signed-out": "You are signed out.",
    "password-changed": "Your password was changed.",
    "sync-enabled": "The Microsoft 365 sync is enabled.",
    "sync-disabled": "The Microsoft 365 sync is disabled.",
    "sync-started": "Sync started: the mailboxes are being read now; their runs appear in the log.",
    "deletions-confirmed": "Deletion confirmed: the mailbox's run now deletes the held events.",
    "deletions-discarded": "Events kept: nothing held is deleted; the mailbox syncs again.",
}


# Pages are never cached (they show personal data), never framed by another site, and run only
# the app's own scripts. FullCalendar adds <style> elements at run time, hence inline styles.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
}


def browser_sessions(request: Request) -> BrowserSessions:
    """The app's cookie signer, attached by `install_pages`."""
    sessions: BrowserSessions = request.app.state.browser_sessions
    return sessions


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `template` with the shared page context, issuing the CSRF cookie when needed."""
    sessions = browser_sessions(request)
    token, must_set = sessions.csrf_token_for(request)
    notice_key = request.query_params.get("notice", "")
    page: dict[str, Any] = {
        "current_user": user,
        "csrf_token": token,
        "csrf_field": CSRF_FORM_FIELD,
        "csrf_header": CSRF_HEADER,
        "notice": NOTICES.get(notice_key),
    }
    page.update(context or {})
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    if must_set:
        sessions.set_csrf_cookie(request, response, token)
    response.headers.update(PAGE_HEADERS)
    return response


def not_found(
    request: Request, user: User, message: str, back_href: str, back_label: str
) -> HTMLResponse:
    """The page for a record that does not exist (or no longer does)."""
    context = {
        "heading": "Not found",
        "message": message,
        "back_href": back_href,
        "back_label": back_label,
    }
    return render(request, "error.html", context, user=user, status_code=404)
