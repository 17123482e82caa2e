"""The CRM side of one pull round: every event's `EventState`, from a few set-based queries.

Planning an event needs its CRM event (with attendees and their records), its link, and for an
unlinked Outlook event the matches of SPEC §6 and of lost state: the CRM event its transactionId
names (its owner, its link, its tombstone), the unlinked imported event it may be a twin of, and
the organizer's link of an invitation copy. Asking for those one event at a time made a query or
more per event; `RoundLookups.load` asks once per kind for the whole round, in IN lists cut to a
size every database accepts, and `state_of` then builds each state from memory.

Each state comes with its `Basis`: the version stamps it was built from (the link's, the CRM
event's). The pull plans in a read-only session, makes its Graph calls with no session open, then
re-reads the bases in its write transaction (`current_bases`): an event whose basis moved meanwhile
(a CRM save, a push that linked it) is planned again instead of being written from stale facts.

A series master whose write in flight Microsoft 365 shows took effect (a crash lost its record) has
reached the occurrences too, as our own write: their states carry the merge bases recording it
would have given them (`series_edits.rebased_occurrence_bases`), so an occurrence's own CRM edit
is not mistaken for one that lost to an Outlook change. The write transaction stores those bases
when it saves the master's link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from calsync.crm.addresses import normalize_email
from calsync.crm.models import Contact, Event, Individual, User
from calsync.crm.models import Origin as CrmOrigin
from calsync.crm.services.event_import import chunks
from calsync.crm.services.users import find_user_by_email
from calsync.sync.fields import EventSnapshot, TimedSpan
from calsync.sync.plan import crm_event_id_from_transaction_id
from calsync.sync.runners.convert import crm_event_of, sync_link_of
from calsync.sync.runners.series_edits import (
    occurrence_link_after_series_push,
    rebased_occurrence_bases,
    settled_series_write,
)
from calsync.sync.state import (
    CrmDeleted,
    CrmEvent,
    EventState,
    GraphDeleted,
    GraphEvent,
    GraphEventType,
    MeetingContext,
)
from calsync.sync.storage.models import OutboxEntry, OutboxKind, SyncLinkRecord

LinkStamp = tuple[int, str | None, int, datetime]
"""A link row's identity and version: id, etag, CRM version, last update."""


def link_stamp(record: SyncLinkRecord | None) -> LinkStamp | None:
    if record is None:
        return None
    return (record.id, record.etag, record.crm_version, record.updated_at)


@dataclass(frozen=True)
class Basis:
    """What an event's plan was built from: the link of its Graph id, and the CRM event the plan
    is about (its version, None when it does not exist) with that event's link."""

    graph_link: LinkStamp | None
    crm_event_id: int | None = None
    crm_version: int | None = None
    crm_link: LinkStamp | None = None


@dataclass(frozen=True)
class PlannedState:
    """The core's input for one event, the CRM event it concerns, and its basis. `tombstone`: the
    CRM deleted the event a transactionId names (its delete entry is cleared once applied)."""

    state: EventState | None
    crm_event_id: int | None
    basis: Basis
    tombstone: bool = False


Twins = dict[tuple[datetime, str], list[Event]]
"""Unlinked CRM events imported from Microsoft 365, by start and subject (lost-state re-links)."""


class RoundLookups:
    """What the states of one round's events need from the CRM, loaded with a few queries."""

    def __init__(self, session: Session, mailbox: str, links: Mapping[str, SyncLinkRecord]) -> None:
        self.session = session
        self.mailbox = mailbox
        self.links = links
        self.events: dict[int, Event] = {}
        self.links_by_crm_id: dict[int, SyncLinkRecord] = {}
        self.tombstones: set[int] = set()
        self.twins: Twins = {}
        self.organizers: dict[str, User] = {}
        self.organizer_links: dict[tuple[str, str], SyncLinkRecord] = {}
        self.occurrence_bases: dict[str, EventSnapshot] = {}
        # The attendees' records, held so the session's identity map (which keeps rows only while
        # they are referenced) still has them when each snapshot is built.
        self._records: list[object] = []

    @classmethod
    def load(
        cls,
        session: Session,
        mailbox: str,
        events: Sequence[GraphEvent | GraphDeleted],
        links: Mapping[str, SyncLinkRecord],
        *,
        series: Sequence[GraphEvent | GraphDeleted] = (),
    ) -> RoundLookups:
        """Everything `state_of` will need for `events` (the round, masters first). `series`: more
        of the round's events whose series masters count for the occurrences' bases (a replan of
        some events passes the whole round)."""
        lookups = cls(session, mailbox, links)
        lookups._load_settled_series_writes([*events, *series])
        linked_ids = {links[ev.graph_id].crm_event_id for ev in events if ev.graph_id in links}
        unlinked = [ev for ev in events if isinstance(ev, GraphEvent) and ev.graph_id not in links]
        pushed_ids = {crm_id for ev in unlinked if (crm_id := _pushed_from(ev)) is not None}
        lookups._load_events(linked_ids | pushed_ids)
        for part in chunks(sorted(pushed_ids)):
            for record in session.scalars(
                select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id.in_(part))
            ):
                lookups.links_by_crm_id[record.crm_event_id] = record
        gone = sorted(pushed_ids - lookups.events.keys())
        for part in chunks(gone):
            lookups.tombstones.update(
                session.scalars(
                    select(OutboxEntry.crm_event_id).where(
                        OutboxEntry.crm_event_id.in_(part), OutboxEntry.kind == OutboxKind.DELETE
                    )
                )
            )
        if unlinked:
            lookups._load_twins()
            lookups._load_meeting_contexts(unlinked)
        lookups._load_attendee_records(lookups.events.values())
        return lookups

    def _load_settled_series_writes(self, events: Iterable[GraphEvent | GraphDeleted]) -> None:
        """The occurrences' bases after the series writes in flight that reached Microsoft 365."""
        masters = {
            ev.graph_id: ev
            for ev in events
            if isinstance(ev, GraphEvent) and ev.event_type is GraphEventType.SERIES_MASTER
        }
        for part in chunks(sorted(masters)):
            for record in self.session.scalars(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox == self.mailbox,
                    SyncLinkRecord.graph_id.in_(part),
                    SyncLinkRecord.pending_snapshot.is_not(None),
                )
            ):
                pushed = settled_series_write(sync_link_of(record), masters[record.graph_id])
                if pushed is not None:
                    self.occurrence_bases.update(rebased_occurrence_bases(self.session, pushed))

    def _load_events(self, ids: Iterable[int]) -> None:
        for part in chunks(sorted(ids)):
            for event in self.session.scalars(
                select(Event).options(selectinload(Event.attendees)).where(Event.id.in_(part))
            ):
                self.events[event.id] = event

    def _load_twins(self) -> None:
        owner = find_user_by_email(self.session, self.mailbox)
        if owner is None:
            return
        orphans = self.session.scalars(
            select(Event)
            .options(selectinload(Event.attendees))
            .where(
                Event.owner_id == owner.id,
                Event.origin == CrmOrigin.MICROSOFT365,
                Event.copy_of_event_id.is_(None),
                Event.id.not_in(select(SyncLinkRecord.crm_event_id)),
            )
        ).all()
        for event in orphans:
            self.twins.setdefault((event.start_at, event.subject), []).append(event)
        self._load_attendee_records(orphans)

    def _load_meeting_contexts(self, unlinked: Sequence[GraphEvent]) -> None:
        addresses = sorted(
            {
                normalize_email(ev.organizer_address)
                for ev in unlinked
                if not ev.is_organizer and ev.organizer_address
            }
        )
        for part in chunks(addresses):
            for user in self.session.scalars(
                select(User).where(User.email_normalized.in_(part), User.sync_enabled.is_(True))
            ):
                self.organizers[user.email_normalized] = user
        uids = sorted(
            {
                ev.ical_uid
                for ev in unlinked
                if ev.ical_uid and normalize_email(ev.organizer_address or "") in self.organizers
            }
        )
        mailboxes = sorted(self.organizers)
        for part in chunks(uids):
            for record in self.session.scalars(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox.in_(mailboxes),
                    SyncLinkRecord.ical_uid.in_(part),
                    SyncLinkRecord.is_organizer.is_(True),
                )
            ):
                if record.ical_uid is not None:
                    self.organizer_links.setdefault((record.mailbox, record.ical_uid), record)

    def _load_attendee_records(self, events: Iterable[Event]) -> None:
        """Put the Users, Individuals and Contacts the events invite (and the events' owners) in
        the session, so building each CRM snapshot reads them without a query."""
        wanted: dict[type[Any], set[int]] = {User: set(), Individual: set(), Contact: set()}
        for event in events:
            wanted[User].add(event.owner_id)
            for attendee in event.attendees:
                if attendee.user_id is not None:
                    wanted[User].add(attendee.user_id)
                if attendee.individual_id is not None:
                    wanted[Individual].add(attendee.individual_id)
                if attendee.contact_id is not None:
                    wanted[Contact].add(attendee.contact_id)
        for model, ids in wanted.items():
            for part in chunks(sorted(ids)):
                self._records.extend(self.session.scalars(select(model).where(model.id.in_(part))))

    # ----- one event's state ---------------------------------------------------------------------

    def state_of(self, graph: GraphEvent | GraphDeleted) -> PlannedState:
        """The core's input for `graph` (state None: a removal of an event never linked)."""
        record = self.links.get(graph.graph_id)
        if record is not None:
            link = sync_link_of(record)
            if graph.graph_id in self.occurrence_bases:
                link = replace(link, base=self.occurrence_bases[graph.graph_id])
            event = self.events.get(record.crm_event_id)
            crm: CrmEvent | CrmDeleted = (
                crm_event_of(self.session, event, self.mailbox, link)
                if event is not None
                else CrmDeleted(str(record.crm_event_id))
            )
            if isinstance(graph, GraphEvent) and graph.series_master_id is not None:
                edited = crm.snapshot if isinstance(crm, CrmEvent) else None
                link = occurrence_link_after_series_push(link, self.links, graph, edited)
            basis = Basis(
                link_stamp(record),
                record.crm_event_id,
                event.version if event is not None else None,
                link_stamp(record),
            )
            return PlannedState(
                EventState(link=link, crm=crm, graph=graph), record.crm_event_id, basis
            )
        if isinstance(graph, GraphDeleted):
            return PlannedState(None, None, Basis(None))
        pushed_from = _pushed_from(graph)
        if pushed_from is not None:
            event = self.events.get(pushed_from)
            already = self.links_by_crm_id.get(pushed_from)
            basis = Basis(
                None, pushed_from, event.version if event is not None else None, link_stamp(already)
            )
            if event is not None:
                owner = self.session.get(User, event.owner_id)
                if owner is not None and owner.email.lower() == self.mailbox and already is None:
                    crm = crm_event_of(self.session, event, self.mailbox, None)
                    return PlannedState(EventState(crm=crm, graph=graph), pushed_from, basis)
            elif pushed_from in self.tombstones:
                state = EventState(crm=CrmDeleted(str(pushed_from)), graph=graph)
                return PlannedState(state, pushed_from, basis, tombstone=True)
        orphan = self._unlinked_twin(graph)
        if orphan is not None:
            crm = crm_event_of(self.session, orphan, self.mailbox, None)
            basis = Basis(None, orphan.id, orphan.version, None)
            return PlannedState(EventState(crm=crm, graph=graph), orphan.id, basis)
        state = EventState(graph=graph, meeting=self._meeting_context(graph))
        return PlannedState(state, None, Basis(None))

    def _unlinked_twin(self, graph: GraphEvent) -> Event | None:
        """After lost state, the CRM event imported earlier from this Outlook event, if any.

        CRM rows carry no Graph id or iCalUId, so the one unlinked Microsoft 365 event of the same
        owner with the same subject and start is taken to be it: re-linking it (Microsoft 365 wins
        any difference) is safe, importing it again would show the meeting twice.
        """
        timing = graph.snapshot.timing
        if not isinstance(timing, TimedSpan):
            return None
        candidates = self.twins.get((timing.start, graph.snapshot.subject), [])
        if len(candidates) != 1:
            return None
        return candidates.pop()

    def _meeting_context(self, graph: GraphEvent) -> MeetingContext | None:
        """SPEC §6: is this an invitation copy of a meeting organised by a synced CRM user?"""
        if graph.is_organizer or not graph.organizer_address:
            return None
        organizer = self.organizers.get(normalize_email(graph.organizer_address))
        if organizer is None:
            return None
        origin = None
        if graph.ical_uid:
            organizer_link = self.organizer_links.get((organizer.email_normalized, graph.ical_uid))
            if organizer_link is not None:
                origin = sync_link_of(organizer_link).origin
        return MeetingContext(organizer_mailbox_synced=True, organizer_copy_origin=origin)


def _pushed_from(graph: GraphEvent) -> int | None:
    """The CRM event id in a transactionId CalSync gave the organizer's copy, if any."""
    pushed_from = crm_event_id_from_transaction_id(graph.transaction_id)
    if pushed_from is None or not pushed_from.isdigit() or not graph.is_organizer:
        return None
    return int(pushed_from)


def current_bases(session: Session, mailbox: str, planned: Mapping[str, Basis]) -> dict[str, Basis]:
    """The bases of `planned` (by Graph id) as they stand now, in the caller's transaction."""
    graph_links: dict[str, SyncLinkRecord] = {}
    for part in chunks(sorted(planned)):
        for record in session.scalars(
            select(SyncLinkRecord).where(
                SyncLinkRecord.mailbox == mailbox, SyncLinkRecord.graph_id.in_(part)
            )
        ):
            graph_links[record.graph_id] = record
    crm_ids = sorted({b.crm_event_id for b in planned.values() if b.crm_event_id is not None})
    versions: dict[int, int] = {}
    crm_links: dict[int, SyncLinkRecord] = {}
    for part in chunks(crm_ids):
        rows = session.execute(select(Event.id, Event.version).where(Event.id.in_(part)))
        versions.update((event_id, version) for event_id, version in rows)
        for record in session.scalars(
            select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id.in_(part))
        ):
            crm_links[record.crm_event_id] = record
    current: dict[str, Basis] = {}
    for graph_id, basis in planned.items():
        crm_id = basis.crm_event_id
        current[graph_id] = Basis(
            link_stamp(graph_links.get(graph_id)),
            crm_id,
            versions.get(crm_id) if crm_id is not None else None,
            link_stamp(crm_links.get(crm_id)) if crm_id is not None else None,
        )
    return current
