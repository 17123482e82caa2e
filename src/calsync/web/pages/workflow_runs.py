"""Admin → Workflows: running a workflow on a record by hand, and the list of runs.

A run goes through `calsync.workflows.runs.run_workflow`, exactly as the API's and the CLI's: all
of its events are created or none, and a failed run is kept with its error, which the runs list
shows next to the run. The created events are announced to the sync's outbox in the run's own
transaction, so they reach Microsoft 365 like any other event.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

# Imported for its effect: events created by runs are announced to the sync's outbox.
import calsync.sync.storage  # noqa: F401
from calsync.crm.models import User
from calsync.web.database import DbSession
from calsync.web.pages.forms import read_form, text
from calsync.web.pages.rendering import not_found, render
from calsync.web.pages.signed_in import CurrentAdmin
from calsync.web.pages.workflow_definition_form import form_from_definition
from calsync.web.pages.workflow_forms import render_workflow_page
from calsync.web.pages.workflow_records import describe_runs
from calsync.workflows import store
from calsync.workflows.definitions import MAX_ID
from calsync.workflows.errors import RecordNotFoundError, WorkflowNotFoundError
from calsync.workflows.models import WorkflowDefinition
from calsync.workflows.runs import run_workflow

router = APIRouter()

PAGE = "/admin/workflows"
RUNS_PAGE = PAGE + "/runs"


@router.post(PAGE + "/{workflow_id:int}/runs", response_class=HTMLResponse)
async def run_on_record(
    request: Request, workflow_id: int, admin: CurrentAdmin, db: DbSession
) -> Response:
    """Run the workflow's current version on the chosen record; then show the run."""
    form = await read_form(request)
    raw = text(form, "record_id")
    try:
        definition = store.get_workflow(db, workflow_id)
    except WorkflowNotFoundError:
        return not_found(request, admin, "There is no such workflow.", PAGE, "All workflows")
    if not raw.isdigit() or int(raw) > MAX_ID:
        message = "Record: choose the person to run the workflow on"
        return _refused(request, admin, db, definition, message)
    db.commit()  # the run commits and may roll back on its own: nothing of ours may be pending
    try:
        run = run_workflow(db, definition, int(raw), started_by=admin.id)
    except RecordNotFoundError as refused:
        return _refused(request, admin, db, definition, f"Record: {refused.message}")
    return RedirectResponse(f"{RUNS_PAGE}?workflow={workflow_id}#run-{run.id}", status_code=303)


def _refused(
    request: Request, admin: User, db: Session, definition: WorkflowDefinition, message: str
) -> Response:
    """The workflow's page again, with the problem next to the record field; nothing ran."""
    workflow = form_from_definition(store.get_version(db, definition).body)
    return render_workflow_page(
        request,
        admin,
        db,
        workflow,
        definition=definition,
        run_errors={"record_id": message},
        status_code=422,
    )


@router.get(RUNS_PAGE, response_class=HTMLResponse)
def runs_page(request: Request, admin: CurrentAdmin, db: DbSession, workflow: str = "") -> Response:
    """Runs, newest first, of every workflow or of one: result, error, record and events."""
    chosen = None
    if workflow.isdigit():
        try:
            chosen = store.get_workflow(db, int(workflow))
        except WorkflowNotFoundError:
            chosen = None
    runs = store.list_runs(db, workflow_id=chosen.id if chosen else None, limit=100)
    context = {
        "nav": "workflows",
        "workflow": chosen,
        "runs": describe_runs(db, runs),
        "workflow_names": {w.id: w.name for w in store.list_workflows(db)},
    }
    return render(request, "workflow_runs.html", context, user=admin)
