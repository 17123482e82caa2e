"""Browser, end to end (issue 7): the real CalSync server with its sync service, the real Graph
emulator over TLS, and Chromium in between. What a person does in the web app must reach Outlook
(the emulator's mailbox), and what they do in Outlook must come back to the web app.

The firm here has its own SQLite copy and its own server (the sync's state must not leak into the
other browser tests). The signed-in person, Megan Bowen, is an administrator whose mailbox exists
in the emulator and whose sync is on; the sync is enabled through the same `save_connection` the
"Test and enable" form ends with. The emulator is read and written through its Graph API, as
Outlook would, with an app-only token.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Locator, Page, expect

from calsync.crm.models import Role
from calsync.crm.services.event_input import EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.emulator.config import GRAPH_SCOPE
from calsync.emulator.server import EmulatorServer
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
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
from tests.browser.person_picker import add_attendee
from tests.fixtures.emulator import CLIENT_ID, CLIENT_SECRET, MEGAN, TENANT

PASSWORD = "end to end browser password"
WAIT_SECONDS = 15.0
T = TypeVar("T")


def _next_week_day(weekday: int) -> date:
    """A day of next week (0 = Monday): inside the sync window, and one calendar week view."""
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return monday + timedelta(days=weekday)


TUESDAY = _next_week_day(1)
WEDNESDAY = _next_week_day(2)


class Outlook:
    """Megan's mailbox in the emulator, through its Graph API (what Outlook would show and do)."""

    def __init__(self, emulator: EmulatorServer) -> None:
        assert isinstance(emulator.ca_path, Path)
        trusted = ssl.create_default_context(cafile=str(emulator.ca_path))
        token = httpx.post(
            f"{emulator.base_url}/{TENANT}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": GRAPH_SCOPE,
                "grant_type": "client_credentials",
            },
            verify=trusted,
        ).json()["access_token"]
        self._client = httpx.Client(
            base_url=f"{emulator.graph_url}/users/{MEGAN}",
            headers={"Authorization": f"Bearer {token}"},
            verify=trusted,
        )

    def events(self) -> list[dict[str, Any]]:
        reply = self._client.get("/events", params={"$top": "200"})
        reply.raise_for_status()
        found: list[dict[str, Any]] = reply.json()["value"]
        return found

    def event_with_subject(self, subject: str) -> dict[str, Any] | None:
        return next((event for event in self.events() if event["subject"] == subject), None)

    def create_event(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._client.post("/events", json=body)
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created

    def close(self) -> None:
        self._client.close()


def eventually(read: Callable[[], T | None], what: str) -> T:
    """Read the emulator until `read` finds something (the sync pushes in the background)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = read()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"the emulator never showed {what} within {WAIT_SECONDS:.0f} s")
        time.sleep(0.1)


def reload_until_visible(page: Page, target: Locator) -> None:
    """Reload the page until `target` shows (a pull lands while the page is open)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            expect(target.first).to_be_visible(timeout=500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


@dataclass(frozen=True)
class SyncedFirm:
    server: RunningServer
    megan: StaffMember
    individual_id: int
    individual_name: str
    alternate_email: str
    outlook: Outlook


@pytest.fixture(scope="module")
def synced_firm(
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _emulator_server_session: EmulatorServer,
) -> Iterator[SyncedFirm]:
    """A firm with the sync enabled against the emulator (an empty store), Megan (administrator,
    synced) and an Individual, Ada Byron, with a work and an alternate address."""
    emulator = _emulator_server_session
    emulator.app.state.operations.reset()
    assert isinstance(emulator.ca_path, Path)
    url = fresh_database(sqlite_template, tmp_path_factory)
    app = create_app(WebSettings(database_url=url))
    box = SecretBox([Fernet.generate_key()])
    install_sync_runtime(
        app,
        endpoints=GraphEndpoints(emulator.base_url, emulator.graph_url, emulator.ca_path),
        box=box,
        tick_seconds=0.1,
    )
    outlook = Outlook(emulator)
    with serve_in_thread(app, url) as server, server.session_factory() as session:
        megan = create_user(
            session,
            name="Megan Bowen",
            email=MEGAN,
            time_zone="UTC",
            role=Role.ADMIN,
            password_hash=hash_password(PASSWORD),
            sync_enabled=True,
        )
        ada = create_individual(
            session,
            IndividualInput(
                first_name="Ada",
                last_name="Byron",
                email="ada@byron.example",
                alternate_email="ada.home@byron-family.example",
            ),
        )
        save_connection(session, TenantConnection(TENANT, CLIENT_ID, CLIENT_SECRET), box)
        session.commit()
        yield SyncedFirm(
            server=server,
            megan=StaffMember(megan.id, megan.name, MEGAN, PASSWORD),
            individual_id=ada.id,
            individual_name="Ada Byron",
            alternate_email="ada.home@byron-family.example",
            outlook=outlook,
        )
    outlook.close()


@pytest.fixture
def megan_page(browser: Browser, synced_firm: SyncedFirm) -> Iterator[Page]:
    context = browser.new_context(
        base_url=synced_firm.server.base_url,
        viewport={"width": 1280, "height": 1500},  # a whole day fits: drags need no scrolling
        timezone_id="America/Los_Angeles",
        locale="en-GB",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, synced_firm.megan)
    yield page
    context.close()


def _sync_now(page: Page) -> None:
    page.goto("/admin/sync")
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Sync started")


def _slot_point(page: Page, day: date, time_of_day: str) -> tuple[float, float]:
    column = page.locator(f'.fc-timegrid-col[data-date="{day.isoformat()}"]').bounding_box()
    slot = page.locator(f'.fc-timegrid-slot-lane[data-time="{time_of_day}"]').bounding_box()
    assert column is not None
    assert slot is not None
    return column["x"] + column["width"] / 2, slot["y"] + slot["height"] / 2


def test_a_teams_event_made_in_the_browser_reaches_outlook_and_cannot_lose_teams(
    megan_page: Page, synced_firm: SyncedFirm
) -> None:
    page = megan_page
    subject = "Annual review with Ada (Teams)"
    page.goto("/events/new")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Start date").fill(TUESDAY.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End date").fill(TUESDAY.isoformat())
    page.get_by_label("End time").fill("11:00")
    add_attendee(page, synced_firm.individual_name, synced_firm.individual_name)
    page.get_by_label("Teams Meeting").check()
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_text("Created.")).to_be_visible()
    event_url = page.url

    in_outlook = eventually(
        lambda: _with_join_url(synced_firm.outlook.event_with_subject(subject)),
        f"{subject!r} with a Teams join URL",
    )
    join_url: str = in_outlook["onlineMeeting"]["joinUrl"]
    assert in_outlook["isOnlineMeeting"] is True
    assert [a["emailAddress"]["address"] for a in in_outlook["attendees"]] == ["ada@byron.example"]

    # No network here: stand in for Teams' join page so the new tab has something to load.
    page.context.route(
        join_url,
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Teams</h1>"),
    )
    page.goto(event_url)
    reload_until_visible(page, page.get_by_role("link", name="Open Teams Meeting"))
    screenshot(page, "e2e-event-teams")
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Open Teams Meeting").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == join_url
    popup.close()

    # The box is locked once the invitation went out; a form that unticks it anyway (the box
    # enabled again and its hidden stand-in removed, as a stale or crafted page would) is refused.
    teams_box = page.get_by_label("Teams Meeting")
    expect(teams_box).to_be_disabled()
    page.evaluate(
        """() => {
            document.querySelectorAll('input[type=hidden][name=is_teams_meeting]')
                .forEach((input) => input.remove());
            const box = document.querySelector('input[type=checkbox][name=is_teams_meeting]');
            box.disabled = false;
            box.checked = false;
        }"""
    )
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-is_teams_meeting")).to_contain_text(
        "Teams Meeting can no longer be unchecked"
    )
    screenshot(page, "e2e-event-teams-refused")
    page.goto(event_url)
    expect(page.get_by_label("Teams Meeting")).to_be_checked()
    assert _with_join_url(synced_firm.outlook.event_with_subject(subject)) is not None


def _with_join_url(event: dict[str, Any] | None) -> dict[str, Any] | None:
    if event is None or not (event.get("onlineMeeting") or {}).get("joinUrl"):
        return None
    return event


def test_an_outlook_meeting_with_an_alternate_address_arrives_linked_to_the_individual(
    megan_page: Page, synced_firm: SyncedFirm
) -> None:
    page = megan_page
    subject = "Coffee with Ada (from Outlook)"
    synced_firm.outlook.create_event(
        {
            "subject": subject,
            "start": {"dateTime": f"{WEDNESDAY.isoformat()}T15:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{WEDNESDAY.isoformat()}T15:30:00", "timeZone": "UTC"},
            "attendees": [
                {
                    "emailAddress": {"address": synced_firm.alternate_email, "name": "Ada"},
                    "type": "required",
                }
            ],
        }
    )
    _sync_now(page)
    page.goto(f"/calendar?view=week&date={WEDNESDAY.isoformat()}")
    arrived = page.locator(
        f'.fc-timegrid-col[data-date="{WEDNESDAY.isoformat()}"] .fc-event', has_text=subject
    )
    reload_until_visible(page, arrived)
    screenshot(page, "e2e-calendar-from-outlook")
    arrived.first.click()
    expect(page.get_by_label("Subject")).to_have_value(subject)
    attendees = page.locator(".attendee-list")
    expect(attendees).to_contain_text(synced_firm.individual_name)
    expect(attendees).to_contain_text("Individual")
    expect(attendees).not_to_contain_text("Unmatched email")
    expect(
        attendees.locator(f'a[href$="/people/individuals/{synced_firm.individual_id}"]')
    ).to_have_text(synced_firm.alternate_email)
    screenshot(page, "e2e-event-from-outlook")


def test_an_outlook_series_shows_its_recurrence_read_only(
    megan_page: Page, synced_firm: SyncedFirm
) -> None:
    page = megan_page
    subject = "Investment committee (Outlook series)"
    last_day = TUESDAY + timedelta(weeks=3)
    synced_firm.outlook.create_event(
        {
            "subject": subject,
            "start": {"dateTime": f"{TUESDAY.isoformat()}T08:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{TUESDAY.isoformat()}T09:00:00", "timeZone": "UTC"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
                "range": {
                    "type": "endDate",
                    "startDate": TUESDAY.isoformat(),
                    "endDate": last_day.isoformat(),
                },
            },
        }
    )
    _sync_now(page)
    page.goto(f"/calendar?view=week&date={TUESDAY.isoformat()}")
    occurrence = page.locator(
        f'.fc-timegrid-col[data-date="{TUESDAY.isoformat()}"] .fc-event', has_text=subject
    )
    reload_until_visible(page, occurrence)
    expect(occurrence).to_have_count(1)  # one entry per occurrence, never the series twice
    occurrence.first.click()
    expect(page.locator("#m365-recurrence")).to_have_text(
        f"Every week on Tuesday, until {last_day.day} {last_day:%B %Y}"
    )
    expect(page.locator("#recurrence-locked")).to_contain_text("change it in Outlook")
    expect(page.get_by_label("Repeats (CRM recurrence)")).to_have_count(0)
    screenshot(page, "e2e-event-outlook-series")


def test_dragging_an_event_in_the_calendar_moves_the_outlook_copy(
    megan_page: Page, synced_firm: SyncedFirm
) -> None:
    page = megan_page
    subject = "Portfolio check-in (drag)"
    with synced_firm.server.session_factory() as session:
        create_event(
            session,
            EventInput(
                owner_id=synced_firm.megan.id,
                subject=subject,
                start=datetime.combine(TUESDAY, datetime.min.time()).replace(hour=13),
                end=datetime.combine(TUESDAY, datetime.min.time()).replace(hour=14),
            ),
        )
        session.commit()
    before = eventually(lambda: synced_firm.outlook.event_with_subject(subject), repr(subject))
    assert before["start"]["dateTime"].startswith(f"{TUESDAY.isoformat()}T13:00:00")

    page.goto(f"/calendar?view=week&date={TUESDAY.isoformat()}")
    source = page.locator(".fc-event", has_text=subject)
    expect(source).to_be_visible()
    box = source.bounding_box()
    assert box is not None
    x, y = _slot_point(page, WEDNESDAY, "16:00:00")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()
    expect(page.locator("#calendar-message")).to_contain_text(f"Saved: {subject} now")
    screenshot(page, "e2e-calendar-after-drag")

    moved = eventually(
        lambda: _moved_to(synced_firm.outlook.event_with_subject(subject), WEDNESDAY),
        f"{subject!r} moved to {WEDNESDAY}",
    )
    start = datetime.fromisoformat(moved["start"]["dateTime"][:19])
    end = datetime.fromisoformat(moved["end"]["dateTime"][:19])
    assert end - start == timedelta(hours=1)
    assert start.hour == 16, moved["start"]


def _moved_to(event: dict[str, Any] | None, day: date) -> dict[str, Any] | None:
    if event is None or not event["start"]["dateTime"].startswith(day.isoformat()):
        return None
    return event


def test_a_run_frequency_the_form_does_not_offer_is_refused_next_to_the_field(
    megan_page: Page, synced_firm: SyncedFirm
) -> None:
    page = megan_page
    page.goto("/admin/sync/settings")
    frequency = page.get_by_label("Run frequency")
    before = frequency.input_value()
    # The list offers only valid choices: add a bad one to the page's own form (its CSRF token
    # stays) and submit it with the form's button.
    frequency.evaluate(
        """(select) => {
            select.add(new Option('every 7 minutes', '7'));
            select.value = '7';
        }"""
    )
    page.get_by_role("button", name="Save Sync Settings").click()
    error = page.locator("#error-run_frequency_minutes")
    expect(error).to_have_text(
        "Run frequency: must be one of 5, 15, 30, 60, 120, 240, 360, 720, 1440 (minutes)"
    )
    expect(page.get_by_label("Run frequency")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "e2e-sync-settings-bad-frequency")
    page.goto("/admin/sync/settings")
    expect(page.get_by_label("Run frequency")).to_have_value(before)
