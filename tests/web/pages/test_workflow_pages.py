"""Admin → Workflows over HTTP: define a "Create an Event" workflow in the form, see refusals next
to the field they name (nothing saved), edit it into a new version, run it on a person and find the
run's result, error and created event in the runs list. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from calsync.crm.models import Event, Individual, User
from calsync.crm.services.custom_fields import define_custom_field
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.workflows import store
from calsync.workflows.models import RunStatus
from tests.web.pages.conftest import csrf_token


@pytest.fixture
def pages_database_url(database_url: str) -> str:
    """These pages write workflows, runs and events: run them on both databases."""
    return database_url


def workflow_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "name": "Welcome call",
        "record_type": "individual",
        "active": "on",
        "trigger_kind": "manual",
        "subject": "Welcome call: {record.name}",
        "description": "First call with {record.first_name}.",
        "owner_kind": "record_user",
        "owner_field": "advisor",
        "attendee_record": "on",
        "attendee_emails": "",
        "days_after": "3",
        "at": "10:30",
        "skip_weekends": "on",
        "duration_minutes": "45",
        "location": "Office",
        "show_as": "busy",
    }
    form.update(changes)
    return form


def post(client: TestClient, page: str, action: str, data: dict[str, str | list[str]]) -> object:
    token = csrf_token(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token})


@pytest.fixture
def person(db: Session, admin_user: User) -> Individual:
    individual = create_individual(
        db,
        IndividualInput(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@lovelace.example",
            advisor_id=admin_user.id,
        ),
    )
    db.commit()
    return individual


def test_staff_are_refused_the_workflow_pages(signed_in: TestClient) -> None:
    for page in ("/admin/workflows", "/admin/workflows/new", "/admin/workflows/runs"):
        assert signed_in.get(page).status_code == 403, page


def test_a_workflow_defined_in_the_form_is_stored_as_its_definition(
    signed_in_admin: TestClient, db: Session, admin_user: User
) -> None:
    response = post(
        signed_in_admin,
        "/admin/workflows/new",
        "/admin/workflows/new",
        workflow_form(attendee_user_ids=[str(admin_user.id)], attendee_emails="desk@firm.example"),
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    [definition] = store.list_workflows(db)
    step = store.get_version(db, definition).body["steps"][0]
    assert step["start"] == {"days_after": 3, "at": "10:30", "skip_weekends": True}
    assert step["owner"] == {"kind": "record_user", "field": "advisor"}
    assert step["attendees"] == [
        {"kind": "record"},
        {"kind": "user", "user_id": admin_user.id},
        {"kind": "email", "email": "desk@firm.example"},
    ]
    assert (step["duration_minutes"], step["location"], step["teams_meeting"]) == (
        45,
        "Office",
        False,
    )
    listing = unescape(signed_in_admin.get("/admin/workflows").text)
    assert "Welcome call" in listing
    assert "Run by hand only" in listing
    page = signed_in_admin.get(f"/admin/workflows/{definition.id}").text
    assert 'value="Welcome call: {record.name}"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"at": "25:00"}, "at", "Start time: must be a 24-hour time HH:MM"),
        ({"subject": "Hello {record.nickname}"}, "subject", "Subject: "),
        ({"subject": ""}, "subject", "Subject: "),
        ({"attendee_emails": "not-an-address"}, "attendee_emails", "Other attendees: "),
        ({"duration_minutes": "0"}, "duration_minutes", "Duration (minutes): "),
        ({"days_after": "soon"}, "days_after", "Days after the run: "),
        ({"owner_field": "nobody"}, "owner_field", "Owner field: "),
        ({"owner_kind": "user", "owner_user_id": ""}, "owner_user_id", "Owner user: "),
        (
            {
                "trigger_kind": "on_field_change",
                "trigger_field": "custom.stage",
                "trigger_value": "Review",
            },
            "trigger_field",
            "Field: ",
        ),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(
    signed_in_admin: TestClient,
    db: Session,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = post(
        signed_in_admin, "/admin/workflows/new", "/admin/workflows/new", workflow_form(**changes)
    )
    html = unescape(response.text)  # type: ignore[attr-defined]
    assert response.status_code == 422, html  # type: ignore[attr-defined]
    error = re.search(rf'<p class="field-error" id="error-{field}">([^<]*)</p>', html)
    assert error, html
    assert error.group(1).startswith(message)
    assert 'value="Welcome call"' in html  # what was typed stays
    assert store.list_workflows(db) == []


def test_an_edit_is_a_new_version_and_a_taken_name_is_refused(
    signed_in_admin: TestClient, db: Session
) -> None:
    post(signed_in_admin, "/admin/workflows/new", "/admin/workflows/new", workflow_form())
    post(
        signed_in_admin,
        "/admin/workflows/new",
        "/admin/workflows/new",
        workflow_form(name="Annual review"),
    )
    first = store.find_workflow(db, "Welcome call")
    page = f"/admin/workflows/{first.id}"
    saved = post(signed_in_admin, page, page, workflow_form(at="09:00", teams_meeting="on"))
    assert saved.status_code == 303  # type: ignore[attr-defined]
    db.expire_all()
    assert first.current_version == 2
    assert store.get_version(db, first).body["steps"][0]["start"]["at"] == "09:00"
    assert store.get_version(db, first, 1).body["steps"][0]["start"]["at"] == "10:30"
    taken = post(signed_in_admin, page, page, workflow_form(name="Annual review"))
    assert taken.status_code == 422  # type: ignore[attr-defined]
    assert 'id="error-name"' in taken.text  # type: ignore[attr-defined]
    db.expire_all()
    assert first.current_version == 2


def test_running_on_a_person_creates_the_event_and_the_runs_list_links_it(
    signed_in_admin: TestClient, db: Session, person: Individual
) -> None:
    post(signed_in_admin, "/admin/workflows/new", "/admin/workflows/new", workflow_form())
    workflow = store.find_workflow(db, "Welcome call")
    page = f"/admin/workflows/{workflow.id}"
    assert "Ada Lovelace &lt;ada@lovelace.example&gt;" in signed_in_admin.get(page).text
    ran = post(signed_in_admin, page, f"{page}/runs", {"record_id": str(person.id)})
    assert ran.status_code == 303  # type: ignore[attr-defined]
    runs_page = signed_in_admin.get(ran.headers["location"]).text  # type: ignore[attr-defined]
    [run] = store.list_runs(db, workflow_id=workflow.id)
    assert run.status == RunStatus.SUCCEEDED
    [event_id] = run.event_ids
    event = db.get(Event, event_id)
    assert event is not None
    assert event.subject == "Welcome call: Ada Lovelace"
    assert f'href="/events/{event_id}">Welcome call: Ada Lovelace</a>' in runs_page
    assert "Succeeded" in runs_page


def test_a_failed_run_shows_its_error_and_creates_nothing(
    signed_in_admin: TestClient, db: Session
) -> None:
    orphan = create_individual(db, IndividualInput(first_name="No", last_name="Advisor"))
    db.commit()
    post(signed_in_admin, "/admin/workflows/new", "/admin/workflows/new", workflow_form())
    workflow = store.find_workflow(db, "Welcome call")
    page = f"/admin/workflows/{workflow.id}"
    ran = post(signed_in_admin, page, f"{page}/runs", {"record_id": str(orphan.id)})
    runs_page = unescape(signed_in_admin.get(ran.headers["location"]).text)  # type: ignore[attr-defined]
    [run] = store.list_runs(db, workflow_id=workflow.id)
    assert run.status == RunStatus.FAILED
    assert "Failed" in runs_page
    assert run.error_message is not None
    assert run.error_message in runs_page
    assert db.query(Event).count() == 0


def test_running_without_choosing_a_record_is_refused_next_to_the_field(
    signed_in_admin: TestClient, db: Session
) -> None:
    post(signed_in_admin, "/admin/workflows/new", "/admin/workflows/new", workflow_form())
    workflow = store.find_workflow(db, "Welcome call")
    page = f"/admin/workflows/{workflow.id}"
    for record in ("", "999999"):
        refused = post(signed_in_admin, page, f"{page}/runs", {"record_id": record})
        assert refused.status_code == 422  # type: ignore[attr-defined]
        assert 'id="error-record_id"' in refused.text  # type: ignore[attr-defined]
    assert store.list_runs(db, workflow_id=workflow.id) == []


def test_a_field_change_trigger_on_a_custom_field_is_saved_and_described(
    signed_in_admin: TestClient, db: Session
) -> None:
    define_custom_field(db, "individual", "stage", "Stage", "Text")
    db.commit()
    response = post(
        signed_in_admin,
        "/admin/workflows/new",
        "/admin/workflows/new",
        workflow_form(
            trigger_kind="on_field_change", trigger_field="custom.stage", trigger_value="Review"
        ),
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    [definition] = store.list_workflows(db)
    assert (definition.trigger_field, definition.trigger_value) == ("custom.stage", "Review")
    assert "When custom.stage becomes “Review”" in signed_in_admin.get("/admin/workflows").text
