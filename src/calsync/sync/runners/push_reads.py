"""The CRM rows a batch of pushes reads, loaded in a few queries instead of several per event.

Planning a push and recording its outcome read the same rows for every event: the event, its
attendees and the people they name (to build the invitees), its owner, and its link. One query per
row per event made those reads most of a push's cost. `BatchReads.load` reads them for up to a batch
of events at once into the session; the per-event code then finds the ORM objects in the session's
identity map (`Session.get` emits no SQL for them), and the links through `BatchReads.link`.

The objects are held here as long as the reads are used, because a session only keeps weak
references to unchanged objects: without them the identity map could forget them and the per-event
reads would query again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from calsync.crm.models import Contact, Event, Individual, User
from calsync.sync.storage.models import SyncLinkRecord


class BatchReads:
    """Events (with attendees, owners and the people their attendees name) and links of a set of
    CRM events, loaded into one session."""

    def __init__(
        self, held: list[object], links: dict[int, SyncLinkRecord], covered: frozenset[int]
    ) -> None:
        self._held = held
        self._links = links
        self._covered = covered

    @classmethod
    def none(cls) -> BatchReads:
        """Nothing loaded: every `link` lookup queries."""
        return cls([], {}, frozenset())

    @classmethod
    def load(cls, session: Session, crm_event_ids: Sequence[int]) -> BatchReads:
        """Read the rows of `crm_event_ids` (at most a few hundred: one bound parameter each)
        into `session`."""
        ids = sorted(set(crm_event_ids))
        if not ids:
            return cls.none()
        events = list(
            session.scalars(
                select(Event).where(Event.id.in_(ids)).options(selectinload(Event.attendees))
            )
        )
        held: list[object] = list(events)
        user_ids = {event.owner_id for event in events}
        individual_ids: set[int] = set()
        contact_ids: set[int] = set()
        for event in events:
            for attendee in event.attendees:
                if attendee.user_id is not None:
                    user_ids.add(attendee.user_id)
                if attendee.individual_id is not None:
                    individual_ids.add(attendee.individual_id)
                if attendee.contact_id is not None:
                    contact_ids.add(attendee.contact_id)
        held += _not_in_session(session, User, user_ids)
        held += _not_in_session(session, Individual, individual_ids)
        held += _not_in_session(session, Contact, contact_ids)
        links = {
            record.crm_event_id: record
            for record in session.scalars(
                select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id.in_(ids))
            )
        }
        return cls(held, links, frozenset(ids))

    def covers(self, crm_event_id: int) -> bool:
        return crm_event_id in self._covered

    def link(self, session: Session, crm_event_id: int) -> SyncLinkRecord | None:
        """The event's link: from the loaded rows when the event was loaded, else queried."""
        if crm_event_id in self._covered:
            return self._links.get(crm_event_id)
        return session.scalar(
            select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == crm_event_id)
        )


def _not_in_session(
    session: Session, model: type[User] | type[Individual] | type[Contact], ids: set[int]
) -> list[object]:
    """Load the rows of `model` with `ids` that the session does not hold yet."""
    missing = [
        key for key in ids if session.identity_map.get(session.identity_key(model, key)) is None
    ]
    if not missing:
        return []
    return list(session.scalars(select(model).where(model.id.in_(missing))))
