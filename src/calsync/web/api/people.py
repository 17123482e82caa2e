"""`/individuals` and `/contacts`: the firm's people, with their custom field values and Contact
Point Emails. Everyone may read them (to invite people to events); administrators manage them."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from calsync.crm.models import Contact, Individual, RecordType
from calsync.crm.services import contact_point_emails as point_service
from calsync.crm.services import custom_fields as custom_field_service
from calsync.crm.services import people as people_service
from calsync.web.api.schemas.common import RecordId
from calsync.web.api.schemas.people import (
    ContactCreate,
    ContactOut,
    ContactPointEmailCreate,
    ContactPointEmailOut,
    ContactUpdate,
    CustomValueOut,
    CustomValues,
    IndividualCreate,
    IndividualOut,
    IndividualUpdate,
)
from calsync.web.auth import AdminUser, CurrentUser
from calsync.web.database import DbSession
from calsync.web.pagination import Page, PageRequest, build_page, page_request

router = APIRouter(tags=["people"])

PageOf = Annotated[PageRequest, Depends(page_request)]


def _individual_out(session: Session, individual: Individual) -> IndividualOut:
    values = custom_field_service.custom_values(session, RecordType.INDIVIDUAL, individual.id)
    return IndividualOut.model_validate(individual).model_copy(update={"custom_fields": values})


def _contact_out(session: Session, contact: Contact) -> ContactOut:
    values = custom_field_service.custom_values(session, RecordType.CONTACT, contact.id)
    return ContactOut.model_validate(contact).model_copy(update={"custom_fields": values})


def _set_custom_values(
    session: Session, kind: RecordType, record_id: int, values: dict[str, Any] | None
) -> None:
    if values:
        custom_field_service.set_custom_values(session, kind, record_id, values)


# Individuals -------------------------------------------------------------------------------------


@router.get("/individuals", response_model=Page[IndividualOut])
def list_individuals(
    request: Request, session: DbSession, user: CurrentUser, page: PageOf
) -> Page[IndividualOut]:
    """All Individuals, by last and first name."""
    found = people_service.list_individuals(session, offset=page.offset, limit=page.fetch_count)
    return build_page(request, page, [_individual_out(session, person) for person in found])


@router.post("/individuals", status_code=201)
def create_individual(
    body: IndividualCreate, session: DbSession, admin: AdminUser
) -> IndividualOut:
    """Add an Individual (administrators only), with custom field values if given."""
    fields = body.model_dump(exclude={"custom_fields"})
    individual = people_service.create_individual(session, people_service.IndividualInput(**fields))
    _set_custom_values(session, RecordType.INDIVIDUAL, individual.id, body.custom_fields)
    return _individual_out(session, individual)


@router.get("/individuals/{individual_id}")
def get_individual(individual_id: RecordId, session: DbSession, user: CurrentUser) -> IndividualOut:
    return _individual_out(session, people_service.get_individual(session, individual_id))


@router.patch("/individuals/{individual_id}")
def update_individual(
    individual_id: RecordId, body: IndividualUpdate, session: DbSession, admin: AdminUser
) -> IndividualOut:
    """Change the fields sent (administrators only); custom field keys not sent keep their value."""
    sent = body.sent_fields()
    values = sent.pop("custom_fields", None)
    current = people_service.get_individual(session, individual_id)
    data = dataclasses.replace(people_service.individual_input_of(current), **sent)
    individual = people_service.update_individual(session, individual_id, data)
    _set_custom_values(session, RecordType.INDIVIDUAL, individual_id, values)
    return _individual_out(session, individual)


@router.delete("/individuals/{individual_id}", status_code=204)
def delete_individual(individual_id: RecordId, session: DbSession, admin: AdminUser) -> Response:
    """Delete an Individual; events they attended keep them as a plain email attendee."""
    people_service.delete_individual(session, individual_id)
    return Response(status_code=204)


# Contacts ----------------------------------------------------------------------------------------


@router.get("/contacts", response_model=Page[ContactOut])
def list_contacts(
    request: Request, session: DbSession, user: CurrentUser, page: PageOf
) -> Page[ContactOut]:
    """All Contacts, by last and first name."""
    found = people_service.list_contacts(session, offset=page.offset, limit=page.fetch_count)
    return build_page(request, page, [_contact_out(session, person) for person in found])


@router.post("/contacts", status_code=201)
def create_contact(body: ContactCreate, session: DbSession, admin: AdminUser) -> ContactOut:
    """Add a Contact (administrators only), with custom field values if given."""
    fields = body.model_dump(exclude={"custom_fields"})
    contact = people_service.create_contact(session, people_service.ContactInput(**fields))
    _set_custom_values(session, RecordType.CONTACT, contact.id, body.custom_fields)
    return _contact_out(session, contact)


@router.get("/contacts/{contact_id}")
def get_contact(contact_id: RecordId, session: DbSession, user: CurrentUser) -> ContactOut:
    return _contact_out(session, people_service.get_contact(session, contact_id))


@router.patch("/contacts/{contact_id}")
def update_contact(
    contact_id: RecordId, body: ContactUpdate, session: DbSession, admin: AdminUser
) -> ContactOut:
    """Change the fields sent (administrators only); custom field keys not sent keep their value."""
    sent = body.sent_fields()
    values = sent.pop("custom_fields", None)
    current = people_service.get_contact(session, contact_id)
    data = dataclasses.replace(people_service.contact_input_of(current), **sent)
    contact = people_service.update_contact(session, contact_id, data)
    _set_custom_values(session, RecordType.CONTACT, contact_id, values)
    return _contact_out(session, contact)


@router.delete("/contacts/{contact_id}", status_code=204)
def delete_contact(contact_id: RecordId, session: DbSession, admin: AdminUser) -> Response:
    """Delete a Contact; events they attended keep them as a plain email attendee."""
    people_service.delete_contact(session, contact_id)
    return Response(status_code=204)


# Custom field values of one record ----------------------------------------------------------------


@router.get("/individuals/{individual_id}/custom-fields")
def get_individual_custom_values(
    individual_id: RecordId, session: DbSession, user: CurrentUser
) -> dict[str, CustomValueOut]:
    people_service.get_individual(session, individual_id)
    return custom_field_service.custom_values(session, RecordType.INDIVIDUAL, individual_id)


@router.patch("/individuals/{individual_id}/custom-fields")
def set_individual_custom_values(
    individual_id: RecordId, body: CustomValues, session: DbSession, admin: AdminUser
) -> dict[str, CustomValueOut]:
    """Set the values sent by key (null clears one); returns all the record's values."""
    return custom_field_service.set_custom_values(
        session, RecordType.INDIVIDUAL, individual_id, body
    )


@router.get("/contacts/{contact_id}/custom-fields")
def get_contact_custom_values(
    contact_id: RecordId, session: DbSession, user: CurrentUser
) -> dict[str, CustomValueOut]:
    people_service.get_contact(session, contact_id)
    return custom_field_service.custom_values(session, RecordType.CONTACT, contact_id)


@router.patch("/contacts/{contact_id}/custom-fields")
def set_contact_custom_values(
    contact_id: RecordId, body: CustomValues, session: DbSession, admin: AdminUser
) -> dict[str, CustomValueOut]:
    """Set the values sent by key (null clears one); returns all the record's values."""
    return custom_field_service.set_custom_values(session, RecordType.CONTACT, contact_id, body)


# Contact Point Emails ----------------------------------------------------------------------------


def _points_page(
    request: Request, session: Session, kind: RecordType, record_id: int, page: PageRequest
) -> Page[ContactPointEmailOut]:
    people_service.get_person(session, kind, record_id)
    points = point_service.list_contact_point_emails(session, kind, record_id)
    window = points[page.offset : page.offset + page.fetch_count]
    return build_page(request, page, [ContactPointEmailOut.model_validate(p) for p in window])


@router.get(
    "/individuals/{individual_id}/contact-point-emails",
    response_model=Page[ContactPointEmailOut],
)
def list_individual_contact_point_emails(
    request: Request, individual_id: RecordId, session: DbSession, user: CurrentUser, page: PageOf
) -> Page[ContactPointEmailOut]:
    return _points_page(request, session, RecordType.INDIVIDUAL, individual_id, page)


@router.post("/individuals/{individual_id}/contact-point-emails", status_code=201)
def add_individual_contact_point_email(
    individual_id: RecordId, body: ContactPointEmailCreate, session: DbSession, admin: AdminUser
) -> ContactPointEmailOut:
    """Give an Individual one more address (administrators only); it matches attendees at once."""
    point = point_service.add_contact_point_email(
        session, RecordType.INDIVIDUAL, individual_id, body.email, body.label
    )
    return ContactPointEmailOut.model_validate(point)


@router.get(
    "/contacts/{contact_id}/contact-point-emails", response_model=Page[ContactPointEmailOut]
)
def list_contact_contact_point_emails(
    request: Request, contact_id: RecordId, session: DbSession, user: CurrentUser, page: PageOf
) -> Page[ContactPointEmailOut]:
    return _points_page(request, session, RecordType.CONTACT, contact_id, page)


@router.post("/contacts/{contact_id}/contact-point-emails", status_code=201)
def add_contact_contact_point_email(
    contact_id: RecordId, body: ContactPointEmailCreate, session: DbSession, admin: AdminUser
) -> ContactPointEmailOut:
    """Give a Contact one more address (administrators only); it matches attendees at once."""
    point = point_service.add_contact_point_email(
        session, RecordType.CONTACT, contact_id, body.email, body.label
    )
    return ContactPointEmailOut.model_validate(point)
