"""What the workflow trigger hook costs, and how fast triggered runs book meetings.

On a fresh migrated SQLite file with N Individuals (default 200), each with an advisor and a Stage,
and the two demo workflows defined, it measures:

- the cost of the hook on record changes that trigger nothing: committing N Stage changes to a
  value no workflow waits for, one transaction each, with and without the hook installed (ratio);
- triggered runs: committing N Stage changes to "Review", each running the Annual review workflow
  (plan, create the CRM event with its attendee, record the run), in runs per second;
- planning alone (the pure part of a run: templates, owner, attendees, DST-aware start), in plans
  per second.

Numbers are printed, never asserted. Run: .venv/bin/python bench/bench_workflows.py [--records N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import Event, FieldType, RecordType
from calsync.crm.services.custom_fields import set_custom_value
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.workflows.definitions import compile_definition, parse_definition
from calsync.workflows.demo import ANNUAL_REVIEW, add_demo_workflows
from calsync.workflows.models import WorkflowRun
from calsync.workflows.planning import RecordView, UserView, plan_event
from calsync.workflows.record_schema import RecordSchema
from calsync.workflows.triggers import install_workflow_triggers

RUN_AT = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)


def seed(factory: sessionmaker[Session], records: int) -> list[int]:
    with factory() as session:
        advisor = create_user(
            session, name="Grace Hopper", email="grace@firm.example", time_zone="Europe/London"
        )
        add_demo_workflows(session)
        ids = []
        for number in range(records):
            person = create_individual(
                session,
                IndividualInput(
                    first_name="Client",
                    last_name=f"Number {number}",
                    email=f"client{number}@example.com",
                    advisor_id=advisor.id,
                ),
            )
            set_custom_value(session, RecordType.INDIVIDUAL, person.id, "stage", "Prospect")
            ids.append(person.id)
        session.commit()
    return ids


def set_stages(factory: sessionmaker[Session], ids: list[int], stage: str) -> float:
    """Seconds to commit one Stage change per record, one transaction each."""
    started = time.perf_counter()
    for record_id in ids:
        with factory() as session:
            set_custom_value(session, RecordType.INDIVIDUAL, record_id, "stage", stage)
            session.commit()
    return time.perf_counter() - started


def planning_rate(iterations: int) -> float:
    schema = RecordSchema(RecordType.INDIVIDUAL, {"stage": FieldType.TEXT})
    workflow = compile_definition(parse_definition(ANNUAL_REVIEW), schema, lambda _id: True)
    (step,) = workflow.steps
    users = {1: UserView(1, "Grace Hopper", "grace@firm.example", "Europe/London")}
    record = RecordView(
        record_type=RecordType.INDIVIDUAL,
        id=7,
        name="Ada Lovelace",
        email="ada@example.com",
        values={"record.name": "Ada Lovelace", "record.first_name": "Ada"},
        user_ids={"advisor": 1},
    )
    started = time.perf_counter()
    for _ in range(iterations):
        plan_event(
            step,
            "steps[0]",
            workflow_name="Annual review",
            record=record,
            users=users,
            run_at=RUN_AT,
        )
    return iterations / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    records = parser.parse_args().records

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        upgrade_database(url)
        engine = create_database_engine(url)
        plain = create_session_factory(engine)
        hooked = create_session_factory(engine)
        install_workflow_triggers(hooked, clock=lambda: RUN_AT)
        ids = seed(plain, records)

        without_hook = set_stages(plain, ids, "Onboarding")
        with_hook = set_stages(hooked, ids, "Discovery")
        triggered = set_stages(hooked, ids, "Review")
        with plain() as session:
            runs = session.scalar(select(func.count()).select_from(WorkflowRun)) or 0
            events = session.scalar(select(func.count()).select_from(Event)) or 0
        engine.dispose()

    print(f"records: {records} Individuals on SQLite (one transaction per change)")
    print(f"stage changes without the hook:      {records / without_hook:8.1f} commits/s")
    print(
        f"stage changes with the hook, no run: {records / with_hook:8.1f} commits/s "
        f"(hook overhead ×{with_hook / without_hook:.2f})"
    )
    print(
        f"stage → Review, workflow runs:       {records / triggered:8.1f} runs/s "
        f"({runs} runs, {events} events; ×{triggered / without_hook:.2f} a plain change)"
    )
    print(f"planning one step (pure):            {planning_rate(20_000):8.0f} plans/s")


if __name__ == "__main__":
    main()
