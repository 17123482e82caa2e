"""The push runner: drains the outbox to Microsoft 365 (SPEC §2, CRM → Microsoft 365).

Per CRM event with pending entries: read the event and its link, ask the core (`plan_push`), make
the Graph write, then in one CRM transaction record the outcome — link, invitation sent, Teams join
URL, sync status, log — and delete the entries. A crash between the Graph write and that commit
leaves the entries: the retry POSTs again with the same transactionId (Graph answers with the event
made the first time) or PATCHes the same values again, so nothing is duplicated. A refused or failed
write leaves the entries too, with the error on the event's sync status.

If-Match protects updates: a 412 means the event was changed in Outlook meanwhile, and the entry
waits for the next pull, which merges both sides field by field.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, replace

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.errors import CrmError
from calsync.crm.models import Event, SyncStatus, User
from calsync.crm.services.event_sync_state import (
    mark_sync_error,
    mark_synced,
    record_invitation_sent,
)
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError, NotFound, PreconditionFailed
from calsync.graph.models import Event as GraphModelEvent
from calsync.sync.actions import (
    CreateInGraph,
    DeleteInGraph,
    DeleteMethod,
    EventPlan,
    ForgetLink,
    SaveLink,
    UpdateInGraph,
)
from calsync.sync.errors import SyncError
from calsync.sync.guard import check_mass_deletion
from calsync.sync.plan import plan_graph_write_result, plan_push
from calsync.sync.runners.common import (
    Checkpoint,
    Clock,
    graph_failure_message,
    no_checkpoint,
    system_clock,
)
from calsync.sync.runners.convert import (
    ALL_FIELDS,
    crm_event_of,
    draft_is_empty,
    draft_of,
    graph_event_of,
    sync_link_of,
)
from calsync.sync.runners.crm_writes import CrmWriter, SkipEvent, forget_link, save_link
from calsync.sync.runners.cursors import cursor_for, finish_run, start_run
from calsync.sync.runners.series_edits import rebase_occurrences_on_series_push
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.state import CrmDeleted, CrmEvent
from calsync.sync.storage.models import (
    CursorStatus,
    Direction,
    OutboxEntry,
    OutboxKind,
    RunKind,
    RunStatus,
    SyncLinkRecord,
)
from calsync.sync.storage.outbox import engine_writes


@dataclass
class PushReport:
    """What one drain of the outbox did."""

    pushed: int = 0
    failed: int = 0
    held: int = 0
    waiting_for_pull: int = 0
    graph_writes: int = 0


@dataclass(frozen=True)
class _Group:
    crm_event_id: int
    entry_ids: tuple[int, ...]
    create_attempted: bool


@dataclass
class _Prepared:
    group: _Group
    mailbox: str
    plan: EventPlan
    all_day_zone: str


class PushRunner:
    """Drains the outbox through the core and the Graph client."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        graph: GraphClient,
        *,
        clock: Clock = system_clock,
        checkpoint: Checkpoint = no_checkpoint,
    ) -> None:
        self._sessions = sessions
        self._graph = graph
        self._clock = clock
        self._checkpoint = checkpoint

    async def push_pending(self) -> PushReport:
        report = PushReport()
        run_id = start_run(self._sessions, RunKind.PUSH, None)
        groups = self._pending_groups()
        held = self._held_deletions(groups, run_id)
        for group in groups:
            if group.crm_event_id in held:
                report.held += 1
                continue
            await self._push_group(group, run_id, report)
        with self._sessions() as session:
            status = RunStatus.HELD if held else RunStatus.SUCCEEDED
            finish_run(session, run_id, status, self._clock(), graph_writes=report.graph_writes)
            session.commit()
        return report

    def _pending_groups(self) -> list[_Group]:
        with self._sessions() as session:
            entries = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
        by_event: dict[int, list[OutboxEntry]] = defaultdict(list)
        for entry in entries:
            by_event[entry.crm_event_id].append(entry)
        return [
            _Group(
                event_id,
                tuple(entry.id for entry in rows),
                any(entry.kind is OutboxKind.CREATE and entry.attempts > 0 for entry in rows),
            )
            for event_id, rows in by_event.items()
        ]

    def _held_deletions(self, groups: list[_Group], run_id: int) -> set[int]:
        """SPEC §9: CRM deletions that would remove most of a mailbox's synced events wait."""
        held: set[int] = set()
        with self._sessions() as session, engine_writes(session):
            deletions: dict[str, list[int]] = defaultdict(list)
            for group in groups:
                if session.get(Event, group.crm_event_id) is not None:
                    continue
                link = session.scalar(
                    select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == group.crm_event_id)
                )
                if link is not None:
                    deletions[link.mailbox].append(group.crm_event_id)
            log = RunLog(run_id, None)
            for mailbox, event_ids in deletions.items():
                synced = session.scalar(
                    select(func.count())
                    .select_from(SyncLinkRecord)
                    .where(SyncLinkRecord.mailbox == mailbox)
                )
                decision = check_mass_deletion(mailbox, synced or 0, 0, len(event_ids))
                cursor = cursor_for(session, mailbox, self._clock())
                if decision.proceed:
                    continue
                if cursor.deletions_confirmed:
                    cursor.deletions_confirmed = False
                    continue
                if cursor.deletions_discarded:
                    cursor.deletions_discarded = False
                    self._discard(session, mailbox, event_ids, log)
                    held.update(event_ids)
                    continue
                cursor.status = CursorStatus.NEEDS_ATTENTION
                cursor.status_message = decision.message
                log.mailbox = mailbox
                log.error(decision.reason.value if decision.reason else "held", decision.message)
                held.update(event_ids)
            log.write_to(session)
            session.commit()
        return held

    @staticmethod
    def _discard(session: Session, mailbox: str, event_ids: list[int], log: RunLog) -> None:
        """The administrator discarded these CRM deletions: the Outlook events stay, unlinked."""
        for event_id in event_ids:
            forget_link(session, event_id, None, mailbox)
            session.execute(delete(OutboxEntry).where(OutboxEntry.crm_event_id == event_id))
            log.action(
                Direction.NONE,
                "deletion_discarded",
                f"CRM event {event_id} was deleted in the CRM in a run held by the mass-deletion "
                f"guard; an administrator chose to keep its copy in {mailbox}, which is no longer "
                "synced.",
                crm_event_id=event_id,
            )

    async def _push_group(self, group: _Group, run_id: int, report: PushReport) -> None:
        log = RunLog(run_id, None)
        with self._sessions() as session, engine_writes(session):
            try:
                prepared = self._prepare(session, group, log)
            except SyncError as error:
                log.error(error.code, error.message, crm_event_id=group.crm_event_id)
                self._record_failure(session, group, error.message, log)
                report.failed += 1
                return
            if prepared is None:
                log.write_to(session)
                session.commit()
                return
            if any(isinstance(action, CreateInGraph) for action in prepared.plan.actions):
                # The POST may reach Graph even if we crash before the commit below; remember it,
                # so a deletion of the event before its link is saved keeps a tombstone.
                session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id.in_(group.entry_ids))
                    .values(attempts=OutboxEntry.attempts + 1)
                )
                session.commit()
        self._checkpoint("push.before_graph_write")
        try:
            response = await self._write_to_graph(prepared, log)
        except PreconditionFailed:
            report.waiting_for_pull += 1
            with self._sessions() as session:
                log.action(
                    Direction.NONE,
                    "changed_in_outlook_meanwhile",
                    f"CRM event {group.crm_event_id} was changed in Outlook since the last sync; "
                    "the CRM change waits for the next pull, which merges both.",
                    crm_event_id=group.crm_event_id,
                )
                log.write_to(session)
                session.commit()
            return
        except GraphError as error:
            report.failed += 1
            with self._sessions() as session, engine_writes(session):
                message = graph_failure_message(error)
                log.error(error.code, message, crm_event_id=group.crm_event_id)
                self._record_failure(session, group, message, log)
            return
        report.graph_writes += sum(
            1 for action in prepared.plan.actions if not isinstance(action, SaveLink)
        )
        self._checkpoint("push.after_graph_write")
        with self._sessions() as session, engine_writes(session):
            try:
                self._record_success(session, prepared, response, log)
            except (CrmError, SkipEvent) as error:
                session.rollback()
                message = getattr(error, "message", str(error))
                log.error(getattr(error, "code", "crm_error"), message)
                self._record_failure(session, group, message, log)
                report.failed += 1
                return
            session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(group.entry_ids)))
            log.write_to(session)
            self._checkpoint("push.before_commit")
            session.commit()
        report.pushed += 1

    def _prepare(self, session: Session, group: _Group, log: RunLog) -> _Prepared | None:
        event = session.get(Event, group.crm_event_id)
        record = session.scalar(
            select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == group.crm_event_id)
        )
        link = sync_link_of(record) if record is not None else None
        crm: CrmEvent | CrmDeleted
        if event is None:
            if link is None:
                if not group.create_attempted:
                    session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(group.entry_ids)))
                # else: keep the entries as the tombstone the next pull needs (docs §4).
                return None
            crm = CrmDeleted(str(group.crm_event_id))
            mailbox, zone = link.mailbox, "UTC"
        else:
            owner = session.get(User, event.owner_id)
            if owner is None or not owner.sync_enabled:
                session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(group.entry_ids)))
                return None
            crm = crm_event_of(session, event, owner.email, link)
            mailbox, zone = owner.email, event.time_zone
        plan = plan_push(link, crm, outbox_entry_id=str(group.entry_ids[0]))
        for notice in plan.notices:
            log.notice(notice, crm_event_id=group.crm_event_id)
        return _Prepared(group, mailbox, plan, zone)

    async def _write_to_graph(self, prepared: _Prepared, log: RunLog) -> GraphModelEvent | None:
        response: GraphModelEvent | None = None
        for action in prepared.plan.actions:
            if isinstance(action, CreateInGraph):
                draft = draft_of(action.snapshot, ALL_FIELDS, all_day_zone=prepared.all_day_zone)
                response = await self._graph.create_event(
                    action.mailbox, draft, transaction_id=action.transaction_id
                )
                log.action(
                    Direction.CRM_TO_MICROSOFT_365,
                    "created_in_microsoft365",
                    f"Created CRM event {action.crm_event_id} '{action.snapshot.subject}' in "
                    f"{action.mailbox}; Microsoft 365 sends the invitations.",
                    crm_event_id=int(action.crm_event_id),
                    graph_id=response.id,
                )
            elif isinstance(action, UpdateInGraph):
                draft = draft_of(action.snapshot, action.fields, all_day_zone=prepared.all_day_zone)
                if draft_is_empty(draft):
                    continue
                response = await self._graph.update_event(
                    action.mailbox, action.graph_id, draft, etag=action.if_match or "*"
                )
                log.action(
                    Direction.CRM_TO_MICROSOFT_365,
                    "updated_in_microsoft365",
                    f"Updated {', '.join(action.fields)} of CRM event "
                    f"{prepared.group.crm_event_id} in {action.mailbox}"
                    + (" (the occurrence is now an exception)" if action.makes_exception else "")
                    + ".",
                    crm_event_id=prepared.group.crm_event_id,
                    graph_id=action.graph_id,
                )
            elif isinstance(action, DeleteInGraph):
                await self._delete_in_graph(action)
                log.action(
                    Direction.CRM_TO_MICROSOFT_365,
                    f"{action.method.value}_in_microsoft365",
                    f"CRM event {prepared.group.crm_event_id} was deleted in the CRM; "
                    + (
                        "the meeting was cancelled in "
                        if action.method is DeleteMethod.CANCEL
                        else "it was deleted from "
                    )
                    + f"{action.mailbox}.",
                    crm_event_id=prepared.group.crm_event_id,
                    graph_id=action.graph_id,
                )
        return response

    async def _delete_in_graph(self, action: DeleteInGraph) -> None:
        try:
            if action.method is DeleteMethod.CANCEL:
                await self._graph.cancel_event(action.mailbox, action.graph_id)
            else:
                await self._graph.delete_event(
                    action.mailbox, action.graph_id, etag=action.if_match or "*"
                )
        except NotFound:
            return

    def _record_success(
        self,
        session: Session,
        prepared: _Prepared,
        response: GraphModelEvent | None,
        log: RunLog,
    ) -> None:
        plan = prepared.plan
        event_id = prepared.group.crm_event_id
        event = session.get(Event, event_id)
        writer = CrmWriter(session, prepared.mailbox, log, self._clock(), {})
        writer.apply(
            [
                action
                for action in plan.actions
                if not isinstance(action, CreateInGraph | UpdateInGraph | DeleteInGraph)
            ],
            event_id,
        )
        if isinstance(plan.link, ForgetLink) or event is None:
            forget_link(session, event_id, None, prepared.mailbox)
            return
        save = plan.link
        requested = next(
            (
                action.snapshot
                for action in plan.actions
                if isinstance(action, CreateInGraph | UpdateInGraph)
            ),
            None,
        )
        change_key = None
        if response is not None and save is not None and requested is not None:
            save = replace(save, crm_event_id=str(event_id), crm_version=event.version)
            result = plan_graph_write_result(
                save,
                requested,
                graph_event_of(response, prepared.mailbox),
                crm_teams_join_url=event.teams_join_url,
            )
            writer.apply(result.actions, event_id)
            for notice in result.notices:
                log.notice(notice, crm_event_id=event_id, graph_id=response.id)
            save = result.link if isinstance(result.link, SaveLink) else save
            change_key = response.change_key
            created = any(isinstance(action, CreateInGraph) for action in plan.actions)
            if created and (requested.attendees or event.is_teams_meeting):
                join_url = response.join_url if event.is_teams_meeting else None
                record_invitation_sent(session, event_id, self._clock(), join_url)
        for action in plan.actions:
            if isinstance(action, UpdateInGraph):
                rebase_occurrences_on_series_push(session, action)
        if event.sync_status is not SyncStatus.SYNCED:
            mark_synced(session, event_id)
        if save is not None:
            existing = session.scalar(
                select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == event_id)
            )
            save_link(
                session,
                save,
                crm_event_id=event_id,
                crm_version=event.version,
                change_key=change_key or (existing.change_key if existing else None),
            )

    def _record_failure(self, session: Session, group: _Group, message: str, log: RunLog) -> None:
        """Keep the entries for a retry and show the error on the event."""
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(group.entry_ids))
            .values(attempts=OutboxEntry.attempts + 1, last_error=message[:2000])
        )
        if session.get(Event, group.crm_event_id) is not None:
            with suppress(CrmError):
                mark_sync_error(session, group.crm_event_id, message[:2000])
        log.write_to(session)
        session.commit()
