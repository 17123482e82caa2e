"""Errors the emulator answers with, always in Graph's JSON shape (GRAPH.md §11).

Handlers raise `GraphApiError`; the app turns it into
`{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


class GraphApiError(Exception):
    """A request Graph would refuse: HTTP status plus Graph's machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid_request(message: str) -> GraphApiError:
    """400 ErrorInvalidRequest: a body or parameter Graph would reject, naming the field."""
    return GraphApiError(400, "ErrorInvalidRequest", message)


def item_not_found(
    message: str = "The specified object was not found in the store.",
) -> GraphApiError:
    return GraphApiError(404, "ErrorItemNotFound", message)


def malformed_id(value: str) -> GraphApiError:
    return GraphApiError(400, "ErrorInvalidIdMalformed", f"Id is malformed: {value!r}.")


def unsupported_query(message: str) -> GraphApiError:
    return GraphApiError(400, "BadRequest", message)


def sync_state_not_found() -> GraphApiError:
    return GraphApiError(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found; the delta token is expired or unknown. "
        "Start a new initial round.",
    )


def error_body(code: str, message: str, client_request_id: str | None) -> dict[str, Any]:
    """Graph's error envelope; `client-request-id` echoes the caller's header when it sent one."""
    request_id = str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }
