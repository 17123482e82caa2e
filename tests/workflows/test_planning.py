"""Planning a step's event from a record: owner, attendees, texts, times, and what fails a run."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calsync.crm.models import FieldType, RecordType
from calsync.workflows.definitions import Workflow, compile_definition, parse_definition
from calsync.workflows.errors import RunFailedError
from calsync.workflows.planning import AttendeePlan, RecordView, UserView, plan_event
from calsync.workflows.record_schema import RecordSchema

ADVISOR = UserView(id=1, name="Grace Hopper", email="grace@firm.example", time_zone="Europe/London")
ASSISTANT = UserView(id=2, name="Alan Turing", email="alan@firm.example", time_zone="UTC")
USERS = {user.id: user for user in (ADVISOR, ASSISTANT)}
RUN_AT = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)  # a Tuesday

ADA = RecordView(
    record_type=RecordType.INDIVIDUAL,
    id=7,
    name="Ada Lovelace",
    email="ada@example.com",
    values={
        "record.first_name": "Ada",
        "record.last_name": "Lovelace",
        "record.name": "Ada Lovelace",
        "record.email": "ada@example.com",
        "record.custom.stage": "Review",
    },
    user_ids={"advisor": 1},
)


def workflow(**step_changes: Any) -> Workflow:
    step: dict[str, Any] = {
        "action": "create_event",
        "subject": "Annual review: {record.name} ({record.custom.stage})",
        "description": "With {owner.name}, planned on {run.date} by {run.workflow}.",
        "location": "{record.advisor.name}'s office",
        "owner": {"kind": "record_user", "field": "advisor"},
        "attendees": [
            {"kind": "record"},
            {"kind": "record_user", "field": "advisor"},
            {"kind": "user", "user_id": 2},
            {"kind": "email", "email": "compliance@firm.example"},
            {"kind": "user", "user_id": 2},
        ],
        "start": {"days_after": 7, "at": "10:00", "skip_weekends": True},
        "duration_minutes": 60,
        "teams_meeting": True,
    }
    step.update(step_changes)
    raw = {"name": "Annual review", "record_type": "individual", "steps": [step]}
    schema = RecordSchema(RecordType.INDIVIDUAL, {"stage": FieldType.TEXT})
    return compile_definition(parse_definition(raw), schema, USERS.__contains__)


def plan(record: RecordView = ADA, users: dict[int, UserView] = USERS, **step_changes: Any) -> Any:
    (step,) = workflow(**step_changes).steps
    return plan_event(
        step, "steps[0]", workflow_name="Annual review", record=record, users=users, run_at=RUN_AT
    )


def failure(**kwargs: Any) -> RunFailedError:
    with pytest.raises(RunFailedError) as caught:
        plan(**kwargs)
    return caught.value


def test_the_event_is_owned_by_the_advisor_at_ten_in_the_advisor_zone() -> None:
    event = plan()
    assert event.owner_id == ADVISOR.id
    assert event.time_zone == "Europe/London"
    # 27 October 2026 is after London's clocks went back (25 October): 10:00 GMT.
    assert event.start == datetime(2026, 10, 27, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert event.start.utcoffset() == timedelta(0)
    assert event.end - event.start == timedelta(minutes=60)
    assert event.teams_meeting


def test_texts_are_filled_from_the_record_the_owner_and_the_run() -> None:
    event = plan()
    assert event.subject == "Annual review: Ada Lovelace (Review)"
    assert event.description == "With Grace Hopper, planned on 2026-10-20 by Annual review."
    assert event.location == "Grace Hopper's office"


def test_attendees_keep_order_without_the_owner_and_without_repeats() -> None:
    assert plan().attendees == (
        AttendeePlan(individual_id=7),
        AttendeePlan(user_id=2),
        AttendeePlan(email="compliance@firm.example"),
    )


def test_a_person_without_email_fails_the_run_naming_the_attendee() -> None:
    error = failure(record=RecordView(**{**ADA.__dict__, "email": None}))
    assert error.code == "missing_email"
    assert error.field == "steps[0].attendees[0]"
    assert "Ada Lovelace has no email address" in error.message


def test_an_individual_without_advisor_fails_the_run_naming_the_owner() -> None:
    error = failure(record=RecordView(**{**ADA.__dict__, "user_ids": {"advisor": None}}))
    assert error.code == "missing_owner"
    assert error.field == "steps[0].owner.field"
    assert "Ada Lovelace has no advisor" in error.message


def test_an_empty_custom_field_in_the_subject_fails_the_run_naming_the_placeholder() -> None:
    values = {**ADA.values, "record.custom.stage": None}
    error = failure(record=RecordView(**{**ADA.__dict__, "values": values}))
    assert error.code == "missing_value"
    assert error.field == "steps[0].subject"
    assert "{record.custom.stage}" in error.message


def test_a_fixed_user_deleted_since_the_definition_fails_the_run() -> None:
    error = failure(users={1: ADVISOR})
    assert error.code == "attendee_not_found"
    assert error.field == "steps[0].attendees[2].user_id"


def test_a_same_day_time_already_past_fails_the_run_instead_of_booking_the_past() -> None:
    error = failure(start={"days_after": 0, "at": "09:00"})
    assert error.code == "start_in_past"
    assert error.field == "steps[0].start"


def test_a_same_day_time_still_ahead_is_booked_today() -> None:
    event = plan(start={"days_after": 0, "at": "17:30"})
    assert event.start == datetime(2026, 10, 20, 17, 30, tzinfo=ZoneInfo("Europe/London"))
