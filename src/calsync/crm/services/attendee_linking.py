"""Linking bare-email attendees to a record that has just gained their address (SPEC §3).

An attendee whose address matched nothing is kept as a plain address; when a User, Individual or
Contact later gains that address, those attendees become links to the record. The owners' events
are linked (and their internal copies refreshed); copies follow their event.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.matching import RecordKind
from calsync.crm.models import Event, EventAttendee
from calsync.crm.services.internal_copies import refresh_internal_copies

_LINK_COLUMN = {
    RecordKind.USER: "user_id",
    RecordKind.INDIVIDUAL: "individual_id",
    RecordKind.CONTACT: "contact_id",
}


def link_bare_attendees(
    session: Session, kind: RecordKind, record_id: int, addresses: Collection[str]
) -> None:
    """Link every bare attendee with one of `addresses` (normalized) to the record."""
    if not addresses:
        return
    bare = session.scalars(
        select(EventAttendee)
        .join(Event, Event.id == EventAttendee.event_id)
        .where(
            EventAttendee.email_normalized.in_(sorted(addresses)),
            EventAttendee.user_id.is_(None),
            EventAttendee.individual_id.is_(None),
            EventAttendee.contact_id.is_(None),
            Event.copy_of_event_id.is_(None),
        )
        .order_by(EventAttendee.event_id, EventAttendee.position)
    ).all()
    column = _LINK_COLUMN[kind]
    changed: dict[int, Event] = {}
    for attendee in bare:
        event = attendee.event
        already_there = any(
            getattr(other, column) == record_id
            for other in event.attendees
            if other is not attendee
        )
        if already_there:
            event.attendees.remove(attendee)
        else:
            setattr(attendee, column, record_id)
            attendee.is_internal = kind is RecordKind.USER
        changed[event.id] = event
    for event in changed.values():
        event.version += 1
    session.flush()
    for event in changed.values():
        refresh_internal_copies(session, event)


def unlink_record(session: Session, kind: RecordKind, record_id: int) -> None:
    """Before a record is deleted: its attendees keep their address as bare emails (or go, if
    they had none), and the events they were on move to a new version."""
    column = getattr(EventAttendee, _LINK_COLUMN[kind])
    linked = session.scalars(select(EventAttendee).where(column == record_id)).all()
    changed: dict[int, Event] = {}
    for attendee in linked:
        event = attendee.event
        if attendee.email:
            setattr(attendee, _LINK_COLUMN[kind], None)
            attendee.is_internal = False
        else:
            event.attendees.remove(attendee)
        if event.copy_of_event_id is None:
            changed[event.id] = event
    for event in changed.values():
        event.version += 1
    session.flush()
    for event in changed.values():
        refresh_internal_copies(session, event)
