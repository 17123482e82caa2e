"""Every error the API returns has one shape: `{"error": {"code", "message", "field"}}`.

Clients branch on `code` (stable, machine-readable), show `message` to a person and use `field`
(a dotted path into the request, or `null`) to point at the input that was wrong. This module owns
that shape: it defines `ApiError` for the few refusals that belong to the HTTP layer itself
(authentication, ETags, cursors), and the exception handlers that turn request-validation errors,
Starlette's HTTP errors and the CRM's own errors into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from calsync.crm.errors import (
    CrmError,
    DuplicateError,
    InvalidInputError,
    InvalidTokenError,
    NotFoundError,
    ReadOnlyCopyError,
    RecurrenceManagedInMicrosoft365Error,
    TeamsInvitationSentError,
    VersionConflictError,
)


class ApiError(Exception):
    """A refusal decided by the HTTP layer (bad token, stale ETag, unknown cursor …)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one JSON body every API error uses."""
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "field": field}},
        headers=dict(headers or {}),
    )


# Where a value came from is not part of the field's name for the client: `body.start` is `start`.
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header", "cookie"})

# Pydantic's error types, grouped into the few codes our clients need to tell apart.
_CODE_BY_PYDANTIC_TYPE = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "json_invalid": "malformed_json",
    "json_type": "malformed_json",
}


def field_path(location: Sequence[str | int]) -> str | None:
    """`("body", "attendees", 0, "email")` → `"attendees[0].email"`; `None` for the whole body."""
    parts = list(location)
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")) or "[" in part:
            # Pydantic's internal names for validators and union branches mean nothing to a client.
            continue
        else:
            path += f".{part}" if path else part
    return path or None


def _validation_message(error: Mapping[str, Any]) -> str:
    """Pydantic's message, without the "Value error, " prefix it puts before our own messages."""
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


async def _on_request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first: Mapping[str, Any] = errors[0] if errors else {}
    code = _CODE_BY_PYDANTIC_TYPE.get(str(first.get("type", "")), "invalid_value")
    field = field_path(first.get("loc", ()))
    message = _validation_message(first)
    if code == "malformed_json":
        return error_response(400, code, "the request body is not valid JSON", None)
    if field is not None and not message.startswith(field):
        message = f"{field}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return error_response(422, code, message, field)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


_CODE_BY_HTTP_STATUS = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthenticated",
    403: "forbidden",
}


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors: unknown path (404), wrong method (405) and the like."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _CODE_BY_HTTP_STATUS.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    if status == 404:
        message = f"there is nothing at {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(status, code, message, None, exc.headers)


# The HTTP status of each kind of CRM refusal. A subclass the CRM adds later inherits the status of
# its nearest listed ancestor, and a plain CrmError is a bad request.
_STATUS_BY_CRM_ERROR: dict[type[CrmError], int] = {
    InvalidInputError: 422,
    NotFoundError: 404,
    DuplicateError: 409,
    VersionConflictError: 412,
    # A copy or a Microsoft 365-owned recurrence is read-only for everyone: the state of the event
    # conflicts with the change, it is not a question of who asks.
    ReadOnlyCopyError: 409,
    RecurrenceManagedInMicrosoft365Error: 409,
    TeamsInvitationSentError: 409,
    InvalidTokenError: 401,
}


def status_for_crm_error(error: CrmError) -> int:
    for cls in type(error).__mro__:
        if cls in _STATUS_BY_CRM_ERROR:
            return _STATUS_BY_CRM_ERROR[cls]
    return 400


async def _on_crm_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CrmError)
    status = status_for_crm_error(exc)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return error_response(status, exc.code, exc.message, exc.field, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can produce use the API's error shape."""
    app.add_exception_handler(CrmError, _on_crm_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
