"""A staff member works with events and people in the browser, as they would by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from calsync.crm.models import Event, Individual
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.users import create_user
from tests.browser.conftest import RunningServer, StaffMember, screenshot, sign_in
from tests.browser.person_picker import add_attendee

# A week in March 2027 (London is on GMT, UTC+0, until the 28th).
WEEK_OF = "2027-03-15"


def _slot_point(page: Page, day: str, time: str) -> tuple[float, float]:
    column = page.locator(f'.fc-timegrid-col[data-date="{day}"]').bounding_box()
    slot = page.locator(f'.fc-timegrid-slot-lane[data-time="{time}"]').bounding_box()
    assert column is not None
    assert slot is not None
    return column["x"] + column["width"] / 2, slot["y"] + slot["height"] / 2


def test_selecting_a_slot_creates_an_event_with_an_individual_attendee(
    page: Page, staff: StaffMember, client_individual: Individual, calsync_server: RunningServer
) -> None:
    sign_in(page, staff)
    page.goto(f"/calendar?date={WEEK_OF}")
    expect(page.locator(".fc-timegrid-col[data-date='2027-03-17']")).to_be_visible()
    x, y_start = _slot_point(page, "2027-03-17", "10:00:00")
    _, y_end = _slot_point(page, "2027-03-17", "10:30:00")  # the slot ending at 11:00
    page.mouse.move(x, y_start)
    page.mouse.down()
    page.mouse.move(x, y_end, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r"/events/new\?"))
    expect(page.get_by_label("Start date")).to_have_value("2027-03-17")
    expect(page.get_by_label("Start time")).to_have_value("10:00")
    expect(page.get_by_label("End time")).to_have_value("11:00")
    page.get_by_label("Subject").fill("Annual review with Ada")
    add_attendee(page, f"lovelace {staff.id}", f"Ada Lovelace {staff.id}")
    expect(page.get_by_label(re.compile(r"^Ada Lovelace"))).to_be_checked()
    page.get_by_label("Teams Meeting").check()
    screenshot(page, "event-new")
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_text("Created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Annual review with Ada")).to_be_visible()
    expect(page.locator(".attendee-list")).to_contain_text(f"Ada Lovelace {staff.id}")
    expect(page.locator(".attendee-list")).to_contain_text("Individual")
    screenshot(page, "event-page")
    with calsync_server.session_factory() as session:
        event = session.scalars(
            select(Event).where(Event.subject == "Annual review with Ada")
        ).one()
        assert event.start_at == datetime(2027, 3, 17, 10, 0, tzinfo=UTC)
        assert [a.individual_id for a in event.attendees] == [client_individual.id]
        assert event.is_teams_meeting


def test_dragging_an_event_saves_the_new_time(
    page: Page, staff: StaffMember, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        event = create_event(
            session,
            EventInput(
                owner_id=staff.id,
                subject="Portfolio check-in",
                start=datetime(2027, 3, 16, 9, 0),
                end=datetime(2027, 3, 16, 10, 0),
            ),
        )
        session.commit()
        event_id = event.id
    page.set_viewport_size({"width": 1280, "height": 1500})  # the whole day fits: no scrolling
    sign_in(page, staff)
    page.goto(f"/calendar?date={WEEK_OF}")
    box = page.locator(".fc-event", has_text="Portfolio check-in").bounding_box()
    assert box is not None
    x, y = _slot_point(page, "2027-03-18", "14:00:00")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()
    expect(page.locator("#calendar-message")).to_contain_text(
        "Saved: Portfolio check-in now Thu 18 Mar 2027, 14:"
    )
    screenshot(page, "calendar-after-drag")
    with calsync_server.session_factory() as session:
        moved = session.get(Event, event_id)
        assert moved is not None
        assert moved.start_at.date().isoformat() == "2027-03-18"
        assert moved.end_at - moved.start_at == datetime(2027, 1, 1, 1) - datetime(2027, 1, 1)
    page.reload()
    expect(page.locator('.fc-timegrid-col[data-date="2027-03-18"] .fc-event')).to_contain_text(
        "Portfolio check-in"
    )


def test_bad_input_shows_the_error_next_to_the_field(page: Page, staff: StaffMember) -> None:
    sign_in(page, staff)
    page.goto("/events/new?start=2027-03-19T15:00:00&end=2027-03-19T16:00:00&all_day=0")
    page.get_by_label("Subject").fill("Backwards meeting")
    page.get_by_label("End time").fill("14:00")
    page.get_by_role("button", name="Create event").click()
    expect(page.locator("#error-end_date")).to_have_text("End date: end must be after start")
    expect(page.get_by_label("End date")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Subject")).to_have_value("Backwards meeting")
    screenshot(page, "event-error")
    page.get_by_label("All-day event").check()
    expect(page.get_by_label("Start time")).to_be_hidden()
    page.get_by_label("All-day event").uncheck()
    expect(page.get_by_label("Start time")).to_be_visible()


def test_a_copy_is_read_only_with_the_reason(
    page: Page, staff: StaffMember, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        owner = create_user(
            session,
            name=f"Alan Turing {staff.id}",
            email=f"alan.{staff.id}@northwind.example",
            time_zone="Europe/London",
        )
        original = create_event(
            session,
            EventInput(
                owner_id=owner.id,
                subject="Team planning",
                start=datetime(2027, 3, 15, 14, 0),
                end=datetime(2027, 3, 15, 15, 0),
                attendees=(AttendeeInput(user_id=staff.id),),
            ),
        )
        session.commit()
        copy_id = session.scalars(
            select(Event.id).where(Event.copy_of_event_id == original.id)
        ).one()
    sign_in(page, staff)
    page.goto(f"/calendar?date={WEEK_OF}")
    page.locator(".fc-event", has_text="Team planning").click()
    page.wait_for_url(f"**/events/{copy_id}")
    expect(page.locator("#read-only-reason")).to_contain_text(
        f"read-only copy of Alan Turing {staff.id}'s event"
    )
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    screenshot(page, "event-copy")


def test_editing_a_persons_alternate_email(
    page: Page, staff: StaffMember, client_individual: Individual, calsync_server: RunningServer
) -> None:
    sign_in(page, staff)
    page.get_by_role("link", name="People").click()
    page.get_by_label("Search by name, email, phone or organisation").fill(f"lovelace {staff.id}")
    page.get_by_role("button", name="Search").click()
    screenshot(page, "people-list")
    page.get_by_role("link", name=f"Ada Lovelace {staff.id}").click()
    page.get_by_label("Alternate email").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-alternate_email")).to_contain_text("Alternate email:")
    page.get_by_label("Alternate email").fill(f"ada.home.{staff.id}@example.org")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("Alternate email")).to_have_value(f"ada.home.{staff.id}@example.org")
    screenshot(page, "person-page")
    with calsync_server.session_factory() as session:
        stored = session.get(Individual, client_individual.id)
        assert stored is not None
        assert stored.alternate_email == f"ada.home.{staff.id}@example.org"


def test_the_week_shows_own_events_copies_all_day_events_and_every_occurrence(
    page: Page, staff: StaffMember, client_individual: Individual, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        colleague = create_user(
            session,
            name=f"Dorothy Vaughan {staff.id}",
            email=f"dorothy.{staff.id}@northwind.example",
            time_zone="Europe/London",
        )

        def add(owner_id: int, subject: str, start: object, end: object, **extra: object) -> None:
            create_event(
                session,
                EventInput(owner_id=owner_id, subject=subject, start=start, end=end, **extra),  # type: ignore[arg-type]
            )

        add(
            staff.id,
            "Annual review with Ada",
            datetime(2027, 3, 15, 10, 0),
            datetime(2027, 3, 15, 11, 0),
            attendees=(AttendeeInput(individual_id=client_individual.id),),
            location="Board room",
        )
        add(
            staff.id,
            "Morning stand-up",
            datetime(2027, 3, 15, 9, 0),
            datetime(2027, 3, 15, 9, 15),
            recurrence_rule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        )
        add(
            colleague.id,
            "Compliance training",
            datetime(2027, 3, 16, 14, 0),
            datetime(2027, 3, 16, 15, 30),
            attendees=(AttendeeInput(user_id=staff.id),),
        )
        add(staff.id, "Client conference", date(2027, 3, 18), date(2027, 3, 20), is_all_day=True)
        add(
            staff.id,
            "Pension transfer call",
            datetime(2027, 3, 19, 11, 0),
            datetime(2027, 3, 19, 12, 0),
            is_teams_meeting=True,
        )
        session.commit()
    sign_in(page, staff)
    page.goto(f"/calendar?date={WEEK_OF}")
    stand_ups = page.locator(".fc-timegrid-event", has_text="Morning stand-up")
    expect(stand_ups).to_have_count(5)
    expect(page.locator(".fc-event.is-copy", has_text="Compliance training")).to_be_visible()
    expect(page.locator(".fc-daygrid-event", has_text="Client conference")).to_be_visible()
    expect(page.locator(".fc-event", has_text="Annual review with Ada")).to_have_attribute(
        "href", re.compile(r"^/events/\d+$")
    )
    screenshot(page, "calendar-week-with-events")
    # Keyboard: the first Tab reaches the skip link, and an event opens with Enter.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.locator(".fc-event", has_text="Annual review with Ada").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Annual review with Ada")).to_be_visible()


def test_a_refused_drag_puts_the_event_back_and_says_why(
    page: Page, staff: StaffMember, calsync_server: RunningServer
) -> None:
    with calsync_server.session_factory() as session:
        event = create_event(
            session,
            EventInput(
                owner_id=staff.id,
                subject="Estate planning",
                start=datetime(2027, 3, 19, 9, 0),
                end=datetime(2027, 3, 19, 10, 0),
            ),
        )
        session.commit()
        event_id = event.id
    page.set_viewport_size({"width": 1280, "height": 1500})
    sign_in(page, staff)
    page.goto(f"/calendar?date={WEEK_OF}")
    source = page.locator(".fc-event", has_text="Estate planning")
    expect(source).to_be_visible()
    # Someone else saves the event after this page loaded it.
    with calsync_server.session_factory() as session:
        stale = session.get(Event, event_id)
        assert stale is not None
        stale.location = "Changed elsewhere"
        stale.version += 1
        session.commit()
    box = source.bounding_box()
    assert box is not None
    x, y = _slot_point(page, "2027-03-17", "15:00:00")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(x, y, steps=12)
    page.mouse.up()
    expect(page.locator("#calendar-message")).to_contain_text(
        "The event was changed by someone else since you opened it"
    )
    expect(page.locator('.fc-timegrid-col[data-date="2027-03-19"] .fc-event')).to_contain_text(
        "Estate planning"
    )
    screenshot(page, "calendar-refused-drag")
    with calsync_server.session_factory() as session:
        unchanged = session.get(Event, event_id)
        assert unchanged is not None
        assert unchanged.start_at == datetime(2027, 3, 19, 9, 0, tzinfo=UTC)
