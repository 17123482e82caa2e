"""Jobs of dead workers are run again.

procrastinate marks a job `doing` when a worker takes it; if that worker dies (SIGKILL, a lost
machine, a frozen process), the job would stay `doing` for ever — and, holding its lock, would
keep every later job of the same mailbox (or every push) from starting. Each worker heartbeats
every `CALSYNC_WORKER_HEARTBEAT_SECONDS` (10 s); a worker silent for three heartbeats is taken for
dead, and its running jobs are retried by whichever live worker looks first (each looks once a
heartbeat). So a killed worker's job runs again 30–40 s later by default; the engine's crash
safety makes running it again harmless.

This runs beside the job loop, not as a job: a recovery job could itself be stuck behind the lock
of a dead worker's job.
"""

from __future__ import annotations

import asyncio
import logging

from procrastinate import App
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Status

from calsync.runtime.jobs.settings import JobsSettings

logger = logging.getLogger("calsync.runtime.jobs")


async def recover_stalled_jobs(app: App, settings: JobsSettings) -> int:
    """Retry the running jobs of workers that missed three heartbeats; returns how many.

    A job whose work is queued again already (a newer push or pull waits under the same
    queueing lock) is closed as failed instead: the waiting one does the same work. Another
    worker recovering the same job at the same moment is not an error.
    """
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.stalled_after_seconds
    )
    recovered = 0
    for job in stalled:
        assert job.id is not None
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            try:
                await app.job_manager.finish_job_by_id_async(
                    job.id, Status.FAILED, delete_job=False
                )
            except ConnectorException:
                continue  # another worker closed it first
        except ConnectorException:
            continue  # another worker retried it first
        recovered += 1
        logger.warning(
            "retrying job %s (%s) of a worker that stopped answering",
            job.id,
            job.task_name,
            extra={"job_id": job.id, "task": job.task_name},
        )
    return recovered


async def keep_recovering(app: App, settings: JobsSettings) -> None:
    """Look for dead workers' jobs once a heartbeat, until cancelled."""
    while True:
        await asyncio.sleep(settings.heartbeat_seconds)
        try:
            await recover_stalled_jobs(app, settings)
        except ConnectorException:
            logger.exception("could not look for the jobs of dead workers; trying again")
