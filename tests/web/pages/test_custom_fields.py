"""Admin: custom field definitions, through the CRM's custom field service."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from calsync.crm.models import FieldType, RecordType
from calsync.crm.services.custom_fields import list_custom_fields, set_custom_values
from calsync.crm.services.people import IndividualInput, create_individual
from tests.web.pages.conftest import post_form

PAGE = "/admin/custom-fields"


def test_staff_cannot_open_the_admin_page(signed_in: TestClient) -> None:
    response = signed_in.get(PAGE)
    assert response.status_code == 403
    assert "Only a System Administrator" in response.text


def test_an_admin_adds_an_email_field_to_contacts(signed_in_admin: TestClient, db: Session) -> None:
    response = post_form(
        signed_in_admin,
        PAGE,
        PAGE,
        {
            "record_type": "contact",
            "key": "assistant_email",
            "label": "Assistant email",
            "field_type": "Email",
        },
    )
    assert response.status_code == 303
    (field,) = list_custom_fields(db, RecordType.CONTACT)
    assert (field.key, field.label, field.field_type) == (
        "assistant_email",
        "Assistant email",
        FieldType.EMAIL,
    )
    assert "Assistant email" in signed_in_admin.get(PAGE).text


def test_a_bad_key_is_shown_next_to_the_key_and_nothing_is_added(
    signed_in_admin: TestClient, db: Session
) -> None:
    response = post_form(
        signed_in_admin,
        PAGE,
        PAGE,
        {
            "record_type": "individual",
            "key": "Trustee Email",
            "label": "Trustee",
            "field_type": "Email",
        },
    )
    assert response.status_code == 422
    assert 'id="error-key"' in response.text
    assert "Key must start with a lower-case letter" in response.text
    assert list_custom_fields(db, RecordType.INDIVIDUAL) == []


def test_a_retype_that_breaks_existing_values_is_refused_with_the_reason(
    signed_in_admin: TestClient, db: Session
) -> None:
    post_form(
        signed_in_admin,
        PAGE,
        PAGE,
        {"record_type": "individual", "key": "referrer", "label": "Referrer", "field_type": "Text"},
    )
    (field,) = list_custom_fields(db, RecordType.INDIVIDUAL)
    person = create_individual(db, IndividualInput(last_name="Franklin"))
    set_custom_values(db, RecordType.INDIVIDUAL, person.id, {"referrer": "Dr Watson"})
    db.commit()
    response = post_form(
        signed_in_admin,
        PAGE,
        f"{PAGE}/{field.id}",
        {"label": "Referrer", "field_type": "Email", "action": "save"},
    )
    assert response.status_code == 422
    assert "1 existing value(s) are not valid as Email" in response.text
    db.expire_all()
    assert list_custom_fields(db, RecordType.INDIVIDUAL)[0].field_type is FieldType.TEXT


def test_an_admin_deletes_a_field(signed_in_admin: TestClient, db: Session) -> None:
    post_form(
        signed_in_admin,
        PAGE,
        PAGE,
        {"record_type": "individual", "key": "nickname", "label": "Nickname", "field_type": "Text"},
    )
    (field,) = list_custom_fields(db, RecordType.INDIVIDUAL)
    response = post_form(signed_in_admin, PAGE, f"{PAGE}/{field.id}", {"action": "delete"})
    assert response.status_code == 303
    db.expire_all()
    assert list_custom_fields(db, RecordType.INDIVIDUAL) == []
