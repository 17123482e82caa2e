"""`/users`: the firm's staff. Everyone may look colleagues up; admins manage them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from calsync.crm.services import users as user_service
from calsync.web.api.schemas.common import RecordId
from calsync.web.api.schemas.errors import error_responses
from calsync.web.api.schemas.users import UserCreate, UserOut, UserUpdate
from calsync.web.auth import AdminUser, CurrentUser
from calsync.web.database import DbSession
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserOut])
def list_users(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[UserOut]:
    """All staff users, by name."""
    users = user_service.list_users(session)[page.offset : page.offset + page.fetch_count]
    return build_page(request, page, [UserOut.model_validate(found) for found in users])


@router.get("/me")
def get_me(user: CurrentUser) -> UserOut:
    """The user the token belongs to."""
    return UserOut.model_validate(user)


@router.get("/{user_id}")
def get_user(user_id: RecordId, session: DbSession, user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user_service.get_user(session, user_id))


@router.post("", status_code=201, responses=error_responses(409))
def create_user(body: UserCreate, session: DbSession, admin: AdminUser) -> UserOut:
    """Add a staff user (administrators only). Their email is their Microsoft 365 mailbox."""
    created = user_service.create_user(session, **body.model_dump())
    return UserOut.model_validate(created)


@router.patch("/{user_id}", responses=error_responses(409))
def update_user(
    user_id: RecordId, body: UserUpdate, session: DbSession, admin: AdminUser
) -> UserOut:
    """Change a user's name, mailbox, role, time zone or sync switch (administrators only)."""
    changes = user_service.UserChanges(**body.sent_fields())
    return UserOut.model_validate(user_service.update_user(session, user_id, changes))
