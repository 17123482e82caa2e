"""Who is calling: a bearer API token names a User, and the User's role says what they may do.

Staff work with their own events; administrators also manage people records, users and settings.
A request without a valid token gets 401 with a `WWW-Authenticate: Bearer` challenge; a staff user
asking for an administrator's action gets 403 `admin_only`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from calsync.crm.models import Role, User
from calsync.crm.services.api_tokens import resolve_api_token
from calsync.web.database import DbSession
from calsync.web.errors import ApiError

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token from `calsync tokens create` or `POST /api/v1/tokens`.",
)


def current_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> User:
    """FastAPI dependency: the User whose token came with the request."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthenticated",
            "this API needs an API token: send the header `Authorization: Bearer <token>`",
            "Authorization",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # An unknown token raises InvalidTokenError, which the error handlers answer with 401.
    return resolve_api_token(session, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require_admin(user: CurrentUser) -> User:
    """FastAPI dependency: the caller, who must be an administrator."""
    if user.role != Role.ADMIN:
        raise ApiError(403, "admin_only", "only an administrator may do this")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def may_use_calendar_of(user: User, owner_id: int) -> bool:
    """Staff open and change only events on their own calendar; administrators every calendar.

    The one rule for the REST API and the web pages.
    """
    return user.role == Role.ADMIN or owner_id == user.id
