"""Individuals and Contacts: checked fields, advisors, and what deleting a person keeps."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError, NotFoundError
from calsync.crm.models import Contact, Event, Individual, User
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    contact_input_of,
    create_contact,
    create_individual,
    delete_contact,
    delete_individual,
    get_individual,
    individual_input_of,
    list_contacts,
    list_individuals,
    update_contact,
    update_individual,
)
from tests.crm.conftest import meeting


def test_an_individual_is_stored_with_their_advisor(db_session: Session, advisor: User) -> None:
    individual = create_individual(
        db_session,
        IndividualInput(
            first_name="Oliver",
            last_name="Hughes",
            email="oliver.hughes@gmail.com",
            alternate_email="o.hughes@hughes-family.co.uk",
            phone="+44 20 7946 0958",
            advisor_id=advisor.id,
        ),
    )
    db_session.commit()
    stored = get_individual(db_session, individual.id)
    assert stored.display_name == "Oliver Hughes"
    assert stored.advisor_id == advisor.id
    assert stored.alternate_email == "o.hughes@hughes-family.co.uk"


def test_a_contact_keeps_their_organisation(db_session: Session) -> None:
    contact = create_contact(
        db_session,
        ContactInput(first_name="Priya", last_name="Raman", organization_name=" Raman & Co Tax "),
    )
    assert contact.organization_name == "Raman & Co Tax"
    assert contact.email is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last_name": " "}, "last_name"),
        ({"email": "oliver@"}, "email"),
        ({"alternate_email": "not an address"}, "alternate_email"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "x" * 201}, "first_name"),
        ({"advisor_id": 999}, "advisor_id"),
    ],
)
def test_bad_person_fields_are_refused_and_nothing_is_written(
    db_session: Session, changes: dict[str, object], field: str
) -> None:
    data = dataclasses.replace(IndividualInput(last_name="Hughes"), **changes)
    with pytest.raises((InvalidInputError, NotFoundError)) as refused:
        create_individual(db_session, data)
    assert refused.value.field == field
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Individual)) == 0


def test_an_update_replaces_the_fields(db_session: Session) -> None:
    contact = create_contact(db_session, ContactInput(last_name="Raman", email="priya@raman.co"))
    update_contact(
        db_session,
        contact.id,
        dataclasses.replace(contact_input_of(contact), email=None, phone="555 0100"),
    )
    db_session.commit()
    assert (contact.email, contact.phone) == (None, "555 0100")


def test_a_failed_update_leaves_the_person_as_it_was(db_session: Session) -> None:
    individual = create_individual(db_session, IndividualInput(last_name="Hughes"))
    db_session.commit()
    with pytest.raises(InvalidInputError):
        update_individual(
            db_session,
            individual.id,
            dataclasses.replace(individual_input_of(individual), first_name="Olly", email="bad@"),
        )
    db_session.commit()
    db_session.expire_all()
    assert get_individual(db_session, individual.id).first_name == ""


def test_people_are_listed_by_last_then_first_name(db_session: Session) -> None:
    for first, last in [("Zoe", "Adams"), ("Amy", "Brown"), ("Bea", "Adams")]:
        create_individual(db_session, IndividualInput(first_name=first, last_name=last))
        create_contact(db_session, ContactInput(first_name=first, last_name=last))
    expected = ["Bea Adams", "Zoe Adams", "Amy Brown"]
    assert [person.display_name for person in list_individuals(db_session)] == expected
    assert [person.display_name for person in list_contacts(db_session)] == expected


def test_deleting_a_person_keeps_their_meetings_with_their_address(
    db_session: Session, advisor: User
) -> None:
    client = create_individual(
        db_session, IndividualInput(last_name="Hughes", email="oliver@hughes.net")
    )
    no_address = create_contact(db_session, ContactInput(last_name="Raman"))
    event = create_event(
        db_session,
        meeting(
            advisor,
            attendees=(
                AttendeeInput(individual_id=client.id),
                AttendeeInput(contact_id=no_address.id),
            ),
        ),
    )
    db_session.commit()
    delete_individual(db_session, client.id)
    delete_contact(db_session, no_address.id)
    db_session.commit()
    stored = db_session.get(Event, event.id)
    assert stored is not None
    assert [(a.individual_id, a.email) for a in stored.attendees] == [(None, "oliver@hughes.net")]
    assert stored.version == 3
    assert db_session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_page_of_people_is_cut_in_the_same_order(db_session: Session) -> None:
    for first, last in [("Zoe", "Adams"), ("Amy", "Brown"), ("Bea", "Adams"), ("Cal", "Cole")]:
        create_individual(db_session, IndividualInput(first_name=first, last_name=last))
        create_contact(db_session, ContactInput(first_name=first, last_name=last))
    expected = ["Zoe Adams", "Amy Brown"]
    page = list_individuals(db_session, offset=1, limit=2)
    assert [person.display_name for person in page] == expected
    assert [p.display_name for p in list_contacts(db_session, offset=1, limit=2)] == expected
    assert list_individuals(db_session, offset=4, limit=2) == []
