"""Admin → Workflows: the list, and the form that defines or edits a "Create an Event" workflow.

Saving goes through the workflow store (`define_workflow`, `update_workflow`): it checks the whole
definition against the record type and the firm's users, and an edit becomes a new version (runs
keep the version they used). A refusal names a field; the form shows it next to that input with
everything typed kept, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from calsync.crm.models import RecordType, ShowAs, User
from calsync.crm.services.users import list_users
from calsync.web.database import DbSession
from calsync.web.pages.forms import field_message, read_form
from calsync.web.pages.rendering import not_found, render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.workflow_definition_form import (
    LABELS,
    WorkflowForm,
    definition_from_form,
    form_field_of,
    form_from_definition,
    read_workflow_form,
)
from calsync.web.pages.workflow_records import describe_runs, record_choices
from calsync.workflows import store
from calsync.workflows.errors import WorkflowError, WorkflowNotFoundError
from calsync.workflows.models import WorkflowDefinition

router = APIRouter()

PAGE = "/admin/workflows"
RECORD_TYPE_OPTIONS = [
    (RecordType.INDIVIDUAL.value, "Individual"),
    (RecordType.CONTACT.value, "Contact"),
]
TRIGGER_OPTIONS = [
    ("manual", "Run by hand only"),
    ("on_create", "When a record is created"),
    ("on_field_change", "When a field changes to a value"),
]
OWNER_OPTIONS = [("record_user", "The user a field of the record names"), ("user", "A fixed user")]
SHOW_AS_LABELS = {
    ShowAs.FREE: "Free",
    ShowAs.TENTATIVE: "Tentative",
    ShowAs.BUSY: "Busy",
    ShowAs.OOF: "Away",
    ShowAs.WORKING_ELSEWHERE: "Working elsewhere",
}


def trigger_summary(definition: WorkflowDefinition) -> str:
    """The trigger in words, for the list."""
    if definition.trigger_field:
        return f"When {definition.trigger_field} becomes “{definition.trigger_value}”"
    return dict(TRIGGER_OPTIONS)[definition.trigger_kind.value]


def render_workflow_page(
    request: Request,
    admin: User,
    session: Session,
    workflow: WorkflowForm,
    *,
    definition: WorkflowDefinition | None = None,
    errors: dict[str, str] | None = None,
    run_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "run_errors": run_errors or {},
        "nav": "workflows",
        "definition": definition,
        "form": workflow.values,
        "attendee_user_ids": set(workflow.attendee_user_ids),
        "later_steps": len(workflow.later_steps),
        "kept_attendees": len(workflow.kept_attendees),
        "errors": errors or {},
        "users": list_users(session),
        "record_type_options": RECORD_TYPE_OPTIONS,
        "trigger_options": TRIGGER_OPTIONS,
        "owner_options": OWNER_OPTIONS,
        "show_as_options": [(value.value, label) for value, label in SHOW_AS_LABELS.items()],
    }
    if definition is not None:
        runs = store.list_runs(session, workflow_id=definition.id, limit=20)
        context["records"] = record_choices(session, definition.record_type)
        context["runs"] = describe_runs(session, runs)
    return render(request, "workflow_form.html", context, user=admin, status_code=status_code)


def _errors(refused: WorkflowError, attendee_fields: tuple[str, ...]) -> dict[str, str]:
    name = form_field_of(refused.field, attendee_fields)
    if name == "_form":
        where = f"{refused.field}: " if refused.field else ""
        return {"_form": f"{where}{refused.message}"}
    return {name: field_message(LABELS[name], refused.message)}


@router.get(PAGE, response_class=HTMLResponse)
def workflows_page(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    workflows = store.list_workflows(db)
    context = {
        "nav": "workflows",
        "workflows": [(w, trigger_summary(w)) for w in workflows],
        "recent_runs": describe_runs(db, store.list_runs(db, limit=10)),
    }
    return render(request, "workflows.html", context, user=admin)


@router.get(PAGE + "/new", response_class=HTMLResponse)
def new_workflow_page(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    return render_workflow_page(request, admin, db, WorkflowForm())


@router.post(PAGE + "/new", response_class=HTMLResponse)
async def create_workflow(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    workflow = read_workflow_form(await read_form(request))
    built = definition_from_form(workflow)
    try:
        definition = store.define_workflow(db, built.body, created_by=admin.id)
    except WorkflowError as refused:
        db.rollback()
        errors = _errors(refused, built.attendee_fields)
        return render_workflow_page(request, admin, db, workflow, errors=errors, status_code=422)
    db.commit()
    return RedirectResponse(f"{PAGE}/{definition.id}?notice=created", status_code=303)


def _workflow_or_none(session: Session, workflow_id: int) -> WorkflowDefinition | None:
    try:
        return store.get_workflow(session, workflow_id)
    except WorkflowNotFoundError:
        return None


def _missing(request: Request, admin: User) -> Response:
    return not_found(request, admin, "There is no such workflow.", PAGE, "All workflows")


@router.get(PAGE + "/{workflow_id:int}", response_class=HTMLResponse)
def workflow_page(
    request: Request, workflow_id: int, admin: CurrentAdmin, db: DbSession
) -> Response:
    """The workflow's form (editing makes a new version), the run form and its latest runs."""
    definition = _workflow_or_none(db, workflow_id)
    if definition is None:
        return _missing(request, admin)
    workflow = form_from_definition(store.get_version(db, definition).body)
    return render_workflow_page(request, admin, db, workflow, definition=definition)


@router.post(PAGE + "/{workflow_id:int}", response_class=HTMLResponse)
async def save_workflow(
    request: Request, workflow_id: int, admin: CurrentAdmin, db: DbSession
) -> Response:
    form = await read_form(request)
    definition = _workflow_or_none(db, workflow_id)
    if definition is None:
        return _missing(request, admin)
    stored = form_from_definition(store.get_version(db, definition).body)
    workflow = read_workflow_form(form)
    workflow.later_steps = stored.later_steps
    workflow.kept_attendees = stored.kept_attendees
    built = definition_from_form(workflow)
    try:
        store.update_workflow(db, workflow_id, built.body, created_by=admin.id)
    except WorkflowError as refused:
        db.rollback()
        errors = _errors(refused, built.attendee_fields)
        definition = store.get_workflow(db, workflow_id)
        return render_workflow_page(
            request, admin, db, workflow, definition=definition, errors=errors, status_code=422
        )
    db.commit()
    return RedirectResponse(f"{PAGE}/{workflow_id}?notice=saved", status_code=303)
