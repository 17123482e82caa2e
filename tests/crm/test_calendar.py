"""A user's calendar for a range: own events, copies, and CRM series expanded into occurrences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError, NotFoundError
from calsync.crm.models import Origin, User
from calsync.crm.services.calendar import list_events
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.event_sync_state import set_m365_recurrence_summary
from calsync.crm.services.events import create_event
from tests.crm.conftest import meeting

MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def test_the_calendar_lists_own_events_and_copies_in_start_order(
    db_session: Session, advisor: User, assistant: User
) -> None:
    create_event(
        db_session,
        meeting(
            assistant,
            subject="Compliance training",
            start=datetime(2026, 3, 9, 9),
            end=datetime(2026, 3, 9, 10),
        ),
    )
    create_event(db_session, meeting(advisor, attendees=(AttendeeInput(user_id=assistant.id),)))
    create_event(
        db_session,
        meeting(
            assistant,
            subject="April planning",
            start=datetime(2026, 4, 2, 9),
            end=datetime(2026, 4, 2, 10),
        ),
    )
    db_session.commit()
    entries = list_events(db_session, assistant.id, *MARCH)
    assert [(e.subject, e.is_copy) for e in entries] == [
        ("Compliance training", False),
        ("Annual portfolio review", True),
    ]
    assert [e.subject for e in list_events(db_session, advisor.id, *MARCH)] == [
        "Annual portfolio review"
    ]


def test_a_crm_series_is_expanded_into_its_occurrences(db_session: Session, advisor: User) -> None:
    series = create_event(
        db_session,
        meeting(advisor, subject="Weekly pipeline", recurrence_rule="FREQ=WEEKLY;UNTIL=20260324"),
    )
    db_session.commit()
    entries = list_events(
        db_session, advisor.id, datetime(2026, 3, 12, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert [(e.event_id, e.start, e.is_recurring) for e in entries] == [
        (series.id, datetime(2026, 3, 17, 14, 0, tzinfo=UTC), True),
        (series.id, datetime(2026, 3, 24, 14, 0, tzinfo=UTC), True),
    ]
    assert all(e.end - e.start == (series.end_at - series.start_at) for e in entries)


def test_an_open_ended_series_fills_any_later_range(db_session: Session, advisor: User) -> None:
    create_event(db_session, meeting(advisor, recurrence_rule="FREQ=MONTHLY"))
    entries = list_events(
        db_session, advisor.id, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert [e.start.date() for e in entries] == [
        date(2027, 1, 10),
        date(2027, 2, 10),
        date(2027, 3, 10),
    ]


def test_all_day_entries_carry_their_dates(db_session: Session, advisor: User) -> None:
    create_event(
        db_session,
        meeting(
            advisor,
            subject="Conference",
            is_all_day=True,
            start=date(2026, 3, 30),
            end=date(2026, 4, 2),
            recurrence_rule="FREQ=YEARLY",
        ),
    )
    [entry] = list_events(db_session, advisor.id, *MARCH)
    assert (entry.is_all_day, entry.start_date, entry.end_date) == (
        True,
        date(2026, 3, 30),
        date(2026, 4, 2),
    )
    [next_year] = list_events(
        db_session, advisor.id, datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert (next_year.start_date, next_year.end_date) == (date(2027, 3, 30), date(2027, 4, 2))


def test_a_microsoft365_series_shows_through_its_occurrences_only(
    db_session: Session, advisor: User
) -> None:
    series = create_event(
        db_session, meeting(advisor, subject="Stand-up"), origin=Origin.MICROSOFT365
    )
    set_m365_recurrence_summary(db_session, series.id, "Every weekday")
    for day in (10, 11):
        create_event(
            db_session,
            meeting(
                advisor,
                subject="Stand-up",
                start=datetime(2026, 3, day, 10),
                end=datetime(2026, 3, day, 11),
            ),
            origin=Origin.MICROSOFT365,
            series_event_id=series.id,
            original_start=datetime(2026, 3, day, 14, tzinfo=UTC),
        )
    entries = list_events(db_session, advisor.id, *MARCH)
    assert [(e.start.day, e.is_recurring) for e in entries] == [(10, True), (11, True)]
    assert series.id not in {e.event_id for e in entries}


def test_zero_length_events_at_the_range_start_are_listed(
    db_session: Session, advisor: User
) -> None:
    create_event(
        db_session,
        meeting(
            advisor,
            subject="Call back",
            start=datetime(2026, 3, 1, 9),
            end=datetime(2026, 3, 1, 9),
            time_zone="UTC",
        ),
    )
    assert [
        e.subject
        for e in list_events(db_session, advisor.id, datetime(2026, 3, 1, 9, tzinfo=UTC), MARCH[1])
    ] == ["Call back"]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (datetime(2026, 3, 1), datetime(2026, 4, 1), "start"),
        (MARCH[1], MARCH[0], "end"),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC), "end"),
    ],
)
def test_bad_ranges_are_refused(
    db_session: Session, advisor: User, start: datetime, end: datetime, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        list_events(db_session, advisor.id, start, end)
    assert refused.value.field == field


def test_an_unknown_user_has_no_calendar(db_session: Session) -> None:
    with pytest.raises(NotFoundError):
        list_events(db_session, 31, *MARCH)
