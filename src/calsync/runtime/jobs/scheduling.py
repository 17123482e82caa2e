"""The scheduling tick: which mailboxes' pulls to queue, and for when.

Every worker computes the same slots as the single-process scheduler (`runtime.schedule`): each
mailbox at the organisation's run frequency, at its own offset within the period, so a firm's
runs are spread instead of all starting at once. The tick (a procrastinate periodic job, one per
tick instant across all workers) queues each pull **for its slot** when the slot falls before the
next tick, so spreading is as fine as the offsets, not as coarse as the tick. A mailbox never
pulled is queued once, within its first minute (at its offset), like the single-process runtime.

"Last run" is the later of the cursor's last successful run and the last pull that started (the
`sync_runs` rows), so a failing mailbox waits for its next slot instead of being retried at every
tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from calsync.runtime.jobs.names import PULL_TASK
from calsync.runtime.schedule import FIRST_RUN_SPREAD, next_run_at, offset_fraction
from calsync.sync.storage.models import DeltaCursor, RunKind, SyncRun


@dataclass(frozen=True)
class PlannedPull:
    """A scheduled pull to queue: `mailbox` at `at`."""

    mailbox: str
    at: datetime


def plan_pulls(
    mailboxes: Iterable[str],
    last_runs: Mapping[str, datetime],
    period: timedelta,
    now: datetime,
    horizon: timedelta,
) -> list[PlannedPull]:
    """The pulls due before `now + horizon` (at their slot, or now if it passed), and the first
    pull of every mailbox never run (within its first minute, at its offset)."""
    planned = []
    for mailbox in mailboxes:
        last = last_runs.get(mailbox)
        if last is None:
            at = now + min(period, FIRST_RUN_SPREAD) * offset_fraction(mailbox)
            planned.append(PlannedPull(mailbox, at))
            continue
        due = next_run_at(mailbox, last, period, now)
        if due < now + horizon:
            planned.append(PlannedPull(mailbox, max(due, now)))
    return planned


def last_runs(session: Session) -> dict[str, datetime]:
    """Per mailbox, the later of its last completed pull and its last started one."""
    latest: dict[str, datetime] = {}
    cursors = select(DeltaCursor.mailbox, DeltaCursor.last_run_at)
    started = (
        select(SyncRun.mailbox, func.max(SyncRun.started_at))
        .where(SyncRun.kind == RunKind.PULL, SyncRun.mailbox.is_not(None))
        .group_by(SyncRun.mailbox)
    )
    for mailbox, moment in [*session.execute(cursors), *session.execute(started)]:
        if mailbox is None or moment is None:
            continue
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        if mailbox not in latest or aware > latest[mailbox]:
            latest[mailbox] = aware
    return latest


def waiting_scheduled_pulls(session: Session) -> set[str]:
    """Mailboxes with a scheduled pull queued, or any pull running (its `sync_runs` row may not
    be written yet): the tick plans nothing for them."""
    rows = session.execute(
        text(
            "SELECT args->>'mailbox' FROM procrastinate_jobs "
            "WHERE task_name = :task AND (status = 'doing' "
            "OR (status = 'todo' AND queueing_lock LIKE 'pull:%'))"
        ),
        {"task": PULL_TASK},
    )
    return {str(row[0]) for row in rows}
