"""My calendar's feed and drag-to-move, in the signed-in user's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from calsync.crm.models import Event, User
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.users import create_user
from calsync.web.sessions import CSRF_HEADER
from tests.web.pages.conftest import csrf_token

# FullCalendar in UTC mode asks for the visible week as wall-clock times.
WEEK = {"start": "2027-03-15T00:00:00Z", "end": "2027-03-22T00:00:00Z"}


def _meeting(db: Session, owner: User, **fields: object) -> Event:
    values: dict[str, object] = {
        "owner_id": owner.id,
        "subject": "Annual review",
        "start": datetime(2027, 3, 15, 10, 0),
        "end": datetime(2027, 3, 15, 11, 0),
    }
    values.update(fields)
    event = create_event(db, EventInput(**values))  # type: ignore[arg-type]
    db.commit()
    return event


def test_the_feed_shows_events_in_the_users_zone_whatever_the_events_zone(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    _meeting(db, staff_user, time_zone="America/New_York")  # 10:00 New York = 14:00 London
    feed = signed_in.get("/calendar/feed", params=WEEK).json()
    assert [(e["title"], e["start"], e["end"], e["allDay"]) for e in feed] == [
        ("Annual review", "2027-03-15T14:00:00", "2027-03-15T15:00:00", False)
    ]
    assert feed[0]["editable"] is True
    assert feed[0]["url"].startswith("/events/")


def test_the_feed_has_copies_read_only_and_every_occurrence_of_a_crm_series(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    owner = create_user(
        db, name="Alan Turing", email="alan@northwind.example", time_zone="Europe/London"
    )
    _meeting(db, owner, subject="Team planning", attendees=(AttendeeInput(user_id=staff_user.id),))
    _meeting(
        db,
        staff_user,
        subject="Stand-up",
        start=datetime(2027, 3, 15, 9, 0),
        end=datetime(2027, 3, 15, 9, 15),
        recurrence_rule="FREQ=DAILY;COUNT=3",
    )
    _meeting(
        db,
        staff_user,
        subject="Offsite",
        start=date(2027, 3, 18),
        end=date(2027, 3, 20),
        is_all_day=True,
    )
    feed = signed_in.get("/calendar/feed", params=WEEK).json()
    by_title: dict[str, list[dict[str, object]]] = {}
    for entry in feed:
        by_title.setdefault(str(entry["title"]), []).append(entry)
    assert [e["start"] for e in by_title["Stand-up"]] == [
        "2027-03-15T09:00:00",
        "2027-03-16T09:00:00",
        "2027-03-17T09:00:00",
    ]
    assert all(e["editable"] is False for e in by_title["Stand-up"])
    (copy,) = by_title["Team planning"]
    assert copy["editable"] is False
    assert "is-copy" in copy["classNames"]  # type: ignore[operator]
    (offsite,) = by_title["Offsite"]
    assert (offsite["allDay"], offsite["start"], offsite["end"]) == (
        True,
        "2027-03-18",
        "2027-03-20",
    )


def _token(client: TestClient) -> str:
    return csrf_token(client.get("/events/new").text)


def test_a_drag_moves_the_event_and_keeps_its_own_zone(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _meeting(db, staff_user, time_zone="America/New_York")
    response = signed_in.post(
        f"/calendar/events/{event.id}/times",
        json={
            "start": "2027-03-16T16:00:00",
            "end": "2027-03-16T17:30:00",
            "all_day": False,
            "version": event.version,
        },
        headers={CSRF_HEADER: _token(signed_in)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == event.version + 1
    assert re.match(r"Tue 16 Mar 2027, 16:00", response.json()["when"])
    db.expire_all()
    moved = db.get(Event, event.id)
    assert moved is not None
    assert moved.time_zone == "America/New_York"
    assert (moved.start_at, moved.end_at) == (
        datetime(2027, 3, 16, 16, 0, tzinfo=UTC),
        datetime(2027, 3, 16, 17, 30, tzinfo=UTC),
    )


def test_a_drag_without_the_csrf_header_is_refused(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _meeting(db, staff_user)
    response = signed_in.post(
        f"/calendar/events/{event.id}/times",
        json={
            "start": "2027-03-16T16:00:00",
            "end": "2027-03-16T17:00:00",
            "all_day": False,
            "version": event.version,
        },
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    db.expire_all()
    assert db.get(Event, event.id).version == event.version  # type: ignore[union-attr]


def test_a_refused_drag_says_why_and_changes_nothing(
    signed_in: TestClient, staff_user: User, db: Session
) -> None:
    event = _meeting(db, staff_user)
    stale = signed_in.post(
        f"/calendar/events/{event.id}/times",
        json={
            "start": "2027-03-16T16:00:00",
            "end": "2027-03-16T17:00:00",
            "all_day": False,
            "version": event.version + 5,
        },
        headers={CSRF_HEADER: _token(signed_in)},
    )
    assert stale.status_code == 409
    assert "reload it and try again" in stale.json()["error"]["message"]
    into_the_gap = signed_in.post(
        f"/calendar/events/{event.id}/times",
        json={
            "start": "2027-03-28T01:30:00",
            "end": "2027-03-28T02:30:00",
            "all_day": False,
            "version": event.version,
        },
        headers={CSRF_HEADER: _token(signed_in)},
    )
    assert into_the_gap.status_code == 422
    db.expire_all()
    assert db.get(Event, event.id).start_at == event.start_at  # type: ignore[union-attr]
