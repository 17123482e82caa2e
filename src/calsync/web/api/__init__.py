"""The REST API: one router module per resource, gathered under `/api/v1`."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from calsync.web.query_parameters import reject_unknown_query_parameters

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(reject_unknown_query_parameters)])
