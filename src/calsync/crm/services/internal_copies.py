"""Internal attendees' read-only copies of an event (SPEC §6).

When an event created in the CRM has staff users other than the owner among its attendees, each of
them gets exactly one copy on their own CRM calendar. The copy follows the owner's event: it is
rewritten whenever the owner's event is saved and disappears with it (the foreign key cascades).
Copies are never synced; the owner's event is, and Outlook invites the attendees.

Events that came from Microsoft 365 get no copies: each internal attendee's own version arrives from
their mailbox through the sync, and a copy as well would show the meeting twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Event, EventAttendee, Origin, SyncStatus, User

# Everything a copy mirrors from the owner's event.
MIRRORED_FIELDS = (
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
    "original_start",
)
MIRRORED_ATTENDEE_FIELDS = (
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
)


def copy_message(owner: User) -> str:
    """Why a copy is not synced, in words for its reader."""
    return (
        f"Copy of {owner.name}'s event for an internal attendee; it follows that event and only "
        "that event syncs with Microsoft 365."
    )


def gets_internal_copies(event: Event) -> bool:
    """Only owners' events created in the CRM hand out copies (see the module docstring)."""
    return (
        event.copy_of_event_id is None
        and event.series_event_id is None
        and event.origin is Origin.CRM
    )


def _attendee_users(event: Event) -> list[int]:
    if not gets_internal_copies(event):
        return []
    wanted: list[int] = []
    for attendee in event.attendees:
        user_id = attendee.user_id
        if user_id is not None and user_id != event.owner_id and user_id not in wanted:
            wanted.append(user_id)
    return wanted


def _mirror(event: Event, copy: Event, owner: User) -> None:
    for name in MIRRORED_FIELDS:
        setattr(copy, name, getattr(event, name))
    copy.sync_status = SyncStatus.NOT_SYNCED
    copy.sync_message = copy_message(owner)
    copy.attendees = [
        EventAttendee(**{name: getattr(attendee, name) for name in MIRRORED_ATTENDEE_FIELDS})
        for attendee in event.attendees
    ]


def refresh_internal_copies(session: Session, event: Event) -> None:
    """Make the copies of `event` match it: one per internal attendee, none for anyone else."""
    session.flush()
    wanted = _attendee_users(event)
    existing = {
        copy.owner_id: copy
        for copy in session.scalars(select(Event).where(Event.copy_of_event_id == event.id))
    }
    for owner_id, stale in existing.items():
        if owner_id not in wanted:
            session.delete(stale)
    owner = session.get(User, event.owner_id)
    if owner is None:  # the foreign key makes this impossible once flushed
        raise ValueError(f"event {event.id} has no owner")
    for user_id in wanted:
        current = existing.get(user_id)
        if current is None:
            current = Event(owner_id=user_id, copy_of_event_id=event.id, version=1)
            session.add(current)
        else:
            current.version += 1
        _mirror(event, current, owner)
    session.flush()
