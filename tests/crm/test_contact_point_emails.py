"""Contact Point Emails: extra addresses of exactly one person, each taking part in matching."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError, NotFoundError
from calsync.crm.matching import RecordKind, match_email
from calsync.crm.models import EmailSource
from calsync.crm.services.contact_point_emails import (
    add_contact_point_email,
    delete_contact_point_email,
    list_contact_point_emails,
    update_contact_point_email,
)
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)


def test_a_contact_point_email_belongs_to_one_person(db_session: Session) -> None:
    individual = create_individual(db_session, IndividualInput(last_name="Hughes"))
    contact = create_contact(db_session, ContactInput(last_name="Raman"))
    add_contact_point_email(db_session, "individual", individual.id, "oliver@work.example", "Work")
    add_contact_point_email(db_session, "contact", contact.id, "priya@raman.example")
    db_session.commit()
    listed = list_contact_point_emails(db_session, "individual", individual.id)
    assert [(point.email, point.label) for point in listed] == [("oliver@work.example", "Work")]
    assert [p.email for p in list_contact_point_emails(db_session, "contact", contact.id)] == [
        "priya@raman.example"
    ]


def test_changing_and_deleting_a_contact_point_email_updates_matching(db_session: Session) -> None:
    individual = create_individual(db_session, IndividualInput(last_name="Hughes"))
    point = add_contact_point_email(db_session, "individual", individual.id, "old@hughes.example")
    assert match_email(db_session, "OLD@hughes.example")[0].sources == (
        EmailSource.CONTACT_POINT_EMAIL,
    )
    update_contact_point_email(db_session, point.id, "new@hughes.example")
    assert match_email(db_session, "old@hughes.example") == []
    assert match_email(db_session, "new@hughes.example")[0].kind is RecordKind.INDIVIDUAL
    delete_contact_point_email(db_session, point.id)
    db_session.commit()
    assert match_email(db_session, "new@hughes.example") == []


@pytest.mark.parametrize("address", ["", "hughes.example", "a@b@c"])
def test_malformed_contact_point_emails_are_refused(db_session: Session, address: str) -> None:
    individual = create_individual(db_session, IndividualInput(last_name="Hughes"))
    with pytest.raises(InvalidInputError) as refused:
        add_contact_point_email(db_session, "individual", individual.id, address)
    assert refused.value.field == "email"
    assert list_contact_point_emails(db_session, "individual", individual.id) == []


def test_a_contact_point_email_needs_an_existing_person_of_a_known_type(
    db_session: Session,
) -> None:
    with pytest.raises(NotFoundError):
        add_contact_point_email(db_session, "contact", 404, "x@example.com")
    with pytest.raises(InvalidInputError) as refused:
        add_contact_point_email(db_session, "household", 1, "x@example.com")
    assert refused.value.field == "record_type"
