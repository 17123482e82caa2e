"""A small firm for the workflow tests: an advisor in London, an assistant, a client Individual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from calsync.crm.models import FieldType, Individual, RecordType, User
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user

# Tuesday 20 October 2026, 14:00 UTC (15:00 in London, still on summer time).
RUN_AT = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)


@dataclass
class Firm:
    advisor: User
    assistant: User
    client: Individual


@pytest.fixture
def firm(db_session: Session) -> Firm:
    advisor = create_user(
        db_session, name="Grace Hopper", email="grace@firm.example", time_zone="Europe/London"
    )
    assistant = create_user(
        db_session, name="Alan Turing", email="alan@firm.example", time_zone="America/New_York"
    )
    define_custom_field(db_session, RecordType.INDIVIDUAL, "stage", "Stage", FieldType.TEXT)
    client = create_individual(
        db_session,
        IndividualInput(
            first_name="Ada", last_name="Lovelace", email="ada@example.com", advisor_id=advisor.id
        ),
    )
    set_custom_value(db_session, RecordType.INDIVIDUAL, client.id, "stage", "Prospect")
    db_session.commit()
    return Firm(advisor=advisor, assistant=assistant, client=client)


def annual_review(**changes: Any) -> dict[str, Any]:
    """The issue's example: 7 days after stage becomes Review, 10:00 owner time, 60 min, Teams."""
    step: dict[str, Any] = {
        "action": "create_event",
        "subject": "Annual review: {record.name}",
        "description": "Agenda prepared by {owner.name}.",
        "owner": {"kind": "record_user", "field": "advisor"},
        "attendees": [{"kind": "record"}],
        "start": {"days_after": 7, "at": "10:00", "skip_weekends": True},
        "duration_minutes": 60,
        "teams_meeting": True,
    }
    step.update(changes.pop("step", {}))
    definition: dict[str, Any] = {
        "name": "Annual review",
        "record_type": "individual",
        "trigger": {"kind": "on_field_change", "field": "custom.stage", "value": "Review"},
        "steps": [step],
    }
    definition.update(changes)
    return definition


def fixed_clock() -> datetime:
    return RUN_AT
