"""Runs on SQLite and PostgreSQL: events created, errors recorded, nothing partly written."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.models import Event, RecordType, SyncStatus
from calsync.crm.services.custom_fields import (
    delete_custom_field,
    list_custom_fields,
    set_custom_value,
)
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    update_individual,
)
from calsync.workflows.errors import RecordNotFoundError
from calsync.workflows.models import RunStatus, WorkflowRun
from calsync.workflows.runs import bounded_firing_key, run_workflow
from calsync.workflows.store import define_workflow, get_version, update_workflow
from tests.workflows.conftest import Firm, annual_review, fixed_clock

LONDON = ZoneInfo("Europe/London")


def event_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event)) or 0


def test_a_run_creates_an_ordinary_crm_event_for_the_advisor_with_the_client_invited(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(db_session, annual_review())
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert run.status is RunStatus.SUCCEEDED
    (event_id,) = run.event_ids
    event = db_session.get(Event, event_id)
    assert event is not None
    assert event.owner_id == firm.advisor.id
    assert event.subject == "Annual review: Ada Lovelace"
    assert event.description == "Agenda prepared by Grace Hopper."
    assert event.time_zone == "Europe/London"
    # Tuesday 27 October, after London's clocks went back: 10:00 GMT is 10:00 UTC.
    assert event.start_at.astimezone(LONDON) == datetime(2026, 10, 27, 10, 0, tzinfo=LONDON)
    assert (event.end_at - event.start_at).total_seconds() == 3600
    assert event.is_teams_meeting
    assert event.sync_status is SyncStatus.PENDING
    assert [(a.individual_id, a.email) for a in event.attendees] == [
        (firm.client.id, "ada@example.com")
    ]


def test_a_run_that_cannot_fill_a_value_records_the_error_and_creates_nothing(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(
        db_session,
        annual_review(
            step={"attendees": [{"kind": "user", "user_id": firm.assistant.id}, {"kind": "record"}]}
        ),
    )
    update_individual(
        db_session,
        firm.client.id,
        IndividualInput(first_name="Ada", last_name="Lovelace", advisor_id=firm.advisor.id),
    )
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert run.status is RunStatus.FAILED
    assert run.error_code == "missing_email"
    assert run.error_field == "steps[0].attendees[1]"
    assert run.error_message == "Ada Lovelace has no email address to send the invitation to"
    assert run.event_ids == []
    assert event_count(db_session) == 0


def test_a_step_the_crm_refuses_takes_back_the_events_of_the_steps_before_it(
    db_session: Session, firm: Firm
) -> None:
    body = annual_review()
    body["steps"].append(dict(body["steps"][0], subject="Follow-up: {record.custom.stage}"))
    definition = define_workflow(db_session, body)
    # Fine for the planner, but longer than the CRM allows an event subject to be.
    set_custom_value(db_session, RecordType.INDIVIDUAL, firm.client.id, "stage", "x" * 300)
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert run.status is RunStatus.FAILED
    assert run.error_field == "subject"
    assert "255" in (run.error_message or "")
    assert event_count(db_session) == 0


def test_an_empty_placeholder_in_a_later_step_fails_the_run_naming_that_step(
    db_session: Session, firm: Firm
) -> None:
    body = annual_review()
    body["steps"].append(dict(body["steps"][0], subject="Follow-up on {record.custom.stage}"))
    definition = define_workflow(db_session, body)
    set_custom_value(db_session, RecordType.INDIVIDUAL, firm.client.id, "stage", None)
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert run.status is RunStatus.FAILED
    assert (run.error_code, run.error_field) == ("missing_value", "steps[1].subject")
    assert event_count(db_session) == 0


def test_the_same_firing_key_creates_one_meeting_however_often_it_is_retried(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(db_session, annual_review())
    db_session.commit()

    first = run_workflow(db_session, definition, firm.client.id, firing_key="k1", clock=fixed_clock)
    again = run_workflow(db_session, definition, firm.client.id, firing_key="k1", clock=fixed_clock)
    other = run_workflow(db_session, definition, firm.client.id, firing_key="k2", clock=fixed_clock)

    assert again.id == first.id
    assert other.id != first.id
    assert event_count(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(WorkflowRun)) == 2


def test_a_firing_whose_run_failed_can_be_retried_once_the_record_is_fixed(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(db_session, annual_review())
    update_individual(
        db_session, firm.client.id, IndividualInput(first_name="Ada", last_name="Lovelace")
    )
    db_session.commit()
    failed = run_workflow(db_session, definition, firm.client.id, firing_key="k", clock=fixed_clock)
    assert (failed.status, failed.error_code) == (RunStatus.FAILED, "missing_owner")

    update_individual(
        db_session,
        firm.client.id,
        IndividualInput(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            advisor_id=firm.advisor.id,
        ),
    )
    db_session.commit()
    retried = run_workflow(
        db_session, definition, firm.client.id, firing_key="k", clock=fixed_clock
    )

    assert retried.status is RunStatus.SUCCEEDED
    assert event_count(db_session) == 1


def test_editing_a_workflow_does_not_change_the_runs_already_made(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(db_session, annual_review())
    db_session.commit()
    first = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    update_workflow(
        db_session, definition.id, annual_review(step={"subject": "Review {record.name}"})
    )
    db_session.commit()
    second = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert definition.current_version == 2
    assert first.version.version == 1
    assert second.version.version == 2
    assert get_version(db_session, definition, 1).body["steps"][0]["subject"] == (
        "Annual review: {record.name}"
    )
    events = [db_session.get(Event, run.event_ids[0]) for run in (first, second)]
    assert [event.subject if event else None for event in events] == [
        "Annual review: Ada Lovelace",
        "Review Ada Lovelace",
    ]


def test_a_custom_field_deleted_since_the_definition_fails_the_run_naming_it(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(
        db_session, annual_review(step={"subject": "Review ({record.custom.stage})"})
    )
    (stage,) = list_custom_fields(db_session, "individual")
    delete_custom_field(db_session, stage.id)
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)

    assert run.status is RunStatus.FAILED
    assert run.error_code == "definition_out_of_date"
    assert run.error_field is not None
    assert event_count(db_session) == 0


def test_running_on_a_record_that_does_not_exist_is_refused_without_a_run(
    db_session: Session, firm: Firm
) -> None:
    definition = define_workflow(db_session, annual_review())
    db_session.commit()
    with pytest.raises(RecordNotFoundError):
        run_workflow(db_session, definition, 9999, clock=fixed_clock)
    assert db_session.scalar(select(func.count()).select_from(WorkflowRun)) == 0


def test_a_contact_workflow_with_a_fixed_owner_invites_the_contact(
    db_session: Session, firm: Firm
) -> None:
    contact = create_contact(
        db_session,
        ContactInput(
            first_name="Mary",
            last_name="Somerville",
            email="mary@lawfirm.example",
            organization_name="Somerville & Co",
        ),
    )
    definition = define_workflow(
        db_session,
        {
            "name": "Introductory call",
            "record_type": "contact",
            "trigger": {"kind": "on_create"},
            "steps": [
                {
                    "action": "create_event",
                    "subject": "Intro: {record.name} ({record.organization_name})",
                    "owner": {"kind": "user", "user_id": firm.assistant.id},
                    "attendees": [{"kind": "record"}, {"kind": "user", "user_id": firm.advisor.id}],
                    "start": {"days_after": 2, "at": "08:00"},
                    "duration_minutes": 30,
                    "show_as": "tentative",
                }
            ],
        },
    )
    db_session.commit()

    run = run_workflow(db_session, definition, contact.id, clock=fixed_clock)

    event = db_session.get(Event, run.event_ids[0])
    assert event is not None
    assert event.subject == "Intro: Mary Somerville (Somerville & Co)"
    assert event.owner_id == firm.assistant.id
    # 08:00 in New York, the assistant's zone, on Thursday 22 October.
    assert event.time_zone == "America/New_York"
    assert event.start_at == datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    assert event.show_as.value == "tentative"
    assert not event.is_teams_meeting
    assert [(a.contact_id, a.user_id) for a in event.attendees] == [
        (contact.id, None),
        (None, firm.advisor.id),
    ]


def test_long_firing_keys_are_shortened_the_same_way_every_time() -> None:
    first, second = "changed:" + "a" * 400 + "@1", "changed:" + "a" * 400 + "@2"
    assert bounded_firing_key(first) == bounded_firing_key(first)
    assert bounded_firing_key(first) != bounded_firing_key(second)
    assert len(bounded_firing_key(first)) == 300
    assert bounded_firing_key("created:individual:7") == "created:individual:7"


def test_a_run_announces_its_event_to_the_sync_outbox_and_a_failed_run_announces_nothing(
    db_session: Session, firm: Firm
) -> None:
    from calsync.sync.storage import OutboxEntry, OutboxKind  # installs the outbox listener

    firm.advisor.sync_enabled = True
    definition = define_workflow(db_session, annual_review())
    db_session.commit()

    run = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)
    entries = db_session.scalars(select(OutboxEntry)).all()
    assert [(entry.crm_event_id, entry.kind) for entry in entries] == [
        (run.event_ids[0], OutboxKind.CREATE)
    ]

    set_custom_value(db_session, RecordType.INDIVIDUAL, firm.client.id, "stage", "x" * 300)
    db_session.commit()
    body = annual_review()
    body["steps"].append(dict(body["steps"][0], subject="Follow-up: {record.custom.stage}"))
    update_workflow(db_session, definition.id, body)
    db_session.commit()
    failed = run_workflow(db_session, definition, firm.client.id, clock=fixed_clock)
    assert failed.status is RunStatus.FAILED
    assert len(db_session.scalars(select(OutboxEntry)).all()) == 1
