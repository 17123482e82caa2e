"""Creating many events that arrived from Microsoft 365 at once (the initial import, SPEC §3).

`create_event` creates one event per call and flushes several times (the event, its internal
copies, then the sync engine's recurrence summary and invitation marker, each a new version). An
initial import creates hundreds of events per mailbox, and those flushes were most of its time.
`import_events` checks every event with the same rules (`check_event`, the same refusals as
`create_event` for Microsoft 365 events and the same checks as `set_m365_recurrence_summary` and
`record_invitation_sent`), then writes all the valid ones with one multi-row insert for the events
and one for their attendees (`BulkInsert`: the rows go to the driver as tuples, each value stored
as the ORM stores it). The records the checks read (owners, attendee records, series events) are
loaded for the whole batch first and read from a `KnownRecords`.

Only events whose origin is Microsoft 365 come through here: those never get internal attendees'
copies (SPEC §6; each attendee's own version arrives from their mailbox), so there is nothing to
refresh after the insert. An event that fails a check is reported on its own, with the error
naming its field, and nothing of it is written; the others are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from calsync.crm.bulk_insert import BulkInsert
from calsync.crm.errors import CrmError, InvalidInputError
from calsync.crm.matching import Match
from calsync.crm.models import Contact, Event, EventAttendee, Individual, Origin, SyncStatus, User
from calsync.crm.models.base import utc_now
from calsync.crm.services.event_attendees import PlannedAttendee
from calsync.crm.services.event_input import EventInput
from calsync.crm.services.event_rules import CheckedEvent, check_event
from calsync.crm.services.validation import KnownRecords, bounded_text

# SQLite allows 32,766 bound variables per statement (999 before 3.32); PostgreSQL 65,535. IN
# lists are cut to this size so every database accepts them.
IN_LIST_CHUNK = 900


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportedEvent:
    """One Microsoft 365 event to create: its fields, and what the sync engine records with it.

    `series_event_id` and `original_start` place an occurrence or exception in its series' event;
    `recurrence_summary` is the readable recurrence of a series master; `teams_join_url` with
    `invitation_sent_at` records that Microsoft 365 sent the Teams invitation (SPEC §4).
    """

    data: EventInput
    series_event_id: int | None = None
    original_start: datetime | None = None
    recurrence_summary: str | None = None
    teams_join_url: str | None = None
    invitation_sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What became of one `ImportedEvent`: the new event's id, or the error that refused it."""

    event_id: int | None = None
    error: CrmError | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    index: int
    checked: CheckedEvent
    item: ImportedEvent
    summary: str | None
    join_url: str | None


def table_of(model: type[Any]) -> Table:
    """The table of a mapped class, for Core inserts: a list of row dicts goes out as one
    executemany, without the ORM's per-row bookkeeping (these rows never become session objects).
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def chunks(values: Sequence[Any], size: int = IN_LIST_CHUNK) -> list[Sequence[Any]]:
    """`values` cut into IN lists every database accepts."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def import_events(
    session: Session,
    items: Sequence[ImportedEvent],
    *,
    matches: Mapping[str, list[Match]] | None = None,
    first_id: int | None = None,
) -> list[ImportOutcome]:
    """Create the events of `items` (all from Microsoft 365), one outcome per item in order.

    `matches`: the attendees' addresses already matched in this transaction (`match_emails`), so
    checking does not query per event; addresses missing from it are matched as usual.
    `first_id`: on SQLite, number the new events from this id up (the sync engine passes one that
    no sync state names, since SQLite would reuse the id of a deleted newest event).
    """
    known = _load_referenced_records(session, items)
    outcomes: list[ImportOutcome] = [ImportOutcome() for _ in items]
    valid: list[_Checked] = []
    for index, item in enumerate(items):
        try:
            valid.append(_check(known, index, item, matches))
        except CrmError as error:
            outcomes[index] = ImportOutcome(error=error)
    if not valid:
        return outcomes
    ids = _insert_events(session, valid, first_id)
    _ATTENDEES.execute(
        session,
        [
            _attendee_row(event_id, position, planned)
            for event_id, entry in zip(ids, valid, strict=True)
            for position, planned in enumerate(entry.checked.attendees)
        ],
    )
    for event_id, entry in zip(ids, valid, strict=True):
        outcomes[entry.index] = ImportOutcome(event_id=event_id)
    return outcomes


def _insert_events(
    session: Session, valid: Sequence[_Checked], first_id: int | None = None
) -> list[int]:
    """Insert the events of `valid`; returns their new ids in the same order.

    On PostgreSQL the ids are taken from the table's sequence first (`nextval`, never handed out
    twice), so one executemany writes the rows with their ids. On SQLite the sync engine passes
    `first_id`; without it the rows are numbered by SQLite and their ids read back: the
    transaction holds SQLite's only write lock from its first write, and SQLite gives each new row
    the next id above the largest (docs "Rowid Tables", "AUTOINCREMENT"), so our rows hold the
    highest ids, in the order inserted. Other databases number the rows of one multi-row
    INSERT … RETURNING in order when SQLAlchemy is asked to (`sort_by_parameter_order`).
    """
    shared = _event_shared(utc_now())
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and first_id is None:
        _EVENTS_NUMBERED_BY_DATABASE.execute(
            session, [_event_row(entry) for entry in valid], shared
        )
        newest = session.scalars(select(Event.id).order_by(Event.id.desc()).limit(len(valid)))
        return sorted(newest)
    if dialect == "sqlite" and first_id is not None:
        ids = list(range(first_id, first_id + len(valid)))
    elif dialect == "postgresql":
        ids = list(session.scalars(_NEXT_EVENT_IDS, {"count": len(valid)}))
    else:
        statement = insert(Event).returning(Event.id, sort_by_parameter_order=True)
        names = (*_EVENT_COLUMNS, *_EVENT_SHARED_COLUMNS)
        rows = [dict(zip(names, (*_event_row(entry), *shared), strict=True)) for entry in valid]
        return list(session.scalars(statement, rows))
    _EVENTS.execute(
        session,
        [(event_id, *_event_row(entry)) for event_id, entry in zip(ids, valid, strict=True)],
        shared,
    )
    return ids


def _load_referenced_records(session: Session, items: Sequence[ImportedEvent]) -> KnownRecords:
    """Load the owners, attendee records and series events the checks read, a few queries in all,
    so each event's check finds them without a query (or a session lookup) of its own."""
    wanted: dict[type[Any], set[int]] = {
        User: set(),
        Individual: set(),
        Contact: set(),
        Event: set(),
    }
    for item in items:
        if item.data.owner_id is not None:
            wanted[User].add(item.data.owner_id)
        if item.series_event_id is not None:
            wanted[Event].add(item.series_event_id)
        for attendee in item.data.attendees:
            if attendee.user_id is not None:
                wanted[User].add(attendee.user_id)
            if attendee.individual_id is not None:
                wanted[Individual].add(attendee.individual_id)
            if attendee.contact_id is not None:
                wanted[Contact].add(attendee.contact_id)
    known = KnownRecords(session)
    for model, ids in wanted.items():
        for part in chunks(sorted(ids)):
            known.remember(model, session.scalars(select(model).where(model.id.in_(part))))
    return known


def _check(
    known: KnownRecords,
    index: int,
    item: ImportedEvent,
    matches: Mapping[str, list[Match]] | None,
) -> _Checked:
    """`create_event`'s checks for a Microsoft 365 event, plus those of the sync's records."""
    checked = check_event(known.session, item.data, matches=matches, known=known)
    if checked.recurrence_rule is not None:
        raise InvalidInputError(
            "events from Microsoft 365 carry their recurrence as a summary, not a CRM rule",
            field="recurrence_rule",
        )
    if item.series_event_id is not None:
        series = known.require(Event, item.series_event_id, "series_event_id")
        if series.origin is not Origin.MICROSOFT365:
            raise InvalidInputError(
                "only events from Microsoft 365 can be occurrences of a series",
                field="series_event_id",
            )
    if item.original_start is not None and item.original_start.tzinfo is None:
        raise InvalidInputError("must include a time zone", field="original_start")
    summary = bounded_text(item.recurrence_summary, "m365_recurrence_summary", 1_000) or None
    join_url = None
    if item.teams_join_url is not None:
        join_url = item.teams_join_url.strip()
        if not join_url.startswith("https://"):
            raise InvalidInputError("a Teams join URL starts with https://", field="teams_join_url")
        if not checked.is_teams_meeting:
            raise InvalidInputError("the event is not a Teams meeting", field="teams_join_url")
    if item.invitation_sent_at is not None and item.invitation_sent_at.tzinfo is None:
        raise InvalidInputError("must include a time zone", field="invitation_sent_at")
    return _Checked(index, checked, item, summary, join_url)


_EVENT_COLUMNS = (
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
    "m365_recurrence_summary",
    "series_event_id",
    "original_start",
)
# What `create_event` stores for every Microsoft 365 event: synced (it matches its Outlook copy by
# definition), at version 1, without a CRM recurrence or a copy's origin; and the creation time.
_EVENT_SHARED_COLUMNS = (
    "origin",
    "recurrence_rule",
    "recurrence_end_at",
    "copy_of_event_id",
    "sync_status",
    "sync_message",
    "version",
    "created_at",
    "updated_at",
)
_EVENTS = BulkInsert(table_of(Event), ("id", *_EVENT_COLUMNS), shared=_EVENT_SHARED_COLUMNS)
_EVENTS_NUMBERED_BY_DATABASE = BulkInsert(
    table_of(Event), _EVENT_COLUMNS, shared=_EVENT_SHARED_COLUMNS
)
_NEXT_EVENT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :count)"
)


def _event_shared(now: datetime) -> tuple[Any, ...]:
    """The `_EVENT_SHARED_COLUMNS` values of a Microsoft 365 event created at `now`."""
    return (Origin.MICROSOFT365, None, None, None, SyncStatus.SYNCED, None, 1, now, now)


def _event_row(entry: _Checked) -> tuple[Any, ...]:
    """The `events` row (`_EVENT_COLUMNS`) of a checked event."""
    checked, item = entry.checked, entry.item
    times = checked.times
    return (
        checked.owner.id,
        checked.subject,
        checked.description,
        checked.location,
        checked.zone.key,
        checked.is_all_day,
        times.start_at,
        times.end_at,
        times.start_date,
        times.end_date,
        checked.show_as,
        checked.is_private,
        checked.is_teams_meeting,
        entry.join_url,
        item.invitation_sent_at if entry.join_url else None,
        entry.summary,
        item.series_event_id,
        item.original_start,
    )


_ATTENDEES = BulkInsert(
    table_of(EventAttendee),
    (
        "event_id",
        "position",
        "user_id",
        "individual_id",
        "contact_id",
        "email",
        "email_normalized",
        "name",
        "attendee_type",
        "response_status",
        "is_internal",
    ),
)


def _attendee_row(event_id: int, position: int, planned: PlannedAttendee) -> tuple[Any, ...]:
    return (
        event_id,
        position,
        planned.user_id,
        planned.individual_id,
        planned.contact_id,
        planned.email,
        planned.email_normalized,
        planned.name,
        planned.attendee_type,
        planned.response_status,
        planned.is_internal,
    )
