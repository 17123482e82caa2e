"""`JobDispatcher`: puts CalSync's work on the job queue (the web process and the workers).

Every defer names its job's locks (`names`), so deferring is safe to repeat: a push already
waiting takes the new commit's changes along (it reads the outbox when it starts), a pull already
waiting for a mailbox takes the notification's. Such a refused defer returns False.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from datetime import datetime, timedelta

from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import JobDeferrer

from calsync.runtime.jobs import names

logger = logging.getLogger("calsync.runtime.jobs")


class JobDispatcher:
    """Defers the push, pull and subscription jobs on an opened procrastinate `App`."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def open(self) -> None:
        """Open the app's connection pool on the running loop."""
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.connector.close_async()

    async def defer_push(self, *, delay: timedelta | None = None, attempt: int = 0) -> bool:
        """Drain the outbox now (or after `delay`: a retry with its backoff)."""
        queueing_lock = names.PUSH_RETRY_QUEUEING_LOCK if delay else names.PUSH_QUEUEING_LOCK
        deferrer = self.app.configure_task(
            names.PUSH_TASK,
            lock=names.PUSH_LOCK,
            queueing_lock=queueing_lock,
            priority=names.PUSH_PRIORITY,
            schedule_in={"seconds": delay.total_seconds()} if delay else None,
        )
        return await _refusable(deferrer.defer_async(attempt=attempt))

    async def defer_pull(self, mailbox: str, *, reason: str, at: datetime | None = None) -> bool:
        """Pull `mailbox` at `at` (now by default), never beside another pull of it."""
        return await _refusable(self._pull_deferrer(mailbox, reason, at).defer_async())

    async def defer_scheduled_pulls(self, planned: Iterable[tuple[str, datetime]]) -> int:
        """Queue many scheduled pulls (mailbox, slot) in one statement; returns how many.

        A tick may queue thousands (every mailbox of a large firm before its first run). If one
        was queued meanwhile (its queueing lock refuses it), each is queued on its own instead.
        """
        deferrers = [self._pull_deferrer(mailbox, names.SCHEDULED, at) for mailbox, at in planned]
        if not deferrers:
            return 0
        try:
            await self.app.job_manager.batch_defer_jobs_async(
                [deferrer.make_new_job() for deferrer in deferrers]
            )
        except AlreadyEnqueued:
            return sum([await _refusable(deferrer.defer_async()) for deferrer in deferrers])
        return len(deferrers)

    def _pull_deferrer(self, mailbox: str, reason: str, at: datetime | None) -> JobDeferrer:
        address = mailbox.strip().lower()
        return self.app.configure_task(
            names.PULL_TASK,
            lock=names.mailbox_lock(address),
            queueing_lock=names.pull_queueing_lock(address, reason),
            priority=(
                names.SCHEDULED_PRIORITY if reason == names.SCHEDULED else names.FOLLOW_UP_PRIORITY
            ),
            schedule_at=at,
            task_kwargs={"mailbox": address, "reason": reason},
        )

    async def defer_pulls(self, mailboxes: Iterable[str], *, reason: str) -> list[str]:
        """Pull each of `mailboxes` now; returns those queued (the others were waiting already)."""
        queued = []
        for mailbox in mailboxes:
            if await self.defer_pull(mailbox, reason=reason):
                queued.append(mailbox.strip().lower())
        return queued

    async def defer_held_decision(self, mailbox: str, *, confirm: bool) -> None:
        """Carry out an administrator's decision on `mailbox`'s held deletions (SPEC §9), in
        turn with that mailbox's pulls (its lock); every decision is queued (no queueing lock)."""
        address = mailbox.strip().lower()
        deferrer = self.app.configure_task(
            names.HELD_DELETIONS_TASK,
            lock=names.mailbox_lock(address),
            priority=names.FOLLOW_UP_PRIORITY,
        )
        await deferrer.defer_async(mailbox=address, confirm=confirm)

    async def defer_subscription_check(self) -> bool:
        """Create, renew and remove the webhook subscriptions now."""
        deferrer = self.app.configure_task(
            names.SUBSCRIPTIONS_TASK,
            lock=names.SUBSCRIPTIONS_LOCK,
            queueing_lock=names.SUBSCRIPTIONS_LOCK,
            priority=names.SUBSCRIPTIONS_PRIORITY,
        )
        return await _refusable(deferrer.defer_async())


async def _refusable(deferring: Awaitable[int]) -> bool:
    """Await a defer; a job with the same queueing lock already waiting is not an error."""
    try:
        await deferring
    except AlreadyEnqueued:
        return False
    return True
