"""Staff users (SPEC §1): their Microsoft 365 mailbox, role, time zone and per-user sync switch.

A user's email is unique whatever its spelling ("Ana@Firm.com" and "ana@firm.com " are the same
mailbox), and it takes part in attendee matching, so every change re-indexes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.crm.addresses import checked_email, normalize_email
from calsync.crm.errors import DuplicateError, InvalidInputError
from calsync.crm.models import Role, User
from calsync.crm.services.changes import UNCHANGED, Unchanged
from calsync.crm.services.email_index import reindex_user
from calsync.crm.services.validation import require, required_text
from calsync.crm.time_zones import checked_time_zone

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class UserChanges:
    """The fields of a user to change; every field left UNCHANGED keeps its current value."""

    name: str | Unchanged = UNCHANGED
    email: str | Unchanged = UNCHANGED
    role: Role | str | Unchanged = UNCHANGED
    time_zone: str | Unchanged = UNCHANGED
    sync_enabled: bool | Unchanged = UNCHANGED
    password_hash: str | Unchanged | None = UNCHANGED


def _checked_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInputError(
            f"unknown role '{value}'; use one of: " + ", ".join(role.value for role in Role),
            field="role",
        ) from None


def _check_email_free(session: Session, email: str, user_id: int | None) -> None:
    existing = session.scalar(
        select(User.id).where(User.email_normalized == normalize_email(email))
    )
    if existing is not None and existing != user_id:
        raise DuplicateError(f"another user already has the mailbox {email}", field="email")


def _flush_unique_mailbox(session: Session, email: str) -> None:
    # The check above cannot see a user another session is adding at the same moment; the unique
    # index does, and its refusal means the same thing (the caller rolls back).
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateError(
            f"another user already has the mailbox {email}", field="email"
        ) from None


def create_user(
    session: Session,
    *,
    name: str,
    email: str,
    time_zone: str,
    role: Role | str = Role.STAFF,
    sync_enabled: bool = False,
    password_hash: str | None = None,
) -> User:
    """Add a staff user after checking every field; returns the new user (with its id)."""
    checked_name = required_text(name, "name", MAX_NAME_LENGTH)
    address = checked_email(email, "email")
    zone = checked_time_zone(time_zone)
    checked_role = _checked_role(role)
    _check_email_free(session, address, None)
    user = User(
        name=checked_name,
        email=address,
        email_normalized=normalize_email(address),
        role=checked_role,
        time_zone=zone.key,
        sync_enabled=bool(sync_enabled),
        password_hash=password_hash,
    )
    session.add(user)
    _flush_unique_mailbox(session, address)
    reindex_user(session, user)
    return user


def update_user(session: Session, user_id: int, changes: UserChanges) -> User:
    """Change a user after checking every changed field; returns the user."""
    user = require(session, User, user_id, "user_id")
    values: dict[str, object] = {}
    if not isinstance(changes.name, Unchanged):
        values["name"] = required_text(changes.name, "name", MAX_NAME_LENGTH)
    if not isinstance(changes.email, Unchanged):
        address = checked_email(changes.email, "email")
        _check_email_free(session, address, user.id)
        values["email"] = address
        values["email_normalized"] = normalize_email(address)
    if not isinstance(changes.role, Unchanged):
        values["role"] = _checked_role(changes.role)
    if not isinstance(changes.time_zone, Unchanged):
        values["time_zone"] = checked_time_zone(changes.time_zone).key
    if not isinstance(changes.sync_enabled, Unchanged):
        values["sync_enabled"] = bool(changes.sync_enabled)
    if not isinstance(changes.password_hash, Unchanged):
        values["password_hash"] = changes.password_hash
    for name, value in values.items():
        setattr(user, name, value)
    _flush_unique_mailbox(session, user.email)
    if "email" in values:
        reindex_user(session, user)
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with `user_id`; raises NotFoundError if there is none."""
    return require(session, User, user_id, "user_id")


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user whose mailbox is `email` (any case, surrounding space ignored), if any."""
    return session.scalar(select(User).where(User.email_normalized == normalize_email(email)))


def list_users(session: Session) -> list[User]:
    """All users, by name."""
    return list(session.scalars(select(User).order_by(User.name, User.id)))
