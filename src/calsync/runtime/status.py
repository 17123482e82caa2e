"""What the status page, the API and `calsync status` show: each mailbox's state, the sync log and
the runs.

Read-only queries over the engine's tables (cursors, outbox, runs, log) and the CRM's users; they
are shared so the API and the CLI never disagree about what "needs attention" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from calsync.crm.models import Event, User
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    LogKind,
    OutboxEntry,
    RunKind,
    RunStatus,
    SyncLinkRecord,
    SyncLogEntry,
    SyncRun,
)

NEVER_RUN = "never_run"


@dataclass(frozen=True)
class MailboxState:
    """One staff user's mailbox as the sync sees it."""

    user_id: int
    name: str
    mailbox: str
    synced: bool
    status: str
    status_message: str | None
    last_run_at: datetime | None
    pending_changes: int
    failed_changes: int
    last_error: str | None


def mailbox_states(session: Session) -> list[MailboxState]:
    """Every staff user, synced or not, by name; one query per table."""
    users = session.scalars(select(User).order_by(User.name, User.id)).all()
    cursors = {cursor.mailbox: cursor for cursor in session.scalars(select(DeltaCursor))}
    pending: dict[int, tuple[int, int, str | None]] = {}
    for row in session.execute(
        select(
            OutboxEntry.owner_id,
            func.count(),
            func.count().filter(OutboxEntry.attempts > 0),
            func.max(OutboxEntry.last_error),
        ).group_by(OutboxEntry.owner_id)
    ):
        pending[row[0]] = (int(row[1]), int(row[2]), row[3])
    states = []
    for user in users:
        cursor = cursors.get(user.email_normalized)
        waiting, failed, error = pending.get(user.id, (0, 0, None))
        states.append(
            MailboxState(
                user_id=user.id,
                name=user.name,
                mailbox=user.email_normalized,
                synced=user.sync_enabled,
                status=_status(cursor),
                status_message=cursor.status_message if cursor else None,
                last_run_at=cursor.last_run_at if cursor else None,
                pending_changes=waiting,
                failed_changes=failed,
                last_error=error if failed else None,
            )
        )
    return states


def _status(cursor: DeltaCursor | None) -> str:
    """A mailbox whose pull never ran is `never_run`, unless a push already needs attention (the
    guard held CRM deletions before its first pull)."""
    if cursor is None or (cursor.last_run_at is None and cursor.status is CursorStatus.OK):
        return NEVER_RUN
    return cursor.status.value


@dataclass(frozen=True)
class LogFilter:
    """Which sync log lines to show; every part optional."""

    user: User | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: LogKind | None = None


def sync_log_query(log_filter: LogFilter) -> Select[SyncLogEntry]:
    """The log lines matching `log_filter`, newest first.

    A user's lines are those of their mailbox (pulls) and those about their events (pushes, whose
    lines name the event rather than the mailbox), including events deleted since.
    """
    query = select(SyncLogEntry).order_by(SyncLogEntry.at.desc(), SyncLogEntry.id.desc())
    if log_filter.user is not None:
        mailbox = log_filter.user.email_normalized
        query = query.where(
            or_(
                SyncLogEntry.mailbox == mailbox,
                SyncLogEntry.crm_event_id.in_(
                    select(Event.id).where(Event.owner_id == log_filter.user.id)
                ),
                SyncLogEntry.crm_event_id.in_(
                    select(SyncLinkRecord.crm_event_id).where(SyncLinkRecord.mailbox == mailbox)
                ),
            )
        )
    if log_filter.since is not None:
        query = query.where(SyncLogEntry.at >= log_filter.since)
    if log_filter.until is not None:
        query = query.where(SyncLogEntry.at < log_filter.until)
    if log_filter.kind is not None:
        query = query.where(SyncLogEntry.kind == log_filter.kind)
    return query


@dataclass(frozen=True)
class RunFilter:
    """Which sync runs to show; every part optional."""

    user: User | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: RunKind | None = None
    status: RunStatus | None = None


def sync_runs_query(run_filter: RunFilter) -> Select[SyncRun]:
    """The runs matching `run_filter`, newest first.

    A user's runs are the pulls of their mailbox and the pushes that wrote a log line about one of
    their events (a push drains the whole outbox, so it names no mailbox).
    """
    query = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    if run_filter.user is not None:
        lines = sync_log_query(LogFilter(user=run_filter.user)).order_by(None)
        about_user = lines.with_only_columns(SyncLogEntry.run_id).where(
            SyncLogEntry.run_id.is_not(None)
        )
        query = query.where(
            or_(SyncRun.mailbox == run_filter.user.email_normalized, SyncRun.id.in_(about_user))
        )
    if run_filter.since is not None:
        query = query.where(SyncRun.started_at >= run_filter.since)
    if run_filter.until is not None:
        query = query.where(SyncRun.started_at < run_filter.until)
    if run_filter.kind is not None:
        query = query.where(SyncRun.kind == run_filter.kind)
    if run_filter.status is not None:
        query = query.where(SyncRun.status == run_filter.status)
    return query
