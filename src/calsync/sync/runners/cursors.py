"""Delta cursors and runs: where each mailbox's pull stands, and the record of every run."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.services.organization import get_organization
from calsync.sync.delta import SyncWindow
from calsync.sync.storage.models import DeltaCursor, RunKind, RunStatus, SyncRun


def configured_window(session: Session, now: datetime) -> SyncWindow:
    """The window of the Organization's Sync Settings around `now` (past and future days)."""
    organization = get_organization(session)
    return SyncWindow(
        now - timedelta(days=organization.window_past_days),
        now + timedelta(days=organization.window_future_days),
    )


def cursor_for(session: Session, mailbox: str, now: datetime) -> DeltaCursor:
    """The mailbox's cursor, created (without a deltaLink) on first use."""
    cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == mailbox))
    if cursor is None:
        window = configured_window(session, now)
        cursor = DeltaCursor(
            mailbox=mailbox, window_start=window.start, window_end=window.end, delta_link=None
        )
        session.add(cursor)
        session.flush()
    return cursor


def start_run(sessions: sessionmaker[Session], kind: RunKind, mailbox: str | None) -> int:
    """Record that a run started, in its own transaction (a crashed run stays visible)."""
    with sessions() as session:
        run = SyncRun(kind=kind, mailbox=mailbox, status=RunStatus.RUNNING)
        session.add(run)
        session.commit()
        return run.id


def finish_run(
    session: Session,
    run_id: int,
    status: RunStatus,
    now: datetime,
    *,
    crm_writes: int = 0,
    graph_writes: int = 0,
    message: str | None = None,
    full_resync: bool = False,
) -> None:
    run = session.get(SyncRun, run_id)
    if run is None:
        return
    run.status = status
    run.finished_at = now
    run.crm_writes += crm_writes
    run.graph_writes += graph_writes
    run.full_resync = run.full_resync or full_resync
    if message:
        run.message = message
