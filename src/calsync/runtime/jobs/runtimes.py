"""The two faces of `SyncRuntime` in jobs mode.

- `WorkerRuntime` (in `calsync worker`): the same Graph client, engine, metrics and error handling
  as the single-process runtime, used one job at a time and never started (no push worker, no
  scheduler: the job queue is both).
- `DeferringRuntime` (in `calsync serve` with `CALSYNC_RUNTIME=jobs`): runs no engine call at
  all. A commit that changed events defers a push job, "sync now" defers pull jobs, a change
  notification defers a debounced follow-up pull, an administrator's decision on held deletions
  defers the job that carries it out; everything else is the workers'. It still
  answers the webhook endpoints, so it keeps a map of the subscriptions the workers made.

Both extend `SyncRuntime` (calsync.runtime.service) and use its protected parts, as subclasses do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError
from calsync.runtime import commit_signal
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.engine_port import SyncEngineLike
from calsync.runtime.errors import SyncNotEnabledError
from calsync.runtime.held_deletions import require_held
from calsync.runtime.jobs import names
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.runtime.webhooks import NOTIFICATION_DEBOUNCE, SubscriptionKeeper, WebhookSettings

logger = logging.getLogger("calsync.runtime.jobs")

# How often the web process relearns which subscription belongs to which mailbox.
SUBSCRIPTION_MAP_REFRESH = timedelta(minutes=1)


class WorkerRuntime(SyncRuntime):
    """`SyncRuntime` as a worker's jobs use it: push once, pull one mailbox, no tasks."""

    async def current_engine(self) -> SyncEngineLike | None:
        """The engine of the stored connection; None while the sync is disabled."""
        binding = await self._current_binding()
        return binding.engine if binding is not None else None

    async def current_graph(self) -> GraphClient | None:
        binding = await self._current_binding()
        return binding.graph if binding is not None else None

    def take_rerun(self, mailbox: str) -> datetime | None:
        """When the last pull of `mailbox` asked to run again (invitations waiting for their
        organizer's copy), and forget it: the caller queues that rerun."""
        return self._rerun_at.pop(mailbox, None)


class DeferringRuntime(SyncRuntime):
    """`SyncRuntime` for `calsync serve` in jobs mode: defers jobs, runs none."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        dispatcher: JobDispatcher,
        endpoints: GraphEndpoints,
        box: SecretBox,
        webhooks: WebhookSettings | None = None,
        **options: Any,
    ) -> None:
        super().__init__(sessions, endpoints=endpoints, box=box, webhooks=webhooks, **options)
        self.dispatcher = dispatcher
        self._jobs_loop: asyncio.AbstractEventLoop | None = None
        self._push_commits = asyncio.Event()
        self._own_tasks: set[asyncio.Task[Any]] = set()
        self._stop_listening: Any = None

    async def start(self) -> None:
        """Open the job queue and listen for commits; no push worker, no scheduler."""
        self._jobs_loop = asyncio.get_running_loop()
        await self.dispatcher.open()
        self._stop_listening = commit_signal.subscribe(self.wake_push)
        self._start(self._defer_pushes(), "calsync-push-deferrer")
        if self.subscriptions is not None:
            self._start(self._learn_subscriptions(), "calsync-subscription-map")
        logger.info("sync runtime started in jobs mode: `calsync worker` processes run the sync")

    async def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        # Ours, and the base class's (a renewal a lifecycle notification asked for).
        tasks = [*self._own_tasks, *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.dispatcher.close()
        await self.close()

    def _start(self, coroutine: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._own_tasks.add(task)
        task.add_done_callback(self._own_tasks.discard)

    def _from_any_thread(self, coroutine: Coroutine[Any, Any, Any], name: str) -> None:
        loop = self._jobs_loop
        if loop is None or loop.is_closed():
            coroutine.close()
            return
        try:
            loop.call_soon_threadsafe(self._start, coroutine, name)
        except RuntimeError:
            coroutine.close()  # shutting down: the workers' tick pushes what is waiting

    # ----- deferring ------------------------------------------------------------------------------

    def wake_push(self) -> None:
        """A commit changed events: defer a push job (safe from any thread)."""
        loop = self._jobs_loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._push_commits.set)

    async def _defer_pushes(self) -> None:
        """One defer per burst of commits: a push that waits already takes them all along."""
        while True:
            await self._push_commits.wait()
            self._push_commits.clear()
            try:
                await self.dispatcher.defer_push()
            except Exception:
                # The outbox keeps the changes; the workers' tick pushes them.
                logger.exception("could not defer a push job; the next tick pushes the changes")

    async def sync_now(self, mailbox: str | None = None) -> list[str]:
        engine = await self._engine()
        mailboxes = [mailbox.strip().lower()] if mailbox else engine.synced_mailboxes()
        await self.dispatcher.defer_pulls(mailboxes, reason=names.SYNC_NOW)
        await self.dispatcher.defer_push()
        return mailboxes

    async def _engine(self) -> SyncEngineLike:
        binding = await self._current_binding()
        if binding is None:
            raise SyncNotEnabledError()
        return binding.engine

    async def decide_held_deletions(self, mailbox: str, *, confirm: bool) -> None:
        """Refuse at once when nothing is held (409), else queue the decision: a worker records
        it under the mailbox's locks, then pushes and pulls."""
        address = mailbox.strip().lower()
        await self._engine()
        with self._sessions() as session:
            require_held(session, address)
        await self.dispatcher.defer_held_decision(address, confirm=confirm)

    def request_pull(self, mailbox: str) -> None:
        """A change notification: a follow-up pull after the debounce (notifications arriving
        meanwhile join it; its queueing lock refuses a second one)."""
        at = datetime.now(UTC) + NOTIFICATION_DEBOUNCE
        self._from_any_thread(
            self.dispatcher.defer_pull(mailbox, reason=names.NOTIFICATION, at=at),
            f"calsync-follow-up-{mailbox}",
        )

    # ----- which subscription is whose ------------------------------------------------------------

    def on_notifications(self, notifications: list[Any]) -> int:
        """As in one process, except that a notification naming a subscription this process has
        not seen yet (a worker just made it) waits for the map to be relearned."""
        keeper = self.subscriptions
        if keeper is None:
            return 0
        known, unknown = [], []
        for notification in notifications:
            subscription_id = (
                str(notification.get("subscriptionId", ""))
                if isinstance(notification, dict)
                else ""
            )
            if (
                subscription_id
                and keeper.mailbox_of(subscription_id) is None
                and keeper.settings.client_state_matches(notification.get("clientState"))
            ):
                unknown.append(notification)
            else:
                known.append(notification)
        if unknown:
            self._start(self._relearn_then_accept(unknown), "calsync-subscription-relearn")
        return super().on_notifications(known)

    async def _relearn_then_accept(self, notifications: list[Any]) -> None:
        await self._relearn_subscriptions()
        super().on_notifications(notifications)

    async def _learn_subscriptions(self) -> None:
        while True:
            await self._relearn_subscriptions()
            await asyncio.sleep(SUBSCRIPTION_MAP_REFRESH.total_seconds())

    async def _relearn_subscriptions(self) -> None:
        """Adopt the subscriptions Graph has for our URL into a fresh map (the workers create,
        renew and re-create them)."""
        current = self.subscriptions
        if current is None:
            return
        binding = await self._current_binding()
        if binding is None:
            return
        fresh = SubscriptionKeeper(current.settings)
        try:
            await fresh.adopt(binding.graph)
        except GraphError as error:
            logger.warning("could not list the webhook subscriptions: %s", error)
            return
        self.subscriptions = fresh
