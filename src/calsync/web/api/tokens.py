"""`/tokens`: API tokens. Each user manages their own; administrators anyone's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from calsync.crm.models import Role
from calsync.crm.services import api_tokens as token_service
from calsync.web.api.schemas.common import RecordId
from calsync.web.api.schemas.users import ApiTokenCreate, ApiTokenOut, IssuedApiTokenOut
from calsync.web.auth import CurrentUser
from calsync.web.database import DbSession
from calsync.web.errors import ApiError
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[ApiTokenOut])
def list_tokens(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[ApiTokenOut]:
    """The caller's tokens, newest first (names and dates; secrets are never shown again)."""
    tokens = token_service.list_api_tokens(session, user.id)
    window = tokens[page.offset : page.offset + page.fetch_count]
    return build_page(request, page, [ApiTokenOut.model_validate(token) for token in window])


@router.post("", status_code=201)
def create_token(body: ApiTokenCreate, session: DbSession, user: CurrentUser) -> IssuedApiTokenOut:
    """Issue a token; its secret is in this response only, so store it now."""
    owner_id = user.id if body.user_id is None else body.user_id
    if owner_id != user.id and user.role != Role.ADMIN:
        raise ApiError(
            403, "admin_only", "only an administrator may issue tokens for others", "user_id"
        )
    issued = token_service.create_api_token(session, owner_id, body.name)
    return IssuedApiTokenOut(
        **ApiTokenOut.model_validate(issued.token).model_dump(), token=issued.secret
    )


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: RecordId, session: DbSession, user: CurrentUser) -> Response:
    """Revoke a token: requests presenting it are refused from now on."""
    if user.role != Role.ADMIN:
        own = {token.id for token in token_service.list_api_tokens(session, user.id)}
        if token_id not in own:
            raise ApiError(
                404, "not_found", f"you have no API token with id {token_id}", "token_id"
            )
    token_service.revoke_api_token(session, token_id)
    return Response(status_code=204)
