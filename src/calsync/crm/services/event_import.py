"""Creating many events that arrived from Microsoft 365 at once (the initial import, SPEC §3).

`create_event` creates one event per call and flushes several times (the event, its internal
copies, then the sync engine's recurrence summary and invitation marker, each a new version). An
initial import creates hundreds of events per mailbox, and those flushes were most of its time.
`import_events` checks every event with the same rules (`check_event`, the same refusals as
`create_event` for Microsoft 365 events and the same checks as `set_m365_recurrence_summary` and
`record_invitation_sent`), then writes all the valid ones with one multi-row insert for the events
and one for their attendees.

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

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from calsync.crm.errors import CrmError, InvalidInputError
from calsync.crm.matching import Match
from calsync.crm.models import Contact, Event, EventAttendee, Individual, Origin, SyncStatus, User
from calsync.crm.services.event_attendees import PlannedAttendee
from calsync.crm.services.event_input import EventInput
from calsync.crm.services.event_rules import CheckedEvent, check_event
from calsync.crm.services.validation import bounded_text, require

# SQLite allows 32,766 bound variables per statement (999 before 3.32); PostgreSQL 65,535. IN
# lists are cut to this size so every database accepts them.
IN_LIST_CHUNK = 900


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True)
class ImportOutcome:
    """What became of one `ImportedEvent`: the new event's id, or the error that refused it."""

    event_id: int | None = None
    error: CrmError | None = None


@dataclass(frozen=True)
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
    # Held until the checks are done: the session's identity map keeps rows only while they are
    # referenced, and each check looks them up there.
    referenced = _load_referenced_records(session, items)
    outcomes: list[ImportOutcome] = [ImportOutcome() for _ in items]
    valid: list[_Checked] = []
    for index, item in enumerate(items):
        try:
            valid.append(_check(session, index, item, matches))
        except CrmError as error:
            outcomes[index] = ImportOutcome(error=error)
    del referenced
    if not valid:
        return outcomes
    ids = _insert_events(session, [_event_row(entry) for entry in valid], first_id)
    attendee_rows = [
        _attendee_row(event_id, position, planned)
        for event_id, entry in zip(ids, valid, strict=True)
        for position, planned in enumerate(entry.checked.attendees)
    ]
    if attendee_rows:
        session.execute(insert(table_of(EventAttendee)), attendee_rows)
    for event_id, entry in zip(ids, valid, strict=True):
        outcomes[entry.index] = ImportOutcome(event_id=event_id)
    return outcomes


def _insert_events(
    session: Session, rows: list[dict[str, Any]], first_id: int | None = None
) -> list[int]:
    """Insert the rows; returns their new ids in the order of `rows`.

    PostgreSQL numbers the rows of one multi-row INSERT … RETURNING in order when asked to
    (`sort_by_parameter_order`). SQLite cannot, so SQLAlchemy would fall back to one INSERT per
    row; there one executemany is used instead, and the ids read back: the transaction holds
    SQLite's only write lock from its first write, and SQLite gives each new row the next id
    above the largest (docs "Rowid Tables", "AUTOINCREMENT"), so our rows hold the highest ids, in
    the order inserted.
    """
    if session.get_bind().dialect.name != "sqlite":
        statement = insert(Event).returning(Event.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, rows))
    if first_id is not None:
        rows = [{**row, "id": first_id + offset} for offset, row in enumerate(rows)]
    session.execute(insert(table_of(Event)), rows)
    newest = session.scalars(select(Event.id).order_by(Event.id.desc()).limit(len(rows)))
    return sorted(newest)


def _load_referenced_records(session: Session, items: Sequence[ImportedEvent]) -> list[object]:
    """Load the owners, attendee records and series events the checks read, a few queries in all,
    so each event's check finds them in the session instead of querying one by one."""
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
    loaded: list[object] = []
    for model, ids in wanted.items():
        for part in chunks(sorted(ids)):
            loaded.extend(session.scalars(select(model).where(model.id.in_(part))))
    return loaded


def _check(
    session: Session,
    index: int,
    item: ImportedEvent,
    matches: Mapping[str, list[Match]] | None,
) -> _Checked:
    """`create_event`'s checks for a Microsoft 365 event, plus those of the sync's records."""
    checked = check_event(session, item.data, matches=matches)
    if checked.recurrence_rule is not None:
        raise InvalidInputError(
            "events from Microsoft 365 carry their recurrence as a summary, not a CRM rule",
            field="recurrence_rule",
        )
    if item.series_event_id is not None:
        series = require(session, Event, item.series_event_id, "series_event_id")
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


def _event_row(entry: _Checked) -> dict[str, Any]:
    """The `events` row, with the values `create_event` stores for a Microsoft 365 event: synced
    (it matches its Outlook copy by definition), at version 1."""
    checked, item = entry.checked, entry.item
    return {
        "owner_id": checked.owner.id,
        "subject": checked.subject,
        "description": checked.description,
        "location": checked.location,
        "time_zone": checked.zone.key,
        "is_all_day": checked.is_all_day,
        "start_at": checked.times.start_at,
        "end_at": checked.times.end_at,
        "start_date": checked.times.start_date,
        "end_date": checked.times.end_date,
        "show_as": checked.show_as,
        "is_private": checked.is_private,
        "is_teams_meeting": checked.is_teams_meeting,
        "teams_join_url": entry.join_url,
        "invitation_sent_at": item.invitation_sent_at if entry.join_url else None,
        "origin": Origin.MICROSOFT365,
        "recurrence_rule": None,
        "recurrence_end_at": None,
        "m365_recurrence_summary": entry.summary,
        "series_event_id": item.series_event_id,
        "original_start": item.original_start,
        "copy_of_event_id": None,
        "sync_status": SyncStatus.SYNCED,
        "sync_message": None,
        "version": 1,
    }


def _attendee_row(event_id: int, position: int, planned: PlannedAttendee) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "position": position,
        "user_id": planned.user_id,
        "individual_id": planned.individual_id,
        "contact_id": planned.contact_id,
        "email": planned.email,
        "email_normalized": planned.email_normalized,
        "name": planned.name,
        "attendee_type": planned.attendee_type,
        "response_status": planned.response_status,
        "is_internal": planned.is_internal,
    }
