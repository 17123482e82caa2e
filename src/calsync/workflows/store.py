"""Saving and reading workflow definitions: each save is checked, and each edit is a new version.

Like the CRM's services these functions never commit: the caller owns the transaction. A refused
definition raises `InvalidDefinitionError` naming the field, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import CustomFieldDefinition, RecordType, User
from calsync.workflows.definitions import (
    ManualTrigger,
    OnFieldChangeTrigger,
    Workflow,
    WorkflowDefinitionIn,
    compile_definition,
    parse_definition,
)
from calsync.workflows.errors import (
    InvalidDefinitionError,
    WorkflowNameTakenError,
    WorkflowNotFoundError,
)
from calsync.workflows.models import (
    TriggerKind,
    WorkflowDefinition,
    WorkflowDefinitionVersion,
    WorkflowRun,
)
from calsync.workflows.record_schema import RecordSchema

DefinitionSource = WorkflowDefinitionIn | Mapping[str, Any]


def record_schema(session: Session, record_type: RecordType) -> RecordSchema:
    """The fields a workflow on `record_type` may use, with the custom fields defined today."""
    rows = session.execute(
        select(CustomFieldDefinition.key, CustomFieldDefinition.field_type).where(
            CustomFieldDefinition.record_type == record_type
        )
    )
    return RecordSchema(record_type, {row.key: row.field_type for row in rows})


def check_definition(session: Session, source: DefinitionSource) -> tuple[Workflow, dict[str, Any]]:
    """The checked workflow and the JSON to store for it; raises naming the field when refused."""
    body = source if isinstance(source, WorkflowDefinitionIn) else parse_definition(source)
    workflow = compile_definition(
        body,
        record_schema(session, body.record_type),
        lambda user_id: session.get(User, user_id) is not None,
    )
    return workflow, body.model_dump(mode="json")


def define_workflow(
    session: Session, source: DefinitionSource, *, created_by: int | None = None
) -> WorkflowDefinition:
    """Save a new workflow as its version 1."""
    workflow, body = check_definition(session, source)
    _check_name_free(session, workflow.name, None)
    definition = WorkflowDefinition(name=workflow.name, record_type=workflow.record_type)
    _mirror(definition, workflow, version=1)
    definition.versions.append(
        WorkflowDefinitionVersion(version=1, body=body, created_by_user_id=created_by)
    )
    session.add(definition)
    session.flush()
    return definition


def update_workflow(
    session: Session,
    workflow_id: int,
    source: DefinitionSource,
    *,
    created_by: int | None = None,
) -> WorkflowDefinition:
    """Save an edit as a new version; runs already made keep the version they used.

    The record type is fixed at creation: runs of every version must be about the same kind of
    record, so changing it means defining a new workflow.
    """
    definition = get_workflow(session, workflow_id)
    workflow, body = check_definition(session, source)
    if workflow.record_type != definition.record_type:
        raise InvalidDefinitionError(
            f"this workflow runs on {definition.record_type.value} records; define a new "
            "workflow for another record type",
            field="record_type",
        )
    _check_name_free(session, workflow.name, definition.id)
    version = definition.current_version + 1
    definition.name = workflow.name
    _mirror(definition, workflow, version=version)
    definition.versions.append(
        WorkflowDefinitionVersion(version=version, body=body, created_by_user_id=created_by)
    )
    session.flush()
    return definition


def get_workflow(session: Session, workflow_id: int) -> WorkflowDefinition:
    definition = session.get(WorkflowDefinition, workflow_id)
    if definition is None:
        raise WorkflowNotFoundError(f"no workflow with id {workflow_id}", field="workflow_id")
    return definition


def find_workflow(session: Session, id_or_name: str) -> WorkflowDefinition:
    """The workflow named `id_or_name`, or with that id (for the CLI, which accepts both)."""
    by_name = session.scalar(
        select(WorkflowDefinition).where(WorkflowDefinition.name == id_or_name.strip())
    )
    if by_name is not None:
        return by_name
    if id_or_name.strip().isdigit():
        return get_workflow(session, int(id_or_name))
    raise WorkflowNotFoundError(f"no workflow named {id_or_name!r}", field="workflow")


def list_workflows(session: Session) -> list[WorkflowDefinition]:
    return list(session.scalars(select(WorkflowDefinition).order_by(WorkflowDefinition.name)))


def get_version(
    session: Session, definition: WorkflowDefinition, version: int | None = None
) -> WorkflowDefinitionVersion:
    """One version of a workflow; the current one by default."""
    number = definition.current_version if version is None else version
    row = session.scalar(
        select(WorkflowDefinitionVersion).where(
            WorkflowDefinitionVersion.definition_id == definition.id,
            WorkflowDefinitionVersion.version == number,
        )
    )
    if row is None:
        raise WorkflowNotFoundError(
            f"workflow {definition.name!r} has no version {number}", field="version"
        )
    return row


def list_runs(
    session: Session,
    *,
    workflow_id: int | None = None,
    record_type: RecordType | None = None,
    record_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[WorkflowRun]:
    """Runs, newest first, optionally of one workflow and/or one record."""
    query = select(WorkflowRun).order_by(WorkflowRun.id.desc()).offset(offset).limit(limit)
    if workflow_id is not None:
        query = query.where(WorkflowRun.definition_id == workflow_id)
    if record_type is not None:
        query = query.where(WorkflowRun.record_type == record_type)
    if record_id is not None:
        query = query.where(WorkflowRun.record_id == record_id)
    return list(session.scalars(query))


def get_run(session: Session, run_id: int) -> WorkflowRun:
    run = session.get(WorkflowRun, run_id)
    if run is None:
        raise WorkflowNotFoundError(f"no workflow run with id {run_id}", field="run_id")
    return run


def _check_name_free(session: Session, name: str, workflow_id: int | None) -> None:
    existing = session.scalar(select(WorkflowDefinition.id).where(WorkflowDefinition.name == name))
    if existing is not None and existing != workflow_id:
        raise WorkflowNameTakenError(f"another workflow is already named {name!r}", field="name")


def _mirror(definition: WorkflowDefinition, workflow: Workflow, *, version: int) -> None:
    """Copy the version's trigger into the definition row, where trigger look-ups find it."""
    definition.current_version = version
    definition.active = workflow.active
    trigger = workflow.trigger
    definition.trigger_field = definition.trigger_value = None
    if isinstance(trigger, OnFieldChangeTrigger):
        definition.trigger_kind = TriggerKind.ON_FIELD_CHANGE
        definition.trigger_field, definition.trigger_value = trigger.field, trigger.value
    elif isinstance(trigger, ManualTrigger):
        definition.trigger_kind = TriggerKind.MANUAL
    else:
        definition.trigger_kind = TriggerKind.ON_CREATE
