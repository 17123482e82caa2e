"""Run one `calsync worker`: CalSync's jobs from the queue in PostgreSQL, one at a time.

One job at a time per process is a decision, like `engine_concurrency=1` in the single-process
runtime: the engine's runners make blocking database calls inside async code and keep a pull's
transaction open across Graph calls, so two interleaved on one event loop could wait on each
other while blocking it. Scale out with more worker processes (on one machine or many).
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate.jobs import DeleteJobCondition

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.locks import RunLocks
from calsync.runtime.jobs.recovery import keep_recovering
from calsync.runtime.jobs.runtimes import WorkerRuntime
from calsync.runtime.jobs.services import CONTEXT_KEY, WorkerServices
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import WebhookSettings

logger = logging.getLogger("calsync.runtime.jobs")


def show_job_failures() -> None:
    """procrastinate's own warnings (a job that failed, a task not found) go where CalSync's
    logs go, in the same format."""
    queue_logger = logging.getLogger("procrastinate")
    queue_logger.setLevel(logging.WARNING)
    for handler in logging.getLogger("calsync").handlers:
        if handler not in queue_logger.handlers:
            queue_logger.addHandler(handler)


async def run_worker(
    database_url: str,
    settings: JobsSettings,
    *,
    name: str,
    endpoints: GraphEndpoints,
    box: SecretBox,
    webhooks: WebhookSettings | None,
) -> None:
    """Run jobs until SIGINT/SIGTERM (the running job finishes first); a SIGKILL loses nothing:
    the job is retried once this worker misses three heartbeats."""
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    app = build_job_app(database_url, settings)
    runtime = WorkerRuntime(sessions, endpoints=endpoints, box=box)
    locks = RunLocks(conninfo_of(database_url))
    services = WorkerServices(
        runtime=runtime,
        locks=locks,
        dispatcher=JobDispatcher(app),
        sessions=sessions,
        settings=settings,
        webhooks=webhooks,
    )
    try:
        async with app.open_async():
            logger.info("worker %s started", name, extra={"worker": name})
            recovering = asyncio.create_task(keep_recovering(app, settings))
            try:
                await app.run_worker_async(
                    name=name,
                    concurrency=1,
                    additional_context={CONTEXT_KEY: services},
                    update_heartbeat_interval=settings.heartbeat_seconds,
                    stalled_worker_timeout=settings.stalled_after_seconds,
                    # Finished jobs would pile up (a pull per mailbox per period); failed ones stay
                    # for an operator to read.
                    delete_jobs=DeleteJobCondition.SUCCESSFUL,
                    install_signal_handlers=True,
                )
            finally:
                recovering.cancel()
                await asyncio.gather(recovering, return_exceptions=True)
    finally:
        await runtime.close()
        await locks.close()
        engine.dispose()
        logger.info("worker %s stopped", name, extra={"worker": name})
