"""What the sync engine records on events: status, invitation marker, join URL, M365 summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Origin, SyncStatus, User
from calsync.crm.services.event_sync_state import (
    mark_sync_error,
    mark_synced,
    record_invitation_sent,
    set_m365_recurrence_summary,
)
from calsync.crm.services.events import create_event
from tests.crm.conftest import meeting

SENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_status_changes_are_recorded_with_a_new_version(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    mark_sync_error(
        db_session,
        event.id,
        "Microsoft 365 refused the mailbox: access denied. Ask the administrator.",
    )
    assert (event.sync_status, event.version) == (SyncStatus.ERROR, 2)
    assert "access denied" in (event.sync_message or "")
    mark_synced(db_session, event.id)
    db_session.commit()
    assert (event.sync_status, event.sync_message, event.version) == (SyncStatus.SYNCED, None, 3)


def test_the_first_invitation_time_is_kept(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    record_invitation_sent(db_session, event.id, SENT)
    record_invitation_sent(db_session, event.id, datetime(2026, 3, 2, tzinfo=UTC))
    db_session.commit()
    db_session.expire_all()
    assert event.invitation_sent_at == SENT


@pytest.mark.parametrize(
    ("teams", "url", "sent_at", "field"),
    [
        (True, "http://teams.example/join", SENT, "teams_join_url"),
        (False, "https://teams.microsoft.com/l/meetup-join/1", SENT, "teams_join_url"),
        (True, None, datetime(2026, 3, 1, 9, 0), "invitation_sent_at"),
    ],
)
def test_bad_invitation_facts_are_refused(
    db_session: Session, advisor: User, teams: bool, url: str | None, sent_at: datetime, field: str
) -> None:
    event = create_event(db_session, meeting(advisor, is_teams_meeting=teams))
    with pytest.raises(InvalidInputError) as refused:
        record_invitation_sent(db_session, event.id, sent_at, url)
    assert refused.value.field == field
    assert event.invitation_sent_at is None


def test_only_microsoft365_series_carry_a_microsoft365_summary(
    db_session: Session, advisor: User
) -> None:
    crm_event = create_event(db_session, meeting(advisor))
    with pytest.raises(InvalidInputError):
        set_m365_recurrence_summary(db_session, crm_event.id, "Every day")
    series = create_event(db_session, meeting(advisor), origin=Origin.MICROSOFT365)
    set_m365_recurrence_summary(db_session, series.id, " Every 2 weeks on Monday ")
    assert series.m365_recurrence_summary == "Every 2 weeks on Monday"
    set_m365_recurrence_summary(db_session, series.id, None)
    assert series.m365_recurrence_summary is None


def test_an_error_needs_a_message(db_session: Session, advisor: User) -> None:
    event = create_event(db_session, meeting(advisor))
    with pytest.raises(InvalidInputError):
        mark_sync_error(db_session, event.id, "  ")
    assert event.sync_status is SyncStatus.PENDING
