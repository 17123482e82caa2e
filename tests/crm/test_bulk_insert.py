"""`BulkInsert` stores rows exactly as the ORM stores the same values, on SQLite and PostgreSQL.

The import writes its events, attendees, links and sync log lines through it; if a single stored
value differed (a date string's format, an enum's spelling, a time zone lost, JSON encoded
differently), every later comparison against those rows would be off. So each test writes the same
values once through the ORM and once through `BulkInsert` and compares the raw rows the driver
reads back, every column but the id.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from calsync.crm.bulk_insert import BulkInsert, BulkInsertColumnsError
from calsync.crm.models import (
    AttendeeType,
    Event,
    EventAttendee,
    Origin,
    ResponseStatus,
    ShowAs,
    SyncStatus,
    User,
)
from calsync.crm.services.event_import import table_of
from calsync.crm.services.users import create_user
from calsync.sync.storage.models import Direction, LinkOrigin, LogKind, SyncLinkRecord, SyncLogEntry

KOLKATA = timezone(timedelta(hours=5, minutes=30))
CREATED = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)

EVENT_COLUMNS = (
    "owner_id",
    "subject",
    "description",
    "location",
    "time_zone",
    "is_all_day",
    "start_at",
    "end_at",
    "start_date",
    "end_date",
    "show_as",
    "is_private",
    "is_teams_meeting",
    "teams_join_url",
    "invitation_sent_at",
    "origin",
    "recurrence_rule",
    "recurrence_end_at",
    "m365_recurrence_summary",
    "series_event_id",
    "original_start",
    "copy_of_event_id",
    "sync_status",
    "sync_message",
    "version",
    "created_at",
    "updated_at",
)


@pytest.fixture
def owner(db_session: Session) -> User:
    user = create_user(
        db_session,
        name="Maria Keller",
        email="maria.keller@kellerwealth.com",
        time_zone="America/New_York",
    )
    db_session.commit()
    return user


def _raw_rows(session: Session, table: Table, ids: list[int]) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them (no SQLAlchemy result processing), id left out."""
    columns = [column.name for column in table.c if column.name != "id"]
    rows = session.connection().exec_driver_sql(
        f"SELECT {', '.join(columns)} FROM {table.name} WHERE id IN "
        f"({', '.join(str(int(i)) for i in ids)}) ORDER BY id"
    )
    return [tuple(row) for row in rows]


def _orm_and_bulk(
    session: Session, model: type[Any], columns: tuple[str, ...], values: list[dict[str, Any]]
) -> tuple[list[int], list[int]]:
    """Write `values` once as ORM objects, once through BulkInsert; the ids of each, in order."""
    table = table_of(model)
    objects = [model(**row) for row in values]
    session.add_all(objects)
    session.flush()
    orm_ids = [obj.id for obj in objects]
    bulk_ids = _free_ids(session, table, len(values))
    bulk = BulkInsert(table, ("id", *columns))
    bulk.execute(
        session,
        [
            (new_id, *(row[name] for name in columns))
            for new_id, row in zip(bulk_ids, values, strict=True)
        ],
    )
    session.commit()
    return orm_ids, bulk_ids


def _free_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids no row has and the database will not hand out (PostgreSQL: from the sequence)."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"count": count},
            )
        )
    newest = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(newest + 1, newest + 1 + count))


def _event(owner: User, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "owner_id": owner.id,
        "subject": "Annual portfolio review",
        "description": "",
        "location": "",
        "time_zone": "America/New_York",
        "is_all_day": False,
        "start_at": datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
        "end_at": datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
        "start_date": None,
        "end_date": None,
        "show_as": ShowAs.BUSY,
        "is_private": False,
        "is_teams_meeting": False,
        "teams_join_url": None,
        "invitation_sent_at": None,
        "origin": Origin.MICROSOFT365,
        "recurrence_rule": None,
        "recurrence_end_at": None,
        "m365_recurrence_summary": None,
        "series_event_id": None,
        "original_start": None,
        "copy_of_event_id": None,
        "sync_status": SyncStatus.SYNCED,
        "sync_message": None,
        "version": 1,
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    values.update(changes)
    return values


def test_events_are_stored_as_the_orm_stores_them(db_session: Session, owner: User) -> None:
    new_york = ZoneInfo("America/New_York")
    values = [
        _event(owner),
        _event(
            owner,
            subject="Jahresgespräch mit Zoë — 年度回顾 🗓",
            description="Agenda:\n• Portfolio\n• Steuern",
            location="Café Zürich",
            time_zone="Asia/Kolkata",
            # Aware in other zones: stored as the same instants in UTC.
            start_at=datetime(2026, 3, 10, 20, 30, 0, 250000, tzinfo=KOLKATA),
            end_at=datetime(2026, 3, 10, 17, 0, tzinfo=new_york),
            show_as=ShowAs.WORKING_ELSEWHERE,
            is_private=True,
            is_teams_meeting=True,
            teams_join_url="https://teams.microsoft.com/l/meetup-join/19%3ameeting",
            invitation_sent_at=datetime(2026, 3, 1, 9, 0, tzinfo=new_york),
            original_start=datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
            m365_recurrence_summary="Weekly on Tuesday",
            sync_status=SyncStatus.ERROR,
            sync_message="Could not reach Microsoft 365",
            version=3,
        ),
        _event(
            owner,
            subject="Offsite",
            is_all_day=True,
            start_at=datetime(2026, 3, 9, 5, 0, tzinfo=UTC),
            end_at=datetime(2026, 3, 11, 5, 0, tzinfo=UTC),
            start_date=date(2026, 3, 9),
            end_date=date(2026, 3, 11),
            show_as=ShowAs.OOF,
            origin=Origin.CRM,
            recurrence_rule="FREQ=WEEKLY;COUNT=3",
            recurrence_end_at=datetime(2026, 3, 25, 5, 0, tzinfo=UTC),
        ),
    ]
    orm_ids, bulk_ids = _orm_and_bulk(db_session, Event, EVENT_COLUMNS, values)

    table = table_of(Event)
    assert _raw_rows(db_session, table, bulk_ids) == _raw_rows(db_session, table, orm_ids)
    db_session.expire_all()
    stored = db_session.get(Event, bulk_ids[1])
    assert stored is not None
    assert stored.subject == "Jahresgespräch mit Zoë — 年度回顾 🗓"
    assert stored.start_at == datetime(2026, 3, 10, 15, 0, 0, 250000, tzinfo=UTC)
    assert stored.show_as is ShowAs.WORKING_ELSEWHERE
    all_day = db_session.get(Event, bulk_ids[2])
    assert all_day is not None
    assert (all_day.start_date, all_day.end_date) == (date(2026, 3, 9), date(2026, 3, 11))


def test_attendees_are_stored_as_the_orm_stores_them(db_session: Session, owner: User) -> None:
    [event_id], _ = _orm_and_bulk(db_session, Event, EVENT_COLUMNS, [_event(owner)])
    attendees: list[dict[str, Any]] = [
        {
            "event_id": event_id,
            "position": 0,
            "user_id": owner.id,
            "individual_id": None,
            "contact_id": None,
            "email": "Maria.Keller@KellerWealth.com",
            "email_normalized": "maria.keller@kellerwealth.com",
            "name": None,
            "attendee_type": AttendeeType.REQUIRED,
            "response_status": ResponseStatus.ORGANIZER,
            "is_internal": True,
        },
        {
            "event_id": event_id,
            "position": 1,
            "user_id": None,
            "individual_id": None,
            "contact_id": None,
            "email": "søren.ærø@kunde.dk",
            "email_normalized": "søren.ærø@kunde.dk",
            "name": "Søren Ærø",
            "attendee_type": AttendeeType.RESOURCE,
            "response_status": ResponseStatus.TENTATIVELY_ACCEPTED,
            "is_internal": False,
        },
    ]
    orm_ids, bulk_ids = _orm_and_bulk(db_session, EventAttendee, tuple(attendees[0]), attendees)

    table = table_of(EventAttendee)
    assert _raw_rows(db_session, table, bulk_ids) == _raw_rows(db_session, table, orm_ids)


def test_links_are_stored_as_the_orm_stores_them(db_session: Session, owner: User) -> None:
    event_ids, _ = _orm_and_bulk(db_session, Event, EVENT_COLUMNS, [_event(owner)] * 2)
    base = {
        "format": 1,
        "subject": "Überprüfung 年度",
        "body": "",
        "timing": {"all_day": False, "start": "2026-03-10T15:00:00+00:00", "time_zone": None},
        "attendees": [["søren.ærø@kunde.dk", "email"]],
        "recurrence": None,
    }
    links: list[dict[str, Any]] = [
        {
            "crm_event_id": crm_event_id,
            "mailbox": "maria.keller@kellerwealth.com",
            "graph_id": f"AAMkAGI2TGuLAA{n}=",
            "ical_uid": None,
            "etag": 'W/"DwAAABYAAAA"',
            "change_key": "DwAAABYAAAA",
            "crm_version": 1,
            "origin": LinkOrigin.MICROSOFT_365,
            "is_organizer": False,
            "event_type": "occurrence",
            "series_master_graph_id": "AAMkAGI2TGuMAAA=",
            "base": base,
            "created_at": CREATED,
            "updated_at": CREATED,
        }
        for n, crm_event_id in enumerate(event_ids)
    ]
    columns = tuple(links[0])
    orm_link = SyncLinkRecord(**links[0])
    db_session.add(orm_link)
    db_session.flush()
    BulkInsert(table_of(SyncLinkRecord), columns).execute(
        db_session, [tuple(links[1][name] for name in columns)]
    )
    db_session.commit()
    bulk_id = db_session.scalar(
        select(SyncLinkRecord.id).where(SyncLinkRecord.crm_event_id == event_ids[1])
    )
    assert bulk_id is not None

    table = table_of(SyncLinkRecord)
    [orm_row] = _raw_rows(db_session, table, [orm_link.id])
    [bulk_row] = _raw_rows(db_session, table, [bulk_id])
    names = [column.name for column in table.c if column.name != "id"]
    differing = {name for name, a, b in zip(names, orm_row, bulk_row, strict=True) if a != b}
    assert differing == {"crm_event_id", "graph_id"}
    # Left out: SQL NULL, as the ORM stores an unset JSON column (not JSON's null).
    assert bulk_row[names.index("pending_snapshot")] is None
    db_session.expire_all()
    stored = db_session.get(SyncLinkRecord, bulk_id)
    assert stored is not None
    assert stored.base == base


def test_log_lines_are_stored_as_the_orm_stores_them(db_session: Session) -> None:
    line: dict[str, Any] = {
        "run_id": None,
        "mailbox": "maria.keller@kellerwealth.com",
        "crm_event_id": 41,
        "graph_id": None,
        "kind": LogKind.CONFLICT,
        "direction": Direction.NONE,
        "code": "conflict_microsoft365_won",
        "severity": "conflict",
        "field": "subject",
        "message": "Der Betreff wurde in beiden geändert; Outlook gewinnt.",
        "at": CREATED,
    }
    orm_ids, bulk_ids = _orm_and_bulk(db_session, SyncLogEntry, tuple(line), [line])

    table = table_of(SyncLogEntry)
    assert _raw_rows(db_session, table, bulk_ids) == _raw_rows(db_session, table, orm_ids)


_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
_instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.timezones()
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(subject=_text, location=_text, start=_instants, original_start=st.none() | _instants)
def test_any_text_and_instant_is_stored_as_the_orm_stores_it(
    db_session: Session,
    owner: User,
    subject: str,
    location: str,
    start: datetime,
    original_start: datetime | None,
) -> None:
    values = _event(
        owner,
        subject=subject,
        location=location,
        start_at=start,
        end_at=start + timedelta(hours=1),
        original_start=original_start,
    )
    orm_ids, bulk_ids = _orm_and_bulk(db_session, Event, EVENT_COLUMNS, [values])

    table = table_of(Event)
    assert _raw_rows(db_session, table, bulk_ids) == _raw_rows(db_session, table, orm_ids)


def test_shared_values_are_stored_in_every_row_as_the_orm_stores_them(
    db_session: Session, owner: User
) -> None:
    shared = ("origin", "sync_status", "recurrence_end_at", "created_at", "updated_at")
    values = [
        _event(owner, subject=f"Review {n}", sync_status=SyncStatus.PENDING, origin=Origin.CRM)
        for n in range(3)
    ]
    objects = [Event(**row) for row in values]
    db_session.add_all(objects)
    db_session.flush()
    bulk_ids = _free_ids(db_session, table_of(Event), len(values))
    per_row = ("id", *(name for name in EVENT_COLUMNS if name not in shared))
    rows = [
        (i, *(row[name] for name in per_row[1:])) for i, row in zip(bulk_ids, values, strict=True)
    ]
    BulkInsert(table_of(Event), per_row, shared=shared).execute(
        db_session, rows, (Origin.CRM, SyncStatus.PENDING, None, CREATED, CREATED)
    )
    db_session.commit()

    table = table_of(Event)
    orm_ids = [obj.id for obj in objects]
    assert _raw_rows(db_session, table, bulk_ids) == _raw_rows(db_session, table, orm_ids)


def test_shared_values_must_match_the_shared_columns(db_session: Session, owner: User) -> None:
    per_row = tuple(name for name in EVENT_COLUMNS if name not in ("created_at", "updated_at"))
    bulk = BulkInsert(table_of(Event), per_row, shared=("created_at", "updated_at"))

    with pytest.raises(BulkInsertColumnsError, match="1 shared values given for 2"):
        bulk.execute(db_session, [tuple(_event(owner)[name] for name in per_row)], (CREATED,))


def test_a_naive_instant_is_refused_and_nothing_is_written(
    db_session: Session, owner: User
) -> None:
    good = _event(owner)
    naive = _event(owner, start_at=datetime(2026, 3, 10, 15, 0))
    bulk = BulkInsert(table_of(Event), EVENT_COLUMNS)

    with pytest.raises(ValueError, match="naive datetime"):
        bulk.execute(
            db_session, [tuple(row[name] for name in EVENT_COLUMNS) for row in (good, naive)]
        )
    db_session.rollback()

    assert db_session.scalar(select(func.count()).select_from(Event)) == 0


def test_nothing_to_insert_writes_nothing(db_session: Session) -> None:
    BulkInsert(table_of(Event), EVENT_COLUMNS).execute(db_session, [])
    db_session.commit()

    assert db_session.scalar(select(func.count()).select_from(Event)) == 0


@pytest.mark.parametrize(
    ("columns", "problem"),
    [
        (("subject", "no_such_column"), "no column named no_such_column"),
        (("subject", "subject"), "named twice"),
        (tuple(c for c in EVENT_COLUMNS if c != "created_at"), "created_at has a Python-side"),
        (("run_id", "code", "message", "at"), "kind cannot be NULL"),
    ],
)
def test_a_column_list_that_cannot_be_inserted_faithfully_is_refused(
    columns: tuple[str, ...], problem: str
) -> None:
    model = SyncLogEntry if "run_id" in columns else Event
    with pytest.raises(BulkInsertColumnsError, match=problem) as refused:
        BulkInsert(table_of(model), columns)
    assert refused.value.code == "bulk_insert_columns"
