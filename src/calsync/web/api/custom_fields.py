"""`/custom-fields`: the fields administrators add to Individuals and Contacts.

Values live on the records (`custom_fields` of an Individual or Contact). Fields of type Email
take part in attendee matching.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from calsync.crm.models import CustomFieldDefinition, RecordType
from calsync.crm.services import custom_fields as custom_field_service
from calsync.crm.services.validation import require
from calsync.web.api.schemas.common import RecordId
from calsync.web.api.schemas.custom_fields import (
    CustomFieldCreate,
    CustomFieldOut,
    CustomFieldUpdate,
)
from calsync.web.api.schemas.errors import error_responses
from calsync.web.auth import AdminUser, CurrentUser
from calsync.web.database import DbSession
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(prefix="/custom-fields", tags=["custom fields"])

_FIELD = "custom_field_id"


@router.get("", response_model=Page[CustomFieldOut])
def list_custom_fields(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
    record_type: Annotated[
        RecordType | None, Query(description="Only the fields of this record type.")
    ] = None,
) -> Page[CustomFieldOut]:
    """The custom fields of Individuals and/or Contacts, by label."""
    kinds = list(RecordType) if record_type is None else [record_type]
    fields = [
        definition
        for kind in kinds
        for definition in custom_field_service.list_custom_fields(session, kind)
    ]
    window = fields[page.offset : page.offset + page.fetch_count]
    return build_page(request, page, [CustomFieldOut.model_validate(field) for field in window])


@router.post("", status_code=201, responses=error_responses(409))
def define_custom_field(
    body: CustomFieldCreate, session: DbSession, admin: AdminUser
) -> CustomFieldOut:
    """Add a custom field to Individuals or Contacts (administrators only)."""
    definition = custom_field_service.define_custom_field(
        session, body.record_type, body.key, body.label, body.field_type
    )
    return CustomFieldOut.model_validate(definition)


@router.get("/{custom_field_id}")
def get_custom_field(
    custom_field_id: RecordId, session: DbSession, user: CurrentUser
) -> CustomFieldOut:
    definition = require(session, CustomFieldDefinition, custom_field_id, _FIELD)
    return CustomFieldOut.model_validate(definition)


@router.patch("/{custom_field_id}")
def update_custom_field(
    custom_field_id: RecordId, body: CustomFieldUpdate, session: DbSession, admin: AdminUser
) -> CustomFieldOut:
    """Rename a field or change its type (administrators only); values are converted or refused."""
    changes = custom_field_service.CustomFieldChanges(**body.sent_fields())
    definition = custom_field_service.update_custom_field(session, custom_field_id, changes)
    return CustomFieldOut.model_validate(definition)


@router.delete("/{custom_field_id}", status_code=204)
def delete_custom_field(
    custom_field_id: RecordId, session: DbSession, admin: AdminUser
) -> Response:
    """Delete a field and every value of it (administrators only)."""
    custom_field_service.delete_custom_field(session, custom_field_id)
    return Response(status_code=204)
