"""The event record page: creating and changing events through the CRM's event service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Event, Individual, Origin, User
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.event_sync_state import (
    mark_sync_error,
    mark_synced,
    record_invitation_sent,
    set_m365_recurrence_summary,
)
from calsync.crm.services.events import create_event
from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.sync.storage.models import (
    Direction,
    LinkOrigin,
    LogKind,
    SyncLinkRecord,
    SyncLogEntry,
)
from tests.web.pages.conftest import csrf_token, post_form

JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"


@pytest.fixture
def ada(db: Session) -> Individual:
    person = create_individual(
        db, IndividualInput(first_name="Ada", last_name="Lovelace", email="ada@lovelace.example")
    )
    db.commit()
    return person


def _form(**changes: str) -> dict[str, str]:
    form = {
        "subject": "Annual review",
        "start_date": "2027-03-15",
        "start_time": "10:00",
        "end_date": "2027-03-15",
        "end_time": "11:00",
        "time_zone": "America/New_York",
        "location": "Office",
        "show_as": "busy",
        "description": "",
        "recurrence_rule": "",
    }
    form.update(changes)
    return form


def _events(db: Session) -> list[Event]:
    db.expire_all()
    return list(db.scalars(select(Event).where(Event.copy_of_event_id.is_(None))))


def test_an_event_created_on_the_page_keeps_its_zone_and_links_the_individual(
    signed_in: TestClient, staff_user: User, ada: Individual, db: Session
) -> None:
    response = post_form(
        signed_in,
        "/events/new",
        "/events/new",
        {**_form(), "attendee": f"individual:{ada.id}", "is_teams_meeting": "on"},
    )
    assert response.status_code == 303
    (event,) = _events(db)
    assert response.headers["location"] == f"/events/{event.id}?notice=created"
    assert event.owner_id == staff_user.id
    assert event.time_zone == "America/New_York"
    assert event.start_at == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
    assert event.is_teams_meeting
    (attendee,) = event.attendees
    assert (attendee.individual_id, attendee.email) == (ada.id, "ada@lovelace.example")
    page = signed_in.get(response.headers["location"])
    assert "Ada Lovelace" in page.text
    assert "Individual" in page.text


def test_an_end_before_the_start_is_shown_at_the_end_date_and_nothing_is_created(
    signed_in: TestClient, db: Session
) -> None:
    response = post_form(
        signed_in, "/events/new", "/events/new", _form(end_time="09:00", subject="Backwards")
    )
    assert response.status_code == 422
    assert 'id="error-end_date"' in response.text
    assert "End date: end must be after start" in response.text
    assert 'value="Backwards"' in response.text
    assert _events(db) == []


def test_an_unreadable_time_names_its_field(signed_in: TestClient, db: Session) -> None:
    response = post_form(signed_in, "/events/new", "/events/new", _form(start_time="ten"))
    assert response.status_code == 422
    assert "Start time must be a time like 09:30" in response.text
    assert _events(db) == []


def test_a_bare_email_that_matches_nobody_stays_an_unmatched_attendee(
    signed_in: TestClient, db: Session
) -> None:
    response = post_form(
        signed_in, "/events/new", "/events/new", {**_form(), "add_email": "guest@elsewhere.example"}
    )
    assert response.status_code == 303
    page = signed_in.get(response.headers["location"])
    assert "guest@elsewhere.example" in page.text
    assert "Unmatched email" in page.text


def _teams_event(db: Session, owner: User, *, sent: bool) -> Event:
    event = create_event(
        db,
        EventInput(
            owner_id=owner.id,
            subject="Portfolio call",
            start=datetime(2027, 3, 16, 9, 0),
            end=datetime(2027, 3, 16, 9, 30),
            is_teams_meeting=True,
        ),
    )
    if sent:
        record_invitation_sent(db, event.id, datetime(2027, 3, 1, tzinfo=UTC), JOIN_URL)
    db.commit()
    return event


def test_teams_is_locked_with_the_reason_once_the_invitation_went_out(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=True)
    page = signed_in.get(f"/events/{event.id}")
    assert 'id="open-teams-meeting"' in page.text
    assert f'href="{JOIN_URL}"' in page.text
    assert "can no longer be unchecked" in page.text
    assert 'name="is_teams_meeting" type="checkbox" value="on" checked disabled' in page.text

    form = _form(subject="Portfolio call", start_date="2027-03-16", end_date="2027-03-16")
    refused = post_form(
        signed_in,
        f"/events/{event.id}",
        f"/events/{event.id}",
        {**form, "version": str(event.version)},
    )
    assert refused.status_code == 422
    assert 'id="error-is_teams_meeting"' in refused.text
    db.expire_all()
    assert db.get(Event, event.id).is_teams_meeting  # type: ignore[union-attr]


def test_teams_can_be_unchecked_before_the_invitation_went_out(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    form = _form(subject="Portfolio call", start_date="2027-03-16", end_date="2027-03-16")
    saved = post_form(
        signed_in,
        f"/events/{event.id}",
        f"/events/{event.id}",
        {**form, "version": str(event.version)},
    )
    assert saved.status_code == 303
    db.expire_all()
    assert not db.get(Event, event.id).is_teams_meeting  # type: ignore[union-attr]


def test_a_stale_version_is_refused_with_a_reload_hint(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    response = post_form(
        signed_in, f"/events/{event.id}", f"/events/{event.id}", {**_form(), "version": "99"}
    )
    assert response.status_code == 409
    assert "reload it and try again" in response.text


def test_an_attendees_copy_is_read_only_with_the_reason(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    owner = create_user(
        db, name="Alan Turing", email="alan@northwind.example", time_zone="Europe/London"
    )
    original = create_event(
        db,
        EventInput(
            owner_id=owner.id,
            subject="Team planning",
            start=datetime(2027, 3, 17, 14, 0),
            end=datetime(2027, 3, 17, 15, 0),
            attendees=(AttendeeInput(user_id=staff_user.id),),
        ),
    )
    db.commit()
    copy = db.scalars(select(Event).where(Event.copy_of_event_id == original.id)).one()
    page = signed_in.get(f"/events/{copy.id}")
    assert "read-only copy of Alan Turing&#39;s event" in page.text
    assert 'action="/events/' not in page.text
    refused = post_form(
        signed_in,
        f"/events/{copy.id}",
        f"/events/{copy.id}",
        {**_form(), "version": str(copy.version)},
    )
    assert refused.status_code == 422
    db.expire_all()
    assert db.get(Event, copy.id).subject == "Team planning"  # type: ignore[union-attr]


def test_a_microsoft_365_series_shows_its_recurrence_read_only(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    series = create_event(
        db,
        EventInput(
            owner_id=staff_user.id,
            subject="Investment committee",
            start=datetime(2027, 3, 15, 9, 0),
            end=datetime(2027, 3, 15, 10, 0),
        ),
        origin=Origin.MICROSOFT365,
    )
    set_m365_recurrence_summary(
        db, series.id, "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
    )
    db.commit()
    page = signed_in.get(f"/events/{series.id}")
    assert "Recurring in Microsoft 365" in page.text
    assert "Every 2 weeks on Monday and Wednesday, until 30 June 2027" in page.text
    assert "managed in Microsoft 365; change it in Outlook" in page.text
    assert 'name="recurrence_rule"' not in page.text


def test_deleting_an_event_goes_back_to_the_calendar(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    response = post_form(
        signed_in,
        f"/events/{event.id}",
        f"/events/{event.id}/delete",
        {"version": str(event.version)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/calendar?notice=deleted"
    assert _events(db) == []


def test_a_person_chosen_but_not_added_with_the_button_is_added_on_save(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    response = post_form(
        signed_in, "/events/new", "/events/new", {**_form(), "add_person": f"individual:{ada.id}"}
    )
    assert response.status_code == 303
    (event,) = _events(db)
    assert [a.individual_id for a in event.attendees] == [ada.id]


def test_an_attendee_the_form_never_offered_is_refused(signed_in: TestClient, db: Session) -> None:
    response = post_form(
        signed_in, "/events/new", "/events/new", {**_form(), "attendee": "mailbox:everyone"}
    )
    assert response.status_code == 422
    assert (
        "Attendees: &#39;mailbox:everyone&#39; is not an attendee this form offered"
        in response.text
    )
    assert _events(db) == []


def test_staff_cannot_open_or_drag_a_colleagues_event(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    colleague = create_user(
        db, name="Alan Turing", email="alan@northwind.example", time_zone="Europe/London"
    )
    theirs = _teams_event(db, colleague, sent=False)
    page = signed_in.get(f"/events/{theirs.id}")
    assert page.status_code == 404
    assert "on another user&#39;s calendar" in page.text
    token = signed_in.get("/events/new").text
    moved = signed_in.post(
        f"/calendar/events/{theirs.id}/times",
        json={
            "start": "2027-03-16T16:00:00",
            "end": "2027-03-16T17:00:00",
            "all_day": False,
            "version": theirs.version,
        },
        headers={"X-CSRF-Token": csrf_token(token)},
    )
    assert moved.status_code == 404
    db.expire_all()
    assert db.get(Event, theirs.id).version == theirs.version  # type: ignore[union-attr]


def test_an_administrator_opens_any_calendars_event(
    signed_in_admin: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    page = signed_in_admin.get(f"/events/{event.id}")
    assert page.status_code == 200
    assert "Portfolio call" in page.text


def test_sync_status_shows_only_once_the_add_on_is_enabled(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    mark_sync_error(db, event.id, "Microsoft 365 refused the attendee list; remove the duplicate")
    db.commit()
    hidden = signed_in.get(f"/events/{event.id}")
    assert 'id="sync-status"' not in hidden.text
    update_sync_settings(db, SyncSettingsChanges(sync_enabled=True))
    db.commit()
    shown = signed_in.get(f"/events/{event.id}")
    assert '<span class="badge badge-error" id="sync-status">Sync error</span>' in shown.text
    assert "Microsoft 365 refused the attendee list; remove the duplicate" in shown.text


def test_a_crm_series_says_it_is_not_synced_and_why(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    series = create_event(
        db,
        EventInput(
            owner_id=staff_user.id,
            subject="Weekly desk time",
            start=datetime(2027, 3, 15, 8, 0),
            end=datetime(2027, 3, 15, 9, 0),
            recurrence_rule="FREQ=WEEKLY;COUNT=10",
        ),
    )
    db.commit()
    page = signed_in.get(f"/events/{series.id}")
    assert "Not synced" in page.text
    assert "Recurring events created in the CRM are not synced to Microsoft 365" in page.text


def test_the_new_event_form_is_prefilled_with_the_selected_slot(signed_in: TestClient) -> None:
    timed = signed_in.get(
        "/events/new", params={"start": "2027-03-17T10:00:00", "end": "2027-03-17T11:30:00"}
    )
    assert 'name="start_time" type="time" value="10:00"' in timed.text
    assert 'name="end_time" type="time" value="11:30"' in timed.text
    days = signed_in.get(
        "/events/new", params={"start": "2027-03-17", "end": "2027-03-20", "all_day": "1"}
    )
    assert 'name="start_date" type="date" value="2027-03-17"' in days.text
    assert 'name="end_date" type="date" value="2027-03-19"' in days.text  # the last day
    assert 'name="all_day" type="checkbox" value="on" checked' in days.text


def test_the_new_event_page_lists_nobody_and_offers_the_person_search(
    signed_in: TestClient, ada: Individual
) -> None:
    page = signed_in.get("/events/new")
    assert "Ada Lovelace" not in page.text
    assert "<option" not in page.text.split('id="field-attendees"')[1]
    assert 'role="combobox"' in page.text
    assert 'data-search-url="/people/search"' in page.text
    # Hidden until the script shows it; without JavaScript people are added by address.
    assert 'data-person-picker data-search-url="/people/search" hidden>' in page.text
    assert 'name="add_email" type="email"' in page.text
    assert "/static/js/person-picker.js" in page.text


def test_without_javascript_a_typed_address_of_an_individual_links_them(
    signed_in: TestClient, ada: Individual, db: Session
) -> None:
    response = post_form(
        signed_in, "/events/new", "/events/new", {**_form(), "add_email": "ADA@lovelace.example"}
    )
    assert response.status_code == 303
    (event,) = _events(db)
    assert [(a.individual_id, (a.email or "").lower()) for a in event.attendees] == [
        (ada.id, "ada@lovelace.example")
    ]


def _link(db: Session, event: Event, updated_at: datetime, *, in_flight: bool = False) -> None:
    db.add(
        SyncLinkRecord(
            crm_event_id=event.id,
            mailbox="grace.hopper@northwind.example",
            graph_id=f"AAMkAD-{event.id}",
            crm_version=event.version,
            origin=LinkOrigin.CRM,
            base={},
            pending_snapshot={"subject": "in flight"} if in_flight else None,
            pending_crm_version=event.version if in_flight else None,
            created_at=updated_at,
            updated_at=updated_at,
        )
    )
    mark_synced(db, event.id)
    update_sync_settings(db, SyncSettingsChanges(sync_enabled=True))
    db.commit()


def test_the_event_page_says_when_it_last_synced_in_the_viewers_zone(
    staff_user: User, signed_in_admin: TestClient, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    _link(db, event, datetime(2027, 7, 1, 9, 30, tzinfo=UTC))
    # The administrator (New York) sees the staff user's event synced at 05:30 their time.
    admin_page = signed_in_admin.get(f"/events/{event.id}")
    assert (
        '<span class="hint" id="sync-synced-at">Last synced '
        '<time datetime="2027-07-01T09:30:00+00:00">Thu 1 Jul 2027, 05:30</time>'
        " (America/New_York)</span>"
    ) in admin_page.text
    assert "Synced with Microsoft 365" in admin_page.text


def test_staff_see_the_sync_time_in_their_own_zone(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    _link(db, event, datetime(2027, 7, 1, 9, 30, tzinfo=UTC))
    page = signed_in.get(f"/events/{event.id}")
    assert "Last synced <time" in page.text
    assert "Thu 1 Jul 2027, 10:30</time> (Europe/London)" in page.text


def test_no_sync_time_while_a_write_is_in_flight_or_the_sync_is_off(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    never_linked = _teams_event(db, staff_user, sent=False)
    in_flight = _teams_event(db, staff_user, sent=False)
    _link(db, in_flight, datetime(2027, 7, 1, 9, 30, tzinfo=UTC), in_flight=True)
    assert 'id="sync-status"' in signed_in.get(f"/events/{in_flight.id}").text
    assert "Last synced" not in signed_in.get(f"/events/{in_flight.id}").text
    assert "Last synced" not in signed_in.get(f"/events/{never_linked.id}").text
    update_sync_settings(db, SyncSettingsChanges(sync_enabled=False))
    linked = _teams_event(db, staff_user, sent=False)
    _link(db, linked, datetime(2027, 7, 1, 9, 30, tzinfo=UTC))
    update_sync_settings(db, SyncSettingsChanges(sync_enabled=False))
    db.commit()
    assert "Last synced" not in signed_in.get(f"/events/{linked.id}").text


def test_a_synced_event_says_which_attendees_outlook_could_not_invite(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    without_email = create_individual(db, IndividualInput(first_name="Nora", last_name="Nomail"))
    with_email = create_individual(
        db, IndividualInput(last_name="Client", email="chris@fabrikam.example")
    )
    event = create_event(
        db,
        EventInput(
            owner_id=staff_user.id,
            subject="Review",
            start=datetime(2027, 3, 16, 9, 0),
            end=datetime(2027, 3, 16, 9, 30),
            attendees=(
                AttendeeInput(individual_id=with_email.id),
                AttendeeInput(individual_id=without_email.id),
            ),
        ),
    )
    db.commit()
    _link(db, event, datetime(2027, 7, 1, 9, 30, tzinfo=UTC))
    page = signed_in.get(f"/events/{event.id}")
    assert "Synced with Microsoft 365" in page.text
    assert "Not invited in Outlook: Nora Nomail (Individual)" in page.text
    assert "Client (Individual)" not in page.text

    # Once the record has an address there is nothing left to say.
    without_email.email = "nora@fabrikam.example"
    db.commit()
    assert "Not invited in Outlook" not in signed_in.get(f"/events/{event.id}").text


def test_the_event_page_shows_what_the_sync_did_with_it_newest_first(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _teams_event(db, staff_user, sent=False)
    other = _teams_event(db, staff_user, sent=False)
    _link(db, event, datetime(2027, 7, 1, 9, 30, tzinfo=UTC))
    lines = [
        (event.id, LogKind.ACTION, "created_in_microsoft365", "info", "Created the Outlook copy."),
        (other.id, LogKind.ACTION, "created_in_microsoft365", "info", "Someone else's event."),
        (
            event.id,
            LogKind.CONFLICT,
            "conflict_microsoft365_won",
            "conflict",
            "Outlook's subject won.",
        ),
    ]
    for minute, (event_id, kind, code, severity, message) in enumerate(lines):
        db.add(
            SyncLogEntry(
                at=datetime(2027, 7, 1, 9, minute, tzinfo=UTC),
                crm_event_id=event_id,
                kind=kind,
                direction=Direction.CRM_TO_MICROSOFT_365,
                code=code,
                severity=severity,
                message=message,
            )
        )
    db.commit()

    page = signed_in.get(f"/events/{event.id}").text
    assert 'id="sync-history"' in page
    history = page[page.index('id="sync-history"') :]
    assert history.index("Outlook&#39;s subject won.") < history.index("Created the Outlook copy.")
    assert "Someone else" not in history
    assert "The whole sync log" not in history  # staff cannot open the administrators' log

    update_sync_settings(db, SyncSettingsChanges(sync_enabled=False))
    db.commit()
    assert 'id="sync-history"' not in signed_in.get(f"/events/{event.id}").text
