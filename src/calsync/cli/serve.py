"""`calsync serve`: bring the database up to date, then serve the API (and web app) with uvicorn."""

from __future__ import annotations

import sys

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from calsync.crm.database import DATABASE_URL_VARIABLE
from calsync.crm.migrate import upgrade_database
from calsync.runtime.gc_tuning import tune_garbage_collector
from calsync.runtime.lifespan import install_sync_runtime
from calsync.web.app import create_app
from calsync.web.settings import WebSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def base_url(host: str, port: int) -> str:
    """The address a person types into a browser or curl for a server on `host`:`port`."""
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{port}"


def migrate_or_exit(url: str) -> str:
    """Bring the database at `url` up to date; on a connection problem, say so and exit 1."""
    try:
        return upgrade_database(url)
    except OperationalError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(error.orig or error).strip().splitlines()[0]
        typer.echo(
            f"Error: cannot open the database {shown}: {reason}\n"
            f"Check {DATABASE_URL_VARIABLE} (or unset it to use the SQLite file).",
            err=True,
        )
        raise typer.Exit(code=1) from None


def run_server(settings: WebSettings, host: str, port: int) -> None:
    """Serve CalSync on `host`:`port` until interrupted (Ctrl+C)."""
    # What was printed before must show now, even when the output goes to a pipe or a log file.
    sys.stdout.flush()
    app = create_app(settings)
    install_sync_runtime(app)  # the push worker and scheduler run in this process
    tune_garbage_collector()  # the app lives as long as the process: out of the collector's walks
    uvicorn.run(app, host=host, port=port, log_level="info")


def serve(
    host: str = typer.Option(
        DEFAULT_HOST,
        help="Address to listen on. The default accepts connections from this machine only.",
    ),
    port: int = typer.Option(DEFAULT_PORT, min=1, max=65535, help="TCP port to listen on."),
) -> None:
    """Migrate the database, then serve the REST API at /api/v1 (docs at /api/v1/docs).

    The database is CALSYNC_DATABASE_URL (e.g. postgresql+psycopg://user:pass@host/db), or the
    SQLite file calsync.sqlite3 in CALSYNC_DATA_DIR (default: the current directory).
    """
    settings = WebSettings.from_environment()
    revision = migrate_or_exit(settings.database_url)
    url = base_url(host, port)
    typer.echo(f"Database is at migration {revision}.")
    typer.echo(f"CalSync is serving on {url}/ (API docs: {url}/api/v1/docs). Press Ctrl+C to stop.")
    run_server(settings, host, port)
