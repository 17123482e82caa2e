"""The error body, declared for the OpenAPI document (`calsync.web.errors` builds it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable reason, e.g. `version_conflict`.")
    message: str = Field(description="What was wrong and what to do, for a person.")
    field: str | None = Field(
        description="The request field at fault (`attendees[0].email`), or null."
    )


class ErrorBody(BaseModel):
    """Every 4xx response of the API has this body."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer with an `ErrorBody`."""
    descriptions = {
        400: "Malformed request (bad JSON, unknown query parameter, invalid cursor)",
        401: "Missing or invalid bearer token",
        403: "Not allowed for this user",
        404: "No such record",
        409: "The record's state forbids the change (read-only copy, duplicate …)",
        412: "If-Match does not match the current version (`version_conflict`)",
        422: "A field is missing or invalid",
    }
    return {
        status: {"model": ErrorBody, "description": descriptions.get(status, "Error")}
        for status in statuses
    }
