"""Custom field definitions and values on records; Email fields take part in matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.errors import DuplicateError, InvalidInputError, NotFoundError
from calsync.crm.matching import RecordKind, match_email
from calsync.crm.models import CustomFieldValue, EmailSource, FieldType, Individual
from calsync.crm.services.custom_fields import (
    CustomFieldChanges,
    custom_values,
    define_custom_field,
    delete_custom_field,
    list_custom_fields,
    set_custom_value,
    set_custom_values,
    update_custom_field,
)
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)


@pytest.fixture
def client(db_session: Session) -> Individual:
    return create_individual(db_session, IndividualInput(first_name="Oliver", last_name="Hughes"))


def test_values_are_set_per_record_and_read_typed(db_session: Session, client: Individual) -> None:
    define_custom_field(db_session, "individual", "risk_score", "Risk score", "Number")
    define_custom_field(db_session, "individual", "birthday", "Birthday", FieldType.DATE)
    define_custom_field(db_session, "individual", "newsletter", "Newsletter", "Checkbox")
    set_custom_values(
        db_session,
        "individual",
        client.id,
        {"risk_score": "7.5", "birthday": "1961-08-04", "newsletter": True},
    )
    db_session.commit()
    assert custom_values(db_session, "individual", client.id) == {
        "birthday": date(1961, 8, 4),
        "newsletter": True,
        "risk_score": Decimal("7.5"),
    }


def test_fields_belong_to_one_record_type(db_session: Session, client: Individual) -> None:
    define_custom_field(db_session, "contact", "firm_size", "Firm size", "Number")
    with pytest.raises(NotFoundError) as missing:
        set_custom_value(db_session, "individual", client.id, "firm_size", 10)
    assert missing.value.field == "custom_fields.firm_size"
    assert [d.key for d in list_custom_fields(db_session, "contact")] == ["firm_size"]
    assert list_custom_fields(db_session, "individual") == []


def test_one_bad_value_means_none_of_them_is_written(
    db_session: Session, client: Individual
) -> None:
    define_custom_field(db_session, "individual", "risk_score", "Risk score", "Number")
    define_custom_field(db_session, "individual", "work_email", "Work email", "Email")
    with pytest.raises(InvalidInputError) as refused:
        set_custom_values(
            db_session, "individual", client.id, {"risk_score": 3, "work_email": "oliver@"}
        )
    assert refused.value.field == "custom_fields.work_email"
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(CustomFieldValue)) == 0


def test_none_or_empty_clears_a_value(db_session: Session, client: Individual) -> None:
    define_custom_field(db_session, "individual", "nickname", "Nickname", "Text")
    set_custom_value(db_session, "individual", client.id, "nickname", "Olly")
    assert set_custom_value(db_session, "individual", client.id, "nickname", " ") == {}


@pytest.mark.parametrize(
    ("key", "label", "field_type", "field"),
    [
        ("Risk Score", "Risk", "Number", "key"),
        ("9lives", "Lives", "Number", "key"),
        ("risk", " ", "Number", "label"),
        ("risk", "Risk", "Percentage", "field_type"),
    ],
)
def test_bad_definitions_are_refused(
    db_session: Session, key: str, label: str, field_type: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        define_custom_field(db_session, "individual", key, label, field_type)
    assert refused.value.field == field


def test_a_key_is_unique_per_record_type(db_session: Session) -> None:
    define_custom_field(db_session, "individual", "risk", "Risk", "Number")
    define_custom_field(db_session, "contact", "risk", "Risk", "Number")
    with pytest.raises(DuplicateError) as refused:
        define_custom_field(db_session, "individual", "risk", "Risk again", "Text")
    assert refused.value.field == "key"


def test_email_values_take_part_in_matching(db_session: Session, client: Individual) -> None:
    define_custom_field(db_session, "individual", "work_email", "Work email", "Email")
    set_custom_value(db_session, "individual", client.id, "work_email", "Oliver@HughesLaw.example")
    [found] = match_email(db_session, "oliver@hugheslaw.example ")
    assert (found.kind, found.record_id, found.sources) == (
        RecordKind.INDIVIDUAL,
        client.id,
        (EmailSource.CUSTOM_FIELD,),
    )
    set_custom_value(db_session, "individual", client.id, "work_email", None)
    assert match_email(db_session, "oliver@hugheslaw.example") == []


def test_changing_a_field_to_email_makes_its_values_match(db_session: Session) -> None:
    contact = create_contact(db_session, ContactInput(last_name="Raman"))
    field = define_custom_field(db_session, "contact", "assistant", "Assistant", "Text")
    set_custom_value(db_session, "contact", contact.id, "assistant", "desk@raman.example")
    assert match_email(db_session, "desk@raman.example") == []
    update_custom_field(db_session, field.id, CustomFieldChanges(field_type="Email"))
    assert [m.record_id for m in match_email(db_session, "desk@raman.example")] == [contact.id]
    update_custom_field(db_session, field.id, CustomFieldChanges(field_type="Text", label="PA"))
    assert match_email(db_session, "desk@raman.example") == []
    assert custom_values(db_session, "contact", contact.id) == {"assistant": "desk@raman.example"}


def test_a_type_change_that_existing_values_cannot_take_is_refused(
    db_session: Session, client: Individual
) -> None:
    field = define_custom_field(db_session, "individual", "notes", "Notes", "Text")
    set_custom_value(db_session, "individual", client.id, "notes", "calls on Fridays")
    db_session.commit()
    with pytest.raises(InvalidInputError) as refused:
        update_custom_field(
            db_session, field.id, CustomFieldChanges(label="Score", field_type="Number")
        )
    assert refused.value.field == "field_type"
    assert "1 existing value" in refused.value.message
    db_session.commit()
    db_session.expire_all()
    assert (field.label, field.field_type) == ("Notes", FieldType.TEXT)


def test_a_type_change_converts_values_it_can(db_session: Session, client: Individual) -> None:
    field = define_custom_field(db_session, "individual", "children", "Children", "Text")
    set_custom_value(db_session, "individual", client.id, "children", "02")
    update_custom_field(db_session, field.id, CustomFieldChanges(field_type="Number"))
    assert custom_values(db_session, "individual", client.id) == {"children": Decimal(2)}


def test_deleting_an_email_field_stops_its_values_matching(
    db_session: Session, client: Individual
) -> None:
    field = define_custom_field(db_session, "individual", "work_email", "Work email", "Email")
    set_custom_value(db_session, "individual", client.id, "work_email", "oliver@hugheslaw.example")
    delete_custom_field(db_session, field.id)
    db_session.commit()
    assert match_email(db_session, "oliver@hugheslaw.example") == []
    assert custom_values(db_session, "individual", client.id) == {}
