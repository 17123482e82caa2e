"""Users (staff members) and their API tokens, as the API shows and accepts them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from calsync.crm.models import Role
from calsync.web.api.schemas.base import PatchBody, RequestBody
from calsync.web.api.schemas.common import Email, Name, OptionalName, TimeZoneName


class UserOut(BaseModel):
    """A staff user. Password hashes are never part of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str = Field(description="The user's Microsoft 365 mailbox.")
    role: Role
    time_zone: str
    sync_enabled: bool
    created_at: datetime
    updated_at: datetime


class UserCreate(RequestBody):
    name: Name
    email: Email = Field(description="The user's Microsoft 365 mailbox; unique.")
    time_zone: TimeZoneName = Field(description="IANA name, e.g. America/New_York.")
    role: Role = Role.STAFF
    sync_enabled: bool = False


class UserUpdate(PatchBody):
    name: Name | None = None
    email: Email | None = None
    time_zone: TimeZoneName | None = None
    role: Role | None = None
    sync_enabled: bool | None = None


class ApiTokenOut(BaseModel):
    """A token as listed later: its secret is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class IssuedApiTokenOut(ApiTokenOut):
    token: str = Field(
        description="The secret to send as `Authorization: Bearer <token>`. Shown once."
    )


class ApiTokenCreate(RequestBody):
    name: OptionalName = Field(default="", description="What the token is for, e.g. `reporting`.")
    user_id: int | None = Field(
        default=None,
        ge=1,
        le=2_147_483_647,
        description="Whose token (administrators only); default: the caller.",
    )
