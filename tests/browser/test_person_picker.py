"""The event form's *Add a person* search in Chromium: typed, chosen with the keyboard, saved; and
the form without JavaScript, where a typed address adds the person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from calsync.crm.models import Event, Individual
from calsync.crm.services.people import IndividualInput, create_individual
from tests.browser.conftest import RunningServer, StaffMember, screenshot, sign_in
from tests.browser.person_picker import add_attendee


@pytest.fixture
def hoppers(calsync_server: RunningServer, staff: StaffMember) -> tuple[Individual, Individual]:
    """Two Individuals whose names both match "hopp"; the second is the one to pick."""
    with calsync_server.session_factory() as session:
        made = tuple(
            create_individual(
                session,
                IndividualInput(
                    first_name="Grace",
                    last_name=f"{surname} {staff.id}",
                    email=f"{surname.lower()}.{staff.id}@navy.example",
                ),
            )
            for surname in ("Hopper", "Hoppington")
        )
        session.commit()
        return made[0], made[1]


def _attendee_ids(server: RunningServer, subject: str) -> list[int | None]:
    with server.session_factory() as session:
        event = session.scalars(select(Event).where(Event.subject == subject)).one()
        return [attendee.individual_id for attendee in event.attendees]


def test_a_person_is_found_as_typed_and_picked_with_the_keyboard(
    page: Page,
    staff: StaffMember,
    hoppers: tuple[Individual, Individual],
    calsync_server: RunningServer,
) -> None:
    hopper, hoppington = hoppers
    sign_in(page, staff)
    page.goto("/events/new")
    page.get_by_label("Subject").fill("Fleet review")
    search = page.get_by_role("combobox", name="Add a person")
    search.press_sequentially(f"hopp {staff.id}", delay=30)
    results = page.get_by_role("listbox", name="Add a person")
    expect(results.get_by_role("option")).to_have_count(2)
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("status").filter(has_text="2 matches")).to_be_visible()

    search.press("ArrowDown")
    search.press("ArrowDown")
    chosen = results.get_by_role("option", selected=True)
    expect(chosen).to_contain_text(f"Grace Hoppington {staff.id}")
    expect(search).to_have_attribute("aria-activedescendant", re.compile(r"person_search-option-1"))
    screenshot(page, "person-picker-open")
    search.press("Enter")  # picks the match; does not submit the form

    expect(page).to_have_url(re.compile(r"/events/new$"))
    expect(search).to_have_value("")
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label(f"Grace Hoppington {staff.id}")).to_be_checked()
    expect(page.get_by_role("status").filter(has_text="added to the attendees")).to_be_visible()

    # Escape closes the list first, then clears what was typed.
    search.press_sequentially(f"hopper {staff.id}", delay=30)
    expect(results.get_by_role("option")).to_have_count(1)
    search.press("Escape")
    expect(results).to_be_hidden()
    expect(search).to_have_value(f"hopper {staff.id}")
    search.press("Escape")
    expect(search).to_have_value("")

    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_text("Created.")).to_be_visible()
    attendees = page.locator(".attendee-list")
    expect(attendees).to_contain_text(f"Grace Hoppington {staff.id}")
    expect(attendees).to_contain_text("Individual")
    expect(attendees).not_to_contain_text(f"Grace Hopper {staff.id}")
    screenshot(page, "person-picker-saved")
    assert _attendee_ids(calsync_server, "Fleet review") == [hoppington.id]
    assert hopper.id != hoppington.id


def test_several_people_are_added_one_after_the_other(
    page: Page,
    staff: StaffMember,
    hoppers: tuple[Individual, Individual],
    calsync_server: RunningServer,
) -> None:
    sign_in(page, staff)
    page.goto("/events/new")
    page.get_by_label("Subject").fill("Two Graces")
    add_attendee(page, f"hoppington.{staff.id}@navy", f"Grace Hoppington {staff.id}")
    add_attendee(page, f"hopp {staff.id}", f"Grace Hopper {staff.id}")
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_text("Created.")).to_be_visible()
    assert sorted(_attendee_ids(calsync_server, "Two Graces")) == sorted(p.id for p in hoppers)


def test_a_search_that_finds_nobody_says_so(
    page: Page, staff: StaffMember, calsync_server: RunningServer
) -> None:
    sign_in(page, staff)
    page.goto("/events/new")
    search = page.get_by_role("combobox", name="Add a person")
    search.press_sequentially(f"nobody called this {staff.id}", delay=10)
    expect(page.get_by_role("status").filter(has_text="No one in the CRM matches")).to_be_visible()
    expect(page.get_by_role("listbox", name="Add a person")).to_be_hidden()


@pytest.fixture
def page_without_javascript(browser: Browser, calsync_server: RunningServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=calsync_server.base_url, java_script_enabled=False, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_javascript_a_typed_address_adds_the_person(
    page_without_javascript: Page,
    staff: StaffMember,
    hoppers: tuple[Individual, Individual],
    calsync_server: RunningServer,
) -> None:
    page = page_without_javascript
    sign_in(page, staff)
    page.goto("/events/new")
    expect(page.get_by_role("combobox", name="Add a person")).to_be_hidden()
    page.get_by_label("Subject").fill("Review by address")
    page.get_by_label("Add by email address").fill(f"hopper.{staff.id}@navy.example")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator(".attendee-list")).to_contain_text(f"Grace Hopper {staff.id}")
    expect(page.locator(".attendee-list")).to_contain_text("Individual")
    assert _attendee_ids(calsync_server, "Review by address") == [hoppers[0].id]
