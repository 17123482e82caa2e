"""Creating, changing and deleting events: checks, versions, Teams and recurrence rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.errors import (
    CrmError,
    InvalidInputError,
    NotFoundError,
    RecurrenceManagedInMicrosoft365Error,
    TeamsInvitationSentError,
    VersionConflictError,
)
from calsync.crm.models import Event, EventAttendee, Origin, ShowAs, SyncStatus, User
from calsync.crm.services.event_input import AttendeeInput, event_input_of
from calsync.crm.services.event_sync_state import (
    mark_synced,
    record_invitation_sent,
    set_m365_recurrence_summary,
)
from calsync.crm.services.events import create_event, delete_event, get_event, update_event
from tests.crm.conftest import bare, meeting


def _count(session: Session, model: type[Event] | type[EventAttendee]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_event_is_stored_in_utc_with_its_own_zone(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor, show_as="tentative", is_private=True))
    db_session.commit()
    db_session.expire_all()
    stored = get_event(db_session, event.id)
    assert stored.start_at == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert stored.end_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert stored.time_zone == "America/New_York"
    assert (stored.show_as, stored.is_private) == (ShowAs.TENTATIVE, True)
    assert (stored.origin, stored.sync_status, stored.version) == (
        Origin.CRM,
        SyncStatus.PENDING,
        1,
    )


def test_the_zone_defaults_to_the_owners(db_session: Session, assistant: User) -> None:
    event = create_event(db_session, meeting(assistant, time_zone=None))
    assert event.time_zone == "Europe/London"
    assert event.start_at == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def test_an_all_day_event_keeps_its_dates(db_session: Session, advisor: User) -> None:
    event = create_event(
        db_session,
        meeting(
            advisor,
            subject="Office closed",
            is_all_day=True,
            start=date(2026, 12, 24),
            end=date(2026, 12, 27),
        ),
    )
    db_session.commit()
    db_session.expire_all()
    stored = get_event(db_session, event.id)
    assert (stored.is_all_day, stored.start_date, stored.end_date) == (
        True,
        date(2026, 12, 24),
        date(2026, 12, 27),
    )
    assert event_input_of(stored).start == date(2026, 12, 24)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"owner_id": None}, "owner_id"),
        ({"owner_id": 999}, "owner_id"),
        ({"end": datetime(2026, 3, 10, 9, 0)}, "end"),
        ({"time_zone": "Atlantis/Capital"}, "time_zone"),
        ({"is_all_day": True}, "start"),
        ({"show_as": "away"}, "show_as"),
        ({"attendees": (bare("oliver.hughes@"),)}, "attendees[0].email"),
        (
            {"attendees": (bare("a@b.example"), AttendeeInput(contact_id=55))},
            "attendees[1].contact_id",
        ),
        ({"attendees": tuple(bare(f"guest{n}@hughes.example") for n in range(501))}, "attendees"),
        ({"recurrence_rule": "FREQ=SOMETIMES"}, "recurrence_rule"),
    ],
)
def test_bad_events_are_refused_naming_the_field_and_nothing_is_written(
    db_session: Session, advisor: User, changes: dict[str, object], field: str
) -> None:
    with pytest.raises((InvalidInputError, NotFoundError)) as refused:
        create_event(db_session, dataclasses.replace(meeting(advisor), **changes))
    assert refused.value.field == field
    db_session.commit()
    assert _count(db_session, Event) == 0
    assert _count(db_session, EventAttendee) == 0


def test_five_hundred_attendees_are_allowed(db_session: Session, advisor: User) -> None:
    guests = tuple(bare(f"guest{n}@hughes.example") for n in range(500))
    event = create_event(db_session, meeting(advisor, attendees=guests))
    db_session.commit()
    assert len(event.attendees) == 500


def test_every_update_moves_to_the_next_version(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    update_event(
        db_session,
        event.id,
        1,
        dataclasses.replace(event_input_of(event), subject="Review (moved)"),
    )
    update_event(
        db_session, event.id, 2, dataclasses.replace(event_input_of(event), location="Zoom")
    )
    db_session.commit()
    assert (event.version, event.subject, event.location) == (3, "Review (moved)", "Zoom")


def test_an_update_based_on_an_old_version_is_refused(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    update_event(
        db_session, event.id, 1, dataclasses.replace(event_input_of(event), subject="First edit")
    )
    db_session.commit()
    with pytest.raises(VersionConflictError) as refused:
        update_event(
            db_session, event.id, 1, dataclasses.replace(event_input_of(event), subject="Lost edit")
        )
    assert (refused.value.code, refused.value.field) == ("version_conflict", "version")
    db_session.commit()
    assert event.subject == "First edit"


def test_a_save_racing_another_session_is_refused(
    db_session: Session, database_url: str, advisor: User
) -> None:
    event = create_event(db_session, meeting(advisor))
    db_session.commit()
    engine = create_database_engine(database_url)
    try:
        with create_session_factory(engine)() as other:
            theirs = get_event(other, event.id)
            update_event(
                other, event.id, 1, dataclasses.replace(event_input_of(theirs), subject="Theirs")
            )
            other.commit()
    finally:
        engine.dispose()
    with pytest.raises(VersionConflictError):
        update_event(
            db_session, event.id, 1, dataclasses.replace(event_input_of(event), subject="Mine")
        )
    db_session.rollback()
    assert get_event(db_session, event.id).subject == "Theirs"


def test_a_failed_update_changes_nothing(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor, attendees=(bare("oliver@hughes.example"),)))
    db_session.commit()
    with pytest.raises(InvalidInputError):
        update_event(
            db_session,
            event.id,
            1,
            dataclasses.replace(event_input_of(event), subject="New", attendees=(bare("bad@"),)),
        )
    db_session.commit()
    db_session.expire_all()
    stored = get_event(db_session, event.id)
    assert (stored.subject, stored.version) == ("Annual portfolio review", 1)
    assert [a.email for a in stored.attendees] == ["oliver@hughes.example"]


def test_teams_can_be_unchecked_until_the_invitation_is_sent(
    db_session: Session, advisor: User
) -> None:
    event = create_event(db_session, meeting(advisor, is_teams_meeting=True))
    update_event(
        db_session, event.id, 1, dataclasses.replace(event_input_of(event), is_teams_meeting=False)
    )
    update_event(
        db_session, event.id, 2, dataclasses.replace(event_input_of(event), is_teams_meeting=True)
    )
    record_invitation_sent(
        db_session,
        event.id,
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting",
    )
    db_session.commit()
    assert event.teams_join_url == "https://teams.microsoft.com/l/meetup-join/19%3ameeting"
    with pytest.raises(TeamsInvitationSentError) as refused:
        update_event(
            db_session,
            event.id,
            event.version,
            dataclasses.replace(event_input_of(event), is_teams_meeting=False, subject="No Teams"),
        )
    assert (refused.value.code, refused.value.field) == (
        "teams_invitation_sent",
        "is_teams_meeting",
    )
    assert "invitation" in refused.value.message
    db_session.commit()
    db_session.expire_all()
    stored = get_event(db_session, event.id)
    assert (stored.is_teams_meeting, stored.subject) == (True, "Annual portfolio review")


def test_a_crm_recurring_series_is_not_synced_and_says_why(
    db_session: Session, advisor: User
) -> None:
    event = create_event(db_session, meeting(advisor, recurrence_rule="FREQ=WEEKLY;COUNT=4"))
    assert event.sync_status is SyncStatus.NOT_SYNCED
    assert "not synced to Microsoft 365" in (event.sync_message or "")
    with pytest.raises(CrmError):
        mark_synced(db_session, event.id)
    update_event(
        db_session, event.id, 1, dataclasses.replace(event_input_of(event), recurrence_rule=None)
    )
    assert (event.sync_status, event.sync_message, event.recurrence_rule) == (
        SyncStatus.PENDING,
        None,
        None,
    )


def _microsoft365_series(session: Session, owner: User) -> Event:
    series = create_event(
        session, meeting(owner, subject="Team stand-up"), origin=Origin.MICROSOFT365
    )
    set_m365_recurrence_summary(
        session, series.id, "Every 2 weeks on Monday and Wednesday, until 30 June 2027"
    )
    session.commit()
    return series


def test_the_recurrence_of_a_microsoft365_series_cannot_change_in_the_crm(
    db_session: Session, advisor: User
) -> None:
    series = _microsoft365_series(db_session, advisor)
    assert series.sync_status is SyncStatus.SYNCED
    with pytest.raises(RecurrenceManagedInMicrosoft365Error) as refused:
        update_event(
            db_session,
            series.id,
            series.version,
            dataclasses.replace(
                event_input_of(series), recurrence_rule="FREQ=DAILY", subject="Daily"
            ),
        )
    assert refused.value.message == (
        "the recurrence of this series is managed in Microsoft 365; change it in Outlook"
    )
    assert refused.value.field == "recurrence_rule"
    db_session.commit()
    db_session.expire_all()
    assert get_event(db_session, series.id).subject == "Team stand-up"


def test_other_fields_of_a_microsoft365_series_can_be_edited(
    db_session: Session, advisor: User
) -> None:
    series = _microsoft365_series(db_session, advisor)
    update_event(
        db_session,
        series.id,
        series.version,
        dataclasses.replace(event_input_of(series), location="Room 4"),
    )
    assert (series.location, series.sync_status) == ("Room 4", SyncStatus.PENDING)
    assert series.m365_recurrence_summary is not None


def test_a_synced_event_cannot_gain_a_crm_recurrence(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    mark_synced(db_session, event.id)
    with pytest.raises(RecurrenceManagedInMicrosoft365Error):
        update_event(
            db_session,
            event.id,
            event.version,
            dataclasses.replace(event_input_of(event), recurrence_rule="FREQ=DAILY"),
        )


def test_an_outlook_change_stays_synced(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor), origin=Origin.MICROSOFT365)
    update_event(
        db_session,
        event.id,
        1,
        dataclasses.replace(event_input_of(event), subject="Moved in Outlook"),
        changed_in=Origin.MICROSOFT365,
    )
    assert event.sync_status is SyncStatus.SYNCED


def test_deleting_a_series_deletes_its_occurrences(db_session: Session, advisor: User) -> None:
    series = _microsoft365_series(db_session, advisor)
    occurrence = create_event(
        db_session,
        meeting(advisor, subject="Team stand-up"),
        origin=Origin.MICROSOFT365,
        series_event_id=series.id,
        original_start=datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
    )
    db_session.commit()
    assert occurrence.series_event_id == series.id
    delete_event(db_session, series.id, expected_version=series.version)
    db_session.commit()
    assert _count(db_session, Event) == 0


def test_only_microsoft365_events_can_be_occurrences(db_session: Session, advisor: User) -> None:
    crm_event = create_event(db_session, meeting(advisor))
    with pytest.raises(InvalidInputError) as refused:
        create_event(
            db_session, meeting(advisor), origin=Origin.MICROSOFT365, series_event_id=crm_event.id
        )
    assert refused.value.field == "series_event_id"


def test_deleting_with_an_old_version_is_refused(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    update_event(db_session, event.id, 1, event_input_of(event))
    with pytest.raises(VersionConflictError):
        delete_event(db_session, event.id, expected_version=1)
    delete_event(db_session, event.id, expected_version=2)
    db_session.commit()
    with pytest.raises(NotFoundError):
        get_event(db_session, event.id)
