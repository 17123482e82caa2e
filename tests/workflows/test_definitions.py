"""Definitions: what is refused when a workflow is saved, with the field named, and what is
accepted."""

from copy import deepcopy
from datetime import time, timedelta
from typing import Any

import pytest

from calsync.crm.models import FieldType, RecordType, ShowAs
from calsync.workflows.definitions import (
    FixedEmail,
    FixedUser,
    ManualTrigger,
    OnFieldChangeTrigger,
    RecordItself,
    RecordUser,
    compile_definition,
    parse_definition,
)
from calsync.workflows.errors import InvalidDefinitionError
from calsync.workflows.record_schema import RecordSchema

INDIVIDUALS = RecordSchema(
    RecordType.INDIVIDUAL,
    {"stage": FieldType.TEXT, "onboarded": FieldType.CHECKBOX, "review_due": FieldType.DATE},
)
CONTACTS = RecordSchema(RecordType.CONTACT, {})
STAFF_IDS = {1, 2}

ANNUAL_REVIEW: dict[str, Any] = {
    "name": "Annual review",
    "record_type": "individual",
    "trigger": {"kind": "on_field_change", "field": "custom.stage", "value": "Review"},
    "steps": [
        {
            "action": "create_event",
            "subject": "Annual review: {record.name}",
            "description": "Prepared by {owner.name} on {run.date}.",
            "owner": {"kind": "record_user", "field": "advisor"},
            "attendees": [
                {"kind": "record"},
                {"kind": "user", "user_id": 2},
                {"kind": "email", "email": "paraplanner@example.com"},
            ],
            "start": {"days_after": 7, "at": "10:00", "skip_weekends": True},
            "duration_minutes": 60,
            "teams_meeting": True,
        }
    ],
}


def compile_raw(raw: dict[str, Any], schema: RecordSchema = INDIVIDUALS) -> Any:
    return compile_definition(parse_definition(raw), schema, STAFF_IDS.__contains__)


def refused(raw: dict[str, Any], schema: RecordSchema = INDIVIDUALS) -> InvalidDefinitionError:
    with pytest.raises(InvalidDefinitionError) as caught:
        compile_raw(raw, schema)
    return caught.value


def changed(path: str, value: Any) -> dict[str, Any]:
    """ANNUAL_REVIEW with the value at a dotted path (`steps.0.start.at`) replaced."""
    raw = deepcopy(ANNUAL_REVIEW)
    *parents, last = path.split(".")
    target: Any = raw
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return raw


_DELETE = object()


def test_the_annual_review_definition_compiles_to_the_runner_form() -> None:
    workflow = compile_raw(ANNUAL_REVIEW)
    assert workflow.trigger == OnFieldChangeTrigger(field="custom.stage", value="Review")
    (step,) = workflow.steps
    assert step.owner == RecordUser(field="advisor", id_column="advisor_id")
    assert step.attendees == (
        RecordItself(),
        FixedUser(2),
        FixedEmail("paraplanner@example.com"),
    )
    assert step.start.days_after == 7
    assert step.start.at == time(10, 0)
    assert step.start.skip_weekends
    assert step.duration == timedelta(minutes=60)
    assert step.show_as is ShowAs.BUSY
    assert step.teams_meeting
    assert step.subject.placeholders == ("record.name",)


def test_the_trigger_defaults_to_manual() -> None:
    assert compile_raw(changed("trigger", _DELETE)).trigger == ManualTrigger()


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("steps.0.subject", "Review {record.nickname}", "steps[0].subject", "{record.nickname}"),
        ("steps.0.description", "{owner.phone}", "steps[0].description", "{owner.phone}"),
        ("steps.0.location", "{record.custom.office}", "steps[0].location", "office"),
        ("trigger.field", "custom.tier", "trigger.field", "no field 'custom.tier'"),
        ("trigger.field", "name", "trigger.field", "no field 'name'"),
        ("steps.0.owner", {"kind": "user", "user_id": 99}, "steps[0].owner.user_id", "no user 99"),
        (
            "steps.0.owner",
            {"kind": "record_user", "field": "manager"},
            "steps[0].owner.field",
            "no User-valued field 'manager'",
        ),
        (
            "steps.0.attendees.1",
            {"kind": "user", "user_id": 42},
            "steps[0].attendees[1].user_id",
            "no user 42",
        ),
        (
            "steps.0.attendees.2",
            {"kind": "email", "email": "not-an-address"},
            "steps[0].attendees[2].email",
            "not a valid email",
        ),
        ("steps.0.start.at", "25:00", "steps[0].start.at", "HH:MM"),
        ("steps.0.start.at", "10:00+02:00", "steps[0].start.at", "HH:MM"),
        ("steps.0.start.days_after", -3, "steps[0].start.days_after", "greater than or equal"),
        ("steps.0.start.days_after", 100000, "steps[0].start.days_after", "less than or equal"),
        ("steps.0.duration_minutes", 0, "steps[0].duration_minutes", "greater than or equal"),
        ("steps.0.show_as", "away", "steps[0].show_as", "busy"),
        ("steps.0.subject", "", "steps[0].subject", "at least 1 character"),
        ("steps.0.owner", _DELETE, "steps[0].owner", "is required"),
        ("steps", [], "steps", "at least 1 item"),
        ("record_type", "opportunity", "record_type", "individual"),
        ("steps.0.colour", "blue", "steps[0].colour", "is not a field"),
        ("trigger", {"kind": "weekly"}, "trigger", "weekly"),
        ("steps.0.subject", "Review\x00", "steps[0].subject", "NUL"),
        ("steps.0.owner", {"kind": "user", "user_id": 2**40}, "steps[0].owner.user_id", "less"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(
    path: str, value: Any, field: str, words: str
) -> None:
    error = refused(changed(path, value))
    assert error.code == "invalid_workflow_definition"
    assert error.field == field
    assert words in error.message


def test_contacts_have_no_advisor_to_own_the_event() -> None:
    raw = changed("record_type", "contact")
    raw["trigger"] = {"kind": "on_create"}
    raw["steps"][0]["subject"] = "Intro: {record.name}"
    error = refused(raw, CONTACTS)
    assert error.field == "steps[0].owner.field"
    assert "User-valued fields: none" in error.message


def test_a_trigger_value_of_a_typed_custom_field_is_stored_in_its_canonical_form() -> None:
    raw = changed(
        "trigger", {"kind": "on_field_change", "field": "custom.onboarded", "value": "TRUE"}
    )
    assert compile_raw(raw).trigger == OnFieldChangeTrigger("custom.onboarded", "true")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("custom.onboarded", "yes", "is not true or false"),
        ("custom.review_due", "May", "not a date"),
    ],
)
def test_a_trigger_value_that_the_field_can_never_hold_is_refused(
    field: str, value: str, words: str
) -> None:
    error = refused(changed("trigger", {"kind": "on_field_change", "field": field, "value": value}))
    assert error.field == "trigger.value"
    assert words in error.message
