"""An event's sync history on its page: the sync log's latest lines about this event.

The sync log is where each write, conflict, notice and error is recorded (SPEC §7); an
administrator reads it by mailbox and day, but the person looking at one event wants to know what
happened to that event — "the Outlook value won the subject", "not invited: no e-mail address",
"could not be sent: …". The newest lines come first; the full log stays under Sync.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Event
from calsync.sync.storage.models import SyncLogEntry

HISTORY_LINES = 10


def event_sync_history(db: Session, event: Event) -> list[SyncLogEntry]:
    """The latest sync log lines about `event`, newest first (an index on the event id keeps this
    one short read whatever the log's size)."""
    query = (
        select(SyncLogEntry)
        .where(SyncLogEntry.crm_event_id == event.id)
        .order_by(SyncLogEntry.at.desc(), SyncLogEntry.id.desc())
        .limit(HISTORY_LINES)
    )
    return list(db.scalars(query))
