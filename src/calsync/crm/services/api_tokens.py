"""Bearer tokens for the REST API, one or more per user.

Only the SHA-256 of a token's secret is stored, so a database leak does not leak usable tokens;
the secret itself is returned once, when the token is created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidTokenError
from calsync.crm.models import ApiToken, User
from calsync.crm.models.base import utc_now
from calsync.crm.services.validation import bounded_text, require

TOKEN_PREFIX = "csk_"
# `last_used_at` is for people ("is this script still running?"); a minute is precise enough and
# spares a write, and the lock it takes on SQLite, on almost every API request.
LAST_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token and its secret; the secret cannot be recovered later."""

    token: ApiToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_token(session: Session, user_id: int, name: str = "") -> IssuedToken:
    """Issue a new token for the user; the returned secret is what the client presents."""
    require(session, User, user_id, "user_id")
    label = bounded_text(name, "name", 200)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=label, token_hash=_digest(secret), created_at=utc_now())
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def resolve_api_token(session: Session, presented: str) -> User:
    """The user a presented secret belongs to (and note its use); raises InvalidTokenError."""
    secret = presented.strip()
    if secret.lower().startswith("bearer "):
        secret = secret[len("bearer ") :].strip()
    if not secret:
        raise InvalidTokenError("an API token is required", field="token")
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None:
        raise InvalidTokenError("unknown or revoked API token", field="token")
    now = utc_now()
    if _use_is_news(token.last_used_at, now):
        token.last_used_at = now
        session.flush()
    return require(session, User, token.user_id, "user_id")


def _use_is_news(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USE_PRECISION


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens (hashes and dates only), newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, token_id: int) -> None:
    """Delete a token; clients presenting its secret are refused from now on."""
    session.delete(require(session, ApiToken, token_id, "token_id"))
    session.flush()
