"""What Microsoft 365 sent back, as a person sees it: the Teams link, the Teams lock and a series'
recurrence. The sync service that records these arrives later; here they are recorded through the
CRM's sync-state service, the same one the sync engine calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from calsync.crm.models import Individual, Origin, Role
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.event_sync_state import (
    mark_synced,
    record_invitation_sent,
    set_m365_recurrence_summary,
)
from calsync.crm.services.events import create_event
from calsync.crm.services.users import create_user
from calsync.web.passwords import hash_password
from tests.browser.conftest import RunningServer, StaffMember, screenshot, sign_in

JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_calsync%40thread.v2/0"


def test_open_teams_meeting_opens_the_join_url_and_teams_cannot_be_unchecked(
    page: Page, staff: StaffMember, client_individual: Individual, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        event = create_event(
            session,
            EventInput(
                owner_id=staff.id,
                subject="Quarterly review (Teams)",
                start=datetime(2027, 3, 18, 15, 0),
                end=datetime(2027, 3, 18, 16, 0),
                location="Microsoft Teams Meeting",
                is_teams_meeting=True,
                attendees=(
                    AttendeeInput(individual_id=client_individual.id),
                    AttendeeInput(email="trustee@harbour-trust.example"),
                ),
            ),
        )
        record_invitation_sent(session, event.id, datetime(2027, 3, 1, 9, 0, tzinfo=UTC), JOIN_URL)
        session.commit()
        event_id = event.id
    # No network here: stand in for Teams' join page so the new tab has something to load.
    page.context.route(
        re.compile(r"^https://teams\.microsoft\.com/.*"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Teams</h1>"),
    )
    sign_in(page, staff)
    page.goto(f"/events/{event_id}")
    teams_box = page.get_by_label("Teams Meeting")
    expect(teams_box).to_be_checked()
    expect(teams_box).to_be_disabled()
    expect(page.locator("#hint-is_teams_meeting")).to_have_text(
        "The invitation with the Teams meeting has already been sent, so Teams Meeting can no "
        "longer be unchecked."
    )
    expect(page.locator(".attendee-list")).to_contain_text("Individual")
    expect(page.locator(".attendee-list")).to_contain_text("Unmatched email")
    screenshot(page, "event-teams")
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Open Teams Meeting").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == JOIN_URL


def test_a_microsoft_365_series_shows_its_recurrence_read_only(
    page: Page, staff: StaffMember, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        series = create_event(
            session,
            EventInput(
                owner_id=staff.id,
                subject="Investment committee",
                start=datetime(2027, 3, 15, 9, 0),
                end=datetime(2027, 3, 15, 10, 0),
            ),
            origin=Origin.MICROSOFT365,
        )
        set_m365_recurrence_summary(
            session, series.id, "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
        )
        occurrence = create_event(
            session,
            EventInput(
                owner_id=staff.id,
                subject="Investment committee",
                start=datetime(2027, 3, 17, 9, 0),
                end=datetime(2027, 3, 17, 10, 0),
            ),
            origin=Origin.MICROSOFT365,
            series_event_id=series.id,
            original_start=datetime(2027, 3, 17, 9, 0, tzinfo=UTC),
        )
        mark_synced(session, occurrence.id)
        session.commit()
    sign_in(page, staff)
    page.goto("/calendar?date=2027-03-15")
    page.locator('.fc-timegrid-col[data-date="2027-03-17"] .fc-event').click()
    expect(page.locator("#m365-recurrence")).to_have_text(
        "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
    )
    expect(page.locator("#recurrence-locked")).to_contain_text("change it in Outlook")
    expect(page.get_by_label("Repeats (CRM recurrence)")).to_have_count(0)
    screenshot(page, "event-series")


def test_an_admin_defines_custom_fields_and_sees_bad_input_named(
    page: Page, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        admin = create_user(
            session,
            name="Katherine Johnson",
            email="katherine.admin@northwind.example",
            time_zone="America/New_York",
            role=Role.ADMIN,
            password_hash=hash_password("admin browser password"),
        )
        session.commit()
        who = StaffMember(admin.id, admin.name, admin.email, "admin browser password")
    sign_in(page, who)
    page.get_by_role("link", name="Custom fields").click()
    page.get_by_label("Record type").select_option("individual")
    page.get_by_label("Key").fill("Trustee Email")
    page.locator("#field-label").fill("Trustee email")
    page.get_by_label("Type", exact=True).select_option("Email")
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("#error-key")).to_contain_text("Key must start with a lower-case letter")
    page.get_by_label("Key").fill("trustee_email")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text("Created.")).to_be_visible()
    expect(page.get_by_label("Label of trustee_email")).to_have_value("Trustee email")
    screenshot(page, "admin-custom-fields")
