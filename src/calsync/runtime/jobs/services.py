"""What a worker's jobs share: the runtime (Graph client, engine, metrics), the advisory locks,
the dispatcher for follow-up jobs, the sessions and the settings. One per `calsync worker`
process, handed to every job through procrastinate's `additional_context`."""

from __future__ import annotations

from dataclasses import dataclass

from procrastinate import JobContext
from sqlalchemy.orm import Session, sessionmaker

from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.locks import RunLocks
from calsync.runtime.jobs.runtimes import WorkerRuntime
from calsync.runtime.jobs.settings import JobsConfigurationError, JobsSettings
from calsync.runtime.webhooks import WebhookSettings

CONTEXT_KEY = "calsync"


@dataclass
class WorkerServices:
    runtime: WorkerRuntime
    locks: RunLocks
    dispatcher: JobDispatcher
    sessions: sessionmaker[Session]
    settings: JobsSettings
    webhooks: WebhookSettings | None = None


def services_of(context: JobContext) -> WorkerServices:
    services = context.additional_context.get(CONTEXT_KEY)
    if not isinstance(services, WorkerServices):
        raise JobsConfigurationError(
            "CalSync's jobs run only in `calsync worker` (the job has no worker context)",
            field="additional_context",
        )
    return services
