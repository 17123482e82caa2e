"""`SyncRuntime`: the push worker and scheduler of one process (`calsync serve`, `calsync demo`).

- **Push worker.** Woken by every commit that changed CRM events (`commit_signal`), it drains the
  outbox at once, so a CRM-created event reaches Microsoft 365 within seconds (SPEC §2). It also
  drains every `push_poll_seconds`, for changes committed by other processes (CLI, scripts). When a
  push fails, the runner keeps the entries and shows the error on the event's sync status; the
  worker retries with exponential backoff (1 s doubling to `max_push_backoff_seconds`), and any new
  commit retries at once.
- **Scheduler.** Each synced mailbox is pulled at the organisation's run frequency, at its own
  offset within the period (`schedule`), never two runs of one mailbox at once (`locks`), and
  at most `engine_concurrency` engine calls at a time per process (4). A failed pull
  waits for the mailbox's next slot; scheduled runs are the safety net for everything else.
- **Sync log retention.** When the scheduler first runs and then daily, log lines and runs older
  than the organisation's `sync_log_retention_days` are pruned in small batches (`retention`).
- **Enablement.** Every cycle reads the organisation: while the sync is disabled nothing runs; when
  the stored connection changes (enabled again with a new secret), a new Graph client is built.

The engine keeps all state in the CRM database, so stopping the runtime at any moment loses
nothing: the next start (or another process) carries on from the outbox and the delta cursors.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.services.organization import get_organization
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError
from calsync.runtime import commit_signal, metrics
from calsync.runtime.connection import GraphEndpoints, stored_connection
from calsync.runtime.engine_port import EngineFactory, SyncEngineLike, build_sync_engine
from calsync.runtime.errors import SyncNotEnabledError, SyncServiceError
from calsync.runtime.held_deletions import (
    list_removed_in_microsoft365,
    needs_listing,
    require_held,
)
from calsync.runtime.locks import MailboxLocks
from calsync.runtime.retention import (
    PRUNE_BATCH_SIZE,
    PRUNE_INTERVAL,
    PruneReport,
    prune_batch,
    retention_cutoff,
)
from calsync.runtime.schedule import next_run_at
from calsync.runtime.secrets import SecretBox
from calsync.runtime.waiting import wait_for_signal
from calsync.runtime.webhooks import NOTIFICATION_DEBOUNCE, SubscriptionKeeper, WebhookSettings
from calsync.sync.runners.common import Clock, system_clock
from calsync.sync.storage.models import (
    DeltaCursor,
    LogKind,
    OutboxEntry,
    RunKind,
    SyncLogEntry,
    SyncRun,
)

logger = logging.getLogger("calsync.runtime")

# A pull that left invitations waiting for their organizer's copy runs again this soon, so the
# attendee's event does not wait a whole period (the organizer's mailbox is pulled meanwhile).
DEFERRED_RERUN_DELAY = timedelta(seconds=5)
# How often the webhook subscriptions are checked (created, renewed, removed).
SUBSCRIPTION_CHECK_INTERVAL = timedelta(minutes=1)


@dataclass
class _Binding:
    """The Graph client and engine built from one version of the stored connection."""

    fingerprint: tuple[object, ...]
    http: httpx.AsyncClient
    graph: GraphClient
    engine: SyncEngineLike


class SyncRuntime:
    """Runs the sync for the organisation in this process; `start()` it inside an event loop."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        endpoints: GraphEndpoints,
        box: SecretBox,
        engine_factory: EngineFactory = build_sync_engine,
        clock: Clock = system_clock,
        tick_seconds: float = 1.0,
        push_poll_seconds: float = 30.0,
        max_push_backoff_seconds: float = 300.0,
        engine_concurrency: int = 4,
        graph_overrides: Mapping[str, Any] | None = None,
        webhooks: WebhookSettings | None = None,
        prune_batch_size: int = PRUNE_BATCH_SIZE,
    ) -> None:
        self._sessions = sessions
        self._endpoints = endpoints
        self._box = box
        self._engine_factory = engine_factory
        # Tuning of the Graph client beyond the stored connection (retry caps in tests, page size).
        self._graph_overrides = dict(graph_overrides or {})
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._push_poll_seconds = push_poll_seconds
        self._max_push_backoff_seconds = max_push_backoff_seconds
        # The runners' database work is blocking but never spans a Graph call (each transaction
        # runs between two awaits), so engine calls interleaved on one event loop cannot wait on
        # each other's locks; 4 overlap one mailbox's Graph waits with another's CRM writes.
        self._engine_turns = asyncio.Semaphore(engine_concurrency)
        self.locks = MailboxLocks()
        self._binding: _Binding | None = None
        self._binding_problem: str | None = None
        self._binding_lock = asyncio.Lock()
        self._push_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._push_wanted = asyncio.Event()
        self._schedule_wanted = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Runs started or waiting per mailbox (a "sync now" may wait behind a scheduled one).
        self._running: Counter[str] = Counter()
        self._first_seen: dict[str, datetime] = {}
        self._last_attempt: dict[str, datetime] = {}
        self._rerun_at: dict[str, datetime] = {}
        self._unsubscribe: Any = None
        self.subscriptions = SubscriptionKeeper(webhooks) if webhooks is not None else None
        self._next_subscription_check: datetime | None = None
        # Sync log retention: pruned when the scheduler first runs, then every PRUNE_INTERVAL.
        self._prune_batch_size = prune_batch_size
        self._next_prune_at: datetime | None = None
        self._pruning: asyncio.Task[Any] | None = None

    # ----- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the push worker and the scheduler as tasks of the running loop."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = commit_signal.subscribe(self.wake_push)
        self._spawn(self._push_worker(), "calsync-push-worker")
        self._spawn(self._scheduler(), "calsync-scheduler")
        logger.info("sync runtime started")

    async def stop(self) -> None:
        """Stop every task (a run cut short is redone later: the engine's state is in the
        database) and close the Graph client."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_binding()
        logger.info("sync runtime stopped")

    @property
    def problem(self) -> str | None:
        """Why the sync cannot run although it is enabled (e.g. the stored secret cannot be
        decrypted), in words for the status page; None when it runs."""
        return self._binding_problem

    def wake_push(self) -> None:
        """Ask the push worker to drain the outbox now; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._push_wanted.set)
        except RuntimeError:
            return  # the loop is shutting down; the next start drains the outbox

    def _spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ----- "sync now" ----------------------------------------------------------------------------

    async def sync_now(self, mailbox: str | None = None) -> list[str]:
        """Pull `mailbox` (or every synced mailbox) now and push what is waiting; returns the
        mailboxes queued. A mailbox already running is pulled again right after its run."""
        binding = await self._current_binding()
        if binding is None:
            raise SyncNotEnabledError()
        mailboxes = [mailbox.strip().lower()] if mailbox else binding.engine.synced_mailboxes()
        for address in mailboxes:
            self._start_run(address)
        self.wake_push()
        return mailboxes

    def _start_run(self, mailbox: str) -> None:
        """Start a pull of `mailbox` as a task, counted as queued from this moment on (not only
        once the task first runs), so `runs_in_progress` never misses a run about to start and
        the scheduler does not start a second one meanwhile."""
        self._running[mailbox] += 1
        self._spawn(self._run_claimed(mailbox), f"calsync-pull-{mailbox}")

    def runs_in_progress(self) -> dict[str, int]:
        """Pulls running or waiting (for the mailbox's lock or an engine turn), per mailbox."""
        return dict(self._running)

    async def run_now(self, mailbox: str | None = None) -> dict[str, bool]:
        """Push, pull `mailbox` (or every synced mailbox) and push again, here and now; returns
        whether each mailbox's pull succeeded. For `calsync sync now`, which runs without a
        started runtime."""
        binding = await self._current_binding()
        if binding is None:
            raise SyncNotEnabledError()
        await self.push_once()
        mailboxes = [mailbox.strip().lower()] if mailbox else binding.engine.synced_mailboxes()
        results = {address: await self.run_mailbox(address) for address in mailboxes}
        await self.push_once()
        return results

    # ----- held deletions (SPEC §9) ---------------------------------------------------------------

    async def decide_held_deletions(self, mailbox: str, *, confirm: bool) -> None:
        """An administrator's decision on the deletions the mass-deletion guard held for `mailbox`:
        `confirm` applies them, otherwise both sides keep their events (unlinked). The decision is
        recorded at once (under the mailbox's lock, so no run of it is half-way), then the outbox
        is pushed and the mailbox pulled, in that order, which carry it out. Raises
        `NothingHeldError` (409) when the mailbox holds nothing."""
        binding = await self._current_binding()
        if binding is None:
            raise SyncNotEnabledError()
        await self.record_held_decision(binding, mailbox, confirm=confirm)
        if self._loop is not None:
            mailbox = mailbox.strip().lower()
            self._running[mailbox] += 1
            self._spawn(self._carry_out_decision(mailbox), f"calsync-decision-{mailbox}")

    async def _carry_out_decision(self, mailbox: str) -> None:
        """Push, then pull the mailbox, in that order and under its lock. The decision is one flag
        that the first run whose guard trips uses up; a push and a pull racing over it (they may
        run at once) could leave the slower one holding the same deletions again, with nothing
        left for anyone to decide."""
        try:
            async with self.locks.hold(mailbox):
                try:
                    await self.push_once()
                except Exception:
                    # The pull still runs; the push worker retries the outbox with backoff.
                    logger.exception("push failed unexpectedly", extra={"mailbox": mailbox})
                    metrics.ERRORS.labels("push").inc()
                async with self._engine_turns:
                    await self._pull(mailbox)
        finally:
            self._running[mailbox] -= 1
            if self._running[mailbox] <= 0:
                del self._running[mailbox]

    async def decide_held_deletions_now(self, mailbox: str, *, confirm: bool) -> bool:
        """`decide_held_deletions`, then push, pull the mailbox and push again here and now;
        returns whether the pull succeeded. For the CLI, which runs without a started runtime."""
        binding = await self._current_binding()
        if binding is None:
            raise SyncNotEnabledError()
        await self.record_held_decision(binding, mailbox, confirm=confirm)
        results = await self.run_now(mailbox)
        return all(results.values())

    async def record_held_decision(self, binding: _Binding, mailbox: str, *, confirm: bool) -> None:
        mailbox = mailbox.strip().lower()
        async with self.locks.hold(mailbox), self._engine_turns:
            with self._sessions() as session:
                held = require_held(session, mailbox)
            if confirm:
                binding.engine.confirm_held_deletions(mailbox)
            else:
                binding.engine.discard_held_deletions(mailbox)
        logger.info(
            "held deletions of %s %s by an administrator",
            mailbox,
            "confirmed" if confirm else "discarded",
            extra={"mailbox": mailbox, "events": held.count},
        )

    async def close(self) -> None:
        """Release the Graph client of a runtime that was used without `start()`."""
        await self._close_binding()

    # ----- push ----------------------------------------------------------------------------------

    async def _push_worker(self) -> None:
        backoff = 0.0
        while True:
            await wait_for_signal(self._push_wanted, backoff or self._push_poll_seconds)
            self._push_wanted.clear()
            try:
                failed = await self.push_once()
            except Exception:
                # The worker must outlive any single failure; the outbox keeps the work.
                logger.exception("push failed unexpectedly; retrying with backoff")
                metrics.ERRORS.labels("push").inc()
                failed = True
            if failed:
                backoff = min(max(backoff * 2, 1.0), self._max_push_backoff_seconds)
                logger.warning("push left failed changes; next attempt in %.0f s", backoff)
            else:
                backoff = 0.0

    async def push_once(self) -> bool:
        """Drain the outbox once (if the sync is enabled); True if some change failed."""
        binding = await self._current_binding()
        if binding is None:
            return False
        async with self._push_lock:
            with self._sessions() as session:
                pending = {
                    row.id: row.created_at
                    for row in session.execute(select(OutboxEntry.id, OutboxEntry.created_at))
                }
            async with self._engine_turns:
                report = await binding.engine.push_pending()
            with self._sessions() as session:
                remaining = set(session.scalars(select(OutboxEntry.id)).all())
        now = self._clock()
        for entry_id, created_at in pending.items():
            if entry_id not in remaining:
                metrics.PUSH_LATENCY.observe(max((now - _aware(created_at)).total_seconds(), 0.0))
        metrics.OUTBOX_DEPTH.set(len(remaining))
        metrics.RUNS.labels("push", "failed" if report.failed else "succeeded").inc()
        metrics.CHANGES.labels("crm_to_microsoft365").inc(report.graph_writes)
        if report.failed:
            metrics.ERRORS.labels("push").inc(report.failed)
        if report.pushed or report.failed:
            logger.info("push finished", extra={"pushed": report.pushed, "failed": report.failed})
        return report.failed > 0

    # ----- scheduled pulls -----------------------------------------------------------------------

    async def _scheduler(self) -> None:
        while True:
            try:
                await self.schedule_due_runs()
            except Exception:
                logger.exception("the scheduler cycle failed; trying again next tick")
                metrics.ERRORS.labels("scheduler").inc()
            await wait_for_signal(self._schedule_wanted, self._tick_seconds)
            self._schedule_wanted.clear()

    async def schedule_due_runs(self) -> list[str]:
        """Start the pulls that are due now; returns their mailboxes."""
        binding = await self._current_binding()
        if binding is None:
            return []
        with self._sessions() as session:
            period = timedelta(minutes=get_organization(session).run_frequency_minutes)
            last_runs = {
                row.mailbox: row.last_run_at
                for row in session.execute(select(DeltaCursor.mailbox, DeltaCursor.last_run_at))
            }
            session.commit()
        mailboxes = binding.engine.synced_mailboxes()
        metrics.SYNCED_MAILBOXES.set(len(mailboxes))
        now = self._clock()
        await self._keep_subscriptions(binding, mailboxes, now)
        self._prune_when_due(now)
        started: list[str] = []
        for mailbox in mailboxes:
            if mailbox in self._running:
                continue
            first_seen = self._first_seen.setdefault(mailbox, now)
            last = _latest(last_runs.get(mailbox), self._last_attempt.get(mailbox))
            due = next_run_at(mailbox, last, period, first_seen)
            rerun = self._rerun_at.get(mailbox)
            if rerun is not None:
                due = min(due, rerun)
            if now >= due:
                self._start_run(mailbox)
                started.append(mailbox)
        return started

    # ----- sync log retention ----------------------------------------------------------------

    def _prune_when_due(self, now: datetime) -> None:
        if self._next_prune_at is not None and now < self._next_prune_at:
            return
        if self._pruning is not None and not self._pruning.done():
            return
        self._next_prune_at = now + PRUNE_INTERVAL
        self._pruning = self._spawn(self._prune_safely(), "calsync-prune-sync-log")

    async def _prune_safely(self) -> None:
        try:
            await self.prune_sync_history()
        except Exception:
            # Pruning again tomorrow loses nothing; the sync itself must not stop for it.
            logger.exception("pruning the sync log failed; it is tried again in a day")
            metrics.ERRORS.labels("retention").inc()

    async def prune_sync_history(self) -> PruneReport:
        """Delete the sync log lines and runs older than the organisation's retention, one small
        batch per engine turn (pushes and pulls run in between)."""
        with self._sessions() as session:
            report = PruneReport(retention_cutoff(session, self._clock()))
            session.commit()
        more = True
        while more:
            async with self._engine_turns:
                with self._sessions() as session:
                    more = prune_batch(session, report.cutoff, report, self._prune_batch_size)
            await asyncio.sleep(0)
        if report.log_lines or report.runs:
            logger.info(
                "pruned the sync log",
                extra={"log_lines": report.log_lines, "runs": report.runs},
            )
        return report

    # ----- webhooks --------------------------------------------------------------------------

    async def _keep_subscriptions(
        self, binding: _Binding, mailboxes: list[str], now: datetime
    ) -> None:
        keeper = self.subscriptions
        if keeper is None:
            return
        if self._next_subscription_check is not None and now < self._next_subscription_check:
            return
        self._next_subscription_check = now + SUBSCRIPTION_CHECK_INTERVAL
        await keeper.maintain(binding.graph, mailboxes, now)

    def request_pull(self, mailbox: str) -> None:
        """A change notification for `mailbox`: pull it soon. Notifications arriving before that
        run starts join it (debounced); one arriving during the run asks for another."""
        if mailbox in self._rerun_at:
            return
        self._rerun_at[mailbox] = self._clock() + NOTIFICATION_DEBOUNCE
        if self._loop is not None:
            # Wake the scheduler when the debounce ends instead of at its next tick.
            self._loop.call_later(NOTIFICATION_DEBOUNCE.total_seconds(), self._schedule_wanted.set)

    def on_notifications(self, notifications: list[Any]) -> int:
        """Change notifications from Graph; returns how many were accepted. One with a wrong
        clientState or an unknown subscription is rejected and logged, and triggers nothing."""
        keeper = self.subscriptions
        accepted = 0
        for notification in notifications:
            if keeper is None or not isinstance(notification, dict):
                continue
            subscription_id = str(notification.get("subscriptionId", ""))
            if not keeper.settings.client_state_matches(notification.get("clientState")):
                metrics.ERRORS.labels("webhook_client_state").inc()
                logger.warning(
                    "rejected a change notification with a wrong clientState",
                    extra={"subscription_id": subscription_id},
                )
                continue
            mailbox = keeper.mailbox_of(subscription_id)
            if mailbox is None:
                logger.warning(
                    "change notification for an unknown subscription",
                    extra={"subscription_id": subscription_id},
                )
                continue
            if "lifecycleEvent" in notification:
                self._on_lifecycle(subscription_id, mailbox, str(notification["lifecycleEvent"]))
            else:
                self.request_pull(mailbox)
            accepted += 1
        return accepted

    def _on_lifecycle(self, subscription_id: str, mailbox: str, event: str) -> None:
        """`missed`: changes may be lost, pull. `subscriptionRemoved`: subscribe again and pull.
        `reauthorizationRequired`: renew now (renewing re-authorizes)."""
        logger.info(
            "lifecycle event %s for %s", event, mailbox, extra={"mailbox": mailbox, "event": event}
        )
        keeper = self.subscriptions
        if keeper is None:
            return
        if event == "subscriptionRemoved":
            keeper.forget(subscription_id)
            self._next_subscription_check = None
        elif event == "reauthorizationRequired":
            self._spawn(self._renew(subscription_id), f"calsync-renew-{subscription_id}")
            return
        self.request_pull(mailbox)

    async def _renew(self, subscription_id: str) -> None:
        binding = await self._current_binding()
        if binding is not None and self.subscriptions is not None:
            try:
                await self.subscriptions.renew(binding.graph, subscription_id, self._clock())
            except GraphError as error:
                logger.warning("renewal failed: %s", error, extra={"code": error.code})
                self._next_subscription_check = None

    async def run_mailbox(self, mailbox: str) -> bool:
        """Pull one mailbox under its lock; True if the run succeeded."""
        self._running[mailbox] += 1
        return await self._run_claimed(mailbox)

    async def _run_claimed(self, mailbox: str) -> bool:
        try:
            async with self.locks.hold(mailbox), self._engine_turns:
                return await self._pull(mailbox)
        finally:
            self._running[mailbox] -= 1
            if self._running[mailbox] <= 0:
                del self._running[mailbox]

    async def _pull(self, mailbox: str) -> bool:
        self._last_attempt[mailbox] = self._clock()
        self._rerun_at.pop(mailbox, None)
        binding = await self._current_binding()
        if binding is None:
            return False
        with self._sessions() as session:
            last_run_id = session.scalar(select(func.max(SyncRun.id))) or 0
        try:
            report = await binding.engine.pull_mailbox(mailbox)
        except GraphError as error:
            metrics.RUNS.labels("pull", "failed").inc()
            metrics.ERRORS.labels("pull").inc()
            logger.warning(
                "pull of %s failed: %s",
                mailbox,
                error,
                extra={"mailbox": mailbox, "code": error.code},
            )
            return False
        except Exception:
            metrics.RUNS.labels("pull", "failed").inc()
            metrics.ERRORS.labels("pull").inc()
            logger.exception("pull of %s failed unexpectedly", mailbox, extra={"mailbox": mailbox})
            return False
        metrics.RUNS.labels("pull", "succeeded").inc()
        metrics.CHANGES.labels("microsoft365_to_crm").inc(report.crm_writes)
        metrics.CHANGES.labels("crm_to_microsoft365").inc(report.graph_writes)
        if report.errors:
            metrics.ERRORS.labels("event").inc(report.errors)
        metrics.CONFLICTS.inc(self._conflicts_since(mailbox, last_run_id))
        if report.deferred:
            self._rerun_at[mailbox] = self._clock() + DEFERRED_RERUN_DELAY
        await self._list_held_deletions(binding, mailbox)
        if report.crm_writes or report.graph_writes:
            logger.info(
                "pull of %s finished",
                mailbox,
                extra={
                    "mailbox": mailbox,
                    "crm_writes": report.crm_writes,
                    "graph_writes": report.graph_writes,
                },
            )
        return True

    async def _list_held_deletions(self, binding: _Binding, mailbox: str) -> None:
        """After a pull the guard held: say which events Microsoft 365 deleted, once per hold, so
        the administrator decides on a list rather than a count (`held_deletions`)."""
        with self._sessions() as session:
            wanted = needs_listing(session, mailbox)
        if not wanted:
            return
        try:
            count = await list_removed_in_microsoft365(self._sessions, binding.graph, mailbox)
        except GraphError as error:
            logger.warning(
                "the held deletions of %s could not be listed: %s",
                mailbox,
                error,
                extra={"mailbox": mailbox, "code": error.code},
            )
            return
        logger.warning(
            "%s waits for an administrator: %d events deleted in Microsoft 365 are held",
            mailbox,
            count,
            extra={"mailbox": mailbox, "events": count},
        )

    def _conflicts_since(self, mailbox: str, last_run_id: int) -> int:
        with self._sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(SyncLogEntry)
                .join(SyncRun, SyncRun.id == SyncLogEntry.run_id)
                .where(
                    SyncRun.id > last_run_id,
                    SyncRun.kind == RunKind.PULL,
                    SyncRun.mailbox == mailbox,
                    SyncLogEntry.kind == LogKind.CONFLICT,
                )
            )
        return int(count or 0)

    # ----- the Graph client of the stored connection ---------------------------------------------

    async def _current_binding(self) -> _Binding | None:
        """The engine for the stored connection, or None while the sync is disabled (or its
        connection cannot be opened, which is logged once)."""
        async with self._binding_lock:
            with self._sessions() as session:
                organization = get_organization(session)
                session.commit()
            if not organization.sync_enabled:
                await self._close_binding()
                return None
            fingerprint = (
                organization.tenant_id,
                organization.client_id,
                organization.client_secret_encrypted,
                organization.certificate_pem,
                organization.certificate_thumbprint,
                organization.certificate_private_key_encrypted,
            )
            if self._binding is not None and self._binding.fingerprint == fingerprint:
                return self._binding
            await self._close_binding()
            try:
                connection = stored_connection(organization, self._box)
                if connection is None:
                    raise SyncServiceError(
                        "the sync is enabled but no Microsoft 365 connection is stored; enable "
                        "it again with the tenant's credentials",
                        code="connection_missing",
                    )
                settings = replace(
                    connection.graph_settings(self._endpoints), **self._graph_overrides
                )
            except SyncServiceError as error:
                if self._binding_problem != error.message:
                    logger.error("the sync cannot run: %s", error.message)
                    self._binding_problem = error.message
                return None
            self._binding_problem = None
            http = httpx.AsyncClient(
                verify=settings.tls_verification(),
                timeout=httpx.Timeout(settings.request_timeout_seconds),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                event_hooks={"response": [metrics.count_graph_response]},
            )
            graph = GraphClient(settings, http=http)
            engine = self._engine_factory(self._sessions, graph)
            self._binding = _Binding(fingerprint, http, graph, engine)
            return self._binding

    async def _close_binding(self) -> None:
        binding, self._binding = self._binding, None
        if binding is not None:
            await binding.graph.aclose()
            await binding.http.aclose()


def _aware(moment: datetime) -> datetime:
    """Database timestamps are UTC; SQLite gives them back without a zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _latest(*moments: datetime | None) -> datetime | None:
    present = [_aware(moment) for moment in moments if moment is not None]
    return max(present) if present else None
