"""Who is using the pages: the dependency that turns a session cookie into a CRM `User`.

A page that needs a signed-in user declares `CurrentUser`; without a valid session the browser is
sent to the sign-in page and brought back afterwards. Admin pages declare `CurrentAdmin`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from calsync.crm.models import Role, User
from calsync.web.database import DbSession
from calsync.web.pages.rendering import browser_sessions
from calsync.web.sessions import WebSessionError, password_fingerprint


class SignInRequired(WebSessionError):
    """The page needs a signed-in user and the browser has no valid session."""

    code = "sign_in_required"
    status_code = 303

    def __init__(self, next_path: str) -> None:
        super().__init__("Sign in to continue.")
        self.next_path = next_path


class AdminRequired(WebSessionError):
    """The page is for System Administrators only."""

    code = "admin_required"
    status_code = 403

    def __init__(self) -> None:
        super().__init__("Only a System Administrator can open this page.")


def sign_in_url(next_path: str) -> str:
    """The sign-in page, remembering where to go afterwards."""
    return f"/signin?next={quote(next_path, safe='/')}"


def safe_next_path(raw: str | None) -> str:
    """Only local paths are followed after sign-in: the page cannot send people elsewhere."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/calendar"


def signed_in_user(request: Request, db: DbSession) -> User:
    """The user of a valid session whose password has not changed since; otherwise sign in."""
    claim = browser_sessions(request).read(request)
    user = db.get(User, claim.user_id) if claim is not None else None
    if (
        claim is None
        or user is None
        or password_fingerprint(user.password_hash) != claim.password_fingerprint
    ):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return user


def signed_in_admin(user: Annotated[User, Depends(signed_in_user)]) -> User:
    """The signed-in user, provided they are a System Administrator."""
    if user.role != Role.ADMIN:
        raise AdminRequired()
    return user


CurrentUser = Annotated[User, Depends(signed_in_user)]
CurrentAdmin = Annotated[User, Depends(signed_in_admin)]
