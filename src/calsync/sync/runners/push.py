"""The push runner: drains the outbox to Microsoft 365 (SPEC §2, CRM → Microsoft 365).

Per CRM event with pending entries: read the event and its link and ask the core (`plan_push`);
its one Graph write waits in its mailbox's batch, its intent in the transaction that commits just
before that batch is sent. A batch of 20 writes (or what is left at the end) goes to Graph as one
JSON `$batch` — one write per event, so the items are independent — and then one CRM transaction
records the items' outcomes — link, invitation sent, Teams join URL, sync status, log — and
deletes their entries (each item in a transaction of its own only when the CRM refuses one). The
rows a batch reads are loaded per batch (`BatchReads`), not per event. A crash between the batch
and that commit leaves the entries: the retry POSTs again with the same transactionId (Graph
answers with the event made the first time) or PATCHes the same values again, so nothing is
duplicated. A refused or failed item (or a batch that failed as a whole) leaves its entries too,
with the error on the event's sync status; the other items of the batch are recorded as usual.

If-Match protects updates: a 412 means the event was changed in Outlook meanwhile, and the entry
waits for the next pull, which merges both sides field by field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.errors import CrmError
from calsync.crm.models import Event, SyncStatus, User
from calsync.crm.services.event_import import chunks
from calsync.crm.services.event_sync_state import (
    mark_sync_error,
    mark_synced,
    record_invitation_sent,
)
from calsync.graph.batch import MAX_BATCH_ITEMS
from calsync.graph.client import GraphClient, WriteOutcome
from calsync.graph.errors import (
    GraphError,
    InvalidArgument,
    InvalidResponse,
    NotFound,
    PreconditionFailed,
)
from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.writes import CancelEvent, CreateEvent, DeleteEvent
from calsync.sync.actions import (
    CreateInGraph,
    DeleteInGraph,
    EventPlan,
    ForgetLink,
    SaveLink,
    UpdateInGraph,
)
from calsync.sync.errors import SyncError
from calsync.sync.guard import check_mass_deletion
from calsync.sync.merge import changed_fields
from calsync.sync.plan import (
    pending_write_of,
    plan_graph_write_result,
    plan_push,
    settle_pending_write,
)
from calsync.sync.runners.common import (
    Checkpoint,
    Clock,
    graph_failure_message,
    no_checkpoint,
    system_clock,
)
from calsync.sync.runners.convert import (
    crm_event_of,
    graph_event_of,
    record_pending_write,
    sync_link_of,
)
from calsync.sync.runners.crm_writes import CrmWriter, SkipEvent, forget_link, save_link
from calsync.sync.runners.cursors import cursor_for, finish_run, start_run
from calsync.sync.runners.invitations import uninvited_notice
from calsync.sync.runners.push_reads import BatchReads
from calsync.sync.runners.push_writes import GraphWrite, graph_write_of, log_graph_write
from calsync.sync.runners.series_edits import rebase_occurrences_on_series_push
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.state import CrmDeleted, CrmEvent, GraphEventType, SyncLink
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
from calsync.sync.storage.snapshots import snapshot_to_json


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
    """One event's push plan. `behind_crm`: it sends an older CRM version than the CRM holds (a
    create replayed exactly as first sent), so an update must follow once the link is saved."""

    group: _Group
    mailbox: str
    plan: EventPlan
    all_day_zone: str
    series: tuple[str, bool] | None = None
    crm_version: int | None = None
    behind_crm: bool = False


@dataclass(frozen=True)
class _Settled:
    """A link whose write in flight was accounted for by reading the event (`change_key`: Graph's
    own changeKey of the version read, kept for people reading the table)."""

    link: SyncLink
    change_key: str | None


@dataclass
class _Ready:
    """A planned push waiting for its Graph write (None: nothing to send) and its run log."""

    prepared: _Prepared
    write: GraphWrite | None
    log: RunLog


_ItemResult = GraphModelEvent | GraphError | None
"""A batch item's outcome: Graph's event (None: nothing came back, or nothing was sent), or the
error the item ended with."""


@dataclass
class _Recording:
    """What recording a batch's outcomes shares: the rows read for the batch, and the outbox
    entries of the recorded writes, deleted with one statement at the end (`finish`), with the
    items' log lines in one insert."""

    reads: BatchReads
    recorded_entries: list[int] = field(default_factory=list)

    def finish(self, session: Session, logs: list[RunLog]) -> None:
        if self.recorded_entries:
            session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(self.recorded_entries)))
        combined = RunLog(None, None)
        for log in logs:
            combined.lines += log.lines
            log.lines = []
        if combined.lines:
            combined.write_to(session)


class _IntentTransaction:
    """The CRM transaction holding the intents of the writes planned since the last batch went
    out (docs/sync-runners.md, "Push", step 2).

    It commits before a batch is sent, so each write's intent is durable before the write is,
    and before any other transaction of the drain writes (SQLite has one writer at a time): one
    commit per batch of 20 instead of one per event. Intents of writes not sent yet may commit
    early; after a crash each costs the next push one read of its event, nothing more.
    """

    def __init__(self, sessions: sessionmaker[Session], order: list[int]) -> None:
        self._sessions = sessions
        self._open: tuple[Session, ExitStack] | None = None
        self._order = order
        self._position = {crm_event_id: index for index, crm_event_id in enumerate(order)}
        self._reads = BatchReads.none()

    def __enter__(self) -> _IntentTransaction:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()  # an error before a commit: nothing of it was sent, so nothing is kept

    def session(self) -> Session:
        if self._open is None:
            stack = ExitStack()
            session = stack.enter_context(self._sessions())
            stack.enter_context(engine_writes(session))
            self._open = (session, stack)
        return self._open[0]

    def reads_for(self, crm_event_id: int) -> BatchReads:
        """The rows the event's plan reads, loaded in this transaction's session together with
        those of the next events of the drain (a batch's worth)."""
        if not self._reads.covers(crm_event_id):
            start = self._position.get(crm_event_id)
            ahead = (self._order[start : start + MAX_BATCH_ITEMS] if start is not None else []) or [
                crm_event_id
            ]
            self._reads = BatchReads.load(self.session(), ahead)
        return self._reads

    def commit(self) -> None:
        if self._open is not None:
            self._open[0].commit()
            self._close()

    def _close(self) -> None:
        self._reads = BatchReads.none()
        if self._open is not None:
            self._open[1].close()
            self._open = None


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
        follow_ups = await self._drain(groups, held, run_id, report)
        if follow_ups:
            # Creates replayed after a crash, whose CRM events changed since: send the changes.
            await self._drain(
                [group for group in self._pending_groups() if group.crm_event_id in follow_ups],
                held,
                run_id,
                report,
            )
        with self._sessions() as session:
            status = RunStatus.HELD if held else RunStatus.SUCCEEDED
            finish_run(session, run_id, status, self._clock(), graph_writes=report.graph_writes)
            session.commit()
        return report

    async def _drain(
        self, groups: list[_Group], held: set[int], run_id: int, report: PushReport
    ) -> set[int]:
        """Push `groups` in batches; returns the CRM events that need an update to follow."""
        follow_ups: set[int] = set()
        waiting: dict[str, list[_Ready]] = defaultdict(list)
        in_flight = self._events_with_write_in_flight(group.crm_event_id for group in groups)
        order = [group.crm_event_id for group in groups if group.crm_event_id not in held]
        with _IntentTransaction(self._sessions, order) as intents:
            for group in groups:
                if group.crm_event_id in held:
                    report.held += 1
                    continue
                ready = await self._prepare_group(
                    group, run_id, report, intents, group.crm_event_id in in_flight
                )
                if ready is None:
                    continue
                if ready.prepared.behind_crm:
                    follow_ups.add(group.crm_event_id)
                if ready.write is None:
                    intents.commit()
                    self._record_batch([(ready, None)], report)
                    continue
                if isinstance(ready.write.operation, CancelEvent):
                    intents.commit()  # the read may end in a log line of its own transaction
                    if await self._cancel_would_lose_an_outlook_edit(ready, ready.write, report):
                        continue
                batch = waiting[ready.write.mailbox]
                if _same_series_waiting(batch, ready):
                    # A series and its occurrences are one thing in Graph: keep their writes in
                    # order.
                    await self._send_batch(waiting.pop(ready.write.mailbox), report, intents)
                    batch = waiting[ready.write.mailbox]
                batch.append(ready)
                if len(batch) == MAX_BATCH_ITEMS:
                    await self._send_batch(waiting.pop(ready.write.mailbox), report, intents)
            for batch in waiting.values():
                await self._send_batch(batch, report, intents)
            intents.commit()  # what no batch carried out: failures, entries of events gone
        return follow_ups

    def _events_with_write_in_flight(self, crm_event_ids: Iterable[int]) -> set[int]:
        """The events (of `crm_event_ids`) whose link holds a write whose outcome is unknown: in
        a few queries for the whole drain, as only the push itself records such writes."""
        ids = list(crm_event_ids)
        found: set[int] = set()
        with self._sessions() as session:
            for part in chunks(ids):
                found.update(
                    session.scalars(
                        select(SyncLinkRecord.crm_event_id).where(
                            SyncLinkRecord.crm_event_id.in_(part),
                            SyncLinkRecord.pending_snapshot.is_not(None),
                        )
                    )
                )
        return found

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
            ids = [group.crm_event_id for group in groups]
            existing: set[int] = set()
            for part in chunks(ids):
                existing.update(session.scalars(select(Event.id).where(Event.id.in_(part))))
            for group in groups:
                if group.crm_event_id in existing:
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

    async def _prepare_group(
        self,
        group: _Group,
        run_id: int,
        report: PushReport,
        intents: _IntentTransaction,
        write_in_flight: bool,
    ) -> _Ready | None:
        """Plan one event's push and write its intent in `intents`, which commits before anything
        is sent (docs §6): the snapshot the write will leave in Graph (on the link, or on the
        create's outbox entry) and, before a create, the entries' `attempts`. A link still holding
        an earlier write whose outcome is unknown is settled first by reading the event."""
        log = RunLog(run_id, None)
        settled: _Settled | None = None
        in_flight = self._link_with_write_in_flight(group.crm_event_id) if write_in_flight else None
        if in_flight is not None:
            intents.commit()  # settling may end in a transaction of its own
            settled = await self._settle(in_flight, group, log, report)
            if settled is None:
                return None
        session = intents.session()
        reads = intents.reads_for(group.crm_event_id)
        try:
            prepared = self._prepare(session, group, log, settled, reads)
            write = (
                graph_write_of(prepared.plan, all_day_zone=prepared.all_day_zone)
                if prepared is not None
                else None
            )
        except (SyncError, InvalidArgument) as error:
            message = (
                error.message if isinstance(error, SyncError) else graph_failure_message(error)
            )
            log.error(error.code, message, crm_event_id=group.crm_event_id)
            self._record_failure(session, group, message, log)
            report.failed += 1
            return None
        if prepared is None:
            log.write_to(session)
            return None
        if write is not None:
            self._record_intent(session, prepared, write, reads)
        return _Ready(prepared, write, log)

    def _link_with_write_in_flight(self, crm_event_id: int) -> SyncLink | None:
        with self._sessions() as session:
            record = session.scalar(
                select(SyncLinkRecord).where(SyncLinkRecord.crm_event_id == crm_event_id)
            )
            if record is None or record.pending_snapshot is None:
                return None
            return sync_link_of(record)

    async def _settle(
        self, link: SyncLink, group: _Group, log: RunLog, report: PushReport
    ) -> _Settled | None:
        """Read the event whose earlier write's outcome is unknown and let the core decide whether
        that write took effect. None when the push cannot go on: the event was changed or deleted
        in Outlook as well (the pull merges both sides), or it could not be read (kept, retried)."""
        try:
            event = await self._graph.get_event(link.mailbox, link.graph_id)
            settled = settle_pending_write(link, graph_event_of(event, link.mailbox))
        except NotFound:
            settled, event = None, None
        except (GraphError, SyncError, ValueError) as error:
            report.failed += 1
            code = getattr(error, "code", "unreadable_microsoft365_event")
            message = graph_failure_message(error) if isinstance(error, GraphError) else str(error)
            with self._sessions() as session, engine_writes(session):
                log.error(code, message, crm_event_id=group.crm_event_id)
                self._record_failure(session, group, message, log)
                session.commit()
            return None
        if settled is None or event is None:
            self._wait_for_pull(group.crm_event_id, log, report)
            return None
        return _Settled(settled, event.change_key)

    @staticmethod
    def _record_intent(
        session: Session, prepared: _Prepared, write: GraphWrite, reads: BatchReads
    ) -> None:
        """Commit what the write will leave in Graph before sending it (a create's only once:
        every retry sends that same snapshot), and count a create's attempt, so a deletion of
        the event before its link is saved keeps a tombstone."""
        group = prepared.group
        pending = (
            pending_write_of(prepared.plan, prepared.crm_version)
            if prepared.crm_version is not None
            else None
        )
        if write.is_create:
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(group.entry_ids))
                .values(attempts=OutboxEntry.attempts + 1)
            )
            entry = session.get(OutboxEntry, group.entry_ids[0])
            if entry is not None and entry.pending_snapshot is None:
                record_pending_write(entry, pending)
            return
        record = reads.link(session, group.crm_event_id)
        if record is not None and isinstance(write.action, UpdateInGraph):
            record_pending_write(record, pending)

    async def _send_batch(
        self, batch: list[_Ready], report: PushReport, intents: _IntentTransaction
    ) -> None:
        """Commit the intents, send up to 20 independent writes to one mailbox as one `$batch`,
        then record the items' outcomes (`_record_batch`)."""
        intents.commit()
        writes = [ready.write for ready in batch if ready.write is not None]
        self._checkpoint("push.before_graph_write")
        try:
            outcomes = await self._graph.write_batch(
                writes[0].mailbox, [write.operation for write in writes]
            )
        except GraphError as error:
            # The batch as a whole failed (after the client's retries): every entry stays.
            self._record_batch([(ready, error) for ready in batch], report)
            return
        self._checkpoint("push.after_graph_write")
        self._record_batch(
            [
                (ready, _failure_of(outcome) or outcome.event)
                for ready, outcome in zip(batch, outcomes, strict=True)
            ],
            report,
        )

    def _record_batch(self, results: list[tuple[_Ready, _ItemResult]], report: PushReport) -> None:
        """Record a batch's outcomes in one CRM transaction (one commit per batch, not per event).
        When the CRM refuses one item's record, that transaction is rolled back and every item
        is recorded in its own transaction instead, so one failing item never fails the others:
        the refused one keeps its entries, with the error on the event."""
        kept_lines = [list(ready.log.lines) for ready, _ in results]
        tally = PushReport()
        try:
            with self._sessions() as session, engine_writes(session):
                recording = _Recording(
                    BatchReads.load(
                        session, [ready.prepared.group.crm_event_id for ready, _ in results]
                    )
                )
                for ready, result in results:
                    self._record_item(session, ready, result, tally, recording)
                recording.finish(session, [ready.log for ready, _ in results])
                self._checkpoint("push.before_commit")
                session.commit()
        except (CrmError, SkipEvent):
            for (ready, _), lines in zip(results, kept_lines, strict=True):
                ready.log.lines = lines
            tally = PushReport()
            for ready, result in results:
                self._record_alone(ready, result, tally)
        report.pushed += tally.pushed
        report.failed += tally.failed
        report.waiting_for_pull += tally.waiting_for_pull
        report.graph_writes += tally.graph_writes

    def _record_alone(self, ready: _Ready, result: _ItemResult, tally: PushReport) -> None:
        with self._sessions() as session, engine_writes(session):
            recording = _Recording(BatchReads.none())
            try:
                self._record_item(session, ready, result, tally, recording)
            except (CrmError, SkipEvent) as error:
                session.rollback()
                recording = _Recording(BatchReads.none())
                message = getattr(error, "message", str(error))
                ready.log.error(
                    getattr(error, "code", "crm_error"),
                    message,
                    crm_event_id=ready.prepared.group.crm_event_id,
                )
                self._record_failure(session, ready.prepared.group, message, ready.log)
                tally.failed += 1
            recording.finish(session, [ready.log])
            self._checkpoint("push.before_commit")
            session.commit()

    def _record_item(
        self,
        session: Session,
        ready: _Ready,
        result: _ItemResult,
        tally: PushReport,
        recording: _Recording,
    ) -> None:
        """One item's outcome, as a request of its own would have had it: 412 → the entry waits
        for the pull; another error → the entry stays for a retry; else the write is recorded."""
        if isinstance(result, PreconditionFailed):
            self._record_changed_in_outlook(session, ready, tally, recording.reads)
        elif isinstance(result, GraphError):
            self._record_graph_failure(session, ready, result, tally)
        else:
            self._record_outcome(session, ready, result, tally, recording)

    async def _cancel_would_lose_an_outlook_edit(
        self, ready: _Ready, write: GraphWrite, report: PushReport
    ) -> bool:
        """Graph's cancel takes no If-Match (GRAPH.md §2.5), so a meeting deleted in the CRM is read
        before it is cancelled: if Outlook changed it since the last sync, the cancel waits for the
        pull, where the Outlook edit brings the event back (SPEC §2), as a 412 does for a DELETE."""
        action = write.action
        if not isinstance(write.operation, CancelEvent) or not isinstance(action, DeleteInGraph):
            return False
        if action.if_match is None:
            return False
        try:
            current = await self._graph.get_event(action.mailbox, action.graph_id)
        except GraphError:
            return False  # gone already, or unreadable: the cancel itself answers
        if action.if_match in (current.etag, current.change_key):
            return False
        self._wait_for_pull(ready.prepared.group.crm_event_id, ready.log, report)
        return True

    def _record_changed_in_outlook(
        self, session: Session, ready: _Ready, report: PushReport, reads: BatchReads
    ) -> None:
        """412: the write did not take effect (its intent is cleared); the entry waits for the
        next pull, which merges both sides."""
        event_id = ready.prepared.group.crm_event_id
        record = reads.link(session, event_id)
        if record is not None:
            record_pending_write(record, None)
        self._log_waiting_for_pull(session, event_id, ready.log, report)

    def _wait_for_pull(self, event_id: int, log: RunLog, report: PushReport) -> None:
        with self._sessions() as session:
            self._log_waiting_for_pull(session, event_id, log, report)
            session.commit()

    @staticmethod
    def _log_waiting_for_pull(
        session: Session, event_id: int, log: RunLog, report: PushReport
    ) -> None:
        report.waiting_for_pull += 1
        log.action(
            Direction.NONE,
            "changed_in_outlook_meanwhile",
            f"CRM event {event_id} was changed in Outlook since the last sync; "
            "the CRM change waits for the next pull, which merges both.",
            crm_event_id=event_id,
        )
        log.write_to(session)

    def _record_graph_failure(
        self, session: Session, ready: _Ready, error: GraphError, report: PushReport
    ) -> None:
        report.failed += 1
        group = ready.prepared.group
        message = graph_failure_message(error)
        ready.log.error(error.code, message, crm_event_id=group.crm_event_id)
        self._record_failure(session, group, message, ready.log)

    def _record_outcome(
        self,
        session: Session,
        ready: _Ready,
        response: GraphModelEvent | None,
        report: PushReport,
        recording: _Recording,
    ) -> None:
        """Link, invitation sent, Teams check and sync status in `session`'s transaction; the
        entries (deleted) and the log lines are left to `recording.finish`. Raises `CrmError` /
        `SkipEvent` when the CRM refuses them."""
        prepared, log = ready.prepared, ready.log
        group = prepared.group
        if ready.write is not None:
            log_graph_write(log, ready.write, group.crm_event_id, response)
        report.graph_writes += sum(
            1 for action in prepared.plan.actions if not isinstance(action, SaveLink)
        )
        self._record_success(session, prepared, response, log, recording.reads)
        recording.recorded_entries.extend(group.entry_ids)
        event = session.get(Event, group.crm_event_id)
        if prepared.behind_crm and event is not None:
            session.add(
                OutboxEntry(crm_event_id=event.id, owner_id=event.owner_id, kind=OutboxKind.UPDATE)
            )
        report.pushed += 1

    def _prepare(
        self,
        session: Session,
        group: _Group,
        log: RunLog,
        settled: _Settled | None,
        reads: BatchReads,
    ) -> _Prepared | None:
        event = session.get(Event, group.crm_event_id)
        record = reads.link(session, group.crm_event_id)
        link = sync_link_of(record) if record is not None else None
        if record is not None and link is not None and settled is not None:
            # Committed with the intent below: the link describes the version just read.
            took_effect = changed_fields(link.base, settled.link.base)
            link = settled.link
            if took_effect and link.event_type is GraphEventType.SERIES_MASTER:
                # Our series write reached the occurrences too: rebase them as its record would.
                rebase_occurrences_on_series_push(
                    session,
                    UpdateInGraph(link.graph_id, link.mailbox, took_effect, link.base, None),
                )
            record.base = snapshot_to_json(link.base)
            record.etag = link.change_key
            record.change_key = settled.change_key
            record.crm_version = link.crm_version
            record_pending_write(record, None)
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
        if isinstance(crm, CrmDeleted):
            return _Prepared(group, mailbox, plan, zone, _series_of(link))
        replayed = crm.pending_create
        return _Prepared(
            group,
            mailbox,
            plan,
            zone,
            _series_of(link),
            crm_version=crm.version,
            behind_crm=replayed is not None and replayed.crm_version != crm.version,
        )

    def _record_success(
        self,
        session: Session,
        prepared: _Prepared,
        response: GraphModelEvent | None,
        log: RunLog,
        reads: BatchReads,
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
            uninvited = uninvited_notice(session, event)
            if uninvited is not None:
                log.notice(uninvited, crm_event_id=event_id, graph_id=response.id)
            save = result.link if isinstance(result.link, SaveLink) else save
            change_key = response.change_key
            created = any(isinstance(action, CreateInGraph) for action in plan.actions)
            if created and (requested.attendees or event.is_teams_meeting):
                join_url = response.join_url if event.is_teams_meeting else None
                record_invitation_sent(session, event_id, self._clock(), join_url)
        for action in plan.actions:
            if isinstance(action, UpdateInGraph) and _may_write_a_series_master(
                reads.link(session, event_id), action
            ):
                rebase_occurrences_on_series_push(session, action)
        if event.sync_status is not SyncStatus.SYNCED and event.recurrence_rule is None:
            mark_synced(session, event_id)  # a CRM-made series stays "not synced", saying why
        if save is not None:
            existing = reads.link(session, event_id)
            save_link(
                session,
                save,
                crm_event_id=event_id,
                crm_version=event.version,
                change_key=change_key or (existing.change_key if existing else None),
            )

    def _record_failure(self, session: Session, group: _Group, message: str, log: RunLog) -> None:
        """Keep the entries for a retry and show the error on the event (in `session`'s
        transaction; the caller commits)."""
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(group.entry_ids))
            .values(attempts=OutboxEntry.attempts + 1, last_error=message[:2000])
        )
        if session.get(Event, group.crm_event_id) is not None:
            with suppress(CrmError):
                mark_sync_error(session, group.crm_event_id, message[:2000])
        log.write_to(session)


def _failure_of(outcome: WriteOutcome) -> GraphError | None:
    """The item's error as the single requests saw it: a delete or cancel of an event already
    gone (404) is done, and a create answered without its event is not."""
    if isinstance(outcome.error, NotFound) and isinstance(
        outcome.operation, DeleteEvent | CancelEvent
    ):
        return None
    if (
        outcome.error is None
        and isinstance(outcome.operation, CreateEvent)
        and outcome.event is None
    ):
        return InvalidResponse("Graph answered the create without the event it made")
    return outcome.error


def _series_of(link: SyncLink | None) -> tuple[str, bool] | None:
    """The Graph id of the series the linked event belongs to, and whether it is the master."""
    if link is None:
        return None
    if link.event_type is GraphEventType.SERIES_MASTER:
        return link.graph_id, True
    if link.series_master_graph_id is None:
        return None
    return link.series_master_graph_id, False


def _may_write_a_series_master(link: SyncLinkRecord | None, write: UpdateInGraph) -> bool:
    """False only when the PATCH surely goes to an event that is not a series master (its own
    link says so), which has no occurrences to rebase: spares the series look-up."""
    if link is None or link.graph_id != write.graph_id or link.mailbox != write.mailbox:
        return True
    return link.event_type == GraphEventType.SERIES_MASTER.value


def _same_series_waiting(batch: list[_Ready], ready: _Ready) -> bool:
    """Whether the batch already writes to the master of `ready`'s series, or `ready` is a master
    whose occurrences the batch writes to: a change to a series master can change its occurrences,
    so those writes are not independent and must not share a batch (occurrences of one series
    may: each is its own event)."""
    series = ready.prepared.series
    if series is None:
        return False
    master_id, is_master = series
    for waiting in batch:
        other = waiting.prepared.series
        if other is not None and other[0] == master_id and (is_master or other[1]):
            return True
    return False
