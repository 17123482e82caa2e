"""The Graph client's exceptions, chosen by Graph's error *code*, never by its message text.

Graph's messages are not localised and change without notice (GRAPH.md §11), so every failure the
client raises carries:

- ``code``: our own machine-readable code (``graph.not_found``, ``graph.resync_required`` …) that
  callers and the web edge branch on;
- ``graph_code``: the code Graph sent (``ErrorItemNotFound``, ``SyncStateNotFound`` …), or ``None``
  when the failure happened before Graph answered (a dropped connection, a bad configuration);
- ``status``: the HTTP status, when there was one, and ``request_id`` for Microsoft support.

``error_from_response`` is the single place that turns an HTTP error answer (top-level or inside a
``$batch``) into one of these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GraphError(Exception):
    """Base of every failure raised by ``calsync.graph``."""

    code: ClassVar[str] = "graph.error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        graph_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.graph_code = graph_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = 1

    def __str__(self) -> str:
        parts = [self.message]
        if self.graph_code:
            parts.append(f"Graph code {self.graph_code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        return " | ".join(parts)


class ConfigurationInvalid(GraphError):
    """The client's settings cannot work (missing secret, http authority…); ``field`` names the
    setting."""

    code = "graph.configuration_invalid"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class InvalidArgument(GraphError):
    """A caller passed a value the client refuses before sending anything; ``field`` names the
    argument."""

    code = "graph.invalid_argument"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class InvalidEventDraft(InvalidArgument):
    """An event the caller asked us to write is inconsistent; nothing was sent. ``field`` names the
    culprit."""

    code = "graph.invalid_event"


class UnknownTimeZone(GraphError):
    """A zone name is neither a Windows zone known to CLDR nor an IANA zone known to tzdata."""

    code = "graph.unknown_time_zone"

    def __init__(self, name: str) -> None:
        super().__init__(f"time zone {name!r} is neither a Windows nor an IANA zone name")
        self.zone_name = name


class TokenAcquisitionFailed(GraphError):
    """Entra ID (or the emulator's token endpoint) refused to issue an app-only token.

    ``graph_code`` holds the OAuth error (``invalid_client``, ``unauthorized_client`` …): usually a
    wrong secret, an expired certificate or missing admin consent.
    """

    code = "graph.token_failed"


class InvalidResponse(GraphError):
    """Graph answered with a body that does not have the documented shape."""

    code = "graph.invalid_response"


class GraphConnectionError(GraphError):
    """The request never got an HTTP answer: timeout, refused or dropped connection, TLS failure."""

    code = "graph.connection_failed"


class TlsVerificationFailed(GraphError):
    """The server's certificate is not trusted: a wrong ``ca_bundle`` or an intercepting proxy. Not
    retried."""

    code = "graph.tls_verification_failed"


class ValidationFailed(GraphError):
    """400/422: Graph rejected the request body or parameters (e.g.
    ``ErrorOccurrenceCrossingBoundary``)."""

    code = "graph.validation_failed"


class Unauthenticated(GraphError):
    """401 even after one token refresh: the token is not accepted."""

    code = "graph.unauthenticated"


class AccessDenied(GraphError):
    """403: missing permission or an ApplicationAccessPolicy excludes the mailbox."""

    code = "graph.access_denied"


class NotFound(GraphError):
    """404: the event (or mailbox, or subscription) does not exist, or was deleted meanwhile."""

    code = "graph.not_found"


class Conflict(GraphError):
    """409: the write conflicts with the item's state."""

    code = "graph.conflict"


class ResyncRequired(GraphError):
    """410 ``SyncStateNotFound`` / ``resyncRequired``: the delta link is dead; start a new initial
    round."""

    code = "graph.resync_required"


class PreconditionFailed(GraphError):
    """412: the ``If-Match`` ETag is stale (``ErrorIrresolvableConflict``); re-read the event and
    decide again."""

    code = "graph.precondition_failed"


class PayloadTooLarge(GraphError):
    """413: the body exceeds Graph's size limit."""

    code = "graph.payload_too_large"


class Throttled(GraphError):
    """429 that outlasted our retry budget; ``retry_after`` holds Graph's last advice in seconds."""

    code = "graph.throttled"


class ServiceUnavailable(GraphError):
    """5xx that outlasted our retry budget (503 unavailable, 504 gateway timeout, 500 general
    failure)."""

    code = "graph.service_unavailable"


class DependencyFailed(GraphError):
    """424 inside a ``$batch``: an item this one depended on failed."""

    code = "graph.dependency_failed"


_BY_GRAPH_CODE: dict[str, type[GraphError]] = {
    code.lower(): cls
    for cls, codes in {
        NotFound: (
            "ErrorItemNotFound",
            "itemNotFound",
            "ResourceNotFound",
            "ErrorSubscriptionNotFound",
        ),
        PreconditionFailed: ("ErrorIrresolvableConflict", "resourceModified", "PreconditionFailed"),
        ResyncRequired: ("SyncStateNotFound", "resyncRequired", "SyncStateInvalid"),
        AccessDenied: (
            "ErrorAccessDenied",
            "accessDenied",
            "Authorization_RequestDenied",
            "Forbidden",
        ),
        Unauthenticated: ("unauthenticated", "InvalidAuthenticationToken"),
        Throttled: (
            "activityLimitReached",
            "throttledRequest",
            "ApplicationThrottled",
            "ErrorTooManyObjectsOpened",
        ),
        ServiceUnavailable: ("serviceNotAvailable", "ErrorServerBusy", "generalException"),
        ValidationFailed: (
            "invalidRequest",
            "ErrorInvalidRequest",
            "ErrorOccurrenceCrossingBoundary",
            "ErrorInvalidIdMalformed",
            "ErrorPropertyValidationFailure",
            "invalidRange",
            "BadRequest",
        ),
        Conflict: ("nameAlreadyExists", "ErrorConflict"),
        PayloadTooLarge: ("quotaLimitReached",),
    }.items()
    for code in codes
}

_BY_STATUS: dict[int, type[GraphError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    410: ResyncRequired,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: ValidationFailed,
    424: DependencyFailed,
    429: Throttled,
}


def error_from_response(
    status: int,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
) -> GraphError:
    """Build the typed error for an HTTP error answer.

    The class comes from the innermost Graph code we recognise (``innerError.code`` first, then
    ``error.code``), falling back to the HTTP status. 410 and 429 keep their meaning whatever the
    code says, because the caller's recovery (resync, back off) depends on the status alone.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    outer_code = error.get("code") if isinstance(error.get("code"), str) else None
    inner = error.get("innerError") or error.get("innererror") or {}
    inner = inner if isinstance(inner, Mapping) else {}
    inner_code = inner.get("code") if isinstance(inner.get("code"), str) else None
    request_id = inner.get("request-id")
    message = error.get("message") if isinstance(error.get("message"), str) else None

    cls: type[GraphError] | None = None
    if status in (410, 429):
        cls = _BY_STATUS[status]
    else:
        for candidate in (inner_code, outer_code):
            if candidate and candidate.lower() in _BY_GRAPH_CODE:
                cls = _BY_GRAPH_CODE[candidate.lower()]
                break
    if cls is None:
        cls = _BY_STATUS.get(status, ServiceUnavailable if status >= 500 else GraphError)

    retry_after = parse_retry_after(headers.get("retry-after") if headers else None)
    return cls(
        message or f"Microsoft Graph answered HTTP {status}",
        status=status,
        graph_code=inner_code or outer_code,
        request_id=request_id if isinstance(request_id, str) else None,
        retry_after=retry_after,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; Graph sends whole seconds. Unparseable values count as
    absent."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
