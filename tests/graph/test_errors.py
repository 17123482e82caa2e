from __future__ import annotations

import pytest

from calsync.graph.errors import (
    AccessDenied,
    GraphError,
    NotFound,
    PreconditionFailed,
    ResyncRequired,
    ServiceUnavailable,
    Throttled,
    ValidationFailed,
    error_from_response,
)


def _body(code: str, message: str = "anything", inner: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    error["innerError"] = {"request-id": "r-9", **({"code": inner} if inner else {})}
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "ErrorItemNotFound", NotFound),
        (412, "ErrorIrresolvableConflict", PreconditionFailed),
        (410, "SyncStateNotFound", ResyncRequired),
        (410, "resyncRequired", ResyncRequired),
        (403, "ErrorAccessDenied", AccessDenied),
        (400, "ErrorOccurrenceCrossingBoundary", ValidationFailed),
        (429, "activityLimitReached", Throttled),
        (503, "serviceNotAvailable", ServiceUnavailable),
        (504, "gatewayTimeout", ServiceUnavailable),
        (418, "teapot", GraphError),
    ],
)
def test_errors_are_typed_by_code_and_status(
    status: int, code: str, expected: type[GraphError]
) -> None:
    error = error_from_response(status, _body(code))
    assert type(error) is expected
    assert error.graph_code == code
    assert error.status == status
    assert error.request_id == "r-9"


def test_the_message_text_never_decides_the_type() -> None:
    misleading = error_from_response(400, _body("ErrorInvalidRequest", "The item was not found"))
    assert type(misleading) is ValidationFailed


def test_an_inner_code_is_more_specific_than_the_outer_one() -> None:
    error = error_from_response(400, _body("invalidRequest", inner="ErrorItemNotFound"))
    assert isinstance(error, NotFound)


def test_retry_after_is_kept_and_bodies_that_are_not_json_still_give_a_typed_error() -> None:
    error = error_from_response(429, None, headers={"retry-after": "7"})
    assert isinstance(error, Throttled)
    assert error.retry_after == 7.0
    assert error.code == "graph.throttled"
    assert isinstance(error_from_response(502, "<html>bad gateway</html>"), ServiceUnavailable)
