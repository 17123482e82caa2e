"""CalSync's jobs, as procrastinate tasks run by `calsync worker`.

- `calsync.push` (lock `push`; engine lock exclusive): drains the outbox (every CRM change not yet
  in Microsoft 365); a push that left failed changes queues a retry with backoff (1 s doubling to
  5 minutes).
- `calsync.pull` (lock `mailbox:<address>`; mailbox lock, engine lock shared): pulls one mailbox —
  scheduled, after a change notification, "sync now", or a rerun for invitations waiting for
  their organizer's copy.
- `calsync.tick` (periodic, lock `tick`): queues the scheduled pulls, a push when the outbox has
  waited, and the subscription check once a minute.
- `calsync.held_deletions` (lock `mailbox:<address>`): an administrator's decision on held
  deletions, recorded under the mailbox's locks, then a push and a pull that carry it out.
- `calsync.subscriptions` (lock `subscriptions`): creates, renews and removes the webhook
  subscriptions (when `CALSYNC_PUBLIC_URL` is set).
- `calsync.prune_sync_log` (periodic, daily; lock `prune`): deletes the sync log lines and runs
  older than the organisation's retention, in small batches (`retention`).

The engine's state is in the database and every job is safe to run again, so the job of a worker
that died is simply run again (`recovery`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from procrastinate import App, JobContext, RetryStrategy
from sqlalchemy import func, select

from calsync.crm.services.organization import get_organization
from calsync.runtime.held_deletions import NothingHeldError, require_held
from calsync.runtime.jobs import names
from calsync.runtime.jobs.scheduling import last_runs, plan_pulls, waiting_scheduled_pulls
from calsync.runtime.jobs.services import services_of
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.webhooks import SubscriptionKeeper
from calsync.sync.storage.models import OutboxEntry

logger = logging.getLogger("calsync.runtime.jobs")

MAX_PUSH_BACKOFF = timedelta(minutes=5)
# An unexpected failure (the database restarting, a bug) is retried a few times by procrastinate;
# the engine's own failures (Graph errors) are handled inside the job and never raise.
UNEXPECTED_FAILURE_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)


def push_backoff(attempt: int) -> timedelta:
    """1 s, 2 s, 4 s … up to 5 minutes, like the single-process push worker."""
    return min(timedelta(seconds=2 ** min(attempt, 16)), MAX_PUSH_BACKOFF)


async def push_outbox(context: JobContext, attempt: int = 0) -> None:
    """Drain the outbox; if some change failed, queue a retry after the backoff."""
    services = services_of(context)
    job_id = context.job.id
    async with services.locks.pushing():
        logger.info("push started", extra={"job_id": job_id, "run": "started", "kind": "push"})
        failed = await services.runtime.push_once()
        logger.info(
            "push finished",
            extra={"job_id": job_id, "run": "finished", "kind": "push", "failed": failed},
        )
    if failed:
        delay = push_backoff(attempt)
        logger.warning("push left failed changes; next attempt in %.0f s", delay.total_seconds())
        await services.dispatcher.defer_push(delay=delay, attempt=attempt + 1)


async def pull_mailbox(context: JobContext, mailbox: str, reason: str) -> None:
    """Pull one mailbox under its locks; queue the rerun its invitations may ask for."""
    services = services_of(context)
    job_id = context.job.id
    async with services.locks.pulling(mailbox):
        logger.info(
            "pull of %s started",
            mailbox,
            extra={
                "mailbox": mailbox,
                "reason": reason,
                "job_id": job_id,
                "run": "started",
                "kind": "pull",
            },
        )
        succeeded = await services.runtime.run_mailbox(mailbox)
        logger.info(
            "pull of %s finished",
            mailbox,
            extra={
                "mailbox": mailbox,
                "job_id": job_id,
                "run": "finished",
                "kind": "pull",
                "succeeded": succeeded,
            },
        )
    rerun_at = services.runtime.take_rerun(mailbox)
    if rerun_at is not None:
        await services.dispatcher.defer_pull(mailbox, reason=names.DEFERRED, at=rerun_at)


async def carry_out_held_decision(context: JobContext, mailbox: str, confirm: bool) -> None:
    """An administrator confirmed or discarded `mailbox`'s held deletions: record it under the
    mailbox's lock (no run of it half-way), then push and pull, in that order — the decision is a
    one-shot flag the first run whose guard trips uses up. The job's own lock keeps the
    mailbox's other pulls out until it is done."""
    services = services_of(context)
    engine = await services.runtime.current_engine()
    if engine is None:
        return
    async with services.locks.pulling(mailbox):
        with services.sessions() as session:
            try:
                held = require_held(session, mailbox)
            except NothingHeldError:
                logger.info("nothing held for %s any more", mailbox, extra={"mailbox": mailbox})
                return
        if confirm:
            engine.confirm_held_deletions(mailbox)
        else:
            engine.discard_held_deletions(mailbox)
    logger.info(
        "held deletions of %s %s by an administrator",
        mailbox,
        "confirmed" if confirm else "discarded",
        extra={"mailbox": mailbox, "events": held.count},
    )
    async with services.locks.pushing():
        await services.runtime.push_once()
    async with services.locks.pulling(mailbox):
        await services.runtime.run_mailbox(mailbox)


async def tick(context: JobContext, timestamp: int) -> None:
    """Queue the pulls due before the next tick, a push if changes wait, the subscription check."""
    services = services_of(context)
    now = datetime.now(UTC)
    engine = await services.runtime.current_engine()
    if engine is None:
        return  # the sync is disabled (or cannot run, which the runtime logged)
    mailboxes = engine.synced_mailboxes()
    with services.sessions() as session:
        period = timedelta(minutes=get_organization(session).run_frequency_minutes)
        runs = last_runs(session)
        waiting = waiting_scheduled_pulls(session)
        outbox = session.scalar(select(func.count()).select_from(OutboxEntry)) or 0
        session.commit()
    horizon = timedelta(seconds=services.settings.tick_seconds)
    planned = [
        pull
        for pull in plan_pulls(mailboxes, runs, period, now, horizon)
        if pull.mailbox not in waiting
    ]
    await services.dispatcher.defer_scheduled_pulls((pull.mailbox, pull.at) for pull in planned)
    if outbox:
        # Safety net for changes committed where no one deferred a push (CLI, scripts).
        await services.dispatcher.defer_push()
    if services.webhooks is not None and timestamp % 60 < services.settings.tick_seconds:
        await services.dispatcher.defer_subscription_check()
    if planned:
        logger.info("queued %d scheduled pulls", len(planned), extra={"queued": len(planned)})


async def keep_subscriptions(context: JobContext) -> None:
    """One live webhook subscription per synced mailbox (created, renewed, removed).

    A fresh `SubscriptionKeeper` each time adopts what Graph has, so whichever worker runs this
    job sees the subscriptions the others made.
    """
    services = services_of(context)
    if services.webhooks is None:
        return
    graph = await services.runtime.current_graph()
    engine = await services.runtime.current_engine()
    if graph is None or engine is None:
        return
    keeper = SubscriptionKeeper(services.webhooks)
    await keeper.maintain(graph, engine.synced_mailboxes(), datetime.now(UTC))


async def prune_sync_log(context: JobContext, timestamp: int) -> None:
    """The daily sync log retention, as the single-process service does it from its scheduler."""
    await services_of(context).runtime.prune_sync_history()


def register_tasks(app: App, settings: JobsSettings) -> None:
    """Register CalSync's tasks (and the periodic tick) on `app`."""
    retry = UNEXPECTED_FAILURE_RETRY
    app.task(name=names.PUSH_TASK, pass_context=True, retry=retry, lock=names.PUSH_LOCK)(
        push_outbox
    )
    app.task(name=names.PULL_TASK, pass_context=True, retry=retry)(pull_mailbox)
    app.task(
        name=names.SUBSCRIPTIONS_TASK,
        pass_context=True,
        retry=retry,
        lock=names.SUBSCRIPTIONS_LOCK,
    )(keep_subscriptions)
    app.task(name=names.HELD_DELETIONS_TASK, pass_context=True, retry=retry)(
        carry_out_held_decision
    )
    prune_task = app.task(
        name=names.PRUNE_TASK, pass_context=True, retry=retry, lock=names.PRUNE_LOCK
    )(prune_sync_log)
    app.periodic(
        cron=names.PRUNE_CRON, queueing_lock=names.PRUNE_LOCK, priority=names.PRUNE_PRIORITY
    )(prune_task)
    tick_task = app.task(name=names.TICK_TASK, pass_context=True, lock=names.TICK_LOCK)(tick)
    app.periodic(
        cron=settings.tick_cron,
        queueing_lock=names.TICK_LOCK,
        priority=names.TICK_PRIORITY,
    )(tick_task)
