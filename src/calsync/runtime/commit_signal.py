"""Wake the push worker when a CRM transaction that changed events commits.

The outbox entries are written in the change's own transaction (`calsync.sync.storage.outbox`);
this listener only notices, per session, that a flush touched an `Event` outside the engine's own
writes and, once that transaction commits, calls the subscribers. A rollback forgets it. So a
CRM-created event is pushed a few milliseconds after its commit, not at the next poll.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, UOWTransaction

from calsync.crm.models import Event
from calsync.sync.storage.outbox import ENGINE_WRITES_KEY

_TOUCHED_KEY = "calsync.runtime.events_touched"
_subscribers: list[Callable[[], None]] = []
_installed = False


def subscribe(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after every commit that changed events; returns the unsubscribe function.

    Callbacks run in the committing thread (an API worker thread, a CLI): they must be quick and
    thread-safe.
    """
    _install()
    _subscribers.append(callback)

    def unsubscribe() -> None:
        if callback in _subscribers:
            _subscribers.remove(callback)

    return unsubscribe


def _install() -> None:
    global _installed
    if _installed:
        return
    sa_event.listen(Session, "after_flush", _note_event_changes)
    sa_event.listen(Session, "after_commit", _announce)
    sa_event.listen(Session, "after_rollback", _forget)
    _installed = True


def _note_event_changes(session: Session, _context: UOWTransaction) -> None:
    if session.info.get(ENGINE_WRITES_KEY):
        return
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(instance, Event) for instance in touched):
        session.info[_TOUCHED_KEY] = True


def _announce(session: Session) -> None:
    if session.info.pop(_TOUCHED_KEY, False):
        for callback in list(_subscribers):
            callback()


def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED_KEY, None)
