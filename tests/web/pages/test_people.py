"""The People pages: list and search, and editing a person's email sources through the services."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from calsync.crm.matching import RecordKind, match_email
from calsync.crm.models import Individual, RecordType, User
from calsync.crm.services.contact_point_emails import list_contact_point_emails
from calsync.crm.services.custom_fields import custom_values, define_custom_field
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from tests.web.pages.conftest import post_form


@pytest.fixture
def ada(db: Session) -> Individual:
    person = create_individual(
        db,
        IndividualInput(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@lovelace.example",
            phone="+44 20 7946 0000",
        ),
    )
    create_contact(
        db,
        ContactInput(
            first_name="Charles",
            last_name="Babbage",
            email="charles@engines.example",
            organization_name="Analytical Engines Ltd",
        ),
    )
    db.commit()
    return person


def _details(person: Individual, **changes: str) -> dict[str, str]:
    form = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email or "",
        "alternate_email": person.alternate_email or "",
        "phone": person.phone or "",
        "advisor_id": "",
    }
    form.update(changes)
    return form


def test_search_finds_people_by_any_part_of_name_email_or_organisation(
    signed_in: TestClient, ada: Individual
) -> None:
    by_email = signed_in.get("/people", params={"q": "LOVELACE.example"})
    assert "Ada Lovelace" in by_email.text
    assert "Charles Babbage" not in by_email.text
    by_organisation = signed_in.get("/people", params={"q": "analytical"})
    assert "Charles Babbage" in by_organisation.text
    assert "Ada Lovelace" not in by_organisation.text
    only_contacts = signed_in.get("/people", params={"show": "contacts"})
    assert "Charles Babbage" in only_contacts.text
    assert "Ada Lovelace" not in only_contacts.text


def test_a_new_alternate_email_is_saved_and_matches_outlook_attendees(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    url = f"/people/individuals/{ada.id}"
    response = post_form(
        signed_in, url, url, _details(ada, alternate_email=" Ada.Home@Example.org ")
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?notice=saved"
    db.expire_all()
    assert db.get(Individual, ada.id).alternate_email == "Ada.Home@Example.org"  # type: ignore[union-attr]
    matches = match_email(db, "ada.home@example.org")
    assert [(m.kind, m.record_id) for m in matches] == [(RecordKind.INDIVIDUAL, ada.id)]
    assert "Saved." in signed_in.get(response.headers["location"]).text


def test_a_bad_alternate_email_is_shown_next_to_the_field_and_nothing_is_saved(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    url = f"/people/individuals/{ada.id}"
    response = post_form(
        signed_in, url, url, _details(ada, first_name="Augusta", alternate_email="ada at home")
    )
    assert response.status_code == 422
    assert 'id="error-alternate_email"' in response.text
    assert "Alternate email: &#39;ada at home&#39; is not a valid email address" in response.text
    db.expire_all()
    stored = db.get(Individual, ada.id)
    assert stored is not None
    assert (stored.first_name, stored.alternate_email) == ("Ada", None)


def test_custom_fields_are_edited_with_the_person_and_a_bad_value_names_its_field(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    define_custom_field(db, RecordType.INDIVIDUAL, "trustee_email", "Trustee email", "Email")
    define_custom_field(db, RecordType.INDIVIDUAL, "risk_score", "Risk score", "Number")
    db.commit()
    url = f"/people/individuals/{ada.id}"
    refused = post_form(
        signed_in,
        url,
        url,
        _details(
            ada, **{"custom.trustee_email": "trust@lovelace.example", "custom.risk_score": "high"}
        ),
    )
    assert refused.status_code == 422
    assert "Risk score: &#39;high&#39; is not a number" in refused.text
    assert custom_values(db, RecordType.INDIVIDUAL, ada.id) == {}

    saved = post_form(
        signed_in,
        url,
        url,
        _details(
            ada, **{"custom.trustee_email": "trust@lovelace.example", "custom.risk_score": "7"}
        ),
    )
    assert saved.status_code == 303
    db.expire_all()
    values = custom_values(db, RecordType.INDIVIDUAL, ada.id)
    assert values["trustee_email"] == "trust@lovelace.example"
    assert str(values["risk_score"]) == "7"
    assert [m.record_id for m in match_email(db, "trust@lovelace.example")] == [ada.id]


def test_contact_point_emails_are_added_changed_and_removed(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    url = f"/people/individuals/{ada.id}"
    added = post_form(
        signed_in,
        url,
        f"{url}/contact-point-emails",
        {"point_email": "ada@royal-society.example", "point_label": "Work"},
    )
    assert added.status_code == 303
    (point,) = list_contact_point_emails(db, RecordType.INDIVIDUAL, ada.id)
    assert (point.email, point.label) == ("ada@royal-society.example", "Work")

    refused = post_form(
        signed_in,
        url,
        f"{url}/contact-point-emails/{point.id}",
        {"point_email": "not-an-address", "point_label": "Work", "action": "save"},
    )
    assert refused.status_code == 422
    assert "Email: &#39;not-an-address&#39; is not a valid email address" in refused.text
    db.expire_all()
    assert list_contact_point_emails(db, RecordType.INDIVIDUAL, ada.id)[0].email == (
        "ada@royal-society.example"
    )

    removed = post_form(
        signed_in,
        url,
        f"{url}/contact-point-emails/{point.id}",
        {"point_email": point.email, "point_label": "Work", "action": "delete"},
    )
    assert removed.status_code == 303
    db.expire_all()
    assert list_contact_point_emails(db, RecordType.INDIVIDUAL, ada.id) == []
    assert match_email(db, "ada@royal-society.example") == []


def test_a_new_contact_is_created_from_the_form(signed_in: TestClient, db: Session) -> None:
    response = post_form(
        signed_in,
        "/people/contacts/new",
        "/people/contacts/new",
        {
            "first_name": "Mary",
            "last_name": "Somerville",
            "email": "mary@somerville.example",
            "organization_name": "Royal Astronomical Society",
        },
    )
    assert response.status_code == 303
    page = signed_in.get(response.headers["location"])
    assert "Mary Somerville" in page.text
    assert "Royal Astronomical Society" in page.text


def test_a_person_that_does_not_exist_gets_a_not_found_page(signed_in: TestClient) -> None:
    response = signed_in.get("/people/individuals/999999")
    assert response.status_code == 404
    assert "This person does not exist" in response.text


def test_a_persons_page_lists_the_events_they_attend(
    signed_in: TestClient, ada: Individual, staff_user: User, db: Session
) -> None:
    create_event(
        db,
        EventInput(
            owner_id=staff_user.id,
            subject="Pension review",
            start=datetime(2027, 3, 15, 10, 0),
            end=datetime(2027, 3, 15, 11, 0),
            attendees=(AttendeeInput(email="ADA@lovelace.example"),),
        ),
    )
    db.commit()
    page = signed_in.get(f"/people/individuals/{ada.id}")
    assert "Pension review" in page.text
    assert "Mon 15 Mar 2027, 10:00" in page.text


def test_a_long_list_of_people_comes_a_page_at_a_time(signed_in: TestClient, db: Session) -> None:
    for number in range(1, 56):
        create_contact(db, ContactInput(first_name="Client", last_name=f"Number {number:02d}"))
    db.commit()
    first = signed_in.get("/people", params={"q": "client"})
    assert "55 people matching “client” · page 1 of 2." in first.text
    assert "Number 50" in first.text
    assert "Number 51" not in first.text
    assert 'rel="next" href="/people?q=client&amp;show=all&amp;page=2"' in first.text
    second = signed_in.get("/people", params={"q": "client", "page": "2"})
    assert "Number 51" in second.text
    assert "Number 50" not in second.text
    assert 'rel="prev"' in second.text


def test_an_edited_page_number_shows_the_first_page(signed_in: TestClient, ada: Individual) -> None:
    response = signed_in.get("/people", params={"page": "two"})
    assert response.status_code == 200
    assert "Ada Lovelace" in response.text
