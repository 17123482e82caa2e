"""`/sync`: enabling tests the connection against the emulator before saving it; every other sync
feature is refused until then; "sync now", mailbox status and the sync log for administrators."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from calsync.crm.models import Organization, Role
from calsync.crm.services.events import delete_event
from calsync.crm.services.users import create_user
from calsync.emulator.server import EmulatorServer
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.sync.storage.models import (
    Direction,
    LogKind,
    OutboxEntry,
    RunKind,
    RunStatus,
    SyncLinkRecord,
    SyncLogEntry,
    SyncRun,
)
from calsync.web import WebSettings, create_app
from tests.fixtures.emulator import ADELE, CLIENT_ID, CLIENT_SECRET, MEGAN, TENANT
from tests.web.conftest import Caller, assert_error, make_caller

CONNECTION = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


@pytest.fixture
def sync_app(database_url: str, emulator_server: EmulatorServer) -> Iterator[FastAPI]:
    """The app as `calsync serve` runs it: with the sync service, pointed at the emulator."""
    app = create_app(WebSettings(database_url=database_url))
    ca_path = emulator_server.ca_path
    assert isinstance(ca_path, Path)
    install_sync_runtime(
        app,
        endpoints=GraphEndpoints(emulator_server.base_url, emulator_server.graph_url, ca_path),
        box=SecretBox([Fernet.generate_key()]),
        tick_seconds=0.05,
    )
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(sync_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sync_app) as client:
        yield client


@pytest.fixture
def session(sync_app: FastAPI) -> Iterator[Session]:
    with sync_app.state.session_factory() as session:
        yield session


@pytest.fixture
def dana(client: TestClient, session: Session) -> Caller:
    """The firm's administrator."""
    return make_caller(
        client, session, "Dana Whitfield", "dana@harborview.example", Role.ADMIN, "UTC"
    )


@pytest.fixture
def adele(client: TestClient, session: Session) -> Caller:
    """A staff user whose mailbox is in the tenant and whose sync is on."""
    caller = make_caller(client, session, "Adele Vance", ADELE, Role.STAFF, "America/New_York")
    create_user(session, name="Megan Bowen", email=MEGAN, time_zone="UTC", sync_enabled=True)
    from calsync.crm.models import User

    user = session.get(User, caller.user_id)
    assert user is not None
    user.sync_enabled = True
    session.commit()
    return caller


def enable(dana: Caller, **changes: Any) -> Any:
    return dana.post("/sync/enable", json={**CONNECTION, **changes})


def test_enabling_tests_the_connection_then_saves_it_without_ever_showing_the_secret(
    dana: Caller, adele: Caller, session: Session
) -> None:
    response = enable(dana)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sync_enabled"] is True
    assert body["tested_mailbox"] == ADELE
    assert body["has_client_secret"] is True
    assert CLIENT_SECRET not in response.text
    assert CLIENT_SECRET not in dana.get("/settings").text
    assert CLIENT_SECRET not in dana.get("/sync/status").text
    stored = session.scalar(select(Organization.client_secret_encrypted))
    assert stored is not None
    assert CLIENT_SECRET.encode() not in stored


def test_a_wrong_secret_is_refused_naming_the_token_request_and_nothing_is_saved(
    dana: Caller, adele: Caller
) -> None:
    error = assert_error(
        enable(dana, client_secret="expired-secret"), 422, "connection_test_failed", "client_secret"
    )
    assert "token request" in error["message"]
    assert dana.get("/settings").json()["tenant_id"] is None
    assert_error(dana.get("/sync/status"), 409, "sync_not_enabled")


def test_an_unreachable_test_mailbox_is_refused_naming_the_test_call(
    dana: Caller, adele: Caller
) -> None:
    error = assert_error(
        enable(dana, test_mailbox="dana@harborview.example"),
        422,
        "connection_test_failed",
        "test_mailbox",
    )
    assert "test call" in error["message"]
    assert dana.get("/settings").json()["sync_enabled"] is False


def test_a_connection_without_a_secret_or_certificate_is_refused_by_field(
    dana: Caller, adele: Caller
) -> None:
    connection = {"tenant_id": TENANT, "client_id": CLIENT_ID}
    assert_error(
        dana.post("/sync/enable", json=connection), 422, "invalid_connection", "client_secret"
    )
    assert_error(
        dana.post("/sync/enable", json={**connection, "certificate_pem": "-----BEGIN"}),
        422,
        "invalid_connection",
        "private_key_pem",
    )


def test_every_sync_feature_is_refused_with_a_code_until_enabled(
    dana: Caller, adele: Caller
) -> None:
    for response in (
        dana.get("/sync/status"),
        dana.get("/sync/log"),
        dana.post("/sync/runs", json={}),
        dana.post("/sync/disable"),
    ):
        error = assert_error(response, 409, "sync_not_enabled")
        assert "enable" in error["message"]


def test_staff_may_not_enable_or_see_the_sync(adele: Caller) -> None:
    assert_error(adele.post("/sync/enable", json=CONNECTION), 403, "admin_only")
    assert_error(adele.get("/sync/status"), 403, "admin_only")


def test_sync_now_pulls_the_mailboxes_and_status_shows_each_run(
    dana: Caller, adele: Caller
) -> None:
    enable(dana)
    response = dana.post("/sync/runs", json={})
    assert response.status_code == 202, response.text
    assert sorted(response.json()["mailboxes"]) == [ADELE, MEGAN]
    deadline = time.monotonic() + 15
    while True:
        states = {state["mailbox"]: state for state in dana.get("/sync/status").json()["mailboxes"]}
        if states[ADELE]["status"] == "ok" and states[MEGAN]["status"] == "ok":
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.1)
    assert states["dana@harborview.example"]["status"] == "never_run"
    assert states["dana@harborview.example"]["synced"] is False
    assert dana.get("/sync/status").json()["service_running"] is True
    assert dana.get("/sync/status").json()["service_problem"] is None


def test_status_says_why_an_enabled_sync_cannot_run(
    dana: Caller, adele: Caller, session: Session
) -> None:
    enable(dana)
    # The secret was sealed with another key (a restored database, a lost key file).
    session.execute(
        update(Organization).values(
            client_secret_encrypted=SecretBox([Fernet.generate_key()]).seal(CLIENT_SECRET)
        )
    )
    session.commit()
    deadline = time.monotonic() + 10
    while (problem := dana.get("/sync/status").json()["service_problem"]) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "cannot be decrypted" in problem


def test_sync_now_for_one_user_checks_the_user(dana: Caller, adele: Caller) -> None:
    enable(dana)
    response = dana.post("/sync/runs", json={"user_id": adele.user_id})
    assert response.status_code == 202, response.text
    assert response.json()["mailboxes"] == [ADELE]
    assert_error(dana.post("/sync/runs", json={"user_id": dana.user_id}), 409, "user_not_synced")
    assert_error(dana.post("/sync/runs", json={"user_id": 999_999}), 404, "not_found", "user_id")


def test_the_sync_log_is_filtered_by_user_kind_and_time(
    dana: Caller, adele: Caller, session: Session
) -> None:
    enable(dana)
    session.add_all(
        [
            SyncLogEntry(
                mailbox=ADELE,
                kind=LogKind.CONFLICT,
                direction=Direction.NONE,
                code="changed_on_both_sides",
                severity="conflict",
                field="subject",
                message="Subject was changed in the CRM and in Outlook; Outlook's was kept.",
            ),
            SyncLogEntry(
                mailbox=MEGAN,
                kind=LogKind.ACTION,
                direction=Direction.MICROSOFT_365_TO_CRM,
                code="created_in_crm",
                message="Created 'Budget review' from Outlook.",
            ),
        ]
    )
    session.commit()
    lines = dana.get("/sync/log", params={"user_id": adele.user_id}).json()["items"]
    assert [line["code"] for line in lines] == ["changed_on_both_sides"]
    conflicts = dana.get("/sync/log", params={"kind": "conflict"}).json()["items"]
    assert [line["mailbox"] for line in conflicts] == [ADELE]
    future = dana.get("/sync/log", params={"since": "2999-01-01T00:00:00Z"}).json()["items"]
    assert future == []
    assert_error(
        dana.get("/sync/log", params={"since": "2026-11-26T09:00:00"}),
        422,
        "invalid_value",
        "since",
    )
    assert_error(dana.get("/sync/log", params={"kind": "gossip"}), 422, "invalid_value", "kind")


def test_disabling_keeps_the_connection_and_refuses_sync_features_again(
    dana: Caller, adele: Caller
) -> None:
    enable(dana)
    response = dana.post("/sync/disable")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sync_enabled": False,
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "has_client_secret": True,
        "has_certificate": False,
    }
    assert_error(dana.post("/sync/runs", json={}), 409, "sync_not_enabled")


def _wait_until(check: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.1)


def _outbox_is_empty(session: Session) -> bool:
    session.rollback()  # see the runtime's commits
    return session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


def _hold_six_crm_deletions(dana: Caller, adele: Caller, session: Session) -> list[int]:
    """Adele's eight meetings reach her mailbox; then six are deleted in the CRM at once."""
    enable(dana)
    event_ids = []
    for day in range(8):
        response = adele.post(
            "/events",
            json={
                "subject": f"Portfolio review {day}",
                "start": f"2026-12-{day + 1:02d}T10:00:00",
                "end": f"2026-12-{day + 1:02d}T11:00:00",
                "time_zone": "America/New_York",
            },
        )
        assert response.status_code == 201, response.text
        event_ids.append(response.json()["id"])
    _wait_until(lambda: _outbox_is_empty(session))
    # One transaction (a script, an import gone wrong): a person deleting one meeting at a time
    # is pushed one deletion at a time and never trips the guard.
    for event_id in event_ids[:6]:
        delete_event(session, event_id)
    session.commit()

    def held() -> bool:
        states = {s["mailbox"]: s for s in dana.get("/sync/status").json()["mailboxes"]}
        return bool(states[ADELE]["status"] == "needs_attention")

    _wait_until(held)
    return event_ids


def test_held_deletions_name_the_events_and_confirming_deletes_them_in_outlook(
    dana: Caller, adele: Caller, session: Session
) -> None:
    event_ids = _hold_six_crm_deletions(dana, adele, session)

    [held] = dana.get("/sync/held-deletions").json()
    assert held["mailbox"] == ADELE
    assert held["user_id"] == adele.user_id
    assert held["count"] == 6
    assert "6 of the 8" in held["message"]
    assert [event["crm_event_id"] for event in held["events"]] == event_ids[:6]
    assert [event["subject"] for event in held["events"]] == [
        f"Portfolio review {day}" for day in range(6)
    ]
    assert {event["would_be_deleted_from"] for event in held["events"]} == {"microsoft365"}
    assert dana.get(f"/sync/held-deletions/{adele.user_id}").json() == held

    response = dana.post(f"/sync/held-deletions/{adele.user_id}/confirm")

    assert response.status_code == 202, response.text
    assert response.json() == {"mailbox": ADELE, "decision": "confirmed", "run_started": True}
    _wait_until(lambda: _outbox_is_empty(session))  # the deletions reached Microsoft 365
    assert_error(dana.get(f"/sync/held-deletions/{adele.user_id}"), 409, "nothing_held")
    assert dana.get("/sync/held-deletions").json() == []


def test_discarding_held_deletions_unlinks_the_events_and_clears_the_hold(
    dana: Caller, adele: Caller, session: Session
) -> None:
    event_ids = _hold_six_crm_deletions(dana, adele, session)

    response = dana.post(f"/sync/held-deletions/{adele.user_id}/discard")

    assert response.status_code == 202, response.text
    assert response.json()["decision"] == "discarded"
    _wait_until(lambda: _outbox_is_empty(session))
    linked = session.scalars(
        select(SyncLinkRecord.crm_event_id).where(SyncLinkRecord.mailbox == ADELE)
    ).all()
    assert sorted(linked) == event_ids[6:]
    assert_error(dana.post(f"/sync/held-deletions/{adele.user_id}/discard"), 409, "nothing_held")


def test_held_deletions_refuse_unknown_users_staff_and_a_disabled_sync(
    dana: Caller, adele: Caller
) -> None:
    assert_error(dana.get("/sync/held-deletions"), 409, "sync_not_enabled")
    assert_error(
        dana.post(f"/sync/held-deletions/{adele.user_id}/confirm"), 409, "sync_not_enabled"
    )
    enable(dana)
    assert_error(dana.get("/sync/held-deletions/999999"), 404, "not_found", "user_id")
    assert_error(dana.post("/sync/held-deletions/999999/confirm"), 404, "not_found", "user_id")
    assert_error(
        dana.post(f"/sync/held-deletions/{adele.user_id}/confirm"),
        409,
        "nothing_held",
        "user_id",
    )
    assert_error(adele.get("/sync/held-deletions"), 403, "admin_only")
    assert_error(adele.post(f"/sync/held-deletions/{adele.user_id}/discard"), 403, "admin_only")
    assert dana.get("/sync/held-deletions").json() == []


def test_the_runs_are_listed_newest_first_and_filtered_by_user_time_kind_and_status(
    dana: Caller, adele: Caller, session: Session
) -> None:
    # Last year's runs are kept: once enabled, the service prunes what is older than this.
    assert dana.patch("/settings", json={"sync_log_retention_days": 3650}).status_code == 200
    enable(dana)
    early = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    event_id = adele.post(
        "/events",
        json={
            "subject": "Insurance review",
            "start": "2025-03-02T10:00:00",
            "end": "2025-03-02T11:00:00",
            "time_zone": "America/New_York",
        },
    ).json()["id"]
    runs = {
        "adele pull": SyncRun(kind=RunKind.PULL, mailbox=ADELE, started_at=early),
        "megan pull": SyncRun(
            kind=RunKind.PULL, mailbox=MEGAN, started_at=early + timedelta(hours=1)
        ),
        "push of adele's event": SyncRun(
            kind=RunKind.PUSH, mailbox=None, started_at=early + timedelta(hours=2)
        ),
        "failed adele pull": SyncRun(
            kind=RunKind.PULL,
            mailbox=ADELE,
            started_at=early + timedelta(hours=3),
            status=RunStatus.FAILED,
            message="Microsoft 365 is unavailable; it is retried automatically",
        ),
    }
    session.add_all(runs.values())
    session.flush()
    session.add(
        SyncLogEntry(
            run_id=runs["push of adele's event"].id,
            crm_event_id=event_id,
            kind=LogKind.ACTION,
            direction=Direction.CRM_TO_MICROSOFT_365,
            code="created_in_microsoft365",
            message="Created 'Insurance review' in Outlook.",
        )
    )
    session.commit()
    ids = {name: run.id for name, run in runs.items()}
    window = {"until": "2026-01-01T00:00:00Z"}

    def listed(**params: Any) -> list[int]:
        response = dana.get("/sync/runs", params={**window, **params})
        assert response.status_code == 200, response.text
        return [run["id"] for run in response.json()["items"]]

    assert listed() == [ids[name] for name in reversed(list(runs))]
    assert listed(user_id=adele.user_id) == [
        ids["failed adele pull"],
        ids["push of adele's event"],
        ids["adele pull"],
    ]
    assert listed(kind="push") == [ids["push of adele's event"]]
    assert listed(status="failed") == [ids["failed adele pull"]]
    assert listed(since="2025-03-01T10:30:00+01:00") == [
        ids["failed adele pull"],
        ids["push of adele's event"],
        ids["megan pull"],
    ]
    [failed] = dana.get("/sync/runs", params={**window, "status": "failed"}).json()["items"]
    assert failed["mailbox"] == ADELE
    assert failed["message"] == "Microsoft 365 is unavailable; it is retried automatically"
    assert failed["finished_at"] is None
    page = dana.get("/sync/runs", params={**window, "limit": 3}).json()
    assert len(page["items"]) == 3
    assert page["next"] is not None
    assert_error(dana.get("/sync/runs", params={"since": "2025-03-01"}), 422, "invalid_value")
    assert_error(dana.get("/sync/runs", params={"kind": "sideways"}), 422, "invalid_value", "kind")
    assert_error(dana.get("/sync/runs", params={"user_id": 999_999}), 404, "not_found", "user_id")
    assert_error(adele.get("/sync/runs"), 403, "admin_only")
