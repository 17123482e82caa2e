"""Attendees a CRM event lists but Outlook cannot invite.

SPEC §2 invites an Individual or Contact at the `email` of their record. A record without one
cannot be invited: the meeting goes out without that person while the CRM still lists them. That
must not pass silently, so the push writes a warning to the sync log each time it sends such an
event, and the event page says who was not invited (worked out when the page is shown, so it is
right again as soon as the record gets an address and the event is synced).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from calsync.crm.models import Contact, Event, Individual
from calsync.sync.actions import NoticeCode, Severity, SyncNotice
from calsync.sync.attendees import RecordKind
from calsync.sync.runners.convert import invitees_of


def uninvited_attendees(session: Session, event: Event) -> list[str]:
    """The names of the event's attendees Outlook cannot invite: records without an e-mail
    address, in the event's attendee order."""
    names: list[str] = []
    for invitee in invitees_of(session, event):
        if invitee.address and invitee.address.strip():
            continue
        record = invitee.record
        if record is None:
            continue
        person = _person(session, record.kind, int(record.record_id))
        kind = record.kind.value.capitalize()
        names.append(f"{person.display_name} ({kind})" if person else f"{kind} {record.record_id}")
    return names


def _person(session: Session, kind: RecordKind, record_id: int) -> Individual | Contact | None:
    if kind is RecordKind.INDIVIDUAL:
        return session.get(Individual, record_id)
    if kind is RecordKind.CONTACT:
        return session.get(Contact, record_id)
    return None


def uninvited_message(names: list[str]) -> str:
    """What a person reads about the attendees Outlook could not invite."""
    who = ", ".join(names)
    return (
        f"Not invited in Outlook: {who} — no e-mail address on their record. Add one to the "
        "record, then save the event to send the invitation."
    )


def uninvited_notice(session: Session, event: Event) -> SyncNotice | None:
    """A warning for the sync log when the event lists attendees Outlook cannot invite."""
    names = uninvited_attendees(session, event)
    if not names:
        return None
    return SyncNotice(
        NoticeCode.ATTENDEE_NOT_INVITED, Severity.WARNING, uninvited_message(names), "attendees"
    )
