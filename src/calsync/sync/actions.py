"""What the core decides, as small frozen action and notice objects, plus the plan that groups them.

Actions say what to write where; the runner applies them in the order given. Notices are what the
sync log and the status page show a person: conflicts, refused changes, warnings. A plan with no
actions and no link update means "nothing to write anywhere" — the steady state of an unchanged
event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from calsync.sync.fields import EventSnapshot
from calsync.sync.merge import Conflict
from calsync.sync.state import GraphEventType, Origin


class DeleteMethod(StrEnum):
    """How to remove an event from Microsoft 365 (GRAPH.md §2.4, §2.5)."""

    CANCEL = "cancel"
    """POST …/cancel: an organizer's meeting with attendees, so they get a cancellation."""
    DELETE = "delete"
    """DELETE: an event without attendees, or an attendee's own copy (the meeting itself stays)."""


@dataclass(frozen=True, slots=True)
class CreateInGraph:
    """Create the CRM event in its owner's mailbox; the `transaction_id` makes a retry harmless."""

    crm_event_id: str
    mailbox: str
    snapshot: EventSnapshot
    transaction_id: str


@dataclass(frozen=True, slots=True)
class UpdateInGraph:
    """PATCH only `fields` (values from `snapshot`), If-Match the change key the merge read.

    A 412 answer means Outlook changed it meanwhile: drop this plan and let the next pull merge
    again. `makes_exception` tells the log that editing this occurrence turns it into an exception
    of its series.
    """

    graph_id: str
    mailbox: str
    fields: tuple[str, ...]
    snapshot: EventSnapshot
    if_match: str | None
    makes_exception: bool = False


@dataclass(frozen=True, slots=True)
class DeleteInGraph:
    graph_id: str
    mailbox: str
    method: DeleteMethod
    if_match: str | None


@dataclass(frozen=True, slots=True)
class CreateInCrm:
    """Create a CRM event owned by the user of `owner_mailbox` from a Microsoft 365 event.

    `series_master_graph_id` places an occurrence or exception in the CRM series imported from that
    master (import the master first). `as_attendee_version` marks an internal attendee's own copy of
    a Microsoft 365 meeting (SPEC §6): it takes the place of any read-only copy the CRM made for
    that attendee of the meeting with the same `ical_uid`. `restores_crm_event_id` names a CRM event
    deleted in the CRM that an Outlook edit brings back (SPEC §2).
    """

    owner_mailbox: str
    graph_id: str
    snapshot: EventSnapshot
    origin: Origin
    event_type: GraphEventType = GraphEventType.SINGLE_INSTANCE
    ical_uid: str | None = None
    series_master_graph_id: str | None = None
    original_start: datetime | None = None
    recurrence_summary: str | None = None
    teams_join_url: str | None = None
    as_attendee_version: bool = False
    restores_crm_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateInCrm:
    """Write `fields` (values from `snapshot`) to the CRM event still at `expected_version`."""

    crm_event_id: str
    expected_version: int
    fields: tuple[str, ...]
    snapshot: EventSnapshot
    recurrence_summary: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteInCrm:
    crm_event_id: str
    expected_version: int


@dataclass(frozen=True, slots=True)
class SetTeamsJoinUrl:
    """Store the join URL Graph reported, for the CRM's "Open Teams Meeting" action (SPEC §4)."""

    crm_event_id: str
    join_url: str | None


@dataclass(frozen=True, slots=True)
class MarkNotSynced:
    """Show on the CRM event that it is not synced, and why (e.g. CRM-made series, SPEC §5)."""

    crm_event_id: str
    reason_code: str
    message: str


Action = (
    CreateInGraph
    | UpdateInGraph
    | DeleteInGraph
    | CreateInCrm
    | UpdateInCrm
    | DeleteInCrm
    | SetTeamsJoinUrl
    | MarkNotSynced
)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CONFLICT = "conflict"


class NoticeCode(StrEnum):
    CONFLICT_MICROSOFT_365_WON = "conflict_microsoft365_won"
    CRM_EDIT_LOST_TO_OUTLOOK_DELETION = "crm_edit_lost_to_outlook_deletion"
    RESTORED_BY_OUTLOOK_EDIT = "restored_by_outlook_edit"
    RESTORED_FROM_MICROSOFT_365 = "restored_from_microsoft365"
    RECURRENCE_CHANGE_REFUSED = "recurrence_change_refused"
    TEAMS_CANNOT_BE_SWITCHED_OFF = "teams_cannot_be_switched_off"
    TEAMS_CHANGE_REFUSED_FOR_ATTENDEE = "teams_change_refused_for_attendee"
    TEAMS_NOT_AVAILABLE = "teams_not_available"
    TEAMS_ADDED_BY_MICROSOFT_365 = "teams_added_by_microsoft365"
    CRM_RECURRENCE_NOT_SYNCED = "crm_recurrence_not_synced"
    INVITATION_COPY_NOT_IMPORTED = "invitation_copy_not_imported"
    WAITING_FOR_ORGANIZER_COPY = "waiting_for_organizer_copy"
    RELINKED = "relinked"
    UNLINKED_MICROSOFT_365_EVENT = "unlinked_microsoft365_event"
    ATTENDEE_NOT_INVITED = "attendee_not_invited"


@dataclass(frozen=True, slots=True)
class SyncNotice:
    """One line for the sync log, in words a person can act on, with a machine-readable code."""

    code: NoticeCode
    severity: Severity
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class SaveLink:
    """Write the link with this merge base after the plan's actions succeeded.

    Fields left None are taken from the results of the plan's writes: the Graph id and change key
    from the create/update response, the CRM id and version from the CRM write. When the plan writes
    nothing on a side, the values here are the ones observed on that side.
    """

    base: EventSnapshot
    origin: Origin
    mailbox: str
    crm_event_id: str | None = None
    crm_version: int | None = None
    graph_id: str | None = None
    change_key: str | None = None
    ical_uid: str | None = None
    is_organizer: bool = True
    event_type: GraphEventType = GraphEventType.SINGLE_INSTANCE
    series_master_graph_id: str | None = None


@dataclass(frozen=True, slots=True)
class ForgetLink:
    """Delete the link: once the plan is applied, the event exists on neither side."""


@dataclass(frozen=True, slots=True)
class EventPlan:
    """The decision for one event: writes in order, then the link update, plus what to log."""

    actions: tuple[Action, ...] = ()
    link: SaveLink | ForgetLink | None = None
    conflicts: tuple[Conflict, ...] = ()
    notices: tuple[SyncNotice, ...] = ()

    @property
    def writes_nothing(self) -> bool:
        return not self.actions and self.link is None
