"""A CRM event id the sync state still refers to is never given to a new event.

The sync state names CRM events by id without a foreign key: a link outlives its event so that
the next run knows the event was deleted in the CRM, and a delete outbox entry is the tombstone a
later pull needs. PostgreSQL never hands out an id twice. SQLite does: its `events` table has no
AUTOINCREMENT, so a new row gets the largest id + 1, and after the newest event is deleted the
next one receives its id — together with the deleted event's link and outbox entries. The push
then PATCHed the deleted meeting into the new one instead of cancelling it and creating the new
one (found by the stateful sync test).

Before a flush that adds events on SQLite, `reserve_event_ids` numbers them above every id the
events table, the links and the outbox hold. It covers every write through the ORM
(`create_event` from the REST API, web pages, workflows and scripts); a bulk INSERT that bypasses
the ORM still gets SQLite's own numbering, which only AUTOINCREMENT (a table rebuild) would fix.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, UOWTransaction

from calsync.crm.models import Event
from calsync.sync.storage.models import OutboxEntry, SyncLinkRecord


def reserve_event_ids(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """`before_flush` listener: explicit ids for new events on SQLite (see the module doc)."""
    new = [item for item in session.new if isinstance(item, Event) and item.id is None]
    if not new or session.get_bind(mapper=Event.__mapper__).dialect.name != "sqlite":
        return
    used = union_all(
        select(func.max(Event.id).label("id")),
        select(func.max(SyncLinkRecord.crm_event_id)),
        select(func.max(OutboxEntry.crm_event_id)),
    ).subquery()
    highest = session.connection().execute(select(func.max(used.c.id))).scalar_one_or_none()
    next_id = (highest or 0) + 1
    for event in new:
        event.id = next_id
        next_id += 1
