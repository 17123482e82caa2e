"""The transactional outbox: every CRM change of a synced event leaves an entry in its transaction.

A SQLAlchemy session listener (installed once per process by `install_outbox`) looks at each flush:
a new, changed or deleted `Event` that should reach Microsoft 365 gets an `OutboxEntry` row written
on the same connection, so the entry commits or rolls back with the change itself. Every path that
changes events — REST API, web pages, workflows, scripts — goes through a session, so none can
forget to announce a change, and the CRM package never has to know the sync engine exists.

Not announced:
- changes the sync engine applies itself (pulled from Microsoft 365, or results of a push): the
  runners open their sessions inside `engine_writes(session)`, so a change never echoes back to
  the side it came from;
- internal attendees' read-only copies (SPEC §6) and series made with the CRM's own recurrence
  (SPEC §5), which are never pushed;
- events of users whose sync is switched off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, UOWTransaction

from calsync.crm.models import Event, User
from calsync.crm.models.base import utc_now
from calsync.sync.storage.event_ids import reserve_event_ids
from calsync.sync.storage.models import OutboxEntry, OutboxKind

ENGINE_WRITES_KEY = "calsync.sync.engine_writes"

_installed = False


@contextmanager
def engine_writes(session: Session) -> Iterator[Session]:
    """Mark `session`'s event changes as the sync engine's own: they write no outbox entries."""
    previous = session.info.get(ENGINE_WRITES_KEY, False)
    session.info[ENGINE_WRITES_KEY] = True
    try:
        yield session
    finally:
        session.info[ENGINE_WRITES_KEY] = previous


def install_outbox() -> None:
    """Listen to every session's flushes (idempotent; call it once at process start)."""
    global _installed
    if _installed:
        return
    sa_event.listen(Session, "before_flush", reserve_event_ids)
    sa_event.listen(Session, "after_flush", _announce_event_changes)
    _installed = True


def _announce_event_changes(session: Session, _context: UOWTransaction) -> None:
    if session.info.get(ENGINE_WRITES_KEY):
        return
    changes: list[tuple[Event, OutboxKind]] = []
    for instance in session.new:
        if isinstance(instance, Event):
            changes.append((instance, OutboxKind.CREATE))
    for instance in session.dirty:
        if isinstance(instance, Event) and session.is_modified(instance, include_collections=False):
            changes.append((instance, OutboxKind.UPDATE))
    for instance in session.deleted:
        if isinstance(instance, Event):
            changes.append((instance, OutboxKind.DELETE))
    wanted = [(event, kind) for event, kind in changes if _may_sync(event)]
    if not wanted:
        return
    connection = session.connection()
    owner_ids = {event.owner_id for event, _ in wanted}
    synced_owners = set(
        connection.execute(
            select(User.id).where(User.id.in_(owner_ids), User.sync_enabled.is_(True))
        ).scalars()
    )
    now = utc_now()
    rows: list[dict[str, Any]] = [
        {
            "crm_event_id": event.id,
            "owner_id": event.owner_id,
            "kind": kind,
            "created_at": now,
            "attempts": 0,
        }
        for event, kind in wanted
        if event.owner_id in synced_owners
    ]
    if rows:
        connection.execute(insert(OutboxEntry), rows)


def _may_sync(event: Event) -> bool:
    """Copies and CRM-native series never reach Microsoft 365 (SPEC §5, §6)."""
    return event.copy_of_event_id is None and event.recurrence_rule is None and event.id is not None
