"""Property: however a record's Stage moves, the Annual review is booked once per move into Review.

Each example replays a random sequence of Stage values, one committed transaction each, on a fresh
SQLite copy of the migrated database, with the trigger hook installed; occasionally the same
firing is delivered a second time (a retried trigger). The number of meetings must equal the
number of times the Stage became "Review" (in any case) from something else.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Event, FieldType, RecordType
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.workflows.models import WorkflowRun
from calsync.workflows.store import define_workflow
from calsync.workflows.triggers import (
    FieldChange,
    RecordChange,
    fire,
    install_workflow_triggers,
)
from tests.workflows.conftest import annual_review, fixed_clock

STAGES = st.sampled_from(["Prospect", "Review", "review", "Done", None])


def expected_meetings(stages: list[str | None]) -> int:
    count, previous = 0, "prospect"
    for stage in stages:
        current = stage.lower() if stage else None
        if current == "review" and previous != "review":
            count += 1
        previous = current
    return count


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stages=st.lists(STAGES, max_size=6), retry_at=st.integers(min_value=0, max_value=6))
def test_one_meeting_per_move_into_review(
    sqlite_template: Path, stages: list[str | None], retry_at: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "calsync.sqlite3"
        shutil.copyfile(sqlite_template, path)
        engine = create_database_engine(f"sqlite:///{path}")
        factory = create_session_factory(engine)
        install_workflow_triggers(factory, clock=fixed_clock)
        try:
            with factory() as session:
                advisor = create_user(
                    session, name="Grace Hopper", email="grace@firm.example", time_zone="UTC"
                )
                define_custom_field(
                    session, RecordType.INDIVIDUAL, "stage", "Stage", FieldType.TEXT
                )
                client = create_individual(
                    session,
                    IndividualInput(
                        last_name="Lovelace", email="ada@x.example", advisor_id=advisor.id
                    ),
                )
                set_custom_value(session, RecordType.INDIVIDUAL, client.id, "stage", "Prospect")
                define_workflow(session, annual_review())
                session.commit()
                client_id = client.id
            for index, stage in enumerate(stages):
                with factory() as session:
                    set_custom_value(session, RecordType.INDIVIDUAL, client_id, "stage", stage)
                    session.commit()
                if index == retry_at:
                    with factory() as session:
                        last = session.scalars(
                            select(WorkflowRun).order_by(WorkflowRun.id.desc())
                        ).first()
                        if last is not None:
                            # Deliver the last firing again, as a retrying trigger would.
                            _, _, rest = last.firing_key.partition(f"individual:{client_id}:")
                            field_value, _, stamp = rest.rpartition("@")
                            replay = RecordChange(RecordType.INDIVIDUAL, client_id)
                            replay.fields["custom.stage"] = FieldChange(None, "Review", stamp)
                            assert field_value == "custom.stage=Review"
                            fire(session, replay, clock=fixed_clock)
            with factory() as session:
                meetings = session.scalar(select(func.count()).select_from(Event)) or 0
        finally:
            engine.dispose()
    assert meetings == expected_meetings(stages)
