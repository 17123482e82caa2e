"""Triggers: a record created, or a field changed to a value, runs the workflows waiting for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Event, RecordType
from calsync.crm.services.custom_fields import custom_values, set_custom_value
from calsync.crm.services.people import (
    IndividualInput,
    create_individual,
    individual_input_of,
    update_individual,
)
from calsync.workflows.models import RunStatus, TriggerKind, WorkflowRun
from calsync.workflows.store import define_workflow, update_workflow
from calsync.workflows.triggers import RecordChange, fire, install_workflow_triggers
from tests.workflows.conftest import Firm, annual_review, fixed_clock


@pytest.fixture
def hooked(database_url: str, firm: Firm) -> Iterator[sessionmaker[Session]]:
    """A session factory with the workflow triggers installed, on the firm's database."""
    engine = create_database_engine(database_url)
    factory = create_session_factory(engine)
    install_workflow_triggers(factory, clock=fixed_clock)
    yield factory
    engine.dispose()


def runs(session: Session) -> list[WorkflowRun]:
    return list(session.scalars(select(WorkflowRun).order_by(WorkflowRun.id)))


def events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event)) or 0


def set_stage(factory: sessionmaker[Session], client_id: int, stage: str | None) -> None:
    with factory() as session:
        set_custom_value(session, RecordType.INDIVIDUAL, client_id, "stage", stage)
        session.commit()


def test_changing_the_stage_to_review_books_the_annual_review(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()

    set_stage(hooked, firm.client.id, "Review")

    with hooked() as session:
        (run,) = runs(session)
        assert run.status is RunStatus.SUCCEEDED
        assert run.trigger_kind is TriggerKind.ON_FIELD_CHANGE
        assert run.firing_key.startswith(
            f"changed:individual:{firm.client.id}:custom.stage=Review@"
        )
        event = session.get(Event, run.event_ids[0])
        assert event is not None
        assert event.subject == "Annual review: Ada Lovelace"


def test_other_values_and_rolled_back_changes_trigger_nothing(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()

    set_stage(hooked, firm.client.id, "Onboarding")
    with hooked() as session:
        set_custom_value(session, RecordType.INDIVIDUAL, firm.client.id, "stage", "Review")
        session.rollback()

    with hooked() as session:
        assert runs(session) == []
        assert events(session) == 0


def test_saving_the_same_value_again_is_not_a_change(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()
    set_stage(hooked, firm.client.id, "Review")
    set_stage(hooked, firm.client.id, "Review")
    with hooked() as session:
        update_individual(
            session,
            firm.client.id,
            individual_input_of(session.get_one(type(firm.client), firm.client.id)),
        )
        session.commit()

    with hooked() as session:
        assert len(runs(session)) == 1
        assert events(session) == 1


def test_the_stage_coming_back_to_review_later_is_a_new_firing(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()
    set_stage(hooked, firm.client.id, "Review")
    set_stage(hooked, firm.client.id, "Done")
    set_stage(hooked, firm.client.id, "review")  # values compare case-insensitively

    with hooked() as session:
        assert [run.status for run in runs(session)] == [RunStatus.SUCCEEDED] * 2
        assert events(session) == 2


def test_correcting_the_case_of_a_value_that_already_matched_is_not_a_new_firing(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()
    set_stage(hooked, firm.client.id, "review")
    set_stage(hooked, firm.client.id, "Review")

    with hooked() as session:
        assert len(runs(session)) == 1


def test_only_the_value_a_transaction_commits_counts(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        session.commit()
    with hooked() as session:
        for stage in ("Review", "Done"):
            set_custom_value(session, RecordType.INDIVIDUAL, firm.client.id, "stage", stage)
        session.commit()
    with hooked() as session:
        assert runs(session) == []


def test_a_standard_field_change_triggers_too(hooked: sessionmaker[Session], firm: Firm) -> None:
    with hooked() as session:
        define_workflow(
            session,
            annual_review(
                name="Welcome to Acme",
                trigger={"kind": "on_field_change", "field": "last_name", "value": "Byron"},
            ),
        )
        session.commit()
    with hooked() as session:
        current = individual_input_of(session.get_one(type(firm.client), firm.client.id))
        update_individual(
            session,
            firm.client.id,
            IndividualInput(**{**current.__dict__, "last_name": "Byron"}),
        )
        session.commit()

    with hooked() as session:
        (run,) = runs(session)
        assert run.status is RunStatus.SUCCEEDED


def test_creating_an_individual_runs_the_on_create_workflows_once(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(
            session,
            annual_review(
                name="Onboarding call",
                trigger={"kind": "on_create"},
                step={
                    "subject": "Welcome call: {record.first_name}",
                    "start": {"days_after": 1, "at": "09:30"},
                },
            ),
        )
        session.commit()

    with hooked() as session:
        newcomer = create_individual(
            session,
            IndividualInput(
                first_name="Charles",
                last_name="Babbage",
                email="charles@example.com",
                advisor_id=firm.advisor.id,
            ),
        )
        session.commit()
        newcomer_id = newcomer.id

    with hooked() as session:
        (run,) = runs(session)
        assert run.record_id == newcomer_id
        assert run.firing_key == f"created:individual:{newcomer_id}"
        # The same firing delivered again (a retried trigger) books nothing more.
        again = fire(
            session,
            RecordChange(RecordType.INDIVIDUAL, newcomer_id, created=True),
            clock=fixed_clock,
        )
        assert [r.id for r in again] == [run.id]
        assert events(session) == 1


def test_inactive_workflows_and_workflows_on_other_record_types_do_not_run(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        definition = define_workflow(session, annual_review())
        update_workflow(session, definition.id, annual_review(active=False))
        session.commit()
    set_stage(hooked, firm.client.id, "Review")
    with hooked() as session:
        assert runs(session) == []


def test_a_triggered_run_that_fails_is_recorded_and_the_record_change_stays(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    with hooked() as session:
        define_workflow(session, annual_review())
        current = individual_input_of(session.get_one(type(firm.client), firm.client.id))
        update_individual(
            session, firm.client.id, IndividualInput(**{**current.__dict__, "email": None})
        )
        session.commit()

    set_stage(hooked, firm.client.id, "Review")

    with hooked() as session:
        (run,) = runs(session)
        assert (run.status, run.error_code) == (RunStatus.FAILED, "missing_email")
        assert events(session) == 0
        assert custom_values(session, RecordType.INDIVIDUAL, firm.client.id)["stage"] == "Review"


def test_a_long_trigger_value_still_makes_one_firing_key_that_fits(
    hooked: sessionmaker[Session], firm: Firm
) -> None:
    long_stage = "Review of the whole financial plan " * 12
    with hooked() as session:
        define_workflow(
            session,
            annual_review(
                trigger={"kind": "on_field_change", "field": "custom.stage", "value": long_stage}
            ),
        )
        session.commit()
    set_stage(hooked, firm.client.id, long_stage)

    with hooked() as session:
        (run,) = runs(session)
        assert run.status is RunStatus.SUCCEEDED
        assert len(run.firing_key) <= 300
        assert run.firing_key.startswith(f"changed:individual:{firm.client.id}:custom.stage=")
