"""`/me`: every token the emulator issues is app-only (client credentials), so `/me` is refused.

Graph answers an app-only `/me` call with 400 `BadRequest` "/me request is only valid with
delegated authentication flow." (seen in msgraph-sdk-php#1163, GearPlug/microsoftgraph-python#20),
not with 404: a client that builds `/me/...` paths by mistake must see the same refusal here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calsync.emulator.errors import GraphApiError

ME_ONLY_DELEGATED = "/me request is only valid with delegated authentication flow."
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


async def refuse_me(request: Request) -> Response:
    raise GraphApiError(400, "BadRequest", ME_ONLY_DELEGATED)


def me_routes() -> list[Route]:
    return [
        Route("/v1.0/me", refuse_me, methods=_METHODS),
        Route("/v1.0/me/{rest:path}", refuse_me, methods=_METHODS),
    ]
