"""The front door of every Graph call: request ids on every response, and a valid bearer token.

Every `/v1.0` request needs `Authorization: Bearer <token from our token endpoint>`; without one,
or with an expired one, Graph answers 401 `InvalidAuthenticationToken` (GRAPH.md §9, [i2002]).
"""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calsync.emulator.tokens import TokenIssuer
from calsync.emulator.traffic import GRAPH_ROOT, graph_error_response, header_value


class GraphGateMiddleware:
    """Adds request-id headers and refuses Graph calls without a valid bearer token."""

    def __init__(self, app: ASGIApp, tokens: TokenIssuer) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        client_request_id = header_value(scope, "client-request-id") or request_id

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("request-id", request_id)
                headers.setdefault("client-request-id", client_request_id)
            await send(message)

        path = str(scope.get("path", ""))
        if path == GRAPH_ROOT or path.startswith(GRAPH_ROOT + "/"):
            problem = self._token_problem(header_value(scope, "authorization"))
            if problem is not None:
                response = graph_error_response(
                    scope,
                    401,
                    "InvalidAuthenticationToken",
                    problem,
                    headers={"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
                )
                await response(scope, receive, send_with_ids)
                return
        await self.app(scope, receive, send_with_ids)

    def _token_problem(self, authorization: str | None) -> str | None:
        if not authorization:
            return "Access token is empty."
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "The Authorization header must be 'Bearer <access token>'."
        if not self.tokens.is_valid(token.strip()):
            return "Lifetime validation failed, the token is expired or was not issued here."
        return None
