"""Applying the core's CRM-side actions through the CRM services, and saving links.

Every write goes through `calsync.crm.services` (never the tables), with `Origin.MICROSOFT365` /
`changed_in=Origin.MICROSOFT365`, inside `engine_writes` so that nothing pulled enters the outbox.
Attendees arriving from Microsoft 365 are matched over all four address sources (SPEC §3) with
`match_emails`; each matched record keeps the address Graph used, so the next comparison sees the
same set on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.addresses import normalize_email
from calsync.crm.bulk_insert import BulkInsert
from calsync.crm.errors import CrmError
from calsync.crm.matching import Match, match_emails
from calsync.crm.models import Event, User
from calsync.crm.models import ShowAs as CrmShowAs
from calsync.crm.models.base import utc_now
from calsync.crm.services.event_import import ImportedEvent, chunks, import_events, table_of
from calsync.crm.services.event_input import AttendeeInput, EventInput, event_input_of
from calsync.crm.services.event_sync_state import (
    mark_sync_error,
    mark_synced,
    record_invitation_sent,
    set_m365_recurrence_summary,
)
from calsync.crm.services.events import create_event, delete_event, update_event
from calsync.crm.services.users import find_user_by_email
from calsync.graph.models import Event as GraphModelEvent
from calsync.sync.actions import (
    Action,
    CreateInCrm,
    DeleteInCrm,
    MarkNotSynced,
    SaveLink,
    SetTeamsJoinUrl,
    UpdateInCrm,
)
from calsync.sync.attendees import (
    GraphAttendee,
    RecordKind,
    RecordRef,
    crm_attendees_from_graph,
)
from calsync.sync.errors import InconsistentSyncState
from calsync.sync.fields import AllDaySpan, EventSnapshot, ShowAs
from calsync.sync.runners.convert import (
    crm_origin,
    graph_attendees_of,
    link_origin,
    organizer_of,
)
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.state import Origin
from calsync.sync.storage.event_ids import first_free_event_id
from calsync.sync.storage.models import Direction, SyncLinkRecord
from calsync.sync.storage.snapshots import snapshot_to_json


class SkipEvent(Exception):
    """This event's plan cannot be applied now (e.g. its series is not imported yet); the run goes
    on with the others and the message goes to the sync log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class CrmWriter:
    """Applies CRM actions for one mailbox's run in one session."""

    session: Session
    mailbox: str
    log: RunLog
    now: datetime
    raw_events: Mapping[str, GraphModelEvent]
    writes: int = 0
    _owners: dict[str, User] = field(default_factory=dict)
    _matches: dict[str, list[Match]] = field(default_factory=dict)
    # Per transaction, so an import converts each Graph event's people and each address's
    # records once (both are read again for every event that names them).
    _people: dict[str, tuple[list[GraphAttendee], str | None]] = field(default_factory=dict)
    _record_refs: dict[str, list[RecordRef]] = field(default_factory=dict)

    def owner(self, mailbox: str) -> User:
        user = self._owners.get(mailbox)
        if user is None:
            user = find_user_by_email(self.session, mailbox)
            if user is not None:
                self._owners[mailbox] = user
        if user is None:
            raise SkipEvent(
                "mailbox_without_user",
                f"No CRM user has the mailbox {mailbox}; add the user in the CRM to sync it.",
            )
        return user

    def apply(self, actions: Sequence[Action], crm_event_id: int | None) -> int | None:
        """Apply the CRM-side actions in order; return the id of the CRM event the plan is about."""
        for action in actions:
            if isinstance(action, CreateInCrm):
                crm_event_id = self._create(action)
            elif isinstance(action, UpdateInCrm):
                self._update(action)
                crm_event_id = int(action.crm_event_id)
            elif isinstance(action, DeleteInCrm):
                delete_event(self.session, int(action.crm_event_id), action.expected_version)
                self.writes += 1
                self.log.action(
                    Direction.MICROSOFT_365_TO_CRM,
                    "deleted_in_crm",
                    f"Deleted CRM event {action.crm_event_id}: it was deleted in {self.mailbox}.",
                    crm_event_id=int(action.crm_event_id),
                )
                crm_event_id = None
            elif isinstance(action, SetTeamsJoinUrl) and action.join_url:
                event = self.session.get(Event, int(action.crm_event_id))
                if event is not None and event.is_teams_meeting:
                    record_invitation_sent(self.session, event.id, self.now, action.join_url)
                    self.writes += 1
            elif isinstance(action, MarkNotSynced):
                self._mark_not_synced(action)
        return crm_event_id

    def import_new(self, creates: Sequence[CreateInCrm]) -> list[int | SkipEvent | CrmError]:
        """Create the CRM events of a round's new Outlook events together, one outcome per action
        in order: the new event's id, or why it was not created (nothing of it is written).

        Only for Microsoft 365 events (`origin` Microsoft 365): `import_events` checks each with
        `create_event`'s rules and writes them all with a couple of multi-row inserts. Occurrences
        need their series' link, saved earlier in this transaction (masters are imported first).
        """
        refused: dict[int, SkipEvent | CrmError] = {}
        masters = self._series_events({c.series_master_graph_id for c in creates} - {None})
        self.match_addresses(
            address
            for create in creates
            if (raw := self.raw_events.get(create.graph_id)) is not None
            for address in self._addresses_of(create.graph_id, raw)
        )
        items: dict[int, ImportedEvent] = {}
        for position, create in enumerate(creates):
            try:
                items[position] = self._imported_event(create, masters)
            except SkipEvent as error:
                refused[position] = error
        results = dict(
            zip(
                items,
                import_events(
                    self.session,
                    list(items.values()),
                    matches=self._matches,
                    first_id=first_free_event_id(self.session),
                ),
                strict=True,
            )
        )
        outcomes: list[int | SkipEvent | CrmError] = []
        for position, create in enumerate(creates):
            result = results.get(position)
            if result is None or result.event_id is None:
                refusal = result.error if result is not None else None
                outcomes.append(refused.get(position) or refusal or _series_not_imported(create))
                continue
            outcomes.append(result.event_id)
            self.writes += 1
            self.log.action(
                Direction.MICROSOFT_365_TO_CRM,
                "created_in_crm",
                f"Created CRM event {result.event_id} '{items[position].data.subject.strip()}' "
                f"from {self.mailbox}.",
                crm_event_id=result.event_id,
                graph_id=create.graph_id,
            )
        return outcomes

    def _imported_event(self, create: CreateInCrm, masters: Mapping[str, int]) -> ImportedEvent:
        owner = self.owner(create.owner_mailbox)
        series_event_id = None
        if create.series_master_graph_id is not None:
            series_event_id = masters.get(create.series_master_graph_id)
            if series_event_id is None:
                raise _series_not_imported(create)
        teams = create.snapshot.is_teams_meeting and bool(create.teams_join_url)
        return ImportedEvent(
            data=self._new_event_input(owner, create),
            series_event_id=series_event_id,
            original_start=create.original_start,
            recurrence_summary=create.recurrence_summary,
            teams_join_url=create.teams_join_url if teams else None,
            invitation_sent_at=self.now if teams else None,
        )

    def _new_event_input(self, owner: User, create: CreateInCrm) -> EventInput:
        """A new Outlook event as CRM input, every field of its snapshot. Its attendees go as bare
        addresses: the CRM's `plan_attendees` resolves them to their records with the round's
        matches (SPEC §3), so the sync does not do it as well."""
        snapshot = create.snapshot
        return EventInput(
            owner_id=owner.id,
            attendees=self._attendee_inputs(
                snapshot, owner, create.graph_id, resolve_records=False
            ),
            **_field_values(snapshot, SNAPSHOT_FIELDS, owner.time_zone),  # type: ignore[arg-type]
        )

    def _series_events(self, master_graph_ids: Iterable[str | None]) -> dict[str, int]:
        """The CRM events of these series masters in this mailbox, by the master's Graph id."""
        wanted = sorted(gid for gid in master_graph_ids if gid is not None)
        linked: dict[str, int] = {}
        for part in chunks(wanted):
            rows = self.session.execute(
                select(SyncLinkRecord.graph_id, SyncLinkRecord.crm_event_id).where(
                    SyncLinkRecord.mailbox == self.mailbox, SyncLinkRecord.graph_id.in_(part)
                )
            )
            linked.update((graph_id, crm_event_id) for graph_id, crm_event_id in rows)
        existing: set[int] = set()
        for part in chunks(sorted(linked.values())):
            existing.update(self.session.scalars(select(Event.id).where(Event.id.in_(part))))
        return {gid: crm_id for gid, crm_id in linked.items() if crm_id in existing}

    def match_addresses(self, addresses: Iterable[str]) -> dict[str, list[Match]]:
        """`match_emails` over all four sources (SPEC §3), remembered for this transaction: a
        round's events share most of their addresses, and a query per event was most of an
        import's reads."""
        wanted = {normalize_email(address) for address in addresses} - {""}
        missing = wanted - self._matches.keys()
        if missing:
            self._matches.update(match_emails(self.session, missing))
        return {address: self._matches.get(address, []) for address in wanted}

    def _mark_not_synced(self, action: MarkNotSynced) -> None:
        """Show on the event why it is not synced; a CRM series already says so itself."""
        event = self.session.get(Event, int(action.crm_event_id))
        if event is not None and event.recurrence_rule is not None:
            return  # not an error: the plan's notice is the log line
        self.log.error(action.reason_code, action.message, crm_event_id=int(action.crm_event_id))
        if event is not None:
            mark_sync_error(self.session, event.id, action.message)
            self.writes += 1

    def _create(self, action: CreateInCrm) -> int:
        owner = self.owner(action.owner_mailbox)
        series_event_id = None
        if action.series_master_graph_id is not None:
            master = self.session.scalar(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox == self.mailbox,
                    SyncLinkRecord.graph_id == action.series_master_graph_id,
                )
            )
            if master is None or self.session.get(Event, master.crm_event_id) is None:
                raise _series_not_imported(action)
            series_event_id = master.crm_event_id
        data = self.event_input(owner, action.snapshot, None, action.graph_id)
        origin = crm_origin(action.origin)
        event = create_event(
            self.session,
            data,
            origin=crm_origin(Origin.MICROSOFT_365) if series_event_id else origin,
            series_event_id=series_event_id,
            original_start=action.original_start,
        )
        self.writes += 1
        if action.recurrence_summary:
            set_m365_recurrence_summary(self.session, event.id, action.recurrence_summary)
        if action.teams_join_url and event.is_teams_meeting:
            record_invitation_sent(self.session, event.id, self.now, action.teams_join_url)
        if origin.value == "crm":
            mark_synced(self.session, event.id)
        self.log.action(
            Direction.MICROSOFT_365_TO_CRM,
            "created_in_crm",
            f"Created CRM event {event.id} '{event.subject}' from {self.mailbox}.",
            crm_event_id=event.id,
            graph_id=action.graph_id,
        )
        return event.id

    def _update(self, action: UpdateInCrm) -> None:
        event = self.session.get(Event, int(action.crm_event_id))
        if event is None:
            raise SkipEvent("crm_event_gone", f"CRM event {action.crm_event_id} no longer exists.")
        owner = self.session.get(User, event.owner_id)
        if owner is None:
            raise SkipEvent("crm_owner_gone", f"The owner of CRM event {event.id} is gone.")
        graph_id = None
        link = self.session.scalar(
            select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == event.id)
        )
        if link is not None:
            graph_id = link.graph_id
        fields = set(action.fields) - {"recurrence"}
        if fields:
            data = self.event_input(owner, action.snapshot, event, graph_id, fields)
            update_event(
                self.session,
                event.id,
                action.expected_version,
                data,
                changed_in=crm_origin(Origin.MICROSOFT_365),
            )
            self.writes += 1
        if action.recurrence_summary:
            set_m365_recurrence_summary(self.session, event.id, action.recurrence_summary)
        self.log.action(
            Direction.MICROSOFT_365_TO_CRM,
            "updated_in_crm",
            f"Updated {', '.join(action.fields)} of CRM event {event.id} from {self.mailbox}.",
            crm_event_id=event.id,
            graph_id=graph_id,
        )

    def event_input(
        self,
        owner: User,
        snapshot: EventSnapshot,
        event: Event | None,
        graph_id: str | None,
        fields: set[str] | None = None,
    ) -> EventInput:
        """The CRM input writing `fields` of `snapshot` (all of them for a new event), its
        attendees resolved to their records (`update_event` and `create_event` then find them
        without matching each address again)."""
        base = (
            event_input_of(event)
            if event is not None
            else EventInput(
                owner_id=owner.id, subject="", start=self.now, end=self.now, time_zone=None
            )
        )
        wanted = fields if fields is not None else {*SNAPSHOT_FIELDS, "attendees"}
        all_day_zone = event.time_zone if event is not None else owner.time_zone
        changes = _field_values(snapshot, wanted, all_day_zone)
        if "attendees" in wanted:
            changes["attendees"] = self._attendee_inputs(snapshot, owner, graph_id)
        return replace(base, **changes)  # type: ignore[arg-type]

    def _attendee_inputs(
        self,
        snapshot: EventSnapshot,
        owner: User,
        graph_id: str | None,
        *,
        resolve_records: bool = True,
    ) -> tuple[AttendeeInput, ...]:
        """The snapshot's attendees as CRM input, in `crm_attendees_from_graph`'s order (organizer
        first, the owner left out, each address once). With `resolve_records`, each address
        matched to records becomes one input per record; without, every input is the bare address
        and the CRM's `plan_attendees` does that same expansion (SPEC §3) with the same matches.
        """
        raw = self.raw_events.get(graph_id) if graph_id else None
        graph_attendees: list[GraphAttendee]
        organizer: str | None
        if raw is not None and graph_id is not None:
            graph_attendees, organizer = self._people_of(graph_id, raw)
        else:
            graph_attendees = [GraphAttendee(a.address) for a in snapshot.attendees]
            organizer = None
        wanted = {a.address for a in snapshot.attendees}
        matches: dict[str, list[RecordRef]] = {}
        if resolve_records:
            addresses = {a.address for a in graph_attendees} | ({organizer} if organizer else set())
            found = self.match_addresses(addresses)
            matches = {address: self._refs_of(address, refs) for address, refs in found.items()}
        attendees = crm_attendees_from_graph(
            graph_attendees, organizer, matches, owner_mailbox=owner.email
        )
        result: list[AttendeeInput] = []
        for attendee in attendees:
            if attendee.address not in wanted:
                continue
            record = attendee.record
            email, response = attendee.address, attendee.response or "none"
            if record is None:
                result.append(AttendeeInput(email=email, response_status=response))
            elif record.kind is RecordKind.USER:
                result.append(
                    AttendeeInput(
                        user_id=int(record.record_id), email=email, response_status=response
                    )
                )
            elif record.kind is RecordKind.INDIVIDUAL:
                result.append(
                    AttendeeInput(
                        individual_id=int(record.record_id), email=email, response_status=response
                    )
                )
            else:
                result.append(
                    AttendeeInput(
                        contact_id=int(record.record_id), email=email, response_status=response
                    )
                )
        return tuple(result)

    def _people_of(
        self, graph_id: str, raw: GraphModelEvent
    ) -> tuple[list[GraphAttendee], str | None]:
        """The Graph event's attendees and organizer, converted once per transaction."""
        people = self._people.get(graph_id)
        if people is None:
            people = self._people[graph_id] = (graph_attendees_of(raw), organizer_of(raw))
        return people

    def _addresses_of(self, graph_id: str, raw: GraphModelEvent) -> list[str]:
        attendees, organizer = self._people_of(graph_id, raw)
        addresses = [attendee.address for attendee in attendees]
        return [*addresses, organizer] if organizer else addresses

    def _refs_of(self, address: str, records: Sequence[Match]) -> list[RecordRef]:
        """The core's references to the records `address` matched (as `match_addresses` found
        them, which stay the same for the transaction)."""
        refs = self._record_refs.get(address)
        if refs is None:
            refs = self._record_refs[address] = [
                RecordRef(RecordKind(m.kind.value), str(m.record_id)) for m in records
            ]
        return refs


SNAPSHOT_FIELDS = frozenset(
    {"subject", "body", "location", "timing", "show_as", "is_private", "is_teams_meeting"}
)
"""The snapshot's fields other than attendees, by the names `event_input` takes."""


def _field_values(
    snapshot: EventSnapshot, wanted: Iterable[str], all_day_zone: str | None
) -> dict[str, object]:
    """The CRM event values of the snapshot's `wanted` fields (attendees left to the caller); an
    all-day event keeps `all_day_zone` (the event's, or its owner's for a new one)."""
    wanted = set(wanted)
    values: dict[str, object] = {}
    if "subject" in wanted:
        values["subject"] = snapshot.subject or "(no subject)"
    if "body" in wanted:
        values["description"] = snapshot.body
    if "location" in wanted:
        values["location"] = snapshot.location[:255]
    if "timing" in wanted:
        timing = snapshot.timing
        if isinstance(timing, AllDaySpan):
            values.update(
                start=timing.first_day, end=timing.end_day, time_zone=all_day_zone, is_all_day=True
            )
        else:
            values.update(
                start=timing.start, end=timing.end, time_zone=timing.time_zone, is_all_day=False
            )
    if "show_as" in wanted:
        show_as = snapshot.show_as
        values["show_as"] = (
            CrmShowAs.BUSY if show_as is ShowAs.UNKNOWN else CrmShowAs(show_as.value)
        )
    if "is_private" in wanted:
        values["is_private"] = snapshot.is_private
    if "is_teams_meeting" in wanted:
        values["is_teams_meeting"] = snapshot.is_teams_meeting
    return values


def _series_not_imported(action: CreateInCrm) -> SkipEvent:
    return SkipEvent(
        "series_not_imported",
        f"Occurrence {action.graph_id} waits for its series, which could not be imported in this "
        "run; it is retried on the next run.",
    )


@dataclass(frozen=True)
class NewLink:
    """A link to insert for a CRM event created in this transaction (no link can exist yet)."""

    save: SaveLink
    crm_event_id: int
    crm_version: int
    change_key: str | None


_LINKS = BulkInsert(
    table_of(SyncLinkRecord),
    (
        "crm_event_id",
        "mailbox",
        "graph_id",
        "ical_uid",
        "etag",
        "change_key",
        "crm_version",
        "origin",
        "is_organizer",
        "event_type",
        "series_master_graph_id",
        "base",
    ),
    shared=("created_at", "updated_at"),
)


def insert_new_links(session: Session, links: Sequence[NewLink]) -> None:
    """Insert the links of newly imported events in one multi-row insert (`save_link` looks for a
    row to update first, which a new event cannot have: its Graph id was unlinked when planned,
    and the pull re-checked that in this transaction)."""
    now = utc_now()
    rows = []
    for new in links:
        save = new.save
        if save.graph_id is None:
            raise InconsistentSyncState("a link needs the Graph id", field="graph_id")
        rows.append(
            (
                new.crm_event_id,
                save.mailbox,
                save.graph_id,
                save.ical_uid,
                save.change_key,
                new.change_key,
                new.crm_version,
                link_origin(save.origin),
                save.is_organizer,
                save.event_type.value,
                save.series_master_graph_id,
                snapshot_to_json(save.base),
            )
        )
    _LINKS.execute(session, rows, (now, now))


def save_link(
    session: Session,
    save: SaveLink,
    *,
    crm_event_id: int,
    crm_version: int,
    change_key: str | None,
) -> SyncLinkRecord:
    """Write the link (insert or update), replacing any stale link of the same Graph event."""
    if save.graph_id is None:
        raise InconsistentSyncState("a link needs the Graph id", field="graph_id")
    rows = session.scalars(
        select(SyncLinkRecord).where(
            (SyncLinkRecord.crm_event_id == crm_event_id)
            | (
                (SyncLinkRecord.mailbox == save.mailbox)
                & (SyncLinkRecord.graph_id == save.graph_id)
            )
        )
    ).all()
    existing = next((row for row in rows if row.crm_event_id == crm_event_id), None)
    stale = [row for row in rows if row is not existing]
    if stale:
        for row in stale:
            session.delete(row)
        session.flush()
    record = existing or SyncLinkRecord(crm_event_id=crm_event_id)
    record.mailbox = save.mailbox
    record.graph_id = save.graph_id
    record.ical_uid = save.ical_uid
    record.etag = save.change_key
    record.change_key = change_key
    record.crm_version = crm_version
    record.origin = link_origin(save.origin)
    record.is_organizer = save.is_organizer
    record.event_type = save.event_type.value
    record.series_master_graph_id = save.series_master_graph_id
    record.base = snapshot_to_json(save.base)
    # A saved link records the outcome of any push write in flight (docs/sync-engine.md §6).
    record.pending_snapshot = None
    record.pending_crm_version = None
    if existing is None:
        session.add(record)
    return record


def forget_link(
    session: Session, crm_event_id: int | None, graph_id: str | None, mailbox: str
) -> None:
    if crm_event_id is not None:
        record = session.scalar(
            select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == crm_event_id)
        )
        if record is not None:
            session.delete(record)
    if graph_id is not None:
        record = session.scalar(
            select(SyncLinkRecord).where(
                SyncLinkRecord.mailbox == mailbox, SyncLinkRecord.graph_id == graph_id
            )
        )
        if record is not None:
            session.delete(record)
    session.flush()
