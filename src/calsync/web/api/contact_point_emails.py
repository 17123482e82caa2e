"""`/contact-point-emails/{id}`: read, change or remove one extra address of a person.

They are listed and added under their person (`/individuals/{id}/contact-point-emails`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from calsync.crm.models import ContactPointEmail
from calsync.crm.services import contact_point_emails as point_service
from calsync.crm.services.validation import require
from calsync.web.api.schemas.common import RecordId
from calsync.web.api.schemas.people import ContactPointEmailOut, ContactPointEmailUpdate
from calsync.web.auth import AdminUser, CurrentUser
from calsync.web.database import DbSession

router = APIRouter(prefix="/contact-point-emails", tags=["people"])

_FIELD = "contact_point_email_id"


@router.get("/{contact_point_email_id}")
def get_contact_point_email(
    contact_point_email_id: RecordId, session: DbSession, user: CurrentUser
) -> ContactPointEmailOut:
    point = require(session, ContactPointEmail, contact_point_email_id, _FIELD)
    return ContactPointEmailOut.model_validate(point)


@router.patch("/{contact_point_email_id}")
def update_contact_point_email(
    contact_point_email_id: RecordId,
    body: ContactPointEmailUpdate,
    session: DbSession,
    admin: AdminUser,
) -> ContactPointEmailOut:
    """Change the address or label sent (administrators only)."""
    point = require(session, ContactPointEmail, contact_point_email_id, _FIELD)
    point = point_service.update_contact_point_email(
        session,
        contact_point_email_id,
        body.email if body.email is not None else point.email,
        body.label if body.label is not None else point.label,
    )
    return ContactPointEmailOut.model_validate(point)


@router.delete("/{contact_point_email_id}", status_code=204)
def delete_contact_point_email(
    contact_point_email_id: RecordId, session: DbSession, admin: AdminUser
) -> Response:
    """Remove the address; it stops matching attendees to its person."""
    point_service.delete_contact_point_email(session, contact_point_email_id)
    return Response(status_code=204)
