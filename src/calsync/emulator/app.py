"""The emulator's ASGI app: identity endpoints, Graph calendar routes, Graph-shaped errors."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from calsync.emulator.api_auth import auth_routes
from calsync.emulator.api_events import event_routes
from calsync.emulator.api_mail import mail_routes
from calsync.emulator.api_me import me_routes
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.emulator import Emulator
from calsync.emulator.errors import GraphApiError, error_body
from calsync.emulator.gate import GraphGateMiddleware
from calsync.emulator.operations_wiring import install_operations
from calsync.emulator.request_size import RequestSizeLimitMiddleware

log = logging.getLogger(__name__)


def _error(request: Request, status: int, code: str, message: str) -> JSONResponse:
    body = error_body(code, message, request.headers.get("client-request-id"))
    return JSONResponse(body, status_code=status)


async def _graph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphApiError)
    return _error(request, exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(
            request, 400, "BadRequest", f"Resource not found for the segment '{request.url.path}'."
        )
    if exc.status_code == 405:
        return _error(
            request,
            405,
            "Request_BadRequest",
            f"The method {request.method} is not allowed on {request.url.path}.",
        )
    return _error(request, exc.status_code, "BadRequest", str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("emulator request failed: %s %s", request.method, request.url.path)
    return _error(request, 500, "generalException", "An unexpected error occurred in the emulator.")


def create_app(config: EmulatorConfig, emulator: Emulator | None = None) -> Starlette:
    """Build the app; `app.state.emulator` holds config, store and token issuer."""
    emulator = emulator or Emulator.from_config(config)
    app = Starlette(
        routes=[*auth_routes(), *event_routes(), *mail_routes(), *me_routes()],
        middleware=[Middleware(GraphGateMiddleware, tokens=emulator.tokens)],
        exception_handlers={
            GraphApiError: _graph_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.emulator = emulator
    emulator.faults = install_operations(app, emulator, delta_quirks=emulator.delta_quirks).faults
    # Innermost, next to the routes: a chunked body is buffered there without hiding the
    # connection from the fault middleware (which drops connections through `receive`).
    app.user_middleware.append(Middleware(RequestSizeLimitMiddleware, config=emulator.config))
    return app
