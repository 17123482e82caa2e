"""Which runtime runs the sync, and how the jobs runtime is tuned.

`CALSYNC_RUNTIME` chooses: `in-process` (the default: `calsync serve` runs the push worker and the
scheduler itself, docs/runtime.md) or `jobs` (the work runs as procrastinate jobs in PostgreSQL, on
as many `calsync worker` processes as needed; `calsync serve` only defers jobs). The jobs runtime
needs PostgreSQL: its queue lives in the CRM database, next to the outbox and cursors it works on.

Tuning (seconds; the defaults suit production):

- `CALSYNC_JOBS_TICK_SECONDS` (60): how often the scheduling tick runs. It defers each mailbox's
  pull for its own slot within the next tick, retries the jobs of workers that died, and defers a
  push when the outbox has waited. One of 1–6, 10, 12, 15, 20, 30 or 60 (a cron step).
- `CALSYNC_WORKER_HEARTBEAT_SECONDS` (10): how often a worker says it is alive. A worker silent
  for three heartbeats is taken for dead and its running jobs are retried.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from calsync.runtime.errors import SyncServiceError

RUNTIME_VARIABLE = "CALSYNC_RUNTIME"
TICK_VARIABLE = "CALSYNC_JOBS_TICK_SECONDS"
HEARTBEAT_VARIABLE = "CALSYNC_WORKER_HEARTBEAT_SECONDS"
IN_PROCESS = "in-process"
JOBS = "jobs"
# Seconds that divide a minute: the tick is a cron step, so every worker agrees on its instants.
TICK_CHOICES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
# A worker that missed this many heartbeats is taken for dead.
STALLED_AFTER_HEARTBEATS = 3


class JobsConfigurationError(SyncServiceError):
    """The jobs runtime is misconfigured; `field` names the environment variable."""

    code = "jobs_configuration_invalid"
    status = 500


@dataclass(frozen=True)
class JobsSettings:
    """How the jobs runtime runs; see the module docstring."""

    tick_seconds: int = 60
    heartbeat_seconds: float = 10.0

    @property
    def stalled_after_seconds(self) -> float:
        """Silence after which a worker is taken for dead and its running jobs retried."""
        return self.heartbeat_seconds * STALLED_AFTER_HEARTBEATS

    @property
    def tick_cron(self) -> str:
        """The tick as a procrastinate cron (a sixth column counts seconds)."""
        if self.tick_seconds == 60:
            return "* * * * *"
        return f"* * * * * */{self.tick_seconds}"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> JobsSettings:
        env = os.environ if environ is None else environ
        tick = _number(env, TICK_VARIABLE, 60.0)
        if tick not in TICK_CHOICES:
            raise JobsConfigurationError(
                f"must be one of {', '.join(str(choice) for choice in TICK_CHOICES)} seconds "
                f"(a step that divides a minute), not {env.get(TICK_VARIABLE)!r}",
                field=TICK_VARIABLE,
            )
        heartbeat = _number(env, HEARTBEAT_VARIABLE, 10.0)
        if not 0.2 <= heartbeat <= 300:
            raise JobsConfigurationError(
                f"must be between 0.2 and 300 seconds, not {env.get(HEARTBEAT_VARIABLE)!r}",
                field=HEARTBEAT_VARIABLE,
            )
        return cls(tick_seconds=int(tick), heartbeat_seconds=heartbeat)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise JobsConfigurationError(
            f"must be a number of seconds, not {raw!r}", field=name
        ) from None


def jobs_mode(environ: Mapping[str, str] | None = None) -> bool:
    """True when `CALSYNC_RUNTIME=jobs`; an unknown value is refused by name."""
    env = os.environ if environ is None else environ
    value = env.get(RUNTIME_VARIABLE, "").strip().lower() or IN_PROCESS
    if value not in (IN_PROCESS, JOBS):
        raise JobsConfigurationError(
            f"must be {IN_PROCESS!r} (the default) or {JOBS!r}, not {value!r}",
            field=RUNTIME_VARIABLE,
        )
    return value == JOBS


def require_postgresql(database_url: str) -> str:
    """The database URL, if it is PostgreSQL: the job queue lives in the CRM database."""
    try:
        backend = make_url(database_url).get_backend_name()
    except ArgumentError:
        backend = ""
    if backend != "postgresql":
        raise JobsConfigurationError(
            "the jobs runtime (CALSYNC_RUNTIME=jobs, `calsync worker`) needs PostgreSQL; "
            "set CALSYNC_DATABASE_URL to a postgresql+psycopg:// URL",
            field="CALSYNC_DATABASE_URL",
        )
    return database_url
