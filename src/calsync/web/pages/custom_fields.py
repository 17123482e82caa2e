"""Admin: the custom fields of Individuals and Contacts.

An administrator adds, renames, retypes and deletes fields here; the CRM's custom field service
checks every change (a retype that would break existing values is refused with the count and an
example) and keeps attendee matching in step with fields of type Email.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError
from calsync.crm.models import FieldType, RecordType, User
from calsync.crm.services.custom_fields import (
    CustomFieldChanges,
    define_custom_field,
    delete_custom_field,
    list_custom_fields,
    update_custom_field,
)
from calsync.web.database import DbSession
from calsync.web.pages.forms import field_message, read_form, text
from calsync.web.pages.rendering import render
from calsync.web.pages.signed_in import CurrentAdmin

router = APIRouter()

PAGE = "/admin/custom-fields"
LABELS = {"record_type": "Record type", "key": "Key", "label": "Label", "field_type": "Type"}


def _render(
    request: Request,
    admin: User,
    db: Session,
    *,
    new_form: dict[str, str] | None = None,
    new_errors: dict[str, str] | None = None,
    edit_errors: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "nav": "custom-fields",
        "sections": [
            ("Individuals", list_custom_fields(db, RecordType.INDIVIDUAL)),
            ("Contacts", list_custom_fields(db, RecordType.CONTACT)),
        ],
        "record_type_options": [
            (RecordType.INDIVIDUAL.value, "Individual"),
            (RecordType.CONTACT.value, "Contact"),
        ],
        "field_type_options": [(field_type.value, field_type.value) for field_type in FieldType],
        "new_form": new_form or {"record_type": "individual", "field_type": "Text"},
        "new_errors": new_errors or {},
        "edit_errors": edit_errors or {},
    }
    return render(request, "custom_fields.html", context, user=admin, status_code=status_code)


def _errors(refused: CrmError) -> dict[str, str]:
    field = refused.field if refused.field in LABELS else "_form"
    if field == "_form":
        return {"_form": refused.message}
    return {field: field_message(LABELS[field], refused.message)}


@router.get(PAGE, response_class=HTMLResponse)
def custom_fields_page(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    return _render(request, admin, db)


@router.post(PAGE, response_class=HTMLResponse)
async def add_custom_field(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    form = await read_form(request)
    values = {name: text(form, name) for name in LABELS}
    try:
        define_custom_field(
            db, values["record_type"], values["key"], values["label"], values["field_type"]
        )
    except CrmError as refused:
        db.rollback()
        return _render(
            request, admin, db, new_form=values, new_errors=_errors(refused), status_code=422
        )
    db.commit()
    return RedirectResponse(f"{PAGE}?notice=created", status_code=303)


@router.post(PAGE + "/{definition_id}", response_class=HTMLResponse)
async def change_custom_field(
    request: Request, definition_id: int, admin: CurrentAdmin, db: DbSession
) -> Response:
    form = await read_form(request)
    try:
        if text(form, "action") == "delete":
            delete_custom_field(db, definition_id)
            notice = "deleted"
        else:
            changes = CustomFieldChanges(
                label=text(form, "label"), field_type=text(form, "field_type")
            )
            update_custom_field(db, definition_id, changes)
            notice = "saved"
    except CrmError as refused:
        db.rollback()
        return _render(
            request, admin, db, edit_errors={definition_id: _errors(refused)}, status_code=422
        )
    db.commit()
    return RedirectResponse(f"{PAGE}?notice={notice}", status_code=303)
