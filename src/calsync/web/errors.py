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
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError
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


# Every version of the REST API lives below this path; other paths are the web app's pages.
API_ROOT = "/api/"

# Where a value came from is not part of the field's name for the client: `body.start` is `start`.
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header", "cookie"})

# Pydantic's error types, grouped into the few codes our clients need to tell apart.
_CODE_BY_PYDANTIC_TYPE = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "json_invalid": "malformed_json",
    "json_type": "malformed_json",
}


def _is_key_of(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return isinstance(part, str) and part in container
    if isinstance(container, list):
        return isinstance(part, int) and 0 <= part < len(container)
    return False


def field_path(
    location: Sequence[str | int], body: Any = None, *, missing: bool = False
) -> str | None:
    """`("body", "attendees", 0, "email")` → `"attendees[0].email"`; `None` for the whole body.

    Pydantic puts the names of union members (`datetime`, `AttendeeIn`, `function-after[…]`) into
    error locations. They are not in the client's JSON, so the location is walked through the
    request body and only the keys and indexes that exist there are kept (plus, for a missing
    field, its name).
    """
    parts = list(location)
    source = parts[0] if parts else None
    if source in _LOCATION_PREFIXES:
        parts = parts[1:]
    kept: list[str | int] = []
    current = body
    walk_body = source == "body"
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if not walk_body:
            kept.append(part)
        elif _is_key_of(current, part):
            kept.append(part)
            current = current[part]
        elif last and missing and isinstance(part, str):
            kept.append(part)
    path = ""
    for part in kept:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
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
    error_type = str(first.get("type", ""))
    code = _CODE_BY_PYDANTIC_TYPE.get(error_type, "invalid_value")
    if code == "malformed_json":
        return error_response(400, code, "the request body is not valid JSON", None)
    field = field_path(first.get("loc", ()), exc.body, missing=error_type == "missing")
    message = _validation_message(first)
    if field is not None and not message.startswith(field):
        message = f"{field}: {message}"
    # One wrong value can fail every member of a union; count fields, not pydantic's errors.
    other_fields = {
        field_path(error.get("loc", ()), exc.body, missing=error.get("type") == "missing")
        for error in errors
    } - {field}
    if other_fields:
        count = len(other_fields)
        message += f" (and {count} more field{'s' if count > 1 else ''} with problems)"
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


def _is_api_request(request: Request) -> bool:
    return request.url.path.startswith(API_ROOT)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own errors: unknown path (404), wrong method (405) and the like."""
    assert isinstance(exc, StarletteHTTPException)
    if not _is_api_request(request):
        # Not the API: the web app's pages keep FastAPI's default answer (or their own handler).
        return await http_exception_handler(request, exc)
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


async def _on_integrity_error(request: Request, exc: Exception) -> Response:
    """The services check uniqueness before writing, so a constraint that still fails at commit
    means a concurrent request saved the same thing first: the client may simply retry."""
    if not _is_api_request(request):
        return PlainTextResponse("Conflict", status_code=409)
    return error_response(
        409,
        "concurrent_change",
        "another request saved a conflicting change at the same moment; nothing of yours was "
        "saved, reload and try again",
    )


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug, not a refusal: still answered in the error shape. Starlette logs the exception and
    re-raises it after this response, so nothing is hidden."""
    if not _is_api_request(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return error_response(
        500,
        "internal_error",
        "CalSync could not handle this request because of an internal error, which was logged; "
        "nothing was saved",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app can produce use the API's error shape."""
    app.add_exception_handler(Exception, _on_unexpected_error)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(CrmError, _on_crm_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
