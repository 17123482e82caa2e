"""Admin → Microsoft 365 sync over HTTP: nothing before enablement, connecting the tenant against
the emulator (a wrong secret is refused inline and nothing is saved), Sync Settings, "Sync now" and
the sync log; staff are refused every sync page. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from calsync.crm.models import Organization, Role, User
from calsync.crm.services.events import EventInput, create_event, delete_event
from calsync.crm.services.users import create_user
from calsync.emulator.server import EmulatorServer
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.sync.storage.models import Direction, LogKind, OutboxEntry, SyncLogEntry
from calsync.web import WebSettings, create_app
from calsync.web.passwords import hash_password
from tests.fixtures.emulator import ADELE, CLIENT_ID, CLIENT_SECRET, MEGAN, TENANT
from tests.web.pages.conftest import STAFF_PASSWORD, csrf_token, sign_in

CONNECTION = {"tenant_id": TENANT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


@pytest.fixture
def sync_app(
    database_url: str, emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FastAPI]:
    """The app as `calsync serve` runs it: pages and the sync service, pointed at the emulator."""
    monkeypatch.delenv("CALSYNC_SECRET_KEY", raising=False)
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
    with TestClient(sync_app, follow_redirects=False) as test_client:
        host = sync_app.state.sync_runtime
        yield test_client
    # The app's shutdown ended its sync runtime, before the test's database is emptied for the
    # next test (a runtime left running pushed into later tests' data).
    assert not host.is_running


@pytest.fixture
def session(sync_app: FastAPI, client: TestClient) -> Iterator[Session]:
    with sync_app.state.session_factory() as db:
        yield db


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    """Dana administers the firm; Adele and Megan are staff whose mailboxes are in the tenant."""
    people = {
        "dana": create_user(
            session,
            name="Dana Whitfield",
            email="dana@harborview.example",
            time_zone="UTC",
            role=Role.ADMIN,
            password_hash=hash_password(STAFF_PASSWORD),
        ),
        "adele": create_user(
            session,
            name="Adele Vance",
            email=ADELE,
            time_zone="America/New_York",
            role=Role.STAFF,
            sync_enabled=True,
            password_hash=hash_password(STAFF_PASSWORD),
        ),
        "megan": create_user(
            session, name="Megan Bowen", email=MEGAN, time_zone="UTC", sync_enabled=True
        ),
    }
    session.commit()
    return people


@pytest.fixture
def admin(client: TestClient, users: dict[str, User]) -> TestClient:
    sign_in(client, users["dana"].email, STAFF_PASSWORD)
    return client


def submit(client: TestClient, page: str, action: str, data: dict[str, str | list[str]]) -> str:
    """Post a form with the CSRF token of `page`; returns the HTML of where it ends up."""
    token = csrf_token(client.get(page).text)
    response = client.post(action, data={**data, "csrf_token": token})
    if response.status_code == 303:
        return client.get(response.headers["location"]).text
    return response.text


def connect(client: TestClient, action: str = "enable", **changes: str) -> tuple[int, str]:
    token = csrf_token(client.get("/admin/sync").text)
    response = client.post(
        "/admin/sync/connection",
        data={**CONNECTION, **changes, "action": action, "csrf_token": token},
    )
    return response.status_code, response.text


def organization(session: Session) -> Organization:
    session.expire_all()
    found = session.scalar(select(Organization))
    assert found is not None
    return found


def test_before_enabling_staff_see_no_sync_ui_and_the_admin_only_the_enable_page(
    client: TestClient, users: dict[str, User]
) -> None:
    sign_in(client, ADELE, STAFF_PASSWORD)
    calendar = client.get("/calendar").text
    assert "Microsoft 365 sync" not in calendar
    assert "/admin/sync" not in calendar
    for page in ("/admin/sync", "/admin/sync/settings", "/admin/sync/log", "/admin/workflows"):
        assert client.get(page).status_code == 403, page

    client.cookies.clear()
    sign_in(client, users["dana"].email, STAFF_PASSWORD)
    enable_page = client.get("/admin/sync")
    assert enable_page.status_code == 200
    assert "not enabled" in enable_page.text
    assert 'name="client_secret"' in enable_page.text
    assert "Sync now" not in enable_page.text
    assert 'href="/admin/sync" aria-current="page">Microsoft 365 sync' in enable_page.text
    assert 'href="/admin/workflows">Workflows' in enable_page.text
    for page in ("/admin/sync/settings", "/admin/sync/log"):
        response = client.get(page)
        assert (response.status_code, response.headers["location"]) == (303, "/admin/sync"), page


def test_a_wrong_secret_is_shown_next_to_the_secret_and_nothing_is_saved(
    admin: TestClient, session: Session
) -> None:
    status, html = connect(admin, client_secret="expired-secret")
    assert status == 422
    assert 'id="error-client_secret"' in html
    assert "Client secret: the token request" in html
    assert "expired-secret" not in html
    assert organization(session).tenant_id is None
    assert organization(session).sync_enabled is False


def test_missing_parts_are_named_before_anything_is_sent(admin: TestClient) -> None:
    status, html = connect(admin, tenant_id="", client_secret="")
    assert status == 422
    assert "Tenant id is required" in html
    assert "Client secret is required" in html


def test_testing_the_connection_saves_nothing_and_never_shows_the_secret(
    admin: TestClient, session: Session
) -> None:
    status, html = connect(admin, action="test")
    assert status == 200
    assert f"the calendar of {ADELE} was read" in html
    assert CLIENT_SECRET not in html
    assert organization(session).sync_enabled is False


def test_enabling_shows_the_mailboxes_and_never_the_secret(
    admin: TestClient, session: Session
) -> None:
    status, html = connect(admin)
    assert status == 303
    overview = admin.get("/admin/sync").text
    assert "The Microsoft 365 sync is enabled." not in html
    assert TENANT in overview
    assert "Adele Vance" in overview
    assert "Sync now" in overview
    assert "Client secret (stored encrypted, never shown)" in overview
    assert CLIENT_SECRET not in overview
    assert CLIENT_SECRET not in admin.get("/admin/sync/settings").text
    assert organization(session).sync_enabled is True


def test_sync_settings_change_frequency_window_and_who_is_synced(
    admin: TestClient, session: Session, users: dict[str, User]
) -> None:
    connect(admin)
    html = submit(
        admin,
        "/admin/sync/settings",
        "/admin/sync/settings",
        {
            "run_frequency_minutes": "60",
            "window_past_days": "14",
            "window_future_days": "90",
            "sync_log_retention_days": "30",
            "synced_user": [str(users["adele"].id), str(users["dana"].id)],
        },
    )
    assert "Saved." in html
    assert 'name="sync_log_retention_days" type="number" value="30"' in html
    saved = organization(session)
    assert (saved.run_frequency_minutes, saved.window_past_days, saved.window_future_days) == (
        60,
        14,
        90,
    )
    assert saved.sync_log_retention_days == 30
    synced = {u.name for u in session.scalars(select(User).where(User.sync_enabled.is_(True)))}
    assert synced == {"Adele Vance", "Dana Whitfield"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("run_frequency_minutes", "7", "Run frequency: must be one of 5, 15"),
        ("window_past_days", "ten", "Days in the past must be a whole number"),
        ("window_future_days", "999999", "Days in the future: must be between 0 and 3650"),
        ("sync_log_retention_days", "0", "Keep the sync log (days): must be between 1 and 3650"),
        ("sync_log_retention_days", "", "Keep the sync log (days) must be a whole number"),
    ],
)
def test_bad_sync_settings_are_named_and_nothing_is_saved(
    admin: TestClient,
    session: Session,
    users: dict[str, User],
    field: str,
    value: str,
    message: str,
) -> None:
    connect(admin)
    before = organization(session).run_frequency_minutes
    token = csrf_token(admin.get("/admin/sync/settings").text)
    data = {
        "run_frequency_minutes": "60",
        "window_past_days": "30",
        "window_future_days": "90",
        "sync_log_retention_days": "90",
    }
    response = admin.post(
        "/admin/sync/settings",
        data={**data, field: value, "synced_user": [str(users["dana"].id)], "csrf_token": token},
    )
    assert response.status_code == 422
    assert f'id="error-{field}"' in response.text
    assert message in response.text
    assert organization(session).run_frequency_minutes == before
    assert organization(session).sync_log_retention_days == 90
    session.expire_all()
    assert session.get(User, users["megan"].id).sync_enabled is True  # type: ignore[union-attr]


def test_sync_now_runs_the_mailboxes_and_the_run_shows_in_the_log(
    admin: TestClient, session: Session, users: dict[str, User]
) -> None:
    connect(admin)
    tomorrow = datetime.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    create_event(
        session,
        EventInput(
            owner_id=users["adele"].id,
            subject="Quarterly review",
            start=tomorrow,
            end=tomorrow + timedelta(hours=1),
        ),
    )
    session.commit()
    html = submit(admin, "/admin/sync", "/admin/sync/runs", {})
    assert "Sync started" in html
    deadline = time.monotonic() + 15
    while "Quarterly review" not in (log := admin.get("/admin/sync/log").text):
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    adele_only = admin.get("/admin/sync/log", params={"user": users["adele"].id}).text
    assert "Quarterly review" in adele_only
    megan_only = admin.get("/admin/sync/log", params={"user": users["megan"].id}).text
    assert "Quarterly review" not in megan_only
    deadline = time.monotonic() + 15
    while "Never run" in admin.get("/admin/sync").text.split("Megan Bowen")[1].split("</tr>")[0]:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_sync_now_for_a_user_whose_sync_is_off_says_so(
    admin: TestClient, users: dict[str, User]
) -> None:
    connect(admin)
    token = csrf_token(admin.get("/admin/sync").text)
    response = admin.post(
        "/admin/sync/runs", data={"user_id": str(users["dana"].id), "csrf_token": token}
    )
    assert response.status_code == 409
    assert "Dana Whitfield's sync is switched off" in unescape(response.text)
    one = admin.post(
        "/admin/sync/runs", data={"user_id": str(users["adele"].id), "csrf_token": token}
    )
    assert one.status_code == 303


def test_the_log_filters_by_kind_and_days_and_names_an_unreadable_filter(
    admin: TestClient, session: Session
) -> None:
    connect(admin)
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
    conflicts = unescape(admin.get("/admin/sync/log", params={"kind": "conflict"}).text)
    assert "Outlook's was kept" in conflicts
    assert "Budget review" not in conflicts
    future = admin.get("/admin/sync/log", params={"since": "2999-01-01"}).text
    assert "No log lines match." in future
    today = datetime.now(UTC).date().isoformat()  # Dana works in UTC
    both = unescape(admin.get("/admin/sync/log", params={"since": today, "until": today}).text)
    assert "Outlook's was kept" in both
    assert "Budget review" in both
    bad = admin.get("/admin/sync/log", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert 'id="error-since"' in bad.text
    assert "From must be a date" in bad.text


def test_disabling_brings_back_the_enable_page(admin: TestClient, session: Session) -> None:
    connect(admin)
    html = submit(admin, "/admin/sync", "/admin/sync/disable", {})
    assert "The Microsoft 365 sync is disabled." in html
    assert "not enabled" in html
    assert organization(session).tenant_id == TENANT  # kept for the next enable


def test_a_certificate_without_its_private_key_or_with_a_broken_one_is_named(
    admin: TestClient, session: Session
) -> None:
    status, html = connect(
        admin, credential="certificate", client_secret="", certificate_thumbprint="AB" * 20
    )
    assert status == 422
    assert "Private key (PEM) is required" in html
    status, html = connect(
        admin,
        credential="certificate",
        client_secret="",
        certificate_thumbprint="AB" * 20,
        private_key_pem="not a key",
    )
    assert status == 422
    assert 'id="error-private_key_pem"' in html
    assert "Private key (PEM): must be a PEM private key" in html
    assert "not a key" not in html  # a private key is never rendered back either
    assert organization(session).tenant_id is None


def test_the_page_says_why_an_enabled_sync_cannot_run(admin: TestClient, session: Session) -> None:
    connect(admin)
    assert "Running in this server" in admin.get("/admin/sync").text
    # The secret was sealed with another key (a restored database, a lost key file).
    session.execute(
        update(Organization).values(
            client_secret_encrypted=SecretBox([Fernet.generate_key()]).seal(CLIENT_SECRET)
        )
    )
    session.commit()
    deadline = time.monotonic() + 10
    while 'id="service-problem"' not in (page := admin.get("/admin/sync").text):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "Cannot run:" in page
    assert "cannot be decrypted" in page


def _wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.1)


def _outbox_is_empty(session: Session) -> bool:
    session.rollback()  # see the sync service's commits
    return session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


def _hold_six_crm_deletions(admin: TestClient, session: Session, adele: User) -> None:
    """Adele's eight meetings reach her mailbox, then a script deletes six in one transaction."""
    connect(admin)
    start = datetime.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    event_ids = [
        create_event(
            session,
            EventInput(
                owner_id=adele.id,
                subject=f"Portfolio review {day}",
                start=start + timedelta(days=day),
                end=start + timedelta(days=day, hours=1),
            ),
        ).id
        for day in range(8)
    ]
    session.commit()
    _wait_for(lambda: _outbox_is_empty(session))
    for event_id in event_ids[:6]:
        delete_event(session, event_id)
    session.commit()
    _wait_for(lambda: "Confirm deletion" in admin.get("/admin/sync").text)


def test_a_held_mailbox_shows_the_events_and_confirming_deletes_them(
    admin: TestClient, session: Session, users: dict[str, User]
) -> None:
    _hold_six_crm_deletions(admin, session, users["adele"])

    page = unescape(admin.get("/admin/sync").text)
    assert "Needs attention" in page
    assert "Held for your decision (6 events)" in page
    assert [f"Portfolio review {day}" in page for day in range(8)] == [True] * 6 + [False] * 2
    assert "deleted in the CRM; confirming deletes it from Outlook" in page

    html = submit(
        admin,
        "/admin/sync",
        f"/admin/sync/held-deletions/{users['adele'].id}/confirm",
        {},
    )

    assert "Deletion confirmed" in html
    _wait_for(lambda: _outbox_is_empty(session))
    assert "Confirm deletion" not in admin.get("/admin/sync").text


def test_keeping_the_events_clears_the_hold_and_a_second_decision_is_refused(
    admin: TestClient, session: Session, users: dict[str, User]
) -> None:
    _hold_six_crm_deletions(admin, session, users["adele"])
    action = f"/admin/sync/held-deletions/{users['adele'].id}/discard"

    assert "Events kept" in submit(admin, "/admin/sync", action, {})

    token = csrf_token(admin.get("/admin/sync").text)
    again = admin.post(action, data={"csrf_token": token})
    assert again.status_code == 409
    assert "Nothing is held for Adele Vance's mailbox" in unescape(again.text)


def test_a_decision_without_the_forms_csrf_token_is_refused(
    admin: TestClient, session: Session, users: dict[str, User]
) -> None:
    _hold_six_crm_deletions(admin, session, users["adele"])

    response = admin.post(f"/admin/sync/held-deletions/{users['adele'].id}/confirm", data={})

    assert response.status_code == 403
    assert "Confirm deletion" in admin.get("/admin/sync").text  # still held
