"""`calsync serve` in jobs mode: the runtime it hosts when `CALSYNC_RUNTIME=jobs`."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.jobs.app import build_job_app
from calsync.runtime.jobs.dispatch import JobDispatcher
from calsync.runtime.jobs.runtimes import DeferringRuntime
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.settings import JobsSettings, require_postgresql
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import WebhookSettings

logger = logging.getLogger("calsync.runtime.jobs")


def deferring_runtime(
    sessions: sessionmaker[Session],
    database_url: str,
    *,
    endpoints: GraphEndpoints,
    box: SecretBox,
    webhooks: WebhookSettings | None,
    **options: Any,
) -> DeferringRuntime:
    """Check the database is PostgreSQL, install or upgrade the job queue, and build the runtime
    that defers jobs instead of running them."""
    require_postgresql(database_url)
    logger.info(install_job_schema(database_url))
    app = build_job_app(database_url, JobsSettings.from_environment())
    return DeferringRuntime(
        sessions,
        dispatcher=JobDispatcher(app),
        endpoints=endpoints,
        box=box,
        webhooks=webhooks,
        **options,
    )
