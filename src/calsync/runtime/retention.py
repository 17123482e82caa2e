"""Sync log retention: the log and the record of runs are kept for the organisation's
`sync_log_retention_days` (Sync Settings, 90 by default), then pruned.

A busy firm writes hundreds of thousands of log lines a month, so pruning deletes in small batches,
each its own short transaction: the sync service (`SyncRuntime`) runs one batch per engine turn,
and pushes and pulls take their turns in between instead of waiting behind one long delete.

What goes: log lines written before the cutoff, then runs started before it that no kept line
points at (a run's lines are written when it ends, so an old run may still have a newer line, such
as the list of a long-held mass deletion; it stays until that line goes). A run never finished
(its process crashed) goes like any other once old enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from calsync.crm.services.organization import get_organization
from calsync.sync.storage.models import SyncLogEntry, SyncRun

# Rows deleted per transaction: small enough that a batch holds SQLite's write lock for
# milliseconds, large enough that a year of history goes in seconds (bench/bench_retention.py:
# ~45,000 rows/s, batches of about 10 ms).
PRUNE_BATCH_SIZE = 500
# How often the sync service prunes (and once when it starts).
PRUNE_INTERVAL = timedelta(days=1)


@dataclass
class PruneReport:
    """What one pruning removed, up to `cutoff`."""

    cutoff: datetime
    log_lines: int = 0
    runs: int = 0


def retention_cutoff(session: Session, now: datetime) -> datetime:
    """Log lines and runs from before this moment are past the organisation's retention."""
    return now - timedelta(days=get_organization(session).sync_log_retention_days)


def prune_batch(
    session: Session, cutoff: datetime, report: PruneReport, batch_size: int = PRUNE_BATCH_SIZE
) -> bool:
    """Delete one batch of expired log lines, or when none are left one batch of expired runs,
    and commit; returns False once nothing expired is left."""
    line_ids = session.scalars(
        select(SyncLogEntry.id)
        .where(SyncLogEntry.at < cutoff)
        .order_by(SyncLogEntry.id)
        .limit(batch_size)
    ).all()
    if line_ids:
        session.execute(delete(SyncLogEntry).where(SyncLogEntry.id.in_(line_ids)))
        session.commit()
        report.log_lines += len(line_ids)
        return True
    run_ids = session.scalars(
        select(SyncRun.id)
        .where(SyncRun.started_at < cutoff, ~exists().where(SyncLogEntry.run_id == SyncRun.id))
        .order_by(SyncRun.id)
        .limit(batch_size)
    ).all()
    if run_ids:
        session.execute(delete(SyncRun).where(SyncRun.id.in_(run_ids)))
        report.runs += len(run_ids)
    session.commit()
    return bool(run_ids)
