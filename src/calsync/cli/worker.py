"""`calsync worker`: run the sync's jobs from the PostgreSQL job queue (CALSYNC_RUNTIME=jobs).

Start as many as needed, on as many machines as needed, all pointing at the same database.
"""

from __future__ import annotations

import asyncio
import os
import socket

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from calsync.crm.database import database_url
from calsync.crm.migrate import current_revision, head_revision
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.errors import SyncServiceError
from calsync.runtime.gc_tuning import tune_garbage_collector
from calsync.runtime.jobs.schema import install_job_schema
from calsync.runtime.jobs.settings import JobsSettings, require_postgresql
from calsync.runtime.jobs.worker import run_worker, show_job_failures
from calsync.runtime.logs import configure_logging
from calsync.runtime.metrics import serve_metrics
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import WebhookSettings


def worker(
    name: str = typer.Option(
        "", help="Name shown in logs and in procrastinate's tables (default: host:pid)."
    ),
    metrics_port: int | None = typer.Option(
        None,
        min=1,
        max=65535,
        help="Serve this worker's Prometheus metrics at http://HOST:PORT/metrics (off by default).",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1", help="Address the metrics are served on (with --metrics-port)."
    ),
) -> None:
    """Run the sync's jobs (pushes, mailbox pulls, webhook follow-ups, subscription renewals).

    Needs CALSYNC_DATABASE_URL on PostgreSQL at the current migration (`calsync db upgrade`).
    Installs or upgrades the job queue's tables at start. Stop with Ctrl+C or SIGTERM (the
    running job finishes first).
    """
    configure_logging()
    show_job_failures()
    url = database_url()
    try:
        require_postgresql(url)
        settings = JobsSettings.from_environment()
        box = SecretBox.from_environment()
        webhooks = WebhookSettings.from_environment(box)
        endpoints = GraphEndpoints.from_environment()
    except SyncServiceError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from None
    if metrics_port is not None:
        try:
            serve_metrics(metrics_host, metrics_port)
        except OSError as error:
            typer.echo(
                f"Error: --metrics-port: cannot serve metrics at {metrics_host}:{metrics_port}: "
                f"{error.strerror or error}",
                err=True,
            )
            raise typer.Exit(code=1) from None
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        at, head = current_revision(url), head_revision()
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        typer.echo(f"Error: cannot open the database {shown}: {reason}", err=True)
        raise typer.Exit(code=1) from None
    if at != head:
        typer.echo(
            f"Error: the database {shown} is at migration {at or 'none'}, this CalSync needs "
            f"{head}: run `calsync db upgrade` first.",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo(install_job_schema(url))
    worker_name = name or f"{socket.gethostname()}:{os.getpid()}"
    typer.echo(f"Worker {worker_name} is running CalSync's jobs. Press Ctrl+C to stop.")
    tune_garbage_collector()
    asyncio.run(
        run_worker(url, settings, name=worker_name, endpoints=endpoints, box=box, webhooks=webhooks)
    )
