"""What the runners hand the core for one event: the link (last synced state) and both sides.

These are the engine's inputs, built by the runners from a CRM event row and from a Graph event; the
core never reads a database or calls Graph itself. A side's state is either the current event, or a
tombstone saying it was deleted since the last sync. For the Graph side a tombstone must be a
*confirmed* deletion: `@removed` in a delta round only means "gone from this window" (see
`calsync.sync.delta`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from calsync.sync.errors import InvalidEventData
from calsync.sync.fields import EventSnapshot


class Origin(StrEnum):
    """Where an event was first created; decides SPEC §5/§6 rules and how a deletion is sent."""

    CRM = "crm"
    MICROSOFT_365 = "microsoft365"


class GraphEventType(StrEnum):
    """Graph's `type` of an event."""

    SINGLE_INSTANCE = "singleInstance"
    OCCURRENCE = "occurrence"
    EXCEPTION = "exception"
    SERIES_MASTER = "seriesMaster"


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A Graph write the push committed to before sending it, whose outcome is not recorded yet.

    `snapshot` is what Microsoft 365 holds if the write took effect: the link's new base for an
    update, the created event for a create. `crm_version` is the CRM version it was taken from. A
    crash between the write and the commit recording it leaves this behind, and it is the only way
    to tell our own write (a new change key nobody recorded) from an edit made in Outlook; without
    it, the older value we pushed would win over a newer CRM edit as if Outlook had changed it.
    `transaction_id` is set for a create: the Graph event carrying it was created from `snapshot`.
    """

    snapshot: EventSnapshot
    crm_version: int
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncLink:
    """One synced event: a CRM event tied to one Graph event in one mailbox, with the merge base.

    `base` is the snapshot both sides agreed on after the last sync; `change_key` and `crm_version`
    are the version stamps seen then (used for If-Match and optimistic locking, never to decide what
    changed). `pending` is a write sent (or about to be sent) since, whose outcome was not recorded.
    """

    crm_event_id: str
    mailbox: str
    graph_id: str
    base: EventSnapshot
    origin: Origin
    crm_version: int
    change_key: str | None = None
    ical_uid: str | None = None
    is_organizer: bool = True
    event_type: GraphEventType = GraphEventType.SINGLE_INSTANCE
    series_master_graph_id: str | None = None
    pending: PendingWrite | None = None


@dataclass(frozen=True, slots=True)
class CrmEvent:
    """The CRM's current version of an event.

    `has_crm_recurrence` marks a series made with the CRM's own recurrence settings, which is never
    synced (SPEC §5). `internal_copy_of` is set on the read-only copy the CRM gives an internal
    attendee of a multi-user event (SPEC §6); such copies are never part of the sync (an attendee's
    own editable version of a Microsoft 365 meeting is an ordinary event, not such a copy).
    `pending_create` is the create the push committed to for an event with no link yet, whose
    outcome is unknown: a retry sends exactly it again, and a re-link merges against it.
    """

    event_id: str
    version: int
    owner_mailbox: str
    snapshot: EventSnapshot
    origin: Origin = Origin.CRM
    has_crm_recurrence: bool = False
    internal_copy_of: str | None = None
    teams_join_url: str | None = None
    pending_create: PendingWrite | None = None


@dataclass(frozen=True, slots=True)
class CrmDeleted:
    """The CRM event of a link was deleted since the last sync."""

    event_id: str


@dataclass(frozen=True, slots=True)
class GraphEvent:
    """Microsoft 365's current version of an event in one mailbox.

    `snapshot.is_teams_meeting` must reflect what Graph *reports* (isOnlineMeeting with provider
    teamsForBusiness), not what was asked for: Graph silently drops the flag for mailboxes that
    cannot host Teams (GRAPH.md §4), and `plan_graph_write_result` turns that into a visible
    warning.
    """

    graph_id: str
    mailbox: str
    snapshot: EventSnapshot
    change_key: str | None = None
    ical_uid: str | None = None
    event_type: GraphEventType = GraphEventType.SINGLE_INSTANCE
    series_master_id: str | None = None
    original_start: datetime | None = None
    is_organizer: bool = True
    organizer_address: str | None = None
    is_cancelled: bool = False
    teams_join_url: str | None = None
    transaction_id: str | None = None

    def __post_init__(self) -> None:
        is_instance = self.event_type in (GraphEventType.OCCURRENCE, GraphEventType.EXCEPTION)
        if is_instance and not self.series_master_id:
            raise InvalidEventData(
                f"an {self.event_type.value} needs the id of its series master",
                field="seriesMasterId",
            )
        if self.event_type is GraphEventType.SERIES_MASTER and self.snapshot.recurrence is None:
            raise InvalidEventData("a series master needs its recurrence", field="recurrence")


@dataclass(frozen=True, slots=True)
class GraphDeleted:
    """The Graph event of a link is confirmed gone (404 on a GET after `@removed`, or cancelled)."""

    graph_id: str


@dataclass(frozen=True, slots=True)
class MeetingContext:
    """What the runner knows about the meeting a non-organizer copy belongs to (SPEC §6).

    `organizer_mailbox_synced`: the organizer is a CRM user whose mailbox CalSync syncs.
    `organizer_copy_origin`: the origin of the link that holds the organizer's copy (found by
    iCalUId), or None while the organizer's copy is not linked yet.
    """

    organizer_mailbox_synced: bool
    organizer_copy_origin: Origin | None = None


CrmSide = CrmEvent | CrmDeleted
GraphSide = GraphEvent | GraphDeleted


@dataclass(frozen=True, slots=True)
class EventState:
    """Everything the core needs to decide one event.

    `outbox_entry_id` is the id of the CRM outbox entry that asks for the event's creation; the
    Graph transactionId is derived from it, so a retried push can never create a second copy.
    """

    link: SyncLink | None = None
    crm: CrmSide | None = None
    graph: GraphSide | None = None
    outbox_entry_id: str | None = None
    meeting: MeetingContext | None = None
