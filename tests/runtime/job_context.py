"""A worker's job context built in a test, so a task function can be called directly: the services
`calsync worker` gives its jobs (runtime, locks, dispatcher, sessions), without a worker process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import JobContext
from procrastinate.jobs import Job
from sqlalchemy.orm import Session, sessionmaker

from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.locks import RunLocks
from calsync.runtime.jobs.runtimes import WorkerRuntime
from calsync.runtime.jobs.services import CONTEXT_KEY, WorkerServices
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import WebhookSettings


@asynccontextmanager
async def job_context(
    database_url: str,
    sessions: sessionmaker[Session],
    *,
    endpoints: GraphEndpoints,
    box: SecretBox,
    webhooks: WebhookSettings | None = None,
) -> AsyncIterator[JobContext]:
    """A job context over `database_url`, with the job app open; closed (runtime, locks) after."""
    settings = JobsSettings(tick_seconds=1, heartbeat_seconds=1)
    job_app = build_job_app(database_url, settings)
    runtime = WorkerRuntime(sessions, endpoints=endpoints, box=box)
    services = WorkerServices(
        runtime=runtime,
        locks=RunLocks(conninfo_of(database_url)),
        dispatcher=JobDispatcher(job_app),
        sessions=sessions,
        settings=settings,
        webhooks=webhooks,
    )
    context = JobContext(
        app=job_app,
        worker_name="test",
        job=Job(id=1, queue="default", lock=None, queueing_lock=None, task_name="t"),
        additional_context={CONTEXT_KEY: services},
        start_timestamp=time.time(),
        abort_reason=lambda: None,
    )
    try:
        async with job_app.open_async():
            yield context
    finally:
        await runtime.close()
        await services.locks.close()
