"""The web app's pages: server-rendered HTML for staff and administrators, beside the REST API.

`install_pages(app)` is the one call `create_app` makes: it mounts the static files, attaches the
cookie signer and adds every page's routes. The pages call the same CRM services as the API, so a
change made by clicking is checked by the same rules and synced the same way.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.exceptions import HTTPException as StarletteHTTPException

from calsync.crm.database import DATA_DIR_VARIABLE
from calsync.web.errors import API_ROOT, on_http_exception
from calsync.web.pages import (
    calendar,
    contact_point_emails,
    custom_fields,
    events,
    people,
    people_search,
    signin,
    sync_connection,
    sync_log,
    sync_overview,
    sync_settings,
    workflow_forms,
    workflow_runs,
)
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import SignInRequired, sign_in_url
from calsync.web.pages.signin_throttle import SignInThrottle
from calsync.web.sessions import (
    SECRET_KEY_ENV,
    BrowserSessions,
    WebSessionError,
    load_secret_key,
)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(signin.router)
pages_router.include_router(calendar.router)
pages_router.include_router(people_search.router)
pages_router.include_router(people.router)
pages_router.include_router(contact_point_emails.router)
pages_router.include_router(custom_fields.router)
pages_router.include_router(events.router)
pages_router.include_router(sync_overview.router)
pages_router.include_router(sync_connection.router)
pages_router.include_router(sync_settings.router)
pages_router.include_router(sync_log.router)
pages_router.include_router(workflow_forms.router)
pages_router.include_router(workflow_runs.router)


@pages_router.get("/")
def home() -> Response:
    """The calendar is the home page."""
    return RedirectResponse("/calendar", status_code=303)


def secret_key_dir(database_url: str) -> Path | None:
    """Where the generated secret key is kept: beside the SQLite database, or in the data directory.

    None when neither exists (a server database and no `CALSYNC_DATA_DIR`): the key then lives in
    memory only and sessions end when the server stops.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent
    configured = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    return Path(configured) if configured else None


def _secret_key(database_url: str) -> str:
    directory = secret_key_dir(database_url)
    if directory is None:
        return os.environ.get(SECRET_KEY_ENV, "").strip() or secrets.token_urlsafe(48)
    return load_secret_key(directory)


async def _on_web_session_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebSessionError)
    if isinstance(exc, SignInRequired):
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)
    return render(
        request,
        "error.html",
        {"heading": "That did not work", "message": exc.message},
        status_code=exc.status_code,
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    """A browser that asks for a page that does not exist gets a page saying so, not JSON."""
    assert isinstance(exc, StarletteHTTPException)
    wants_page = "text/html" in request.headers.get("accept", "")
    if exc.status_code == 404 and wants_page and not request.url.path.startswith(API_ROOT):
        context = {
            "heading": "Page not found",
            "message": f"There is no page at {request.url.path}.",
        }
        return render(request, "error.html", context, status_code=404)
    return await on_http_exception(request, exc)


def install_pages(app: FastAPI, database_url: str) -> None:
    """Add the web app to `app`, signing cookies with `CALSYNC_SECRET_KEY` or the stored key."""
    app.state.browser_sessions = BrowserSessions(_secret_key(database_url))
    app.state.signin_throttle = SignInThrottle()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(WebSessionError, _on_web_session_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.include_router(pages_router)
