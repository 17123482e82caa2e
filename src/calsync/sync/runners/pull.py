"""The pull runner: one calendarView delta round of one mailbox, applied to the CRM (SPEC §3, §9).

A run reads the whole round first (following the saved deltaLink, or the configured window on the
first run and after a 410), reduces it to one final state per event, confirms removals with a GET,
fetches the series masters its occurrences need, and plans every event with the core. Graph writes
(CRM edits merged into an Outlook change) happen next, then one CRM transaction applies the CRM
writes, links, sync log and the new deltaLink together: a crash anywhere replays the round, and
replaying is harmless because an applied plan, planned again, writes nothing.

No database session is open while the run waits for Microsoft 365: state is read in short
read-only sessions (a few set-based queries per round, `pull_state`), and the write transaction
starts after the last Graph call. It re-reads what the plans were built from (`current_bases`); an
event saved in the CRM or linked by a push meanwhile is planned again, and if it now needs a Graph
write it is left for the next run (the cursor stays). New Outlook events are created together
(`CrmWriter.import_new`): a handful of multi-row inserts per round instead of several flushes per
event.

The cursor is not advanced when the round could not be applied in full — a Graph write failed, a
deletion is held by the mass-deletion guard, an attendee's copy waits for its organizer's copy, or
an event changed in the CRM during the run — so those events are seen again on the next run instead
of being skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.errors import CrmError
from calsync.crm.models import Event
from calsync.crm.services.event_import import chunks
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError, NotFound, PreconditionFailed, ResyncRequired
from calsync.graph.models import Event as GraphModelEvent
from calsync.sync.actions import (
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
from calsync.sync.guard import check_full_listing, check_mass_deletion, count_deletions
from calsync.sync.plan import plan_event, plan_graph_write_result
from calsync.sync.runners.common import (
    Checkpoint,
    Clock,
    graph_failure_message,
    no_checkpoint,
    system_clock,
)
from calsync.sync.runners.convert import (
    draft_is_empty,
    draft_of,
    graph_event_of,
    record_pending_write,
    sync_link_of,
)
from calsync.sync.runners.crm_writes import (
    CrmWriter,
    NewLink,
    SkipEvent,
    forget_link,
    insert_new_links,
    save_link,
)
from calsync.sync.runners.cursors import configured_window, cursor_for, finish_run, start_run
from calsync.sync.runners.pull_state import Basis, RoundLookups, current_bases
from calsync.sync.runners.series_edits import (
    rebase_occurrences_on_series_push,
    settled_series_write,
)
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.state import GraphDeleted, GraphEvent, GraphEventType, Origin, PendingWrite
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    Direction,
    OutboxEntry,
    RunKind,
    RunStatus,
    SyncLinkRecord,
)
from calsync.sync.storage.outbox import engine_writes
from calsync.sync.storage.snapshots import snapshot_from_json, snapshot_to_json


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


@dataclass
class _Planned:
    """One event's plan in a round: the Graph state and CRM basis it was made from, and what its
    Graph writes did (`response`, `wrote_graph`), which the write transaction needs."""

    graph: GraphEvent | GraphDeleted
    plan: EventPlan
    crm_event_id: int | None
    basis: Basis
    tombstone: bool = False
    response: GraphModelEvent | None = None
    wrote_graph: bool = False

    @property
    def graph_id(self) -> str:
        return self.graph.graph_id


@dataclass
class _Round:
    """A planned round, its Graph writes made, waiting for the write transaction."""

    planned: list[_Planned] = field(default_factory=list)
    raw: dict[str, GraphModelEvent] = field(default_factory=dict)
    advance: bool = True
    hold_message: str | None = None
    used_decision: Literal["confirmed", "discarded"] | None = None  # an administrator's, used up


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
        round_ = await self._plan_round(mailbox, items, window, report, log)
        self._checkpoint("pull.after_graph_writes")
        with self._sessions() as session, engine_writes(session):
            advance = self._apply_round(session, mailbox, round_, report, log)
            cursor = cursor_for(session, mailbox, now)
            if advance:
                cursor.delta_link = new_link
                cursor.window_start, cursor.window_end = window.start, window.end
                report.cursor_advanced = True
            cursor.last_run_at = now
            if round_.used_decision == "confirmed":
                cursor.deletions_confirmed = False
            elif round_.used_decision == "discarded":
                cursor.deletions_discarded = False
            if round_.hold_message is not None:
                cursor.status = CursorStatus.NEEDS_ATTENTION
                cursor.status_message = round_.hold_message
            else:
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

    # ----- planning: read-only sessions, then the Graph calls ------------------------------------

    async def _plan_round(
        self,
        mailbox: str,
        items: list[GraphModelEvent],
        window: SyncWindow,
        report: PullReport,
        log: RunLog,
    ) -> _Round:
        """Plan the round and make its Graph writes; no session stays open across a Graph call."""
        round_ = _Round()
        raw = round_.raw
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
        with self._sessions() as session:
            links = {
                record.graph_id: record
                for record in session.scalars(
                    select(SyncLinkRecord).where(SyncLinkRecord.mailbox == mailbox)
                )
            }
            cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == mailbox))
            confirmed = cursor is not None and cursor.deletions_confirmed
            discarded = cursor is not None and cursor.deletions_discarded
        tracked = {gid: snapshot_from_json(record.base).timing for gid, record in links.items()}
        reduced = reduce_delta_round(core_items, tracked, window)
        changed: dict[str, GraphEvent | GraphDeleted] = {ev.graph_id: ev for ev in reduced.changed}
        to_confirm = list(reduced.removed)
        if report.full_resync:
            decision = check_full_listing(mailbox, len(links), len(changed))
            if not decision.proceed and not (confirmed or discarded):
                self._hold(round_, decision.message, report, log)
                return round_
            for gid, timing in tracked.items():
                if gid not in changed and gid not in to_confirm and window.may_contain(timing):
                    to_confirm.append(gid)
        for gid in childless_masters_to_confirm(
            reduced,
            [gid for gid, record in links.items() if record.event_type == "seriesMaster"],
            [record.series_master_graph_id for record in links.values()],
        ):
            if gid not in to_confirm:
                to_confirm.append(gid)
        for gid in list(to_confirm):
            master = links[gid].series_master_graph_id if gid in links else None
            if master and master in links and master not in to_confirm:
                to_confirm.append(master)
        # The client keeps to the mailbox's concurrent-request limit; the answers come in order.
        checked = await asyncio.gather(
            *(self._confirm_removal(mailbox, gid, raw, log) for gid in to_confirm)
        )
        for gid, confirmed_state in zip(to_confirm, checked, strict=True):
            if confirmed_state is not None:
                changed[gid] = confirmed_state
        masters = await self._series_masters(mailbox, changed, raw, log)
        ordered: list[GraphEvent | GraphDeleted] = [*masters, *changed.values()]
        with self._sessions() as session:
            lookups = RoundLookups.load(session, mailbox, ordered, links)
            planned = [p for p in (self._plan(lookups, ev, report, log) for ev in ordered) if p]
        counts = count_deletions(p.plan for p in planned)
        decision = check_mass_deletion(
            mailbox, len(links), min(counts.crm, len(links)), min(counts.microsoft365, len(links))
        )
        if not decision.proceed:
            if confirmed:
                round_.used_decision = "confirmed"
            elif discarded:
                round_.used_decision = "discarded"
                planned = [_discarded(p) if _deletes(p.plan) else p for p in planned]
            else:
                self._hold(round_, decision.message, report, log)
                planned = [p for p in planned if not _deletes(p.plan)]
        if report.deferred:
            round_.advance = False
        for entry in planned:
            if not await self._write_graph(mailbox, entry, report, log):
                round_.advance = False
        round_.planned = planned
        return round_

    @staticmethod
    def _hold(round_: _Round, message: str, report: PullReport, log: RunLog) -> None:
        round_.hold_message = message
        round_.advance = False
        report.held = True
        log.error("mass_deletion_held", message)

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
        """Delta never returns masters: fetch each series an occurrence of this round belongs to
        (in `$batch` requests of 20, `GraphClient.get_series_masters`)."""
        wanted: list[str] = []
        for event in changed.values():
            master_id = event.series_master_id if isinstance(event, GraphEvent) else None
            if master_id and master_id not in wanted and master_id not in changed:
                wanted.append(master_id)
        if not wanted:
            return []
        fetched = await self._graph.get_series_masters(mailbox, wanted)
        masters: list[GraphEvent | GraphDeleted] = []
        for master_id, outcome in zip(wanted, fetched, strict=True):
            master = self._series_master(mailbox, master_id, outcome, raw, log)
            if master is not None:
                masters.append(master)
        return masters

    @staticmethod
    def _series_master(
        mailbox: str,
        master_id: str,
        outcome: GraphModelEvent | GraphError,
        raw: dict[str, GraphModelEvent],
        log: RunLog,
    ) -> GraphEvent | GraphDeleted | None:
        """A fetched master as the core sees it; gone when Graph says 404, None (logged, its
        occurrences retried on the next run) when it could not be read."""
        if isinstance(outcome, NotFound):
            return GraphDeleted(master_id)
        problem: Exception
        if isinstance(outcome, GraphError):
            problem = outcome
        else:
            try:
                converted = graph_event_of(outcome, mailbox)
            except (SyncError, ValueError) as error:
                problem = error
            else:
                raw[master_id] = outcome
                return converted
        log.error(
            "series_master_unavailable",
            f"The series {master_id} in {mailbox} could not be read ({problem}); its "
            "occurrences are retried on the next run.",
            graph_id=master_id,
        )
        return None

    @staticmethod
    def _plan(
        lookups: RoundLookups,
        graph: GraphEvent | GraphDeleted,
        report: PullReport,
        log: RunLog,
    ) -> _Planned | None:
        try:
            planned = lookups.state_of(graph)
            if planned.state is None:
                return None
            plan = plan_event(planned.state)
        except SyncError as error:
            report.errors += 1
            log.error(error.code, str(error), graph_id=graph.graph_id)
            return None
        for notice in plan.notices:
            if notice.code is NoticeCode.WAITING_FOR_ORGANIZER_COPY:
                report.deferred += 1
        return _Planned(graph, plan, planned.crm_event_id, planned.basis, planned.tombstone)

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
                    item.wrote_graph = True
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
                    item.wrote_graph = True
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

    # ----- the write transaction -----------------------------------------------------------------

    def _apply_round(
        self, session: Session, mailbox: str, round_: _Round, report: PullReport, log: RunLog
    ) -> bool:
        """Apply the planned round in the caller's transaction; returns whether the cursor may
        move past it."""
        entries, advance = self._recheck(session, mailbox, round_.planned, report, log)
        advance = advance and round_.advance
        writer = CrmWriter(session, mailbox, log, self._clock(), round_.raw)
        to_apply = [e for e in entries if not (e.plan.writes_nothing and not e.plan.notices)]
        new_events = [e for e in to_apply if _is_new_import(e)]
        others = [e for e in to_apply if not _is_new_import(e)]
        # Series masters and single events first, occurrences after the rest: an occurrence needs
        # its series' link, which a new master gets in the first group and an existing one has.
        first = [e for e in new_events if _create_of(e).series_master_graph_id is None]
        last = [e for e in new_events if _create_of(e).series_master_graph_id is not None]
        if not self._import_new(session, writer, first, report, log):
            advance = False
        for entry in others:
            if not self._apply_crm(session, writer, mailbox, entry, log):
                report.errors += 1
                advance = False
        if not self._import_new(session, writer, last, report, log):
            advance = False
        report.crm_writes += writer.writes
        return advance

    def _recheck(
        self,
        session: Session,
        mailbox: str,
        planned: list[_Planned],
        report: PullReport,
        log: RunLog,
    ) -> tuple[list[_Planned], bool]:
        """Keep the plans whose basis still holds; plan the others again from what the CRM holds
        now. A new plan that needs a Graph write (or a deletion, which the guard must count) waits
        for the next run, as does an event whose Graph write this run already made."""
        if not planned:
            return planned, True
        now = current_bases(session, mailbox, {p.graph_id: p.basis for p in planned})
        moved = [p for p in planned if now[p.graph_id] != p.basis]
        if not moved:
            return planned, True
        links = {
            record.graph_id: record
            for part in chunks([p.graph_id for p in moved])
            for record in session.scalars(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox == mailbox, SyncLinkRecord.graph_id.in_(part)
                )
            )
        }
        lookups = RoundLookups.load(
            session, mailbox, [p.graph for p in moved], links, series=[p.graph for p in planned]
        )
        kept = {id(p): p for p in planned}
        advance = True
        for entry in moved:
            again = None if entry.wrote_graph else self._plan(lookups, entry.graph, report, log)
            if again is None or _writes_graph(again.plan) or _deletes(again.plan):
                del kept[id(entry)]
                advance = False
                if entry.wrote_graph:
                    _keep_write_in_flight(links.get(entry.graph_id), entry)
                log.action(
                    Direction.NONE,
                    "changed_in_crm_meanwhile",
                    f"Event {entry.graph_id} changed in the CRM during the run; it is merged again "
                    "on the next run.",
                    crm_event_id=entry.crm_event_id,
                    graph_id=entry.graph_id,
                )
            else:
                kept[id(entry)] = again
                if any(n.code is NoticeCode.WAITING_FOR_ORGANIZER_COPY for n in again.plan.notices):
                    advance = False  # waits like any deferred copy: the round is seen again
        return list(kept.values()), advance

    def _import_new(
        self,
        session: Session,
        writer: CrmWriter,
        entries: Sequence[_Planned],
        report: PullReport,
        log: RunLog,
    ) -> bool:
        """Create the CRM events of new Outlook events together, with their links."""
        if not entries:
            return True
        outcomes = writer.import_new([_create_of(e) for e in entries])
        links: list[NewLink] = []
        applied = True
        for entry, outcome in zip(entries, outcomes, strict=True):
            if not isinstance(outcome, int):
                report.errors += 1
                applied = False
                log.error(
                    outcome.code,
                    f"Event {entry.graph_id} from {writer.mailbox} could not be applied to the "
                    f"CRM: {outcome.message}",
                    graph_id=entry.graph_id,
                )
                continue
            for notice in entry.plan.notices:
                log.notice(notice, crm_event_id=outcome, graph_id=entry.graph_id)
            if isinstance(entry.plan.link, SaveLink):
                raw = writer.raw_events.get(entry.graph_id)
                links.append(
                    NewLink(
                        entry.plan.link,
                        crm_event_id=outcome,
                        crm_version=1,
                        change_key=raw.change_key if raw is not None else None,
                    )
                )
        insert_new_links(session, links)
        return applied

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
                # A deletion leaves no CRM event id to return; the notice still names the event.
                event_id = crm_event_id if crm_event_id is not None else item.crm_event_id
                log.notice(notice, crm_event_id=event_id, graph_id=item.graph_id)
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
        self._settle_series_write(session, mailbox, item)
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
            for action in item.plan.actions:
                if isinstance(action, UpdateInGraph):
                    rebase_occurrences_on_series_push(session, action)
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

    @staticmethod
    def _settle_series_write(session: Session, mailbox: str, item: _Planned) -> None:
        """A series master's write in flight that reached Microsoft 365 was our own: rebase its
        occurrences as recording it would have (the push's retry does the same), before the
        master's link takes its new base. The states of this round's occurrences were planned on
        those bases already (`RoundLookups`); this stores them, also for occurrences whose plan
        was dropped."""
        graph = item.graph
        if (
            not isinstance(graph, GraphEvent)
            or graph.event_type is not GraphEventType.SERIES_MASTER
        ):
            return  # only a master's write reaches other events (and only its link is read)
        record = session.scalar(
            select(SyncLinkRecord).where(
                SyncLinkRecord.mailbox == mailbox,
                SyncLinkRecord.graph_id == item.graph_id,
                SyncLinkRecord.pending_snapshot.is_not(None),
            )
        )
        if record is None:
            return
        pushed = settled_series_write(sync_link_of(record), graph)
        if pushed is not None:
            rebase_occurrences_on_series_push(session, pushed)
            # A write of this run on top of it rebases from the series as it now stands.
            record.base = snapshot_to_json(pushed.snapshot)


DISCARDED_MESSAGE = (
    "This event was deleted in Microsoft 365 in a run held by the mass-deletion guard; an "
    "administrator chose to keep it in the CRM, so it is no longer synced."
)


def _keep_write_in_flight(record: SyncLinkRecord | None, entry: _Planned) -> None:
    """The event's Graph write of this run went out but its plan is dropped (the CRM changed
    meanwhile): keep that write on the link as a write in flight, as the push does before sending,
    so the next merge takes our own value in Microsoft 365 for the base rather than an Outlook edit
    that would beat the newer CRM save. Only the fields written count as ours: the plan's other
    values (an Outlook change it would have brought to the CRM) stay Outlook's."""
    update = next((a for a in entry.plan.actions if isinstance(a, UpdateInGraph)), None)
    if record is None or update is None or entry.basis.crm_version is None:
        return
    written = {name: getattr(update.snapshot, name) for name in update.fields}
    after = replace(snapshot_from_json(record.base), **written)
    record_pending_write(record, PendingWrite(after, entry.basis.crm_version))


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


def _writes_graph(plan: EventPlan) -> bool:
    return any(isinstance(action, UpdateInGraph | DeleteInGraph) for action in plan.actions)


def _is_new_import(entry: _Planned) -> bool:
    """A new Outlook event the CRM creates as is: one Microsoft 365 create, then its link."""
    actions = entry.plan.actions
    return (
        len(actions) == 1
        and isinstance(actions[0], CreateInCrm)
        and actions[0].origin is Origin.MICROSOFT_365
        and isinstance(entry.plan.link, SaveLink)
        and entry.crm_event_id is None
        and entry.response is None
        and not entry.tombstone
    )


def _create_of(entry: _Planned) -> CreateInCrm:
    action = entry.plan.actions[0]
    if not isinstance(action, CreateInCrm):
        raise TypeError(f"the plan of {entry.graph_id} does not create a CRM event")
    return action
