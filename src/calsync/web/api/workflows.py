"""`/workflows` and `/workflow-runs`: define, list, run and inspect "Create an Event" workflows.

Administrators define and edit workflows (each edit is a new version; runs keep theirs); any staff
user may list them, run one by hand on a record and read the runs. A manual run may carry an
`Idempotency-Key` header: the same key on the same workflow answers with the first successful run
instead of booking a second meeting.

A definition body is read with the workflow part's own parser, so a refusal names the field as a
path into the definition (`steps[0].start.at`), exactly as the CLI reports it. Workflow errors
become the API's error shape here, at the edge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from calsync.crm.models import RecordType
from calsync.web.api.schemas.base import RequestBody
from calsync.web.api.schemas.common import MAX_RECORD_ID, RecordId, ReferenceId
from calsync.web.api.schemas.errors import error_responses
from calsync.web.auth import AdminUser, CurrentUser
from calsync.web.database import DbSession
from calsync.web.errors import ApiError
from calsync.web.pagination import Page, PageRequest, build_page, page_request
from calsync.workflows import store
from calsync.workflows.definitions import WorkflowDefinitionIn
from calsync.workflows.errors import (
    InvalidDefinitionError,
    RecordNotFoundError,
    WorkflowError,
    WorkflowNameTakenError,
    WorkflowNotFoundError,
)
from calsync.workflows.models import RunStatus, TriggerKind, WorkflowDefinition, WorkflowRun
from calsync.workflows.runs import run_workflow

router = APIRouter(tags=["workflows"])

_STATUS_BY_ERROR: dict[type[WorkflowError], int] = {
    InvalidDefinitionError: 422,
    WorkflowNotFoundError: 404,
    RecordNotFoundError: 404,
    WorkflowNameTakenError: 409,
}

# The request body is read by `parse_definition` (for field paths into the definition); this
# tells OpenAPI what it is.
_DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/WorkflowDefinitionIn"}}
        },
    }
}


@contextmanager
def _as_api_errors() -> Iterator[None]:
    """Turn the workflow part's refusals into the API's error shape."""
    try:
        yield
    except WorkflowError as error:
        status = next(
            (code for cls, code in _STATUS_BY_ERROR.items() if isinstance(error, cls)), 400
        )
        raise ApiError(status, error.code, error.message, error.field) from error


class WorkflowOut(BaseModel):
    id: int
    name: str
    record_type: RecordType
    active: bool
    trigger_kind: TriggerKind
    trigger_field: str | None
    trigger_value: str | None
    current_version: int
    definition: WorkflowDefinitionIn = Field(description="The current version's definition.")
    created_at: datetime
    updated_at: datetime


class WorkflowVersionOut(BaseModel):
    workflow_id: int
    version: int
    definition: WorkflowDefinitionIn
    created_at: datetime
    created_by_user_id: int | None


class RunError(BaseModel):
    code: str
    message: str
    field: str | None = Field(description="Where in the definition the run stopped, or null.")


class WorkflowRunOut(BaseModel):
    id: int
    workflow_id: int
    workflow_version: int
    record_type: RecordType
    record_id: int
    trigger_kind: TriggerKind
    firing_key: str
    status: RunStatus
    run_at: datetime
    event_ids: list[int] = Field(description="The CRM events created, in step order.")
    error: RunError | None
    started_by_user_id: int | None
    created_at: datetime


class RunRequest(RequestBody):
    record_id: ReferenceId = Field(description="The Individual or Contact to run on.")


def _workflow_out(session: Session, definition: WorkflowDefinition) -> WorkflowOut:
    version = store.get_version(session, definition)
    return WorkflowOut(
        id=definition.id,
        name=definition.name,
        record_type=definition.record_type,
        active=definition.active,
        trigger_kind=definition.trigger_kind,
        trigger_field=definition.trigger_field,
        trigger_value=definition.trigger_value,
        current_version=definition.current_version,
        definition=WorkflowDefinitionIn.model_validate(version.body),
        created_at=definition.created_at,
        updated_at=definition.updated_at,
    )


def _run_out(run: WorkflowRun) -> WorkflowRunOut:
    error = None
    if run.status is RunStatus.FAILED:
        error = RunError(
            code=run.error_code or "workflow_run_failed",
            message=run.error_message or "",
            field=run.error_field,
        )
    return WorkflowRunOut(
        id=run.id,
        workflow_id=run.definition_id,
        workflow_version=run.version.version,
        record_type=run.record_type,
        record_id=run.record_id,
        trigger_kind=run.trigger_kind,
        firing_key=run.firing_key,
        status=run.status,
        run_at=run.run_at,
        event_ids=list(run.event_ids),
        error=error,
        started_by_user_id=run.started_by_user_id,
        created_at=run.created_at,
    )


@router.get("/workflows", response_model=Page[WorkflowOut])
def list_workflows(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[WorkflowOut]:
    """All workflows, by name, each with its current definition."""
    found = store.list_workflows(session)[page.offset : page.offset + page.fetch_count]
    return build_page(request, page, [_workflow_out(session, item) for item in found])


@router.post(
    "/workflows", status_code=201, openapi_extra=_DEFINITION_BODY, responses=error_responses(409)
)
def create_workflow(
    body: Annotated[dict[str, Any], Body()], session: DbSession, admin: AdminUser
) -> WorkflowOut:
    """Define a workflow (administrators only); it is checked against today's fields and users."""
    with _as_api_errors():
        definition = store.define_workflow(session, body, created_by=admin.id)
        return _workflow_out(session, definition)


@router.get("/workflows/{workflow_id}")
def get_workflow(workflow_id: RecordId, session: DbSession, user: CurrentUser) -> WorkflowOut:
    with _as_api_errors():
        return _workflow_out(session, store.get_workflow(session, workflow_id))


@router.put(
    "/workflows/{workflow_id}", openapi_extra=_DEFINITION_BODY, responses=error_responses(409)
)
def update_workflow(
    workflow_id: RecordId,
    body: Annotated[dict[str, Any], Body()],
    session: DbSession,
    admin: AdminUser,
) -> WorkflowOut:
    """Replace a workflow's definition with a new version (administrators only).

    Runs already made keep the version they used; the record type cannot change.
    """
    with _as_api_errors():
        definition = store.update_workflow(session, workflow_id, body, created_by=admin.id)
        return _workflow_out(session, definition)


@router.get("/workflows/{workflow_id}/versions/{version}")
def get_workflow_version(
    workflow_id: RecordId, version: RecordId, session: DbSession, user: CurrentUser
) -> WorkflowVersionOut:
    """One version of a workflow, as it was saved."""
    with _as_api_errors():
        definition = store.get_workflow(session, workflow_id)
        row = store.get_version(session, definition, version)
        return WorkflowVersionOut(
            workflow_id=definition.id,
            version=row.version,
            definition=WorkflowDefinitionIn.model_validate(row.body),
            created_at=row.created_at,
            created_by_user_id=row.created_by_user_id,
        )


@router.post("/workflows/{workflow_id}/runs", status_code=201)
def run_workflow_on_record(
    workflow_id: RecordId,
    body: RunRequest,
    session: DbSession,
    user: CurrentUser,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Send the same key again to get the first run back, not a second meeting.",
        ),
    ] = None,
) -> WorkflowRunOut:
    """Run a workflow by hand on one record.

    The run is recorded whatever happens: a run that could not fill a value answers 201 with
    `status: failed` and the error, and creates no event.
    """
    with _as_api_errors():
        definition = store.get_workflow(session, workflow_id)
        # The run commits on its own (its outcome is kept even when it fails).
        session.commit()
        run = run_workflow(
            session,
            definition,
            body.record_id,
            firing_key=f"manual-key:{idempotency_key}" if idempotency_key else None,
            started_by=user.id,
        )
        return _run_out(run)


@router.get("/workflows/{workflow_id}/runs", response_model=Page[WorkflowRunOut])
def list_workflow_runs(
    request: Request,
    workflow_id: RecordId,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
) -> Page[WorkflowRunOut]:
    """The runs of one workflow, newest first."""
    with _as_api_errors():
        store.get_workflow(session, workflow_id)
        runs = store.list_runs(
            session, workflow_id=workflow_id, offset=page.offset, limit=page.fetch_count
        )
        return build_page(request, page, [_run_out(run) for run in runs])


@router.get("/workflow-runs", response_model=Page[WorkflowRunOut])
def list_runs(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    page: Annotated[PageRequest, Depends(page_request)],
    record_type: Annotated[
        RecordType | None, Query(description="Only runs on this kind of record.")
    ] = None,
    record_id: Annotated[
        int | None, Query(ge=1, le=MAX_RECORD_ID, description="Only runs on this record.")
    ] = None,
) -> Page[WorkflowRunOut]:
    """Runs of every workflow, newest first; with `record_type` and `record_id`, one record's."""
    runs = store.list_runs(
        session,
        record_type=record_type,
        record_id=record_id,
        offset=page.offset,
        limit=page.fetch_count,
    )
    return build_page(request, page, [_run_out(run) for run in runs])


@router.get("/workflow-runs/{run_id}")
def get_workflow_run(run_id: RecordId, session: DbSession, user: CurrentUser) -> WorkflowRunOut:
    """One run: the version it used, the record, and the events it created or why it failed."""
    with _as_api_errors():
        return _run_out(store.get_run(session, run_id))
