"""Contact Point Emails on a person's page: add, change and remove a person's extra addresses.

The CRM's Contact Point Email service checks each address and re-indexes the person, so a new
address matches Outlook attendees at once; a refusal shows next to the address it concerns.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError
from calsync.crm.models import Contact, ContactPointEmail, Individual
from calsync.crm.services.contact_point_emails import (
    add_contact_point_email,
    delete_contact_point_email,
    update_contact_point_email,
)
from calsync.web.database import DbSession
from calsync.web.pages.forms import field_message, read_form, text
from calsync.web.pages.people import load_person, person_kind, render_person
from calsync.web.pages.rendering import not_found
from calsync.web.pages.signed_in import CurrentUser

router = APIRouter()


def _point_of(db: Session, person: Individual | Contact, point_id: int) -> ContactPointEmail | None:
    point = db.get(ContactPointEmail, point_id)
    if point is None:
        return None
    owner = point.individual_id if isinstance(person, Individual) else point.contact_id
    return point if owner == person.id else None


@router.post("/people/{kind_path}/{person_id}/contact-point-emails", response_class=HTMLResponse)
async def add_point(
    request: Request, kind_path: str, person_id: int, user: CurrentUser, db: DbSession
) -> Response:
    form = await read_form(request)
    kind = person_kind(kind_path)
    person = load_person(db, kind, person_id)
    if kind is None or person is None:
        return not_found(
            request, user, "This person does not exist (any more).", "/people", "People"
        )
    email, label = text(form, "point_email"), text(form, "point_label")
    try:
        add_contact_point_email(db, kind.record_type, person_id, email, label)
    except CrmError as refused:
        db.rollback()
        field = "label" if refused.field == "label" else "email"
        message = field_message("Label" if field == "label" else "Email", refused.message)
        return render_person(
            request,
            user,
            db,
            kind,
            person,
            point_errors={"new": {field: message}},
            point_form={"email": email, "label": label},
            status_code=422,
        )
    db.commit()
    return RedirectResponse(
        f"/people/{kind.path}/{person_id}?notice=saved#contact-point-emails", status_code=303
    )


@router.post(
    "/people/{kind_path}/{person_id}/contact-point-emails/{point_id}", response_class=HTMLResponse
)
async def change_point(
    request: Request,
    kind_path: str,
    person_id: int,
    point_id: int,
    user: CurrentUser,
    db: DbSession,
) -> Response:
    form = await read_form(request)
    kind = person_kind(kind_path)
    person = load_person(db, kind, person_id)
    point = _point_of(db, person, point_id) if person is not None else None
    if kind is None or person is None or point is None:
        return not_found(
            request,
            user,
            "This Contact Point Email does not exist (any more).",
            "/people",
            "People",
        )
    try:
        if text(form, "action") == "delete":
            delete_contact_point_email(db, point_id)
            notice = "deleted"
        else:
            update_contact_point_email(
                db, point_id, text(form, "point_email"), text(form, "point_label")
            )
            notice = "saved"
    except CrmError as refused:
        db.rollback()
        field = "label" if refused.field == "label" else "email"
        message = field_message("Label" if field == "label" else "Email", refused.message)
        return render_person(
            request,
            user,
            db,
            kind,
            person,
            point_errors={point_id: {field: message}},
            status_code=422,
        )
    db.commit()
    return RedirectResponse(
        f"/people/{kind.path}/{person_id}?notice={notice}#contact-point-emails", status_code=303
    )
