"""Attendee matching (SPEC §3): every record an address belongs to, from all four sources."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine
from calsync.crm.matching import RecordKind, match_email, match_emails
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import EmailIndexEntry, EmailSource, User
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
    delete_individual,
)
from calsync.crm.services.users import UserChanges, update_user


def test_an_address_matches_across_all_four_sources(db_session: Session, advisor: User) -> None:
    shared = "family.office@hughes.example"
    by_email = create_individual(db_session, IndividualInput(last_name="Hughes", email=shared))
    by_alternate = create_contact(
        db_session, ContactInput(last_name="Raman", alternate_email="FAMILY.office@hughes.example")
    )
    by_custom = create_individual(db_session, IndividualInput(last_name="Hughes-Jones"))
    define_custom_field(db_session, "individual", "office_email", "Office email", "Email")
    set_custom_value(db_session, "individual", by_custom.id, "office_email", shared)
    by_point = create_contact(db_session, ContactInput(last_name="Okafor"))
    add_contact_point_email(db_session, "contact", by_point.id, f"  {shared.upper()}  ")
    db_session.commit()

    found = match_email(db_session, "  Family.Office@Hughes.example ")

    assert [(m.kind, m.record_id, m.sources) for m in found] == [
        (RecordKind.INDIVIDUAL, by_email.id, (EmailSource.EMAIL,)),
        (RecordKind.INDIVIDUAL, by_custom.id, (EmailSource.CUSTOM_FIELD,)),
        (RecordKind.CONTACT, by_alternate.id, (EmailSource.ALTERNATE_EMAIL,)),
        (RecordKind.CONTACT, by_point.id, (EmailSource.CONTACT_POINT_EMAIL,)),
    ]
    assert not any(m.is_internal for m in found)


def test_a_user_match_is_internal_and_comes_first(db_session: Session, advisor: User) -> None:
    create_contact(
        db_session, ContactInput(last_name="Keller", email="maria.keller@kellerwealth.com")
    )
    found = match_email(db_session, "MARIA.KELLER@kellerwealth.com")
    assert [(m.kind, m.is_internal) for m in found] == [
        (RecordKind.USER, True),
        (RecordKind.CONTACT, False),
    ]


def test_a_record_matching_through_several_fields_appears_once(db_session: Session) -> None:
    person = create_individual(
        db_session,
        IndividualInput(
            last_name="Hughes", email="o@hughes.example", alternate_email="O@hughes.example"
        ),
    )
    add_contact_point_email(db_session, "individual", person.id, "o@HUGHES.example")
    [found] = match_email(db_session, "o@hughes.example")
    assert found.record_id == person.id
    assert found.sources == (
        EmailSource.EMAIL,
        EmailSource.ALTERNATE_EMAIL,
        EmailSource.CONTACT_POINT_EMAIL,
    )


def test_unknown_and_blank_addresses_match_nothing(db_session: Session, advisor: User) -> None:
    assert match_email(db_session, "stranger@elsewhere.example") == []
    assert match_email(db_session, "   ") == []
    assert match_emails(db_session, ["", "x@y.example", "maria.keller@kellerwealth.com"]) == {
        "x@y.example": [],
        "maria.keller@kellerwealth.com": match_email(db_session, "maria.keller@kellerwealth.com"),
    }


def test_a_changed_address_stops_matching_the_old_one(db_session: Session, advisor: User) -> None:
    update_user(db_session, advisor.id, UserChanges(email="maria@keller.example"))
    assert match_email(db_session, "maria.keller@kellerwealth.com") == []
    assert [m.record_id for m in match_email(db_session, "maria@keller.example")] == [advisor.id]


def test_deleting_a_person_removes_their_addresses_from_the_index(db_session: Session) -> None:
    person = create_individual(
        db_session, IndividualInput(last_name="Hughes", email="o@hughes.example")
    )
    add_contact_point_email(db_session, "individual", person.id, "work@hughes.example")
    delete_individual(db_session, person.id)
    db_session.commit()
    assert db_session.scalars(select(EmailIndexEntry)).all() == []


def test_the_lookup_is_served_by_the_email_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    with engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT user_id, individual_id, contact_id FROM email_index "
                "WHERE email_normalized IN ('a@b.example')"
            )
        ).all()
    engine.dispose()
    assert any("ix_email_index_email_normalized" in str(row) for row in plan)
