"""A staff member signs in and lands on their calendar."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import StaffMember, screenshot, sign_in


def test_a_wrong_password_shows_the_error_next_to_the_field(page: Page, staff: StaffMember) -> None:
    page.goto("/calendar")
    expect(page).to_have_url(re.compile(r"/signin\?next=/calendar$"))
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#error-password")).to_contain_text("The email or password is not right")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "signin-error")


def test_signing_in_opens_my_calendar_in_week_view(page: Page, staff: StaffMember) -> None:
    sign_in(page, staff)
    expect(page.get_by_role("heading", name="My calendar")).to_be_visible()
    expect(page.get_by_role("button", name="Week", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_text("Times are shown in Europe/London")).to_be_visible()
    screenshot(page, "calendar-week")
    page.get_by_role("button", name="Month", exact=True).click()
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_on_a_phone_the_calendar_opens_on_the_day_and_the_menu_wraps(
    page: Page, staff: StaffMember
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, staff)
    expect(page.get_by_role("button", name="Day", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("link", name="People")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide)"
    screenshot(page, "calendar-phone")
