"""The REST API: one router module per resource, gathered under `/api/v1`."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from calsync.web.api import (
    contact_point_emails,
    custom_fields,
    events,
    people,
    settings,
    sync,
    tokens,
    users,
    workflows,
)
from calsync.web.api.schemas.errors import error_responses
from calsync.web.query_parameters import reject_unknown_query_parameters

API_PREFIX = "/api/v1"

api_router = APIRouter(
    prefix=API_PREFIX,
    dependencies=[Depends(reject_unknown_query_parameters)],
    responses=error_responses(400, 401, 403, 404, 422),
)
api_router.include_router(users.router)
api_router.include_router(tokens.router)
api_router.include_router(people.router)
api_router.include_router(contact_point_emails.router)
api_router.include_router(custom_fields.router)
api_router.include_router(events.router)
api_router.include_router(settings.router)
api_router.include_router(workflows.router)
api_router.include_router(sync.router)
