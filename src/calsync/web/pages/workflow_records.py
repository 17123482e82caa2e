"""The records a workflow runs on, as the workflow pages name and link them.

Read-only look-ups: the choice list of the run form (by name), and each run's record, starter and
created events in words and links, so the runs list explains itself without ids to look up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Contact, Event, Individual, RecordType, User
from calsync.workflows.models import WorkflowRun

# More records than this and the run form asks for the record's number instead of listing them.
MAX_CHOICES = 500
PEOPLE_PATHS = {RecordType.INDIVIDUAL: "individuals", RecordType.CONTACT: "contacts"}
MODELS: dict[RecordType, type[Individual] | type[Contact]] = {
    RecordType.INDIVIDUAL: Individual,
    RecordType.CONTACT: Contact,
}


def _name(first: str | None, last: str) -> str:
    return f"{first} {last}".strip() if first else last


def record_choices(session: Session, record_type: RecordType) -> list[tuple[str, str]] | None:
    """(id, "name <email>") of every record of the type, by name; None when there are too many."""
    model = MODELS[record_type]
    rows = session.execute(
        select(model.id, model.first_name, model.last_name, model.email)
        .order_by(model.last_name, model.first_name, model.id)
        .limit(MAX_CHOICES + 1)
    ).all()
    if len(rows) > MAX_CHOICES:
        return None
    return [
        (
            str(row.id),
            _name(row.first_name, row.last_name) + (f" <{row.email}>" if row.email else ""),
        )
        for row in rows
    ]


def record_url(record_type: RecordType, record_id: int) -> str:
    """The person's page."""
    return f"/people/{PEOPLE_PATHS[record_type]}/{record_id}"


@dataclass(frozen=True)
class RunLine:
    """One run as the runs list shows it."""

    run: WorkflowRun
    record_name: str
    record_href: str
    started_by: str | None
    events: list[tuple[int, str]]


def describe_runs(session: Session, runs: Sequence[WorkflowRun]) -> list[RunLine]:
    """Names for every run's record, starter and events, in one query per table."""
    names: dict[tuple[RecordType, int], str] = {}
    for record_type, model in MODELS.items():
        ids = {run.record_id for run in runs if run.record_type == record_type}
        if ids:
            for row in session.execute(
                select(model.id, model.first_name, model.last_name).where(model.id.in_(ids))
            ):
                names[(record_type, row.id)] = _name(row.first_name, row.last_name)
    user_ids = {run.started_by_user_id for run in runs if run.started_by_user_id is not None}
    users = (
        {
            row.id: row.name
            for row in session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        }
        if user_ids
        else {}
    )
    event_ids = {event_id for run in runs for event_id in run.event_ids}
    subjects = (
        {
            row.id: row.subject
            for row in session.execute(
                select(Event.id, Event.subject).where(Event.id.in_(event_ids))
            )
        }
        if event_ids
        else {}
    )
    return [
        RunLine(
            run=run,
            record_name=names.get(
                (run.record_type, run.record_id),
                f"{run.record_type.value} {run.record_id} (deleted)",
            ),
            record_href=record_url(run.record_type, run.record_id),
            started_by=users.get(run.started_by_user_id) if run.started_by_user_id else None,
            events=[
                (event_id, subjects.get(event_id, f"Event {event_id} (deleted)"))
                for event_id in run.event_ids
            ],
        )
        for run in runs
    ]
