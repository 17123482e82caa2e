"""Browser: an administrator enables the Microsoft 365 sync against the real emulator (a wrong
secret first: refused next to the field, nothing saved), changes the run frequency, syncs now and
finds the run in the sync log; then defines a workflow in the form, runs it on a person and opens
the event it created.

The server here is `calsync serve`'s app with the sync service, pointed at the emulator's TLS
server, over its own SQLite copy (the sync's state must not leak into the other browser tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from calsync.crm.models import Event, Organization, Role
from calsync.crm.services.events import EventInput, create_event
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.emulator.server import EmulatorServer
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.web import WebSettings, create_app
from calsync.web.passwords import hash_password
from tests.browser.conftest import (
    RunningServer,
    StaffMember,
    fresh_database,
    screenshot,
    serve_in_thread,
    sign_in,
)
from tests.fixtures.emulator import ADELE, CLIENT_ID, CLIENT_SECRET, TENANT

ADMIN_PASSWORD = "browser admin password"


@dataclass(frozen=True)
class SyncFirm:
    server: RunningServer
    admin: StaffMember
    person_id: int


@pytest.fixture(scope="module")
def sync_firm(
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _emulator_server_session: EmulatorServer,
) -> Iterator[SyncFirm]:
    """A firm whose server runs the sync service against the emulator: an administrator, Adele
    (synced, with a meeting tomorrow) and an Individual looked after by the administrator."""
    emulator = _emulator_server_session
    url = fresh_database(sqlite_template, tmp_path_factory)
    app = create_app(WebSettings(database_url=url))
    assert isinstance(emulator.ca_path, Path)
    install_sync_runtime(
        app,
        endpoints=GraphEndpoints(emulator.base_url, emulator.graph_url, emulator.ca_path),
        box=SecretBox([Fernet.generate_key()]),
        tick_seconds=0.1,
    )
    with serve_in_thread(app, url) as server, server.session_factory() as session:
        admin = create_user(
            session,
            name="Dana Whitfield",
            email="dana@harborview.example",
            time_zone="Europe/London",
            role=Role.ADMIN,
            password_hash=hash_password(ADMIN_PASSWORD),
        )
        adele = create_user(
            session, name="Adele Vance", email=ADELE, time_zone="UTC", sync_enabled=True
        )
        tomorrow = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        create_event(
            session,
            EventInput(
                owner_id=adele.id,
                subject="Quarterly review",
                start=tomorrow,
                end=tomorrow + timedelta(hours=1),
            ),
        )
        person = create_individual(
            session,
            IndividualInput(
                first_name="Ada",
                last_name="Byron",
                email="ada@byron.example",
                advisor_id=admin.id,
            ),
        )
        session.commit()
        yield SyncFirm(
            server=server,
            admin=StaffMember(admin.id, admin.name, admin.email, ADMIN_PASSWORD),
            person_id=person.id,
        )


@pytest.fixture
def admin_page(browser: Browser, sync_firm: SyncFirm) -> Iterator[Page]:
    context = browser.new_context(
        base_url=sync_firm.server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, sync_firm.admin)
    yield page
    context.close()


def _organization(firm: SyncFirm) -> Organization:
    with firm.server.session_factory() as session:
        found = session.scalar(select(Organization))
        assert found is not None
        return found


def test_admin_enables_the_sync_sets_the_frequency_and_sees_a_sync_now_run_in_the_log(
    admin_page: Page, sync_firm: SyncFirm, emulator_server: EmulatorServer
) -> None:
    page = admin_page
    page.get_by_role("link", name="Microsoft 365 sync").click()
    expect(page.get_by_role("heading", name="Microsoft 365 sync")).to_be_visible()
    expect(page.get_by_text("not enabled")).to_be_visible()
    page.get_by_label("Tenant id").fill(TENANT)
    page.get_by_label("Application (client) id").fill(CLIENT_ID)
    page.get_by_label("Client secret", exact=True).fill("an-expired-secret")
    page.get_by_role("button", name="Test and enable").click()
    error = page.locator("#error-client_secret")
    expect(error).to_contain_text("Client secret: the token request")
    expect(page.get_by_label("Client secret", exact=True)).to_have_value("")
    expect(page.get_by_label("Client secret", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "admin-sync-wrong-secret")
    assert _organization(sync_firm).sync_enabled is False

    page.get_by_label("Client secret", exact=True).fill(CLIENT_SECRET)
    page.get_by_role("button", name="Test and enable").click()
    expect(page.get_by_role("status")).to_have_text("The Microsoft 365 sync is enabled.")
    expect(page.get_by_role("row", name="Adele Vance")).to_contain_text("Never run")
    assert CLIENT_SECRET not in page.content()
    assert _organization(sync_firm).sync_enabled is True

    page.get_by_role("navigation", name="Microsoft 365 sync").get_by_role(
        "link", name="Sync Settings"
    ).click()
    page.get_by_label("Run frequency").select_option(label="Hourly")
    page.get_by_role("button", name="Save Sync Settings").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Run frequency")).to_have_value("60")
    screenshot(page, "admin-sync-settings")
    assert _organization(sync_firm).run_frequency_minutes == 60

    page.get_by_role("link", name="Mailboxes").click()
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Sync started")
    page.get_by_role("link", name="Sync log").click()
    for _ in range(50):
        if page.get_by_text("Quarterly review").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(page.get_by_role("row").filter(has_text="Quarterly review").first).to_contain_text(
        "CRM → Microsoft 365"
    )
    screenshot(page, "admin-sync-log")
    page.get_by_role("link", name="Mailboxes").click()
    expect(page.get_by_role("row", name="Adele Vance")).not_to_contain_text("Never run")
    screenshot(page, "admin-sync-mailboxes")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin/sync", "/admin/sync/settings", "/admin/sync/log"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"
    screenshot(page, "admin-sync-log-phone")


def test_admin_defines_a_workflow_runs_it_on_a_person_and_opens_the_event(
    admin_page: Page, sync_firm: SyncFirm
) -> None:
    page = admin_page
    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="New workflow").click()
    page.get_by_label("Name").fill("Onboarding call")
    page.get_by_label("Subject").fill("Onboarding: {record.name}")
    page.get_by_label("Start time").fill("25:00")  # a browser time input refuses it: stays empty
    page.get_by_label("Days after the run").fill("2")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_role("button", name="Create workflow").click()
    expect(page.locator("#error-at")).to_contain_text("Start time")
    screenshot(page, "admin-workflow-error")
    page.get_by_label("Start time").fill("11:15")
    page.get_by_label("Teams meeting").check()
    page.get_by_role("button", name="Create workflow").click()
    expect(page.get_by_role("status")).to_have_text("Created.")
    screenshot(page, "admin-workflow-form")

    page.get_by_label("Individual").select_option(label="Ada Byron <ada@byron.example>")
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("heading", name="Runs of Onboarding call")).to_be_visible()
    expect(page.get_by_text("Succeeded")).to_be_visible()
    screenshot(page, "admin-workflow-runs")
    page.get_by_role("link", name="Onboarding: Ada Byron").click()
    expect(page.get_by_label("Subject")).to_have_value("Onboarding: Ada Byron")
    screenshot(page, "admin-workflow-event")
    with sync_firm.server.session_factory() as session:
        event = session.scalar(select(Event).where(Event.subject == "Onboarding: Ada Byron"))
        assert event is not None
        assert event.is_teams_meeting is True
        assert event.owner_id == sync_firm.admin.id
