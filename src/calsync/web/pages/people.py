"""People: the firm's Individuals and Contacts, searchable, each with a page to edit their email
sources (email, alternate email, custom fields; Contact Point Emails in `contact_point_emails`)
and see their events.

Every save goes through the CRM's people, custom field and Contact Point Email services, which
check the values and keep attendee matching up to date; a refused save shows the service's message
next to the field it names, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from calsync.crm.errors import CrmError, NotFoundError
from calsync.crm.models import (
    Contact,
    CustomFieldDefinition,
    Event,
    EventAttendee,
    FieldType,
    Individual,
    RecordType,
    User,
)
from calsync.crm.services.contact_point_emails import list_contact_point_emails
from calsync.crm.services.custom_fields import custom_values, list_custom_fields, set_custom_values
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
    get_person,
    list_contacts,
    list_individuals,
    update_contact,
    update_individual,
)
from calsync.crm.services.users import list_users
from calsync.web.auth import may_use_calendar_of
from calsync.web.database import DbSession
from calsync.web.pages.forms import field_message, optional_text, read_form, text
from calsync.web.pages.rendering import not_found, render
from calsync.web.pages.signed_in import CurrentUser

router = APIRouter()

PERSON_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "alternate_email": "Alternate email",
    "phone": "Phone",
    "organization_name": "Organisation",
    "advisor_id": "Advisor",
}
CUSTOM_PREFIX = "custom."
EVENTS_SHOWN = 50
PEOPLE_PER_PAGE = 50


@dataclass(frozen=True)
class PersonKind:
    """Individuals or Contacts, as they appear in the pages' paths and headings."""

    record_type: RecordType
    path: str
    singular: str
    plural: str


KINDS = {
    "individuals": PersonKind(RecordType.INDIVIDUAL, "individuals", "Individual", "Individuals"),
    "contacts": PersonKind(RecordType.CONTACT, "contacts", "Contact", "Contacts"),
}


@dataclass(frozen=True)
class PersonRow:
    """One line of the people list."""

    kind: PersonKind
    person: Individual | Contact

    @property
    def href(self) -> str:
        return f"/people/{self.kind.path}/{self.person.id}"


def _matches(person: Individual | Contact, words: list[str]) -> bool:
    haystack = " ".join(
        part or ""
        for part in (person.display_name, person.email, person.alternate_email, person.phone)
    ).lower()
    if isinstance(person, Contact):
        haystack += " " + (person.organization_name or "").lower()
    return all(word in haystack for word in words)


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    q: str = "",
    show: str = "all",
    page: str = "1",
) -> Response:
    """Individuals and Contacts matching every word of `q`, by name, a page at a time."""
    words = q.lower().split()
    rows: list[PersonRow] = []
    if show in ("all", "individuals"):
        rows += [PersonRow(KINDS["individuals"], person) for person in list_individuals(db)]
    if show in ("all", "contacts"):
        rows += [PersonRow(KINDS["contacts"], person) for person in list_contacts(db)]
    rows = [row for row in rows if _matches(row.person, words)]
    rows.sort(key=lambda row: (row.person.last_name.lower(), row.person.first_name.lower()))
    pages = max(1, -(-len(rows) // PEOPLE_PER_PAGE))
    # A page number that is not one (an edited link) shows the first page rather than an error.
    number = min(max(int(page) if page.isdigit() else 1, 1), pages)
    shown = rows[(number - 1) * PEOPLE_PER_PAGE : number * PEOPLE_PER_PAGE]
    context = {
        "nav": "people",
        "rows": shown,
        "total": len(rows),
        "page": number,
        "pages": pages,
        "q": q,
        "show": show if show in KINDS else "all",
    }
    return render(request, "people_list.html", context, user=user)


def person_kind(path: str) -> PersonKind | None:
    """Individuals or Contacts, from the page path ("individuals", "contacts")."""
    return KINDS.get(path)


def _person_form(person: Individual | Contact | None) -> dict[str, str]:
    if person is None:
        return dict.fromkeys(PERSON_LABELS, "")
    form = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email or "",
        "alternate_email": person.alternate_email or "",
        "phone": person.phone or "",
        "organization_name": "",
        "advisor_id": "",
    }
    if isinstance(person, Contact):
        form["organization_name"] = person.organization_name or ""
    elif person.advisor_id is not None:
        form["advisor_id"] = str(person.advisor_id)
    return form


def _custom_form(
    db: Session, kind: PersonKind, person: Individual | Contact | None
) -> dict[str, str]:
    values = custom_values(db, kind.record_type, person.id) if person is not None else {}
    form: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            form[key] = "true" if value else "false"
        else:
            form[key] = str(value)
    return form


def _events_attended(db: Session, kind: PersonKind, person_id: int) -> list[Event]:
    """The events this person attends, latest first (owners' events only, not staff copies)."""
    column = (
        EventAttendee.individual_id
        if kind.record_type is RecordType.INDIVIDUAL
        else EventAttendee.contact_id
    )
    statement = (
        select(Event)
        .join(EventAttendee, EventAttendee.event_id == Event.id)
        .where(column == person_id, Event.copy_of_event_id.is_(None))
        .order_by(Event.start_at.desc())
        .limit(EVENTS_SHOWN)
    )
    return list(db.scalars(statement).unique())


def render_person(
    request: Request,
    user: User,
    db: Session,
    kind: PersonKind,
    person: Individual | Contact | None,
    *,
    form: dict[str, str] | None = None,
    custom: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    point_errors: dict[int | str, dict[str, str]] | None = None,
    point_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    definitions = list_custom_fields(db, kind.record_type)
    context: dict[str, Any] = {
        "nav": "people",
        "kind": kind,
        "person": person,
        "form": form if form is not None else _person_form(person),
        "custom": custom if custom is not None else _custom_form(db, kind, person),
        "definitions": definitions,
        "field_types": FieldType,
        "errors": errors or {},
        "advisors": list_users(db),
        "points": (
            list_contact_point_emails(db, kind.record_type, person.id) if person is not None else []
        ),
        "point_errors": point_errors or {},
        "point_form": point_form or {"email": "", "label": ""},
        "events": _events_attended(db, kind, person.id) if person is not None else [],
        "viewer_zone": user.time_zone,
        "may_open": lambda event: may_use_calendar_of(user, event.owner_id),
    }
    return render(request, "person.html", context, user=user, status_code=status_code)


def _person_input(kind: PersonKind, form: FormData) -> IndividualInput | ContactInput:
    first_name, last_name = text(form, "first_name"), text(form, "last_name")
    email, alternate_email = optional_text(form, "email"), optional_text(form, "alternate_email")
    phone = optional_text(form, "phone")
    if kind.record_type is RecordType.INDIVIDUAL:
        advisor = text(form, "advisor_id")
        return IndividualInput(
            first_name=first_name,
            last_name=last_name,
            email=email,
            alternate_email=alternate_email,
            phone=phone,
            advisor_id=int(advisor) if advisor.isdigit() else None,
        )
    return ContactInput(
        first_name=first_name,
        last_name=last_name,
        email=email,
        alternate_email=alternate_email,
        phone=phone,
        organization_name=optional_text(form, "organization_name"),
    )


def _custom_input(definitions: list[CustomFieldDefinition], form: FormData) -> dict[str, str]:
    return {
        definition.key: text(form, CUSTOM_PREFIX + definition.key) for definition in definitions
    }


def _error_for(refused: CrmError, definitions: list[CustomFieldDefinition]) -> dict[str, str]:
    """The CRM's refusal as {form field: message naming the field}."""
    field = refused.field or "_form"
    if field.startswith("custom_fields."):
        key = field.removeprefix("custom_fields.")
        label = next((d.label for d in definitions if d.key == key), key)
        return {CUSTOM_PREFIX + key: field_message(label, refused.message)}
    if field in PERSON_LABELS:
        return {field: field_message(PERSON_LABELS[field], refused.message)}
    return {"_form": refused.message}


def _save_person(
    db: Session, kind: PersonKind, person_id: int | None, form: FormData
) -> Individual | Contact:
    data = _person_input(kind, form)
    if isinstance(data, IndividualInput):
        person: Individual | Contact = (
            update_individual(db, person_id, data)
            if person_id is not None
            else create_individual(db, data)
        )
    else:
        person = (
            update_contact(db, person_id, data)
            if person_id is not None
            else create_contact(db, data)
        )
    definitions = list_custom_fields(db, kind.record_type)
    if definitions:
        set_custom_values(db, kind.record_type, person.id, _custom_input(definitions, form))
    return person


@router.get("/people/{kind_path}/new", response_class=HTMLResponse)
def new_person_page(request: Request, kind_path: str, user: CurrentUser, db: DbSession) -> Response:
    kind = person_kind(kind_path)
    if kind is None:
        return not_found(request, user, "There is no such list of people.", "/people", "People")
    return render_person(request, user, db, kind, None)


@router.post("/people/{kind_path}/new", response_class=HTMLResponse)
async def create_person(
    request: Request, kind_path: str, user: CurrentUser, db: DbSession
) -> Response:
    kind = person_kind(kind_path)
    form = await read_form(request)
    if kind is None:
        return not_found(request, user, "There is no such list of people.", "/people", "People")
    try:
        person = _save_person(db, kind, None, form)
    except CrmError as refused:
        db.rollback()
        definitions = list_custom_fields(db, kind.record_type)
        return render_person(
            request,
            user,
            db,
            kind,
            None,
            form={name: text(form, name) for name in PERSON_LABELS},
            custom=_custom_input(definitions, form),
            errors=_error_for(refused, definitions),
            status_code=422,
        )
    db.commit()
    return RedirectResponse(f"/people/{kind.path}/{person.id}?notice=created", status_code=303)


def load_person(
    db: Session, kind: PersonKind | None, person_id: int
) -> Individual | Contact | None:
    """The person, or None when the kind or the record does not exist."""
    if kind is None:
        return None
    try:
        return get_person(db, kind.record_type, person_id)
    except NotFoundError:
        return None


@router.get("/people/{kind_path}/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request, kind_path: str, person_id: int, user: CurrentUser, db: DbSession
) -> Response:
    kind = person_kind(kind_path)
    person = load_person(db, kind, person_id)
    if kind is None or person is None:
        return not_found(
            request, user, "This person does not exist (any more).", "/people", "People"
        )
    return render_person(request, user, db, kind, person)


@router.post("/people/{kind_path}/{person_id}", response_class=HTMLResponse)
async def save_person(
    request: Request, kind_path: str, person_id: int, user: CurrentUser, db: DbSession
) -> Response:
    form = await read_form(request)
    kind = person_kind(kind_path)
    person = load_person(db, kind, person_id)
    if kind is None or person is None:
        return not_found(
            request, user, "This person does not exist (any more).", "/people", "People"
        )
    try:
        _save_person(db, kind, person_id, form)
    except CrmError as refused:
        db.rollback()
        definitions = list_custom_fields(db, kind.record_type)
        return render_person(
            request,
            user,
            db,
            kind,
            person,
            form={name: text(form, name) for name in PERSON_LABELS},
            custom=_custom_input(definitions, form),
            errors=_error_for(refused, definitions),
            status_code=422,
        )
    db.commit()
    return RedirectResponse(f"/people/{kind.path}/{person_id}?notice=saved", status_code=303)
