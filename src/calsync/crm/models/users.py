"""Staff users (SPEC §1) and the bearer tokens they use with the REST API."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models.base import Base, Timestamped, enum_column


class Role(enum.StrEnum):
    """What a staff user may do: administrators configure the sync, staff work with events."""

    ADMIN = "admin"
    STAFF = "staff"


class User(Base, Timestamped):
    """An internal staff member; `email` is their Microsoft 365 mailbox."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased, trimmed `email`; unique so that two users never share a mailbox whatever the
    # spelling.
    email_normalized: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), default=Role.STAFF)
    time_zone: Mapped[str] = mapped_column(String(64))
    sync_enabled: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(String(500))


class ApiToken(Base):
    """A bearer token of one user. Only the SHA-256 of the secret is kept; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
