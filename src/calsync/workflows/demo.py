"""The two example workflows of the demo data.

- **Annual review**: when an Individual's Stage becomes "Review", book a 60-minute Teams meeting
  7 days later at 10:00 in the advisor's time zone (Monday if that is a weekend), owned by the
  advisor, with the client invited.
- **Welcome call**: when an Individual is created, book a 30-minute call with them the next
  working day at 09:30.

Both are ordinary definitions, saved through `store.define_workflow` with every check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from calsync.crm.models import FieldType, RecordType
from calsync.crm.services.custom_fields import define_custom_field, list_custom_fields
from calsync.workflows.models import WorkflowDefinition
from calsync.workflows.store import define_workflow, list_workflows

STAGE_FIELD = "stage"

ANNUAL_REVIEW: dict[str, Any] = {
    "name": "Annual review",
    "record_type": "individual",
    "trigger": {"kind": "on_field_change", "field": f"custom.{STAGE_FIELD}", "value": "Review"},
    "steps": [
        {
            "action": "create_event",
            "subject": "Annual review: {record.name}",
            "description": (
                "Annual review of {record.first_name}'s plan with {owner.name}.\n"
                "Booked by the workflow '{run.workflow}' on {run.date}."
            ),
            "owner": {"kind": "record_user", "field": "advisor"},
            "attendees": [{"kind": "record"}],
            "start": {"days_after": 7, "at": "10:00", "skip_weekends": True},
            "duration_minutes": 60,
            "show_as": "busy",
            "teams_meeting": True,
        }
    ],
}

WELCOME_CALL: dict[str, Any] = {
    "name": "Welcome call",
    "record_type": "individual",
    "trigger": {"kind": "on_create"},
    "steps": [
        {
            "action": "create_event",
            "subject": "Welcome call with {record.name}",
            "description": "First call with {record.first_name}; {owner.name} is their advisor.",
            "owner": {"kind": "record_user", "field": "advisor"},
            "attendees": [{"kind": "record"}],
            "start": {"days_after": 1, "at": "09:30", "skip_weekends": True},
            "duration_minutes": 30,
            "teams_meeting": True,
        }
    ],
}


def add_demo_workflows(session: Session) -> list[WorkflowDefinition]:
    """Add the example workflows (and the Individuals' Stage field they use) if missing.

    Safe to call again: workflows and fields that already exist are left as they are. Does not
    commit.
    """
    stage_exists = any(
        field.key == STAGE_FIELD for field in list_custom_fields(session, RecordType.INDIVIDUAL)
    )
    if not stage_exists:
        define_custom_field(session, RecordType.INDIVIDUAL, STAGE_FIELD, "Stage", FieldType.TEXT)
    existing = {workflow.name for workflow in list_workflows(session)}
    return [
        define_workflow(session, body)
        for body in (ANNUAL_REVIEW, WELCOME_CALL)
        if body["name"] not in existing
    ]
