"""Templates: parsing, checking placeholders against the record type, rendering."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.crm.models import FieldType, RecordType
from calsync.workflows.errors import InvalidDefinitionError, RunFailedError
from calsync.workflows.record_schema import RecordSchema
from calsync.workflows.templates import check_placeholders, parse_template, render

INDIVIDUALS = RecordSchema(RecordType.INDIVIDUAL, {"stage": FieldType.TEXT})


def test_placeholders_are_filled_from_the_record_and_the_run() -> None:
    template = parse_template(
        "Annual review: {record.first_name} {record.last_name} ({record.custom.stage}) {run.date}",
        field="subject",
    )
    rendered = render(
        template,
        {
            "record.first_name": "Ada",
            "record.last_name": "Lovelace",
            "record.custom.stage": "Review",
            "run.date": "2026-11-26",
        },
        field="subject",
    )
    assert rendered == "Annual review: Ada Lovelace (Review) 2026-11-26"


def test_doubled_braces_are_literal_braces() -> None:
    template = parse_template("{{not a placeholder}} {owner.name}", field="subject")
    assert template.placeholders == ("owner.name",)
    assert render(template, {"owner.name": "Grace"}, field="subject") == "{not a placeholder} Grace"


def test_a_template_without_placeholders_renders_as_written() -> None:
    assert render(parse_template("Kick-off", field="subject"), {}, field="subject") == "Kick-off"


def test_each_placeholder_is_listed_once_in_order() -> None:
    template = parse_template("{owner.name} {record.name} {owner.name}", field="subject")
    assert template.placeholders == ("owner.name", "record.name")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("Review {record.first_name", "malformed"),
        ("Review }", "malformed"),
        ("Review {}", "is not a placeholder"),
        ("Review {0}", "is not a placeholder"),
        ("Review {first_name}", "is not a placeholder"),
        ("Review {record.first_name:>10}", "formatting options"),
        ("Review {record.first_name!r}", "formatting options"),
        ("Review {record[0]}", "is not a placeholder"),
    ],
)
def test_malformed_templates_are_refused_naming_the_field(source: str, problem: str) -> None:
    with pytest.raises(InvalidDefinitionError) as caught:
        parse_template(source, field="steps[0].subject")
    assert caught.value.field == "steps[0].subject"
    assert problem in caught.value.message


def test_an_unknown_placeholder_is_refused_with_its_name_and_the_nearest_known_one() -> None:
    template = parse_template("Review with {record.frist_name}", field="steps[0].subject")
    with pytest.raises(InvalidDefinitionError) as caught:
        check_placeholders(template, INDIVIDUALS.placeholders(), field="steps[0].subject")
    assert caught.value.field == "steps[0].subject"
    assert "{record.frist_name}" in caught.value.message
    assert "did you mean {record.first_name}?" in caught.value.message


def test_custom_fields_of_the_record_type_are_known_and_others_are_not() -> None:
    known = INDIVIDUALS.placeholders()
    check_placeholders(parse_template("{record.custom.stage}", field="s"), known, field="s")
    with pytest.raises(InvalidDefinitionError, match=r"\{record.custom.tier\}"):
        check_placeholders(parse_template("{record.custom.tier}", field="s"), known, field="s")


def test_contacts_have_no_advisor_placeholder() -> None:
    contacts = RecordSchema(RecordType.CONTACT)
    assert "record.advisor.name" in INDIVIDUALS.placeholders()
    assert "record.advisor.name" not in contacts.placeholders()
    assert "record.organization_name" in contacts.placeholders()


@pytest.mark.parametrize("value", [None, "", "   "])
def test_rendering_a_placeholder_without_value_fails_naming_it(value: str | None) -> None:
    template = parse_template("Review with {record.custom.stage}", field="steps[0].subject")
    with pytest.raises(RunFailedError) as caught:
        render(template, {"record.custom.stage": value}, field="steps[0].subject")
    assert caught.value.code == "missing_value"
    assert caught.value.field == "steps[0].subject"
    assert "{record.custom.stage}" in caught.value.message


def escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=40), after=st.text(max_size=40), value=st.text(min_size=1))
def test_any_literal_text_around_a_placeholder_survives_rendering(
    before: str, after: str, value: str
) -> None:
    template = parse_template(f"{escaped(before)}{{owner.name}}{escaped(after)}", field="s")
    assert template.placeholders == ("owner.name",)
    if value.strip():
        assert render(template, {"owner.name": value}, field="s") == before + value + after
