"""A CRM event id the sync state still refers to is never given to a new event.

The sync state names CRM events by id without a foreign key: a link outlives its event so that
the next run knows the event was deleted in the CRM, and a delete outbox entry is the tombstone a
later pull needs. PostgreSQL never hands out an id twice. SQLite does: its `events` table has no
AUTOINCREMENT, so a new row gets the largest id + 1, and after the newest event is deleted the
next one receives its id — together with the deleted event's link and outbox entries. The push
then PATCHed the deleted meeting into the new one instead of cancelling it and creating the new
one (found by the stateful sync test).

Before a flush that adds events on SQLite, `reserve_event_ids` numbers them above every id the
events table, the links and the outbox hold: every write through the ORM (`create_event` from the
REST API, web pages, workflows and scripts). The pull's bulk import (`import_events`) bypasses the
ORM and is given `first_free_event_id` instead. AUTOINCREMENT on the table (a rebuild, so a
migration) would make both unnecessary.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, UOWTransaction

from calsync.crm.models import Event
from calsync.sync.storage.models import OutboxEntry, SyncLinkRecord


def first_free_event_id(session: Session) -> int | None:
    """On SQLite, the first id above every id the events table, the links and the outbox hold;
    None elsewhere (the database's own numbering never reuses an id)."""
    if session.get_bind(mapper=Event.__mapper__).dialect.name != "sqlite":
        return None
    used = union_all(
        select(func.max(Event.id).label("id")),
        select(func.max(SyncLinkRecord.crm_event_id)),
        select(func.max(OutboxEntry.crm_event_id)),
    ).subquery()
    highest = session.connection().execute(select(func.max(used.c.id))).scalar_one_or_none()
    return (highest or 0) + 1


def reserve_event_ids(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """`before_flush` listener: explicit ids for new events on SQLite (see the module doc)."""
    new = [item for item in session.new if isinstance(item, Event) and item.id is None]
    next_id = first_free_event_id(session) if new else None
    if next_id is None:
        return
    for event in new:
        event.id = next_id
        next_id += 1
