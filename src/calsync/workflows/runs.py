"""Running a workflow on a record: all of its events, or none of them and a recorded error.

A run
1. answers a trigger firing at most once: if a succeeded run already answered `firing_key`, that run
   is returned and nothing new is created (a retried trigger books no second meeting);
2. checks the stored version against today's record type (a custom field deleted since the workflow
   was saved fails the run with the field named, `definition_out_of_date`);
3. plans every step's event from the record (`planning`) before writing anything;
4. creates the events through the CRM's event service, and records the run, in one transaction.

If anything in 2–4 is refused, the transaction is rolled back and a failed run is recorded with the
error's code, message and field, so the run history explains what to fix.

Unlike the CRM's services, `run_workflow` commits: a run's outcome must be kept even when it failed
(the failure is the record), and a failed step must take back the events of the steps before it.
Call it with a session that has no work of the caller's pending.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError
from calsync.crm.models import User
from calsync.crm.models.base import utc_now
from calsync.workflows.definitions import (
    FixedUser,
    RecordUser,
    Workflow,
    compile_definition,
    parse_definition,
)
from calsync.workflows.errors import InvalidDefinitionError, WorkflowError
from calsync.workflows.event_creation import create_planned_event
from calsync.workflows.models import RunStatus, TriggerKind, WorkflowDefinition, WorkflowRun
from calsync.workflows.planning import EventPlan, RecordView, plan_event
from calsync.workflows.record_views import record_view, user_views
from calsync.workflows.store import get_version, record_schema

Clock = Callable[[], datetime]
MAX_FIRING_KEY_LENGTH = 300  # the column's size


def run_workflow(
    session: Session,
    definition: WorkflowDefinition,
    record_id: int,
    *,
    trigger_kind: TriggerKind = TriggerKind.MANUAL,
    firing_key: str | None = None,
    started_by: int | None = None,
    clock: Clock = utc_now,
) -> WorkflowRun:
    """Run the current version of `definition` on one record; returns the (possibly earlier) run.

    Raises `RecordNotFoundError` when the record does not exist (no run is recorded then: there is
    nothing the run could be about). Every other refusal is recorded as a failed run and returned.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("run_workflow commits and may roll back; commit the caller's work first")
    key = bounded_firing_key(firing_key or f"manual:{uuid4().hex}")
    earlier = _succeeded_run(session, definition.id, key)
    if earlier is not None:
        return earlier
    version = get_version(session, definition)
    record = record_view(session, definition.record_type, record_id)
    run = WorkflowRun(
        definition_id=definition.id,
        definition_version_id=version.id,
        record_type=definition.record_type,
        record_id=record.id,
        trigger_kind=trigger_kind,
        firing_key=key,
        run_at=clock(),
        started_by_user_id=started_by,
        event_ids=[],
    )
    try:
        plans = _plan(session, _checked(session, version.body), record, run.run_at)
        run.event_ids = [create_planned_event(session, plan) for plan in plans]
        run.status = RunStatus.SUCCEEDED
        session.add(run)
        session.commit()
    except (WorkflowError, CrmError) as error:
        session.rollback()
        return _record_failure(session, run, error)
    except IntegrityError:
        session.rollback()
        # A concurrent run answered the same firing first; that one stands.
        earlier = _succeeded_run(session, definition.id, key)
        if earlier is None:
            raise
        return earlier
    return run


def bounded_firing_key(key: str) -> str:
    """`key` itself if it fits the column, else its readable start and a digest of the whole.

    Keys embed trigger values, which may be long; the digest keeps a long key as unique and as
    stable (the same firing gives the same key) as the key itself.
    """
    if len(key) <= MAX_FIRING_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: MAX_FIRING_KEY_LENGTH - len(digest) - 1]}#{digest}"


def _checked(session: Session, body: Mapping[str, Any]) -> Workflow:
    """The stored version, checked again against today's fields and users."""
    parsed = parse_definition(body)
    try:
        return compile_definition(
            parsed,
            record_schema(session, parsed.record_type),
            lambda user_id: session.get(User, user_id) is not None,
        )
    except InvalidDefinitionError as error:
        raise WorkflowError(
            f"the workflow no longer fits the CRM: {error.message}; edit the workflow",
            field=error.field,
            code="definition_out_of_date",
        ) from error


def _plan(
    session: Session, workflow: Workflow, record: RecordView, run_at: datetime
) -> list[EventPlan]:
    wanted: list[int | None] = list(record.user_ids.values())
    for step in workflow.steps:
        for ref in (step.owner, *step.attendees):
            if isinstance(ref, FixedUser):
                wanted.append(ref.user_id)
            elif isinstance(ref, RecordUser):
                wanted.append(record.user_ids.get(ref.field))
    users = user_views(session, wanted)
    return [
        plan_event(
            step,
            f"steps[{index}]",
            workflow_name=workflow.name,
            record=record,
            users=users,
            run_at=run_at,
        )
        for index, step in enumerate(workflow.steps)
    ]


def _record_failure(
    session: Session, run: WorkflowRun, error: WorkflowError | CrmError
) -> WorkflowRun:
    failed = WorkflowRun(
        definition_id=run.definition_id,
        definition_version_id=run.definition_version_id,
        record_type=run.record_type,
        record_id=run.record_id,
        trigger_kind=run.trigger_kind,
        firing_key=run.firing_key,
        run_at=run.run_at,
        started_by_user_id=run.started_by_user_id,
        status=RunStatus.FAILED,
        event_ids=[],
        error_code=error.code,
        error_message=error.message,
        error_field=error.field,
    )
    session.add(failed)
    session.commit()
    return failed


def _succeeded_run(session: Session, definition_id: int, firing_key: str) -> WorkflowRun | None:
    return session.scalar(
        select(WorkflowRun).where(
            WorkflowRun.definition_id == definition_id,
            WorkflowRun.firing_key == firing_key,
            WorkflowRun.status == RunStatus.SUCCEEDED,
        )
    )
