"""`calsync workflows`: define from JSON and YAML, list, show, run, runs — and the demo examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.sync.storage import OutboxEntry, OutboxKind
from calsync.workflows.demo import add_demo_workflows
from calsync.workflows.store import list_workflows
from tests.workflows.conftest import Firm, annual_review

REVIEW_YAML = """\
name: Annual review
record_type: individual
trigger: {kind: on_field_change, field: custom.stage, value: Review}
steps:
  - action: create_event
    subject: "Annual review: {record.name}"
    owner: {kind: record_user, field: advisor}
    attendees: [{kind: record}]
    start: {days_after: 7, at: "10:00", skip_weekends: true}
    duration_minutes: 60
    teams_meeting: true
"""


@pytest.fixture
def cli(database_url: str, firm: Firm, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CALSYNC_DATABASE_URL", database_url)
    return CliRunner()


def test_define_list_show_run_and_runs(cli: CliRunner, tmp_path: Path, firm: Firm) -> None:
    review = tmp_path / "review.yaml"
    review.write_text(REVIEW_YAML)

    defined = cli.invoke(app, ["workflows", "define", str(review)])
    assert defined.exit_code == 0, defined.output
    assert "Saved workflow 'Annual review' (id 1), version 1." in defined.output

    as_json = tmp_path / "review.json"
    as_json.write_text(json.dumps(annual_review(step={"duration_minutes": 45})))
    redefined = cli.invoke(app, ["workflows", "define", str(as_json)])
    assert "version 2" in redefined.output

    listed = cli.invoke(app, ["workflows", "list"])
    assert "Annual review  [individual; on_field_change custom.stage = 'Review'; v2]" in (
        listed.output
    )

    shown = cli.invoke(app, ["workflows", "show", "Annual review", "--version", "1"])
    assert json.loads(shown.output)["steps"][0]["duration_minutes"] == 60

    ran = cli.invoke(app, ["workflows", "run", "Annual review", "--record-id", str(firm.client.id)])
    assert ran.exit_code == 0, ran.output
    assert "'Annual review' v2 on individual" in ran.output
    assert "created event 1" in ran.output

    history = cli.invoke(app, ["workflows", "runs", "1"])
    assert history.output.count("run 1:") == 1


def test_a_refused_definition_names_the_field_and_exits_1(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(REVIEW_YAML.replace('at: "10:00"', 'at: "10am"'))
    result = cli.invoke(app, ["workflows", "define", str(bad)])
    assert result.exit_code == 1
    assert "steps[0].start.at: must be a 24-hour time HH:MM" in result.output
    assert "No workflows yet" in cli.invoke(app, ["workflows", "list"]).output


def test_a_file_that_is_not_a_definition_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "list.yaml"
    listing.write_text("- one\n- two\n")
    result = cli.invoke(app, ["workflows", "define", str(listing)])
    assert result.exit_code == 1
    assert "must hold one workflow definition" in result.output


def test_a_failed_run_exits_1_with_the_reason(
    cli: CliRunner, tmp_path: Path, firm: Firm, db_session: Session
) -> None:
    review = tmp_path / "review.yaml"
    review.write_text(REVIEW_YAML.replace("attendees: [{kind: record}]", "attendees: []"))
    cli.invoke(app, ["workflows", "define", str(review)])
    firm.client.advisor_id = None
    db_session.commit()

    result = cli.invoke(
        app, ["workflows", "run", "Annual review", "--record-id", str(firm.client.id)]
    )

    assert result.exit_code == 1
    assert "FAILED at steps[0].owner.field: Ada Lovelace has no advisor" in result.output
    assert "[missing_owner]" in result.output


def test_unknown_workflow_is_reported(cli: CliRunner) -> None:
    result = cli.invoke(app, ["workflows", "run", "Quarterly review", "--record-id", "1"])
    assert result.exit_code == 1
    assert "no workflow named 'Quarterly review'" in result.output


def test_the_demo_workflows_are_valid_and_added_once(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            added = add_demo_workflows(session)
            assert [workflow.name for workflow in added] == ["Annual review", "Welcome call"]
            assert add_demo_workflows(session) == []
            session.commit()
            assert [w.name for w in list_workflows(session)] == ["Annual review", "Welcome call"]
    finally:
        engine.dispose()


def test_a_run_from_the_command_line_is_announced_to_the_sync(
    cli: CliRunner, tmp_path: Path, firm: Firm, db_session: Session
) -> None:
    firm.advisor.sync_enabled = True
    db_session.commit()
    review = tmp_path / "review.yaml"
    review.write_text(REVIEW_YAML)
    cli.invoke(app, ["workflows", "define", str(review)])

    result = cli.invoke(app, ["workflows", "run", "1", "--record-id", str(firm.client.id)])

    assert result.exit_code == 0, result.output
    entries = db_session.scalars(select(OutboxEntry)).all()
    assert [(entry.kind, entry.owner_id) for entry in entries] == [
        (OutboxKind.CREATE, firm.advisor.id)
    ]
