"""The transactional outbox: CRM changes of synced events leave an entry in their own transaction;
the engine's own writes, copies, CRM series and unsynced users leave none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Event, Origin
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event, delete_event, update_event
from calsync.crm.services.users import create_user
from calsync.sync.fields import AllDaySpan, EventSnapshot, ShowAs, SyncedAttendee, TimedSpan
from calsync.sync.recurrence import Recurrence
from calsync.sync.storage import engine_writes
from calsync.sync.storage.models import OutboxEntry, OutboxKind
from calsync.sync.storage.snapshots import snapshot_from_json, snapshot_to_json

START = datetime(2026, 6, 1, 14, tzinfo=UTC)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = create_database_engine(database_url)
    with create_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _input(owner: int, subject: str = "Review", **extra: object) -> EventInput:
    return EventInput(
        owner_id=owner, subject=subject, start=START, end=START + timedelta(hours=1), **extra
    )  # type: ignore[arg-type]


def _entries(session: Session) -> list[tuple[int, OutboxKind]]:
    return [
        (entry.crm_event_id, entry.kind)
        for entry in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))
    ]


def test_create_update_delete_each_leave_an_entry_in_the_same_transaction(
    session: Session,
) -> None:
    owner = create_user(
        session, name="Ana", email="ana@firm.example", time_zone="UTC", sync_enabled=True
    )
    session.commit()
    create_event(session, _input(owner.id))
    session.rollback()
    assert _entries(session) == []  # rolled back with the event

    event = create_event(session, _input(owner.id))
    session.commit()
    update_event(session, event.id, event.version, _input(owner.id, "Review (moved)"))
    session.commit()
    delete_event(session, event.id)
    session.commit()

    assert _entries(session) == [
        (event.id, OutboxKind.CREATE),
        (event.id, OutboxKind.UPDATE),
        (event.id, OutboxKind.DELETE),
    ]


def test_refused_changes_leave_no_entry(session: Session) -> None:
    owner = create_user(
        session, name="Ana", email="ana@firm.example", time_zone="UTC", sync_enabled=True
    )
    session.commit()
    with pytest.raises(InvalidInputError):
        create_event(session, _input(owner.id, ""))
    session.rollback()
    assert _entries(session) == []


def test_engine_writes_copies_crm_series_and_unsynced_users_leave_no_entry(
    session: Session,
) -> None:
    ana = create_user(
        session, name="Ana", email="ana@firm.example", time_zone="UTC", sync_enabled=True
    )
    ben = create_user(
        session, name="Ben", email="ben@firm.example", time_zone="UTC", sync_enabled=True
    )
    off = create_user(session, name="Off", email="off@firm.example", time_zone="UTC")
    session.commit()
    with engine_writes(session):
        create_event(session, _input(ana.id, "Pulled"), origin=Origin.MICROSOFT365)
        session.commit()
    create_event(session, _input(ana.id, "Series", recurrence_rule="FREQ=DAILY;COUNT=3"))
    create_event(session, _input(off.id, "Not synced"))
    meeting = create_event(
        session, _input(ana.id, "With Ben", attendees=(AttendeeInput(user_id=ben.id),))
    )
    session.commit()

    copies = session.scalars(select(Event).where(Event.copy_of_event_id == meeting.id)).all()
    assert len(copies) == 1
    assert _entries(session) == [(meeting.id, OutboxKind.CREATE)]


def test_a_merge_base_is_stored_and_read_back_unchanged() -> None:
    snapshots = [
        EventSnapshot(
            subject="Review",
            timing=TimedSpan(START, START + timedelta(hours=1), "America/New_York"),
            body="Line one\nLine two",
            location="Room 4",
            show_as=ShowAs.TENTATIVE,
            is_private=True,
            is_teams_meeting=True,
            attendees=frozenset({SyncedAttendee("a@x.example"), SyncedAttendee("b@x.example")}),
        ),
        EventSnapshot(
            subject="Holiday",
            timing=AllDaySpan(START.date(), START.date() + timedelta(days=2)),
            recurrence=Recurrence.from_graph(
                {
                    "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]},
                    "range": {"type": "noEnd", "startDate": "2026-06-01"},
                }
            ),
        ),
    ]
    for snapshot in snapshots:
        stored = snapshot_to_json(snapshot)
        assert snapshot_from_json(stored) == snapshot
        assert snapshot_from_json(stored).timing == snapshot.timing


def test_an_unreadable_merge_base_names_the_field() -> None:
    from calsync.sync.errors import InconsistentSyncState

    with pytest.raises(InconsistentSyncState) as raised:
        snapshot_from_json({"subject": "x"})
    assert raised.value.field == "base"
