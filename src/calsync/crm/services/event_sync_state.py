"""What the sync engine records on an event: its sync status, the Teams join URL and the
invitation marker, and the readable recurrence of a Microsoft 365 series.

These are the only writers of those fields. Each moves the event to a new version (the event did
change) and refreshes the internal attendees' copies, which show the same facts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import Event, Origin, SyncStatus
from calsync.crm.services.events import flush_event_changes, get_event, refuse_copy
from calsync.crm.services.internal_copies import refresh_internal_copies
from calsync.crm.services.validation import bounded_text


def _owner_event(session: Session, event_id: int) -> Event:
    event = get_event(session, event_id)
    refuse_copy(session, event)
    return event


def _save(session: Session, event: Event) -> Event:
    event.version += 1
    flush_event_changes(session)
    refresh_internal_copies(session, event)
    return event


def mark_synced(session: Session, event_id: int) -> Event:
    """The event now matches its Microsoft 365 copy."""
    event = _owner_event(session, event_id)
    if event.recurrence_rule is not None:
        raise InvalidInputError(
            "a series with the CRM's own recurrence is never synced", field="sync_status"
        )
    event.sync_status = SyncStatus.SYNCED
    event.sync_message = None
    return _save(session, event)


def mark_sync_error(session: Session, event_id: int, message: str) -> Event:
    """The last attempt to sync the event failed; `message` tells a person what to do."""
    event = _owner_event(session, event_id)
    text = bounded_text(message, "sync_message", 2_000)
    if not text:
        raise InvalidInputError("say what went wrong", field="sync_message")
    event.sync_status = SyncStatus.ERROR
    event.sync_message = text
    return _save(session, event)


def record_invitation_sent(
    session: Session, event_id: int, sent_at: datetime, teams_join_url: str | None = None
) -> Event:
    """Microsoft 365 has sent the invitation (with the Teams join URL, for a Teams meeting).

    From now on Teams Meeting can no longer be unchecked (SPEC §4).
    """
    if sent_at.tzinfo is None:
        raise InvalidInputError("must include a time zone", field="invitation_sent_at")
    event = _owner_event(session, event_id)
    if teams_join_url is not None:
        url = teams_join_url.strip()
        if not url.startswith("https://"):
            raise InvalidInputError("a Teams join URL starts with https://", field="teams_join_url")
        if not event.is_teams_meeting:
            raise InvalidInputError("the event is not a Teams meeting", field="teams_join_url")
        event.teams_join_url = url
    if event.invitation_sent_at is None:
        event.invitation_sent_at = sent_at
    return _save(session, event)


def set_m365_recurrence_summary(session: Session, event_id: int, summary: str | None) -> Event:
    """Record (or with None, clear) the readable recurrence of a series owned by Microsoft 365,
    such as "Every 2 weeks on Monday and Wednesday, until 30 June 2027"."""
    event = _owner_event(session, event_id)
    if event.origin is not Origin.MICROSOFT365:
        raise InvalidInputError(
            "only series from Microsoft 365 have a Microsoft 365 recurrence",
            field="m365_recurrence_summary",
        )
    text = bounded_text(summary, "m365_recurrence_summary", 1_000)
    event.m365_recurrence_summary = text or None
    return _save(session, event)
