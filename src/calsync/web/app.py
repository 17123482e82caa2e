"""The FastAPI application: the REST API mounted at `/api/v1`, plus room for the web app's pages.

`create_app` is the one place that assembles the app. A later part adds its routes here with one
`include_router` line (the pages of the web app, webhooks); everything else (error shape,
database sessions, OpenAPI) is already set up for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import calsync.sync.storage  # noqa: F401  (installs the sync outbox listener for every session)
from calsync import __version__
from calsync.web.api import API_PREFIX, api_router
from calsync.web.database import attach_database
from calsync.web.errors import install_error_handlers
from calsync.web.health import router as health_router
from calsync.web.pages import install_pages
from calsync.web.settings import WebSettings
from calsync.workflows.triggers import install_workflow_triggers

API_DESCRIPTION = """\
CalSync's REST API: the CRM's people (users, individuals, contacts, contact point emails),
custom fields and events.

Authenticate with `Authorization: Bearer <token>` (create one with `calsync tokens create`).
Every error is `{"error": {"code", "message", "field"}}` with a 4xx status. Lists are paginated:
follow `next` until it is null. Events carry an `ETag`; send it back in `If-Match` to update or
delete only the version you saw (412 `version_conflict` when it changed since).
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.engine.dispose()


def create_app(settings: WebSettings) -> FastAPI:
    """Build the CalSync web application for one migrated database (see `calsync serve`)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="CalSync API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    attach_database(app, settings.database_url)
    install_workflow_triggers(app.state.session_factory)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(health_router)
    install_pages(app, settings.database_url)
    return app
