"""The procrastinate `App` over the CRM database, with CalSync's jobs registered.

Built the same way in the web process (which only defers) and in `calsync worker` (which runs the
jobs), so both know every task by name. Built fresh each time (tasks are registered on the
instance, not at import), so one process may hold several (the tests do).
"""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.settings import JobsSettings
from calsync.runtime.jobs.tasks import register_tasks

# A worker runs one job at a time and a web process defers now and then: a few connections do
# (the worker's fetch and its heartbeat, the listener for new jobs, the deferring request).
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 4


def build_job_app(database_url: str, settings: JobsSettings) -> App:
    """An unopened App on `database_url` (PostgreSQL only) with CalSync's tasks."""
    connector = PsycopgConnector(
        conninfo=conninfo_of(database_url),
        min_size=POOL_MIN_SIZE,
        max_size=POOL_MAX_SIZE,
        kwargs={"application_name": "calsync-jobs"},
    )
    app = App(connector=connector, periodic_defaults={"max_delay": 60 * 10})
    register_tasks(app, settings)
    return app
