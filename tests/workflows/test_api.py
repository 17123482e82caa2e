"""The workflow API: define, list, run and inspect, as an administrator and as staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import FieldType, Individual, RecordType, Role
from calsync.crm.services.custom_fields import define_custom_field, set_custom_value
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.web import WebSettings, create_app
from calsync.web.api import API_PREFIX
from tests.web.conftest import Caller, assert_error, make_caller
from tests.workflows.conftest import annual_review

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def app(database_url: str) -> Iterator[FastAPI]:
    app = create_app(WebSettings(database_url=database_url))  # installs the workflow triggers
    yield app
    app.state.engine.dispose()


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    factory: sessionmaker[Session] = app.state.session_factory
    with factory() as opened:
        yield opened


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


@pytest.fixture
def admin(client: TestClient, session: Session) -> Caller:
    return make_caller(
        client, session, "Dana Whitfield", "dana@harborview.example", Role.ADMIN, "America/New_York"
    )


@pytest.fixture
def advisor(client: TestClient, session: Session) -> Caller:
    return make_caller(
        client, session, "Marcus Reyes", "marcus@harborview.example", Role.STAFF, "America/Chicago"
    )


@pytest.fixture
def client_record(session: Session, advisor: Caller) -> Individual:
    define_custom_field(session, RecordType.INDIVIDUAL, "stage", "Stage", FieldType.TEXT)
    person = create_individual(
        session,
        IndividualInput(
            first_name="Elena",
            last_name="Park",
            email="elena@example.com",
            advisor_id=advisor.user_id,
        ),
    )
    session.commit()
    return person


def test_an_admin_defines_a_workflow_and_staff_can_read_it(
    admin: Caller, advisor: Caller, client_record: Individual
) -> None:
    created = admin.post("/workflows", json=annual_review())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Annual review"
    assert body["trigger_kind"] == "on_field_change"
    assert (body["trigger_field"], body["trigger_value"]) == ("custom.stage", "Review")
    assert body["current_version"] == 1
    assert body["definition"]["steps"][0]["start"] == {
        "days_after": 7,
        "at": "10:00",
        "skip_weekends": True,
    }

    listed = advisor.get("/workflows")
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["Annual review"]
    assert advisor.get(f"/workflows/{body['id']}").json()["id"] == body["id"]


def test_staff_may_not_define_workflows(advisor: Caller, client_record: Individual) -> None:
    assert_error(advisor.post("/workflows", json=annual_review()), 403, "admin_only")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"step": {"subject": "Review {record.nick}"}}, "steps[0].subject", "{record.nick}"),
        ({"step": {"start": {"days_after": 7, "at": "7pm"}}}, "steps[0].start.at", "HH:MM"),
        ({"step": {"owner": {"kind": "user", "user_id": 999}}}, "steps[0].owner.user_id", "999"),
        (
            {"trigger": {"kind": "on_field_change", "field": "custom.tier", "value": "Gold"}},
            "trigger.field",
            "custom.tier",
        ),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field_and_nothing_is_saved(
    admin: Caller, client_record: Individual, change: dict[str, Any], field: str, words: str
) -> None:
    error = assert_error(
        admin.post("/workflows", json=annual_review(**change)),
        422,
        "invalid_workflow_definition",
        field,
    )
    assert words in error["message"]
    assert admin.get("/workflows").json()["items"] == []


def test_names_are_unique(admin: Caller, client_record: Individual) -> None:
    assert admin.post("/workflows", json=annual_review()).status_code == 201
    assert_error(admin.post("/workflows", json=annual_review()), 409, "workflow_name_taken", "name")


def test_an_edit_is_a_new_version_and_old_versions_stay_readable(
    admin: Caller, client_record: Individual
) -> None:
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]
    edited = admin.put(
        f"/workflows/{workflow_id}", json=annual_review(step={"duration_minutes": 90})
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["current_version"] == 2
    first = admin.get(f"/workflows/{workflow_id}/versions/1").json()
    assert first["definition"]["steps"][0]["duration_minutes"] == 60
    assert_error(admin.get(f"/workflows/{workflow_id}/versions/3"), 404, "workflow_not_found")


def test_changing_the_record_type_of_a_workflow_is_refused(
    admin: Caller, client_record: Individual
) -> None:
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]
    body = annual_review(record_type="contact", trigger={"kind": "on_create"})
    body["steps"][0]["owner"] = {"kind": "user", "user_id": admin.user_id}
    assert_error(
        admin.put(f"/workflows/{workflow_id}", json=body),
        422,
        "invalid_workflow_definition",
        "record_type",
    )


def test_a_manual_run_books_the_meeting_and_an_idempotency_key_prevents_a_second(
    admin: Caller, advisor: Caller, client_record: Individual
) -> None:
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]
    headers = {"Idempotency-Key": "review-elena-2026"}

    first = advisor.post(
        f"/workflows/{workflow_id}/runs", json={"record_id": client_record.id}, headers=headers
    )
    again = advisor.post(
        f"/workflows/{workflow_id}/runs", json={"record_id": client_record.id}, headers=headers
    )

    assert first.status_code == 201, first.text
    run = first.json()
    assert run["status"] == "succeeded"
    assert run["workflow_version"] == 1
    assert run["started_by_user_id"] == advisor.user_id
    assert len(run["event_ids"]) == 1
    assert again.json()["id"] == run["id"]
    assert advisor.get(f"/workflow-runs/{run['id']}").json() == run
    assert [
        item["id"] for item in advisor.get(f"/workflows/{workflow_id}/runs").json()["items"]
    ] == [run["id"]]


def test_a_failed_run_is_answered_with_its_error(
    admin: Caller, advisor: Caller, session: Session
) -> None:
    define_custom_field(session, RecordType.INDIVIDUAL, "stage", "Stage", FieldType.TEXT)
    orphan = create_individual(session, IndividualInput(first_name="Tom", last_name="Nobody"))
    session.commit()
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]

    response = advisor.post(f"/workflows/{workflow_id}/runs", json={"record_id": orphan.id})

    assert response.status_code == 201
    run = response.json()
    assert run["status"] == "failed"
    assert run["event_ids"] == []
    assert run["error"] == {
        "code": "missing_owner",
        "message": "Tom Nobody has no advisor to own the event",
        "field": "steps[0].owner.field",
    }


def test_running_on_a_missing_record_or_workflow_is_not_found(
    admin: Caller, client_record: Individual
) -> None:
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]
    assert_error(
        admin.post(f"/workflows/{workflow_id}/runs", json={"record_id": 4242}),
        404,
        "record_not_found",
        "record_id",
    )
    assert_error(
        admin.post("/workflows/4242/runs", json={"record_id": client_record.id}),
        404,
        "workflow_not_found",
    )


def test_changing_the_stage_through_the_crm_runs_the_workflow(
    admin: Caller, client_record: Individual, session: Session
) -> None:
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]
    set_custom_value(session, RecordType.INDIVIDUAL, client_record.id, "stage", "Review")
    session.commit()

    (run,) = admin.get(f"/workflows/{workflow_id}/runs").json()["items"]
    assert run["status"] == "succeeded"
    assert run["trigger_kind"] == "on_field_change"


def test_the_openapi_document_describes_the_definition_body(client: TestClient) -> None:
    document = client.get(f"{API_PREFIX}/openapi.json").json()
    assert "WorkflowDefinitionIn" in document["components"]["schemas"]
    body = document["paths"][f"{API_PREFIX}/workflows"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/WorkflowDefinitionIn"


def test_the_issue_scenario_through_the_api_alone(
    admin: Caller, advisor: Caller, client_record: Individual
) -> None:
    """Define "Annual review: 7 days after stage becomes Review, 10:00 owner time, 60 minutes,
    Teams", change the client's stage with the CRM API, and find the meeting on the advisor's
    calendar with the client invited."""
    workflow_id = admin.post("/workflows", json=annual_review()).json()["id"]

    asked_on = datetime.now(CHICAGO).date()
    changed = admin.patch(
        f"/individuals/{client_record.id}/custom-fields", json={"stage": "Review"}
    )
    assert changed.status_code == 200, changed.text

    (run,) = admin.get(f"/workflows/{workflow_id}/runs").json()["items"]
    assert run["status"] == "succeeded", run
    event = advisor.get(f"/events/{run['event_ids'][0]}").json()
    assert event["owner_id"] == advisor.user_id
    assert event["subject"] == "Annual review: Elena Park"
    assert event["is_teams_meeting"] is True
    assert event["time_zone"] == "America/Chicago"
    start = datetime.fromisoformat(event["start"]).astimezone(CHICAGO)
    assert start.time() == time(10, 0)
    assert start.weekday() < 5
    assert timedelta(days=7) <= start.date() - asked_on <= timedelta(days=9)
    assert event["end"] == (start + timedelta(minutes=60)).isoformat()
    assert event["sync_status"] == "pending"
    assert [a.get("individual_id") for a in event["attendees"]] == [client_record.id]

    # The same PATCH again is no change: no second meeting.
    admin.patch(f"/individuals/{client_record.id}/custom-fields", json={"stage": "Review"})
    assert len(admin.get(f"/workflows/{workflow_id}/runs").json()["items"]) == 1
