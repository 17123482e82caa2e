"""`calsync workflows`: define workflows from JSON or YAML files, list them, run them, read runs.

    calsync workflows define review.yaml    # a new workflow, or the next version of that name
    calsync workflows list
    calsync workflows show "Annual review" [--version 1]
    calsync workflows run "Annual review" --record-id 7 [--key review-2026]
    calsync workflows runs ["Annual review"] [--record-id 7]

Every command works on the configured database (CALSYNC_DATABASE_URL or the SQLite file in
CALSYNC_DATA_DIR), migrating it first if needed. A refused definition is reported with the field
at fault (`steps[0].start.at: must be a 24-hour time HH:MM, such as 10:00`) and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy.orm import Session

# Imported for its effect: events created by runs here are announced to the sync's outbox in the
# run's transaction, so they reach Microsoft 365 like events saved anywhere else.
import calsync.sync.storage  # noqa: F401
from calsync.crm.database import create_database_engine, create_session_factory, database_url
from calsync.crm.migrate import upgrade_database
from calsync.workflows import store
from calsync.workflows.definitions import MAX_ID
from calsync.workflows.errors import WorkflowError
from calsync.workflows.models import RunStatus, WorkflowRun
from calsync.workflows.runs import run_workflow
from calsync.workflows.triggers import install_workflow_triggers

app = typer.Typer(
    help="Define, list, run and inspect 'Create an Event' workflows.", no_args_is_help=True
)


@contextmanager
def _session() -> Iterator[Session]:
    url = database_url()
    upgrade_database(url)
    engine = create_database_engine(url)
    factory = create_session_factory(engine)
    install_workflow_triggers(factory)
    try:
        with factory() as session:
            try:
                yield session
            except WorkflowError as error:
                session.rollback()
                raise _refuse(str(error)) from None
    finally:
        engine.dispose()


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=1)


def read_definition_file(path: Path) -> dict[str, Any]:
    """A definition from a `.json`, `.yaml` or `.yml` file, as plain data."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise _refuse(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise _refuse(f"{path} is not valid JSON or YAML: {error}") from None
    if not isinstance(data, dict):
        raise _refuse(f"{path} must hold one workflow definition (a mapping of fields)")
    return data


@app.command()
def define(
    path: Annotated[Path, typer.Argument(help="A JSON or YAML workflow definition.")],
) -> None:
    """Save a workflow; if one of the same name exists, the file becomes its next version."""
    body = read_definition_file(path)
    with _session() as session:
        name = str(body.get("name", "")).strip()
        existing = next((w for w in store.list_workflows(session) if w.name == name), None)
        if existing is None:
            definition = store.define_workflow(session, body)
        else:
            definition = store.update_workflow(session, existing.id, body)
        session.commit()
        typer.echo(
            f"Saved workflow {definition.name!r} (id {definition.id}), "
            f"version {definition.current_version}."
        )


@app.command("list")
def list_command() -> None:
    """List the workflows: id, name, record type, trigger, current version."""
    with _session() as session:
        workflows = store.list_workflows(session)
        if not workflows:
            typer.echo("No workflows yet; define one with `calsync workflows define FILE`.")
        for workflow in workflows:
            trigger = workflow.trigger_kind.value
            if workflow.trigger_field:
                trigger += f" {workflow.trigger_field} = {workflow.trigger_value!r}"
            state = "" if workflow.active else " (inactive)"
            typer.echo(
                f"{workflow.id:>4}  {workflow.name}  [{workflow.record_type.value}; {trigger}; "
                f"v{workflow.current_version}]{state}"
            )


@app.command()
def show(
    workflow: Annotated[str, typer.Argument(help="Workflow name or id.")],
    version: Annotated[int | None, typer.Option(help="A past version (default: current).")] = None,
) -> None:
    """Print a workflow's definition (as JSON) at its current or a given version."""
    with _session() as session:
        definition = store.find_workflow(session, workflow)
        row = store.get_version(session, definition, version)
        typer.echo(json.dumps(row.body, indent=2, ensure_ascii=False))


@app.command()
def run(
    workflow: Annotated[str, typer.Argument(help="Workflow name or id.")],
    record_id: Annotated[
        int, typer.Option(min=1, max=MAX_ID, help="The Individual or Contact to run on.")
    ],
    key: Annotated[
        str | None,
        typer.Option(help="Idempotency key: running again with the same key books nothing new."),
    ] = None,
) -> None:
    """Run a workflow by hand on one record; exit code 1 if the run failed."""
    with _session() as session:
        definition = store.find_workflow(session, workflow)
        session.commit()
        result = run_workflow(
            session,
            definition,
            record_id,
            firing_key=f"manual-key:{key}" if key else None,
        )
        typer.echo(describe_run(result))
        if result.status is RunStatus.FAILED:
            raise typer.Exit(code=1)


@app.command()
def runs(
    workflow: Annotated[
        str | None, typer.Argument(help="Workflow name or id (all if absent).")
    ] = None,
    record_id: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, help="Only runs on this record.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
) -> None:
    """Show recent runs, newest first, with the events created or the error."""
    with _session() as session:
        workflow_id = store.find_workflow(session, workflow).id if workflow else None
        found = store.list_runs(session, workflow_id=workflow_id, record_id=record_id, limit=limit)
        if not found:
            typer.echo("No runs.")
        for item in found:
            typer.echo(describe_run(item))


def describe_run(run: WorkflowRun) -> str:
    """One line a person can act on: what ran on what, and what came of it."""
    head = (
        f"run {run.id}: {run.definition.name!r} v{run.version.version} on "
        f"{run.record_type.value} {run.record_id} ({run.trigger_kind.value}, "
        f"{run.run_at:%Y-%m-%d %H:%M} UTC)"
    )
    if run.status is RunStatus.SUCCEEDED:
        events = ", ".join(str(event_id) for event_id in run.event_ids)
        return f"{head}: created event {events}"
    where = f" at {run.error_field}" if run.error_field else ""
    return f"{head}: FAILED{where}: {run.error_message} [{run.error_code}]"
