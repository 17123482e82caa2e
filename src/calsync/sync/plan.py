"""Deciding what to write where for one event: the core's main entry points.

`plan_event` takes an `EventState` (link, CRM side, Graph side) and returns an `EventPlan`. The
cases:

- no link, CRM event only: CRM-origin creation, pushed with a transactionId from the outbox entry
  (SPEC §2); never for a CRM-made recurring event (SPEC §5) or an internal copy (SPEC §6).
- no link, Graph event only: import into the CRM, unless it is the invitation copy of a CRM-made
  meeting (SPEC §6). An event CalSync itself created (its transactionId names the CRM event) is
  re-linked when the runner passes that CRM event, removed when it passes the CRM's record of the
  deletion, and recreated in the CRM when the CRM has no trace of it (an older backup restored).
- no link, both: re-link after lost state, a crash before the link was saved, or a full resync
  (SPEC §9): no base, Microsoft 365 wins the differences, nothing is sent to Graph (so no
  invitation goes out again).
- no link, deleted in the CRM, Graph event created from it: the create reached Graph after the CRM
  event was deleted; remove it from Graph.
- link, both: three-way merge (`calsync.sync.merge`).
- link, deleted in the CRM: cancel or delete in Graph, or bring it back if Outlook edited it
  (SPEC §2).
- link, deleted in Outlook: delete in the CRM, logging a lost CRM edit (SPEC §2).
- link, deleted on both sides: forget the link.

`plan_push` is the immediate CRM → Microsoft 365 path (the outbox worker), which does not read Graph
first: it merges against the link's base and relies on If-Match, so an Outlook change made meanwhile
fails the write with 412 and is merged properly by the next pull. `plan_graph_write_result` reads
Graph's answer to a create or update: it records the new change key and the Teams join URL, and
turns a Teams flag that did not take into a visible warning (SPEC §4).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from calsync.sync.actions import (
    Action,
    CreateInCrm,
    CreateInGraph,
    DeleteInCrm,
    DeleteInGraph,
    DeleteMethod,
    EventPlan,
    ForgetLink,
    MarkNotSynced,
    NoticeCode,
    SaveLink,
    SetTeamsJoinUrl,
    Severity,
    SyncNotice,
    UpdateInCrm,
    UpdateInGraph,
)
from calsync.sync.errors import InconsistentSyncState
from calsync.sync.fields import MICROSOFT_365_OWNED_FIELDS, ORGANIZER_FIELDS, EventSnapshot
from calsync.sync.merge import (
    Conflict,
    base_with_write_in_flight,
    merge_fields,
    resolve_deleted_in_crm,
    resolve_deleted_in_outlook,
)
from calsync.sync.recurrence_summary import summarize_recurrence
from calsync.sync.state import (
    CrmDeleted,
    CrmEvent,
    EventState,
    GraphDeleted,
    GraphEvent,
    GraphEventType,
    MeetingContext,
    Origin,
    PendingWrite,
    SyncLink,
)

_TRANSACTION_NAMESPACE = uuid.UUID("6c1f3a52-9a0e-4a43-8d8e-0b3f6f1f2c11")

CRM_RECURRENCE_MESSAGE = (
    "Recurring events created with the CRM's own recurrence settings are not synced to Microsoft "
    "365. Create the series in Outlook to have it on both sides."
)
RECURRENCE_REFUSED_MESSAGE = (
    "The recurrence of this series is managed in Microsoft 365; the change made in the CRM was not "
    "applied. Change it in Outlook."
)
TEAMS_OFF_REFUSED_MESSAGE = (
    "A Teams meeting cannot be switched off once it exists in Microsoft 365; the Teams Meeting box "
    "was checked again. Cancel the meeting and create a new one to meet without Teams."
)
TEAMS_ATTENDEE_REFUSED_MESSAGE = (
    "Only the organizer ({organizer}) can make this meeting a Teams meeting or not; the change "
    "made in the CRM was not applied."
)
TEAMS_NOT_AVAILABLE_MESSAGE = (
    "Microsoft 365 did not create a Teams meeting: the mailbox {mailbox} cannot host Teams "
    "meetings (no Teams licence, or Teams is not an allowed online meeting provider). The event "
    "was synced without Teams and its Teams Meeting box was cleared."
)
TEAMS_ADDED_MESSAGE = (
    "Microsoft 365 made this event a Teams meeting although it was not asked to (the mailbox "
    "{mailbox} adds Teams to every meeting); the Teams Meeting box was checked to match."
)


_TRANSACTION_PREFIX = "calsync."


def transaction_id_for(outbox_entry_id: str, crm_event_id: str) -> str:
    """The Graph transactionId of a create: the same for every retry of the same outbox entry.

    It also names the CRM event, so an event we created can always be told apart from one a person
    made in Outlook and linked back to its CRM event, even when the link was never saved (a crash
    between the create and the commit) or was lost (SPEC §9).
    """
    if not outbox_entry_id.strip():
        raise InconsistentSyncState("an outbox entry id is required", field="outbox_entry_id")
    if not crm_event_id.strip():
        raise InconsistentSyncState("a CRM event id is required", field="crm_event_id")
    digest = uuid.uuid5(_TRANSACTION_NAMESPACE, outbox_entry_id).hex
    return f"{_TRANSACTION_PREFIX}{crm_event_id}.{digest}"


def crm_event_id_from_transaction_id(transaction_id: str | None) -> str | None:
    """The CRM event a Graph event was created from, if CalSync created it; None otherwise."""
    if not transaction_id or not transaction_id.startswith(_TRANSACTION_PREFIX):
        return None
    crm_event_id, _, digest = transaction_id[len(_TRANSACTION_PREFIX) :].rpartition(".")
    if not crm_event_id or len(digest) != 32:
        return None
    return crm_event_id


def plan_event(state: EventState) -> EventPlan:
    """Decide the writes for one event from its link and both sides' current state.

    A link with a write in flight (`SyncLink.pending`) is merged against the base that write would
    have made wherever Microsoft 365 holds its values (`merge.base_with_write_in_flight`), and its
    link is always saved, which records the outcome and clears the pending write.
    """
    _check_consistent(state)
    link, crm, graph = state.link, state.crm, state.graph
    if isinstance(graph, GraphEvent) and graph.is_cancelled:
        graph = GraphDeleted(graph.graph_id)
    if isinstance(crm, CrmEvent) and crm.internal_copy_of is not None:
        return EventPlan()
    if link is not None and link.pending is not None and isinstance(graph, GraphEvent):
        base = base_with_write_in_flight(link.base, link.pending.snapshot, graph.snapshot)
        link = replace(link, base=base)
    if link is None:
        if isinstance(crm, CrmEvent) and isinstance(graph, GraphEvent):
            return _plan_relink(crm, graph)
        if isinstance(crm, CrmEvent) and graph is None:
            return _plan_crm_creation(crm, state.outbox_entry_id)
        if crm is None and isinstance(graph, GraphEvent):
            return _plan_import(graph, state.meeting)
        if isinstance(crm, CrmDeleted) and isinstance(graph, GraphEvent):
            return _plan_unlinked_push_of_deleted_event(crm, graph)
        return EventPlan()
    if crm is None or graph is None:
        raise InconsistentSyncState(
            "a linked event needs both sides' state (an event or a tombstone); use plan_push to "
            "push without reading Microsoft 365",
            field="crm" if crm is None else "graph",
        )
    if isinstance(crm, CrmEvent) and isinstance(graph, GraphEvent):
        return _plan_merge(link, crm, graph)
    if isinstance(crm, CrmDeleted) and isinstance(graph, GraphEvent):
        return _plan_deleted_in_crm(link, graph)
    if isinstance(crm, CrmEvent) and isinstance(graph, GraphDeleted):
        return _plan_deleted_in_outlook(link, crm)
    return EventPlan(link=ForgetLink())


def plan_push(
    link: SyncLink | None,
    crm: CrmEvent | CrmDeleted,
    *,
    outbox_entry_id: str | None = None,
) -> EventPlan:
    """The immediate CRM → Microsoft 365 push of one outbox entry, without reading Graph first.

    Microsoft 365 is assumed to be as last synced; every write carries If-Match with the link's
    change key, so if that assumption is wrong Graph answers 412 and the entry waits for the next
    pull. That assumption cannot be made while an earlier write's outcome is unknown: a link with
    a pending write must be settled first (`settle_pending_write`, after reading the event). A
    create that may already have reached Graph (`CrmEvent.pending_create`) is sent again exactly as
    it was, so whichever attempt took effect, the Graph event began as that snapshot; a CRM edit
    made since follows as an ordinary update once the link is saved.
    """
    if link is None:
        if isinstance(crm, CrmDeleted):
            return EventPlan()
        return plan_event(EventState(crm=crm, outbox_entry_id=outbox_entry_id))
    if link.pending is not None:
        raise InconsistentSyncState(
            "the link has a write whose outcome is unknown; read the event and settle it "
            "(settle_pending_write) before pushing",
            field="pending",
        )
    as_last_synced = GraphEvent(
        graph_id=link.graph_id,
        mailbox=link.mailbox,
        snapshot=link.base,
        change_key=link.change_key,
        ical_uid=link.ical_uid,
        event_type=link.event_type,
        series_master_id=link.series_master_graph_id,
        is_organizer=link.is_organizer,
    )
    return plan_event(EventState(link=link, crm=crm, graph=as_last_synced))


def settle_pending_write(link: SyncLink, graph: GraphEvent) -> SyncLink | None:
    """The link once its write in flight is accounted for, from the event as Graph holds it now.

    Returns the link without its pending write, its base and change key describing exactly the
    version read — either our write took effect (its values are there: they become the base) or it
    did not (the recorded base is still there) — so the push may go on with If-Match on that
    version. Returns None when Microsoft 365 holds anything else (Outlook changed the event too):
    then only a full merge can decide, and the change waits for the pull, which merges against
    `merge.base_with_write_in_flight`. A link without a pending write is returned as it is.
    """
    _check_consistent(EventState(link=link, graph=graph))
    pending = link.pending
    if pending is None:
        return link
    base = base_with_write_in_flight(link.base, pending.snapshot, graph.snapshot)
    if base != graph.snapshot:
        return None
    crm_version = pending.crm_version if base != link.base else link.crm_version
    return replace(
        link, base=base, change_key=graph.change_key, crm_version=crm_version, pending=None
    )


def pending_write_of(plan: EventPlan, crm_version: int) -> PendingWrite | None:
    """What the push must commit before sending the plan's Graph write: the snapshot Microsoft 365
    holds if the write takes effect (and, for a create, its transactionId). None when the plan
    creates or updates nothing in Graph (a deletion needs none: a retried one finds it done)."""
    for action in plan.actions:
        if isinstance(action, CreateInGraph):
            return PendingWrite(action.snapshot, crm_version, action.transaction_id)
        if isinstance(action, UpdateInGraph):
            after = plan.link.base if isinstance(plan.link, SaveLink) else action.snapshot
            return PendingWrite(after, crm_version)
    return None


def plan_graph_write_result(
    save: SaveLink,
    requested: EventSnapshot,
    response: GraphEvent,
    *,
    crm_teams_join_url: str | None = None,
) -> EventPlan:
    """Read Graph's answer to a create or update: link state, join URL, Teams check (SPEC §4).

    `save` is the link update of the plan that made the write, with the ids and version its CRM
    writes produced filled in by the runner; `requested` is the snapshot the write sent. Graph
    silently ignores a Teams request a mailbox cannot host, and some tenants add Teams to every
    meeting: either way the CRM flag is set to what Graph reports and a notice says why, so the CRM
    never shows a meeting link that does not exist, nor hides one that does.
    """
    if save.crm_event_id is None:
        raise InconsistentSyncState("the CRM event id must be known", field="crm_event_id")
    actions: list[Action] = []
    notices: list[SyncNotice] = []
    reported_teams = response.snapshot.is_teams_meeting
    base = replace(save.base, is_teams_meeting=reported_teams)
    crm_version = save.crm_version
    if requested.is_teams_meeting != reported_teams:
        if crm_version is None:
            raise InconsistentSyncState("the CRM event version must be known", field="crm_version")
        if requested.is_teams_meeting:
            notice = SyncNotice(
                NoticeCode.TEAMS_NOT_AVAILABLE,
                Severity.WARNING,
                TEAMS_NOT_AVAILABLE_MESSAGE.format(mailbox=response.mailbox),
                field="is_teams_meeting",
            )
        else:
            notice = SyncNotice(
                NoticeCode.TEAMS_ADDED_BY_MICROSOFT_365,
                Severity.INFO,
                TEAMS_ADDED_MESSAGE.format(mailbox=response.mailbox),
                field="is_teams_meeting",
            )
        notices.append(notice)
        actions.append(UpdateInCrm(save.crm_event_id, crm_version, ("is_teams_meeting",), base))
        crm_version = None
    if response.teams_join_url != crm_teams_join_url and (
        response.teams_join_url or crm_teams_join_url
    ):
        actions.append(SetTeamsJoinUrl(save.crm_event_id, response.teams_join_url))
    link = replace(
        save,
        base=base,
        crm_version=crm_version,
        graph_id=response.graph_id,
        change_key=response.change_key,
        ical_uid=response.ical_uid or save.ical_uid,
    )
    return EventPlan(actions=tuple(actions), link=link, notices=tuple(notices))


def _check_consistent(state: EventState) -> None:
    link, crm, graph = state.link, state.crm, state.graph
    if link is None:
        return
    if crm is not None and _crm_id(crm) != link.crm_event_id:
        raise InconsistentSyncState(
            f"CRM event {_crm_id(crm)} is not the event of this link ({link.crm_event_id})",
            field="crm",
        )
    if graph is not None and _graph_id(graph) != link.graph_id:
        raise InconsistentSyncState(
            f"Graph event {_graph_id(graph)} is not the event of this link ({link.graph_id})",
            field="graph",
        )


def _crm_id(crm: CrmEvent | CrmDeleted) -> str:
    return crm.event_id


def _graph_id(graph: GraphEvent | GraphDeleted) -> str:
    return graph.graph_id


def _plan_crm_creation(crm: CrmEvent, outbox_entry_id: str | None) -> EventPlan:
    if crm.has_crm_recurrence:
        return EventPlan(
            actions=(
                MarkNotSynced(
                    crm.event_id, NoticeCode.CRM_RECURRENCE_NOT_SYNCED.value, CRM_RECURRENCE_MESSAGE
                ),
            ),
            notices=(
                SyncNotice(
                    NoticeCode.CRM_RECURRENCE_NOT_SYNCED, Severity.INFO, CRM_RECURRENCE_MESSAGE
                ),
            ),
        )
    if crm.origin is Origin.MICROSOFT_365:
        message = (
            f"CRM event {crm.event_id} came from Microsoft 365 but is no longer linked to it; it "
            "is not pushed again (that would duplicate it). A full resync of the mailbox re-links "
            "it."
        )
        notice = SyncNotice(NoticeCode.UNLINKED_MICROSOFT_365_EVENT, Severity.WARNING, message)
        return EventPlan(notices=(notice,))
    if outbox_entry_id is None:
        raise InconsistentSyncState(
            "creating an event in Microsoft 365 needs its outbox entry id (for the transactionId)",
            field="outbox_entry_id",
        )
    transaction_id = transaction_id_for(outbox_entry_id, crm.event_id)
    snapshot = replace(crm.snapshot, recurrence=None)
    crm_version = crm.version
    pending = crm.pending_create
    if pending is not None:
        if pending.transaction_id != transaction_id:
            raise InconsistentSyncState(
                f"the pending create of CRM event {crm.event_id} was sent with another "
                "transactionId than its outbox entry gives",
                field="pending_create",
            )
        snapshot, crm_version = pending.snapshot, pending.crm_version
    return EventPlan(
        actions=(CreateInGraph(crm.event_id, crm.owner_mailbox, snapshot, transaction_id),),
        link=SaveLink(
            base=snapshot,
            origin=Origin.CRM,
            mailbox=crm.owner_mailbox,
            crm_event_id=crm.event_id,
            crm_version=crm_version,
        ),
    )


def _plan_import(graph: GraphEvent, meeting: MeetingContext | None) -> EventPlan:
    pushed_from = crm_event_id_from_transaction_id(graph.transaction_id)
    if pushed_from is not None:
        if not graph.is_organizer:
            return EventPlan(notices=(_invitation_copy_notice(graph),))
        return _plan_restore_from_microsoft_365(graph, pushed_from)
    as_attendee_version = False
    if not graph.is_organizer and meeting is not None and meeting.organizer_mailbox_synced:
        if meeting.organizer_copy_origin is Origin.CRM:
            return EventPlan(notices=(_invitation_copy_notice(graph),))
        if meeting.organizer_copy_origin is None:
            notice = SyncNotice(
                NoticeCode.WAITING_FOR_ORGANIZER_COPY,
                Severity.INFO,
                f"The invitation in {graph.mailbox} is imported once the organizer's copy is "
                "synced, so that the meeting is never shown twice.",
            )
            return EventPlan(notices=(notice,))
        as_attendee_version = True
    create = _create_in_crm(graph, Origin.MICROSOFT_365, as_attendee_version=as_attendee_version)
    return EventPlan(actions=(create,), link=_save_from_graph(graph, graph.snapshot, create.origin))


def _plan_restore_from_microsoft_365(graph: GraphEvent, crm_event_id: str) -> EventPlan:
    """CalSync created this event from a CRM event the CRM has no trace of: bring it back.

    That happens when the CRM database was restored from a backup older than the event. Deleting
    it from Outlook would lose a meeting people rely on; importing it keeps both sides whole.
    """
    create = _create_in_crm(graph, Origin.CRM, restores_crm_event_id=crm_event_id)
    notice = SyncNotice(
        NoticeCode.RESTORED_FROM_MICROSOFT_365,
        Severity.WARNING,
        f"CRM event {crm_event_id} was synced to {graph.mailbox} but the CRM has no record of it "
        "(for example after restoring an older backup); it was recreated from Microsoft 365.",
    )
    return EventPlan(
        actions=(create,),
        link=_save_from_graph(graph, graph.snapshot, Origin.CRM),
        notices=(notice,),
    )


def _create_in_crm(
    graph: GraphEvent,
    origin: Origin,
    *,
    as_attendee_version: bool = False,
    restores_crm_event_id: str | None = None,
) -> CreateInCrm:
    recurrence = graph.snapshot.recurrence
    return CreateInCrm(
        owner_mailbox=graph.mailbox,
        graph_id=graph.graph_id,
        snapshot=graph.snapshot,
        origin=origin,
        event_type=graph.event_type,
        ical_uid=graph.ical_uid,
        series_master_graph_id=graph.series_master_id,
        original_start=graph.original_start,
        recurrence_summary=summarize_recurrence(recurrence) if recurrence else None,
        teams_join_url=graph.teams_join_url,
        as_attendee_version=as_attendee_version,
        restores_crm_event_id=restores_crm_event_id,
    )


def _invitation_copy_notice(graph: GraphEvent) -> SyncNotice:
    return SyncNotice(
        NoticeCode.INVITATION_COPY_NOT_IMPORTED,
        Severity.INFO,
        f"The invitation in {graph.mailbox} belongs to a meeting created in the CRM; it is not "
        "imported again (the CRM already shows it to this attendee).",
    )


def _plan_unlinked_push_of_deleted_event(crm: CrmDeleted, graph: GraphEvent) -> EventPlan:
    """A create reached Graph but its CRM event was deleted before the link was saved: undo it."""
    if crm_event_id_from_transaction_id(graph.transaction_id) != crm.event_id:
        raise InconsistentSyncState(
            f"Graph event {graph.graph_id} was not created from CRM event {crm.event_id}",
            field="graph",
        )
    return EventPlan(actions=(_delete_in_graph(graph),))


def _delete_in_graph(graph: GraphEvent) -> DeleteInGraph:
    method = DeleteMethod.DELETE
    if graph.is_organizer and graph.snapshot.attendees:
        method = DeleteMethod.CANCEL
    return DeleteInGraph(graph.graph_id, graph.mailbox, method, graph.change_key)


def _save_from_graph(
    graph: GraphEvent,
    base: EventSnapshot,
    origin: Origin,
    *,
    crm_event_id: str | None = None,
    crm_version: int | None = None,
) -> SaveLink:
    return SaveLink(
        base=base,
        origin=origin,
        mailbox=graph.mailbox,
        crm_event_id=crm_event_id,
        crm_version=crm_version,
        graph_id=graph.graph_id,
        change_key=graph.change_key,
        ical_uid=graph.ical_uid,
        is_organizer=graph.is_organizer,
        event_type=graph.event_type,
        series_master_graph_id=graph.series_master_id,
    )


def _plan_relink(crm: CrmEvent, graph: GraphEvent) -> EventPlan:
    if graph.mailbox.strip().lower() != crm.owner_mailbox.strip().lower():
        raise InconsistentSyncState(
            f"CRM event {crm.event_id} belongs to {crm.owner_mailbox}; it cannot be linked to an "
            f"event in {graph.mailbox}",
            field="graph",
        )
    pending = crm.pending_create
    if pending is not None and pending.transaction_id == graph.transaction_id:
        return _plan_relink_created(crm, graph, pending)
    result = merge_fields(None, crm.snapshot, graph.snapshot)
    actions: list[Action] = []
    crm_version: int | None = crm.version
    if result.write_to_crm:
        actions.append(_update_crm(crm, result.write_to_crm, result.merged))
        crm_version = None
    actions.extend(_join_url_update(crm, graph))
    notice = SyncNotice(
        NoticeCode.RELINKED,
        Severity.INFO,
        f"CRM event {crm.event_id} was linked again to the existing event in {graph.mailbox}; "
        "nothing was created twice and no invitation was sent.",
    )
    return EventPlan(
        actions=tuple(actions),
        link=_save_from_graph(
            graph, result.merged, crm.origin, crm_event_id=crm.event_id, crm_version=crm_version
        ),
        conflicts=result.conflicts,
        notices=(notice, *(_conflict_notice(conflict) for conflict in result.conflicts)),
    )


def _plan_relink_created(crm: CrmEvent, graph: GraphEvent, pending: PendingWrite) -> EventPlan:
    """Our create reached Graph but its link was never saved.

    The Graph event began as exactly the snapshot we sent, so that is the merge base: a CRM edit
    made since wins and is sent on, an Outlook edit made since wins too, and nothing we sent comes
    back as if Outlook had changed it.
    """
    link = SyncLink(
        crm_event_id=crm.event_id,
        mailbox=graph.mailbox,
        graph_id=graph.graph_id,
        base=pending.snapshot,
        origin=Origin.CRM,
        crm_version=pending.crm_version,
        ical_uid=graph.ical_uid,
        is_organizer=graph.is_organizer,
        event_type=graph.event_type,
        series_master_graph_id=graph.series_master_id,
    )
    merged = _plan_merge(link, crm, graph)
    notice = SyncNotice(
        NoticeCode.RELINKED,
        Severity.INFO,
        f"CRM event {crm.event_id} was linked to the event its creation made in {graph.mailbox} "
        "(the link had not been saved); nothing was created twice.",
    )
    return replace(merged, notices=(notice, *merged.notices))


def _plan_merge(link: SyncLink, crm: CrmEvent, graph: GraphEvent) -> EventPlan:
    read_only = set(MICROSOFT_365_OWNED_FIELDS)
    teams_off_refused = link.base.is_teams_meeting and not crm.snapshot.is_teams_meeting
    if teams_off_refused or not graph.is_organizer:
        read_only.add("is_teams_meeting")
    result = merge_fields(
        link.base, crm.snapshot, graph.snapshot, crm_read_only=frozenset(read_only)
    )
    merged = result.merged
    base = merged
    graph_fields = result.write_to_graph
    if not graph.is_organizer:
        kept_local = tuple(name for name in graph_fields if name in ORGANIZER_FIELDS)
        graph_fields = tuple(name for name in graph_fields if name not in ORGANIZER_FIELDS)
        base = replace(merged, **{name: getattr(graph.snapshot, name) for name in kept_local})
    actions: list[Action] = []
    if graph_fields:
        actions.append(
            UpdateInGraph(
                graph_id=graph.graph_id,
                mailbox=graph.mailbox,
                fields=graph_fields,
                snapshot=merged,
                if_match=graph.change_key,
                makes_exception=graph.event_type is GraphEventType.OCCURRENCE,
            )
        )
    crm_version: int | None = crm.version
    if result.write_to_crm:
        actions.append(_update_crm(crm, result.write_to_crm, merged))
        crm_version = None
    actions.extend(_join_url_update(crm, graph))
    notices = [_conflict_notice(conflict) for conflict in result.conflicts]
    for name in result.refused_crm_changes:
        if name == "recurrence":
            notices.append(
                SyncNotice(
                    NoticeCode.RECURRENCE_CHANGE_REFUSED,
                    Severity.WARNING,
                    RECURRENCE_REFUSED_MESSAGE,
                    name,
                )
            )
        elif not graph.is_organizer:
            notices.append(
                SyncNotice(
                    NoticeCode.TEAMS_CHANGE_REFUSED_FOR_ATTENDEE,
                    Severity.WARNING,
                    TEAMS_ATTENDEE_REFUSED_MESSAGE.format(
                        organizer=graph.organizer_address or "the organizer"
                    ),
                    name,
                )
            )
        else:
            notices.append(
                SyncNotice(
                    NoticeCode.TEAMS_CANNOT_BE_SWITCHED_OFF,
                    Severity.WARNING,
                    TEAMS_OFF_REFUSED_MESSAGE,
                    name,
                )
            )
    unchanged_link = (
        base == link.base
        and graph.change_key == link.change_key
        and crm.version == link.crm_version
        and link.pending is None
        and not actions
    )
    save = (
        None
        if unchanged_link
        else _save_from_graph(
            graph, base, link.origin, crm_event_id=crm.event_id, crm_version=crm_version
        )
    )
    return EventPlan(
        actions=tuple(actions), link=save, conflicts=result.conflicts, notices=tuple(notices)
    )


def _update_crm(crm: CrmEvent, fields: tuple[str, ...], merged: EventSnapshot) -> UpdateInCrm:
    summary = None
    if "recurrence" in fields and merged.recurrence is not None:
        summary = summarize_recurrence(merged.recurrence)
    return UpdateInCrm(crm.event_id, crm.version, fields, merged, recurrence_summary=summary)


def _join_url_update(crm: CrmEvent, graph: GraphEvent) -> tuple[Action, ...]:
    if graph.teams_join_url and graph.teams_join_url != crm.teams_join_url:
        return (SetTeamsJoinUrl(crm.event_id, graph.teams_join_url),)
    return ()


def _conflict_notice(conflict: Conflict) -> SyncNotice:
    return SyncNotice(
        NoticeCode.CONFLICT_MICROSOFT_365_WON,
        Severity.CONFLICT,
        conflict.describe(),
        conflict.field,
    )


def _plan_deleted_in_crm(link: SyncLink, graph: GraphEvent) -> EventPlan:
    resolution = resolve_deleted_in_crm(link.base, graph.snapshot)
    if resolution.propagate:
        return EventPlan(actions=(_delete_in_graph(graph),), link=ForgetLink())
    restore = _create_in_crm(
        graph,
        link.origin,
        as_attendee_version=not graph.is_organizer,
        restores_crm_event_id=link.crm_event_id,
    )
    notice = SyncNotice(
        NoticeCode.RESTORED_BY_OUTLOOK_EDIT,
        Severity.WARNING,
        "The event deleted in the CRM was edited in Outlook "
        f"({', '.join(resolution.restoring_outlook_edits)}) since the last sync; Microsoft 365 "
        "takes precedence, so it was brought back in the CRM.",
    )
    return EventPlan(
        actions=(restore,),
        link=_save_from_graph(graph, graph.snapshot, link.origin),
        notices=(notice,),
    )


def _plan_deleted_in_outlook(link: SyncLink, crm: CrmEvent) -> EventPlan:
    resolution = resolve_deleted_in_outlook(link.base, crm.snapshot)
    notices: tuple[SyncNotice, ...] = ()
    if resolution.lost_crm_edits:
        notices = (
            SyncNotice(
                NoticeCode.CRM_EDIT_LOST_TO_OUTLOOK_DELETION,
                Severity.CONFLICT,
                "The event was deleted in Outlook while it was being edited in the CRM "
                f"({', '.join(resolution.lost_crm_edits)}); Microsoft 365 takes precedence, so it "
                "was deleted in the CRM and the CRM edit was lost.",
            ),
        )
    return EventPlan(
        actions=(DeleteInCrm(crm.event_id, crm.version),), link=ForgetLink(), notices=notices
    )
