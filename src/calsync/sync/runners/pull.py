"""The pull runner: one calendarView delta round of one mailbox, applied to the CRM (SPEC §3, §9).

A run reads the whole round first (following the saved deltaLink, or the configured window on the
first run and after a 410), reduces it to one final state per event, confirms removals with a GET,
fetches the series masters its occurrences need, and plans every event with the core. Graph writes
(CRM edits merged into an Outlook change) happen next, then one CRM transaction applies the CRM
writes, links, sync log and the new deltaLink together: a crash anywhere replays the round, and
replaying is harmless because an applied plan, planned again, writes nothing.

The cursor is not advanced when the round could not be applied in full — a Graph write failed, a
deletion is held by the mass-deletion guard, or an attendee's copy waits for its organizer's copy —
so those events are seen again on the next run instead of being skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.errors import CrmError
from calsync.crm.models import Event, User
from calsync.crm.models import Origin as CrmOrigin
from calsync.crm.services.users import find_user_by_email
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError, NotFound, PreconditionFailed, ResyncRequired
from calsync.graph.models import Event as GraphModelEvent
from calsync.sync.actions import (
    CreateInGraph,
    DeleteInCrm,
    DeleteInGraph,
    DeleteMethod,
    EventPlan,
    ForgetLink,
    MarkNotSynced,
    NoticeCode,
    SaveLink,
    UpdateInGraph,
)
from calsync.sync.delta import (
    DeltaItem,
    DeltaRemoval,
    SyncWindow,
    childless_masters_to_confirm,
    reduce_delta_round,
)
from calsync.sync.errors import SyncError
from calsync.sync.fields import TimedSpan
from calsync.sync.guard import check_full_listing, check_mass_deletion, count_deletions
from calsync.sync.plan import crm_event_id_from_transaction_id, plan_event, plan_graph_write_result
from calsync.sync.runners.common import (
    Checkpoint,
    Clock,
    graph_failure_message,
    no_checkpoint,
    system_clock,
)
from calsync.sync.runners.convert import (
    crm_event_of,
    draft_is_empty,
    draft_of,
    graph_event_of,
    sync_link_of,
)
from calsync.sync.runners.crm_writes import CrmWriter, SkipEvent, forget_link, save_link
from calsync.sync.runners.cursors import configured_window, cursor_for, finish_run, start_run
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.state import (
    CrmDeleted,
    CrmEvent,
    EventState,
    GraphDeleted,
    GraphEvent,
    MeetingContext,
)
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    Direction,
    OutboxEntry,
    OutboxKind,
    RunKind,
    RunStatus,
    SyncLinkRecord,
)
from calsync.sync.storage.outbox import engine_writes
from calsync.sync.storage.snapshots import snapshot_from_json


@dataclass
class PullReport:
    """What one pull of one mailbox did."""

    mailbox: str
    full_resync: bool = False
    items_read: int = 0
    crm_writes: int = 0
    graph_writes: int = 0
    held: bool = False
    deferred: int = 0
    errors: int = 0
    cursor_advanced: bool = False
    notices: list[str] = field(default_factory=list)


Twins = dict[tuple[datetime, str], list[Event]]
"""Unlinked CRM events imported from Microsoft 365, by start and subject (lost-state re-links)."""


@dataclass
class _Planned:
    graph_id: str
    plan: EventPlan
    crm_event_id: int | None
    tombstone: bool = False
    response: GraphModelEvent | None = None


class PullRunner:
    """Pulls one mailbox at a time through the core into the CRM."""

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

    async def pull_mailbox(self, mailbox: str) -> PullReport:
        mailbox = mailbox.strip().lower()
        report = PullReport(mailbox)
        run_id = start_run(self._sessions, RunKind.PULL, mailbox)
        now = self._clock()
        with self._sessions() as session:
            cursor = cursor_for(session, mailbox, now)
            delta_link = cursor.delta_link
            window = SyncWindow(cursor.window_start, cursor.window_end)
            session.commit()
        report.full_resync = delta_link is None
        try:
            try:
                items, new_link = await self._read_round(mailbox, delta_link, window)
            except ResyncRequired:
                report.full_resync = True
                with self._sessions() as session:
                    window = configured_window(session, now)
                items, new_link = await self._read_round(mailbox, None, window)
        except GraphError as error:
            self._fail(run_id, mailbox, graph_failure_message(error))
            raise
        report.items_read = len(items)
        self._checkpoint("pull.after_read")
        log = RunLog(run_id, mailbox)
        with self._sessions() as session, engine_writes(session):
            advance = await self._sync_round(session, mailbox, items, window, report, log)
            cursor = cursor_for(session, mailbox, now)
            if advance:
                cursor.delta_link = new_link
                cursor.window_start, cursor.window_end = window.start, window.end
                report.cursor_advanced = True
            cursor.last_run_at = now
            if not report.held:
                cursor.status = CursorStatus.OK
                cursor.status_message = None
            log.write_to(session)
            finish_run(
                session,
                run_id,
                RunStatus.HELD if report.held else RunStatus.SUCCEEDED,
                self._clock(),
                crm_writes=report.crm_writes,
                graph_writes=report.graph_writes,
                full_resync=report.full_resync,
            )
            self._checkpoint("pull.before_commit")
            session.commit()
        return report

    async def _read_round(
        self, mailbox: str, delta_link: str | None, window: SyncWindow
    ) -> tuple[list[GraphModelEvent], str]:
        if delta_link is not None:
            round_ = self._graph.delta_round(mailbox, delta_link=delta_link)
        else:
            round_ = self._graph.delta_round(mailbox, start=window.start, end=window.end)
        items: list[GraphModelEvent] = []
        async for page in round_:
            items.extend(page.value)
        return items, round_.delta_link

    def _fail(self, run_id: int, mailbox: str, message: str) -> None:
        with self._sessions() as session:
            cursor = cursor_for(session, mailbox, self._clock())
            cursor.status = CursorStatus.ERROR
            cursor.status_message = message
            log = RunLog(run_id, mailbox)
            log.error("pull_failed", message)
            log.write_to(session)
            finish_run(session, run_id, RunStatus.FAILED, self._clock(), message=message)
            session.commit()

    async def _sync_round(
        self,
        session: Session,
        mailbox: str,
        items: list[GraphModelEvent],
        window: SyncWindow,
        report: PullReport,
        log: RunLog,
    ) -> bool:
        """Plan and apply one round; returns whether the cursor may move past it."""
        advance = True
        raw: dict[str, GraphModelEvent] = {}
        core_items: list[DeltaItem] = []
        for item in items:
            if item.is_removed:
                core_items.append(DeltaRemoval(item.id))
                continue
            try:
                core_items.append(graph_event_of(item, mailbox))
                raw[item.id] = item
            except (SyncError, ValueError) as error:
                report.errors += 1
                log.error(
                    "unreadable_microsoft365_event",
                    f"Event {item.id} in {mailbox} could not be read and was skipped: {error}",
                    graph_id=item.id,
                )
        links = {
            record.graph_id: record
            for record in session.scalars(
                select(SyncLinkRecord).where(SyncLinkRecord.mailbox == mailbox)
            )
        }
        tracked = {gid: snapshot_from_json(record.base).timing for gid, record in links.items()}
        round_ = reduce_delta_round(core_items, tracked, window)
        changed: dict[str, GraphEvent | GraphDeleted] = {ev.graph_id: ev for ev in round_.changed}
        to_confirm = list(round_.removed)
        cursor = cursor_for(session, mailbox, self._clock())
        if report.full_resync:
            decision = check_full_listing(mailbox, len(links), len(changed))
            decided = cursor.deletions_confirmed or cursor.deletions_discarded
            if not decision.proceed and not decided:
                return self._hold(cursor, decision.message, report, log)
            for gid, timing in tracked.items():
                if gid not in changed and gid not in to_confirm and window.may_contain(timing):
                    to_confirm.append(gid)
        for gid in childless_masters_to_confirm(
            round_,
            [gid for gid, record in links.items() if record.event_type == "seriesMaster"],
            [record.series_master_graph_id for record in links.values()],
        ):
            if gid not in to_confirm:
                to_confirm.append(gid)
        for gid in list(to_confirm):
            master = links[gid].series_master_graph_id if gid in links else None
            if master and master in links and master not in to_confirm:
                to_confirm.append(master)
        for gid in to_confirm:
            confirmed = await self._confirm_removal(mailbox, gid, raw, log)
            if confirmed is not None:
                changed[gid] = confirmed
        masters = await self._series_masters(mailbox, changed, raw, log)
        twins = self._unlinked_imports(session, mailbox)
        ordered: list[GraphEvent | GraphDeleted] = [*masters, *changed.values()]
        planned = [
            p
            for p in (self._plan(session, mailbox, ev, links, twins, report, log) for ev in ordered)
            if p
        ]
        counts = count_deletions(p.plan for p in planned)
        decision = check_mass_deletion(
            mailbox, len(links), min(counts.crm, len(links)), min(counts.microsoft365, len(links))
        )
        if not decision.proceed:
            if cursor.deletions_confirmed:
                cursor.deletions_confirmed = False
            elif cursor.deletions_discarded:
                cursor.deletions_discarded = False
                planned = [_discarded(p) if _deletes(p.plan) else p for p in planned]
            else:
                self._hold(cursor, decision.message, report, log)
                advance = False
                planned = [p for p in planned if not _deletes(p.plan)]
        if report.deferred:
            advance = False
        for entry in planned:
            if not await self._write_graph(mailbox, entry, report, log):
                advance = False
        self._checkpoint("pull.after_graph_writes")
        writer = CrmWriter(session, mailbox, log, self._clock(), raw)
        for entry in planned:
            if entry.plan.writes_nothing and not entry.plan.notices:
                continue
            if not self._apply_crm(session, writer, mailbox, entry, log):
                report.errors += 1
                advance = False
        report.crm_writes += writer.writes
        return advance

    @staticmethod
    def _hold(cursor: DeltaCursor, message: str, report: PullReport, log: RunLog) -> bool:
        cursor.status = CursorStatus.NEEDS_ATTENTION
        cursor.status_message = message
        report.held = True
        log.error("mass_deletion_held", message)
        return False

    async def _confirm_removal(
        self, mailbox: str, graph_id: str, raw: dict[str, GraphModelEvent], log: RunLog
    ) -> GraphEvent | GraphDeleted | None:
        """`@removed` means deleted *or* moved out of the window: only a 404 proves a deletion."""
        try:
            event = await self._graph.get_event(mailbox, graph_id)
        except NotFound:
            return GraphDeleted(graph_id)
        except GraphError as error:
            log.error(
                error.code,
                f"Could not check whether event {graph_id} was deleted in {mailbox}; nothing was "
                f"deleted and it is checked again on the next run. {graph_failure_message(error)}",
                graph_id=graph_id,
            )
            return None
        try:
            converted = graph_event_of(event, mailbox)
        except (SyncError, ValueError):
            return None
        raw[graph_id] = event
        return converted

    async def _series_masters(
        self,
        mailbox: str,
        changed: dict[str, GraphEvent | GraphDeleted],
        raw: dict[str, GraphModelEvent],
        log: RunLog,
    ) -> list[GraphEvent | GraphDeleted]:
        """Delta never returns masters: GET each series an occurrence of this round belongs to."""
        wanted: list[str] = []
        for event in changed.values():
            master_id = event.series_master_id if isinstance(event, GraphEvent) else None
            if master_id and master_id not in wanted and master_id not in changed:
                wanted.append(master_id)
        masters: list[GraphEvent | GraphDeleted] = []
        for master_id in wanted:
            try:
                master = await self._graph.get_series_master(mailbox, master_id)
                masters.append(graph_event_of(master, mailbox))
                raw[master_id] = master
            except NotFound:
                masters.append(GraphDeleted(master_id))
            except (GraphError, SyncError, ValueError) as error:
                log.error(
                    "series_master_unavailable",
                    f"The series {master_id} in {mailbox} could not be read ({error}); its "
                    "occurrences are retried on the next run.",
                    graph_id=master_id,
                )
        return masters

    def _plan(
        self,
        session: Session,
        mailbox: str,
        graph: GraphEvent | GraphDeleted,
        links: dict[str, SyncLinkRecord],
        twins: Twins,
        report: PullReport,
        log: RunLog,
    ) -> _Planned | None:
        try:
            state, crm_event_id, tombstone = self._state(session, mailbox, graph, links, twins)
            if state is None:
                return None
            plan = plan_event(state)
        except SyncError as error:
            report.errors += 1
            log.error(error.code, str(error), graph_id=graph.graph_id)
            return None
        for notice in plan.notices:
            if notice.code is NoticeCode.WAITING_FOR_ORGANIZER_COPY:
                report.deferred += 1
        return _Planned(graph.graph_id, plan, crm_event_id, tombstone)

    def _state(
        self,
        session: Session,
        mailbox: str,
        graph: GraphEvent | GraphDeleted,
        links: dict[str, SyncLinkRecord],
        twins: Twins,
    ) -> tuple[EventState | None, int | None, bool]:
        record = links.get(graph.graph_id)
        if record is not None:
            link = sync_link_of(record)
            event = session.get(Event, record.crm_event_id)
            crm: CrmEvent | CrmDeleted = (
                crm_event_of(session, event, mailbox, link)
                if event is not None
                else CrmDeleted(str(record.crm_event_id))
            )
            return EventState(link=link, crm=crm, graph=graph), record.crm_event_id, False
        if isinstance(graph, GraphDeleted):
            return None, None, False
        meeting = self._meeting_context(session, graph)
        pushed_from = crm_event_id_from_transaction_id(graph.transaction_id)
        if pushed_from is not None and pushed_from.isdigit() and graph.is_organizer:
            crm_id = int(pushed_from)
            event = session.get(Event, crm_id)
            if event is not None:
                owner = session.get(User, event.owner_id)
                already = session.scalar(
                    select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == crm_id)
                )
                if owner is not None and owner.email.lower() == mailbox and already is None:
                    crm = crm_event_of(session, event, mailbox, None)
                    return EventState(crm=crm, graph=graph), crm_id, False
            elif self._has_tombstone(session, crm_id):
                return EventState(crm=CrmDeleted(pushed_from), graph=graph), crm_id, True
        orphan = self._unlinked_twin(graph, twins)
        if orphan is not None:
            crm = crm_event_of(session, orphan, mailbox, None)
            return EventState(crm=crm, graph=graph), orphan.id, False
        return EventState(graph=graph, meeting=meeting), None, False

    @staticmethod
    def _unlinked_twin(graph: GraphEvent, twins: Twins) -> Event | None:
        """After lost state, the CRM event imported earlier from this Outlook event, if any.

        CRM rows carry no Graph id or iCalUId, so the one unlinked Microsoft 365 event of the same
        owner with the same subject and start is taken to be it: re-linking it (Microsoft 365 wins
        any difference) is safe, importing it again would show the meeting twice.
        """
        timing = graph.snapshot.timing
        if not isinstance(timing, TimedSpan):
            return None
        candidates = twins.get((timing.start, graph.snapshot.subject), [])
        if len(candidates) != 1:
            return None
        return candidates.pop()

    @staticmethod
    def _unlinked_imports(session: Session, mailbox: str) -> Twins:
        """The mailbox owner's events imported from Microsoft 365 that have no link (one query)."""
        owner = find_user_by_email(session, mailbox)
        if owner is None:
            return {}
        events = session.scalars(
            select(Event).where(
                Event.owner_id == owner.id,
                Event.origin == CrmOrigin.MICROSOFT365,
                Event.copy_of_event_id.is_(None),
                Event.id.not_in(select(SyncLinkRecord.crm_event_id)),
            )
        ).all()
        twins: Twins = {}
        for event in events:
            twins.setdefault((event.start_at, event.subject), []).append(event)
        return twins

    @staticmethod
    def _has_tombstone(session: Session, crm_event_id: int) -> bool:
        return (
            session.scalar(
                select(OutboxEntry.id).where(
                    OutboxEntry.crm_event_id == crm_event_id,
                    OutboxEntry.kind == OutboxKind.DELETE,
                )
            )
            is not None
        )

    @staticmethod
    def _meeting_context(session: Session, graph: GraphEvent) -> MeetingContext | None:
        """SPEC §6: is this an invitation copy of a meeting organised by a synced CRM user?"""
        if graph.is_organizer or not graph.organizer_address:
            return None
        organizer = find_user_by_email(session, graph.organizer_address)
        if organizer is None or not organizer.sync_enabled:
            return None
        origin = None
        if graph.ical_uid:
            organizer_link = session.scalar(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox == organizer.email_normalized,
                    SyncLinkRecord.ical_uid == graph.ical_uid,
                    SyncLinkRecord.is_organizer.is_(True),
                )
            )
            if organizer_link is not None:
                origin = sync_link_of(organizer_link).origin
        return MeetingContext(organizer_mailbox_synced=True, organizer_copy_origin=origin)

    async def _write_graph(
        self, mailbox: str, item: _Planned, report: PullReport, log: RunLog
    ) -> bool:
        """Make the plan's Graph writes; False when the round must be replayed later."""
        try:
            for action in item.plan.actions:
                if isinstance(action, UpdateInGraph):
                    draft = draft_of(action.snapshot, action.fields, all_day_zone="UTC")
                    if draft_is_empty(draft):
                        continue
                    item.response = await self._graph.update_event(
                        mailbox, action.graph_id, draft, etag=action.if_match or "*"
                    )
                    report.graph_writes += 1
                    log.action(
                        Direction.CRM_TO_MICROSOFT_365,
                        "updated_in_microsoft365",
                        f"Updated {', '.join(action.fields)} in {mailbox} from CRM event "
                        f"{item.crm_event_id}.",
                        crm_event_id=item.crm_event_id,
                        graph_id=action.graph_id,
                    )
                elif isinstance(action, DeleteInGraph):
                    try:
                        if action.method is DeleteMethod.CANCEL:
                            await self._graph.cancel_event(mailbox, action.graph_id)
                        else:
                            await self._graph.delete_event(
                                mailbox, action.graph_id, etag=action.if_match or "*"
                            )
                    except NotFound:
                        pass
                    report.graph_writes += 1
                    log.action(
                        Direction.CRM_TO_MICROSOFT_365,
                        f"{action.method.value}_in_microsoft365",
                        f"Event {action.graph_id} was deleted in the CRM; removed from {mailbox}.",
                        crm_event_id=item.crm_event_id,
                        graph_id=action.graph_id,
                    )
                elif isinstance(action, CreateInGraph):
                    # Creations reach Microsoft 365 through the outbox only.
                    continue
        except PreconditionFailed:
            item.plan = EventPlan()
            log.action(
                Direction.NONE,
                "changed_in_outlook_meanwhile",
                f"Event {item.graph_id} changed in Outlook during the run; it is merged again on "
                "the next run.",
                graph_id=item.graph_id,
            )
            return True
        except GraphError as error:
            item.plan = EventPlan()
            report.errors += 1
            log.error(error.code, graph_failure_message(error), graph_id=item.graph_id)
            return False
        return True

    def _apply_crm(
        self, session: Session, writer: CrmWriter, mailbox: str, item: _Planned, log: RunLog
    ) -> bool:
        plan = item.plan
        try:
            crm_event_id = writer.apply(
                [
                    action
                    for action in plan.actions
                    if not isinstance(action, CreateInGraph | UpdateInGraph | DeleteInGraph)
                ],
                item.crm_event_id,
            )
            for notice in plan.notices:
                log.notice(notice, crm_event_id=crm_event_id, graph_id=item.graph_id)
            if isinstance(plan.link, ForgetLink):
                forget_link(session, item.crm_event_id, item.graph_id, mailbox)
            elif isinstance(plan.link, SaveLink) and crm_event_id is not None:
                self._save(session, writer, mailbox, item, plan.link, crm_event_id)
            if item.tombstone and item.crm_event_id is not None:
                session.execute(
                    delete(OutboxEntry).where(OutboxEntry.crm_event_id == item.crm_event_id)
                )
        except (CrmError, SkipEvent, SyncError) as error:
            code = getattr(error, "code", "crm_error")
            message = getattr(error, "message", str(error))
            log.error(
                code,
                f"Event {item.graph_id} from {mailbox} could not be applied to the CRM: {message}",
                crm_event_id=item.crm_event_id,
                graph_id=item.graph_id,
            )
            return False
        return True

    def _save(
        self,
        session: Session,
        writer: CrmWriter,
        mailbox: str,
        item: _Planned,
        save: SaveLink,
        crm_event_id: int,
    ) -> None:
        event = session.get(Event, crm_event_id)
        if event is None:
            return
        save = replace(save, crm_event_id=str(crm_event_id), crm_version=event.version)
        change_key = None
        if item.response is not None:
            requested = next(a.snapshot for a in item.plan.actions if isinstance(a, UpdateInGraph))
            result = plan_graph_write_result(
                save,
                requested,
                graph_event_of(item.response, mailbox),
                crm_teams_join_url=event.teams_join_url,
            )
            writer.apply(result.actions, crm_event_id)
            for notice in result.notices:
                writer.log.notice(notice, crm_event_id=crm_event_id, graph_id=item.graph_id)
            if isinstance(result.link, SaveLink):
                save = result.link
            change_key = item.response.change_key
        raw = writer.raw_events.get(item.graph_id)
        if change_key is None and raw is not None:
            change_key = raw.change_key
        save_link(
            session,
            save,
            crm_event_id=crm_event_id,
            crm_version=event.version,
            change_key=change_key,
        )


DISCARDED_MESSAGE = (
    "This event was deleted in Microsoft 365 in a run held by the mass-deletion guard; an "
    "administrator chose to keep it in the CRM, so it is no longer synced."
)


def _discarded(planned: _Planned) -> _Planned:
    """The administrator discarded this deletion: keep what still exists, drop the link."""
    actions = tuple(
        MarkNotSynced(action.crm_event_id, "deletion_discarded", DISCARDED_MESSAGE)
        for action in planned.plan.actions
        if isinstance(action, DeleteInCrm)
    )
    return replace(planned, plan=EventPlan(actions=actions, link=ForgetLink()))


def _deletes(plan: EventPlan) -> bool:
    return any(isinstance(action, DeleteInCrm | DeleteInGraph) for action in plan.actions)
