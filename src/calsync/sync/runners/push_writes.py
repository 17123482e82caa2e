"""A push plan's Graph write as one `$batch` operation, and its line in the sync log.

The push runner sends CRM changes in `$batch` requests of up to 20 writes per mailbox. That only
works because every plan `plan_push` makes holds at most one Graph write (create, PATCH, or
cancel/delete): the items of a batch are then independent — one write per CRM event — and Graph may
run them in any order. A plan with more than one would need its writes in sequence, so it is refused
as `InconsistentSyncState` rather than batched wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass

from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.writes import CancelEvent, CreateEvent, DeleteEvent, UpdateEvent, WriteOperation
from calsync.sync.actions import (
    CreateInGraph,
    DeleteInGraph,
    DeleteMethod,
    EventPlan,
    UpdateInGraph,
)
from calsync.sync.errors import InconsistentSyncState
from calsync.sync.runners.convert import ALL_FIELDS, draft_is_empty, draft_of
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.storage.models import Direction

GraphWriteAction = CreateInGraph | UpdateInGraph | DeleteInGraph


@dataclass(frozen=True)
class GraphWrite:
    """The core's Graph action and the client operation that performs it in `mailbox`."""

    action: GraphWriteAction
    operation: WriteOperation

    @property
    def mailbox(self) -> str:
        return self.action.mailbox

    @property
    def is_create(self) -> bool:
        return isinstance(self.action, CreateInGraph)


def graph_write_of(plan: EventPlan, *, all_day_zone: str) -> GraphWrite | None:
    """The plan's one Graph write, or None when there is nothing to send (no write, or a PATCH
    that changes no field Graph stores).

    Creates carry the plan's transactionId, so a batch resent after a crash or an ambiguous
    failure returns the event made the first time instead of a duplicate. Writes without the
    link's change key use `If-Match: *`, as the single requests did.
    """
    actions = [
        action
        for action in plan.actions
        if isinstance(action, CreateInGraph | UpdateInGraph | DeleteInGraph)
    ]
    if len(actions) > 1:
        raise InconsistentSyncState(
            f"the push plan holds {len(actions)} Graph writes; a push sends at most one per event"
        )
    if not actions:
        return None
    action = actions[0]
    if isinstance(action, CreateInGraph):
        draft = draft_of(action.snapshot, ALL_FIELDS, all_day_zone=all_day_zone)
        return GraphWrite(action, CreateEvent(draft, action.transaction_id))
    if isinstance(action, UpdateInGraph):
        draft = draft_of(action.snapshot, action.fields, all_day_zone=all_day_zone)
        if draft_is_empty(draft):
            return None
        return GraphWrite(action, UpdateEvent(action.graph_id, draft, action.if_match or "*"))
    if action.method is DeleteMethod.CANCEL:
        return GraphWrite(action, CancelEvent(action.graph_id))
    return GraphWrite(action, DeleteEvent(action.graph_id, action.if_match or "*"))


def log_graph_write(
    log: RunLog, write: GraphWrite, crm_event_id: int, response: GraphModelEvent | None
) -> None:
    """The sync log line of a write Graph accepted (a delete of a gone event counts as done)."""
    action = write.action
    if isinstance(action, CreateInGraph):
        log.action(
            Direction.CRM_TO_MICROSOFT_365,
            "created_in_microsoft365",
            f"Created CRM event {action.crm_event_id} '{action.snapshot.subject}' in "
            f"{action.mailbox}; Microsoft 365 sends the invitations.",
            crm_event_id=crm_event_id,
            graph_id=response.id if response is not None else None,
        )
    elif isinstance(action, UpdateInGraph):
        log.action(
            Direction.CRM_TO_MICROSOFT_365,
            "updated_in_microsoft365",
            f"Updated {', '.join(action.fields)} of CRM event {crm_event_id} in {action.mailbox}"
            + (" (the occurrence is now an exception)" if action.makes_exception else "")
            + ".",
            crm_event_id=crm_event_id,
            graph_id=action.graph_id,
        )
    else:
        log.action(
            Direction.CRM_TO_MICROSOFT_365,
            f"{action.method.value}_in_microsoft365",
            f"CRM event {crm_event_id} was deleted in the CRM; "
            + (
                "the meeting was cancelled in "
                if action.method is DeleteMethod.CANCEL
                else "it was deleted from "
            )
            + f"{action.mailbox}.",
            crm_event_id=crm_event_id,
            graph_id=action.graph_id,
        )
