"""Staff passwords for the web app's sign-in, stored only as argon2id hashes.

argon2-cffi does the hashing (salted, memory-hard, parameters recorded inside the hash), so a stolen
database does not give away anyone's password, and hashes made with older parameters are upgraded
the next time their owner signs in.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from calsync.crm.models import User
from calsync.crm.services.users import UserChanges, find_user_by_email, update_user

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


class PasswordError(Exception):
    """A password that cannot be set; nothing was written."""

    code = "invalid_password"

    def __init__(self, message: str, *, field: str = "password") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def hash_password(password: str) -> str:
    """The argon2id hash to store for a new password, after checking it is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if password != password.strip():
        raise PasswordError("must not start or end with a space")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; a user without a hash can never sign in."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's and should be replaced."""
    return _hasher.check_needs_rehash(password_hash)


def rehash_password(password: str) -> str:
    """A fresh hash of a password just verified (no length rule: it was accepted before)."""
    return _hasher.hash(password)


@cache
def decoy_hash() -> str:
    """A hash checked when no user has the email, so that takes as long as a wrong password."""
    return _hasher.hash("calsync-decoy-password")


def user_with_email(session: Session, email: str) -> User | None:
    """The staff user whose mailbox is `email` (the CRM's comparison: trimmed, any case)."""
    if not email.strip():
        return None
    return find_user_by_email(session, email)


def set_password(session: Session, user_id: int, password: str) -> User:
    """Give a staff user a new web password (checked, then stored as a hash; caller commits).

    Every browser session signed in with the old password ends (see calsync.web.sessions).
    """
    return update_user(session, user_id, UserChanges(password_hash=hash_password(password)))
