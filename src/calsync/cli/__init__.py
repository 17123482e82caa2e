"""The `calsync` command line.

Each part of the product keeps its commands in its own module here; this module only wires them
into one Typer application.
"""

from __future__ import annotations

import typer

from calsync import __version__
from calsync.cli.db import app as db_app
from calsync.cli.demo import demo
from calsync.cli.emulator import emulator
from calsync.cli.passwords import app as users_app
from calsync.cli.serve import serve
from calsync.cli.sync import app as sync_app
from calsync.cli.sync import status as sync_status
from calsync.cli.tokens import app as tokens_app
from calsync.cli.users import create as create_user
from calsync.cli.worker import worker
from calsync.cli.workflows import app as workflows_app

app = typer.Typer(
    name="calsync",
    help="CalSync: two-way sync between a CRM calendar and Microsoft 365 calendars.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.command()(serve)
app.command()(emulator)
users_app.command("create")(create_user)
app.add_typer(tokens_app, name="tokens")
app.command()(demo)
app.add_typer(workflows_app, name="workflows")
app.add_typer(sync_app, name="sync")
app.command("status")(sync_status)
app.command()(worker)


@app.callback()
def root() -> None:
    """CalSync: two-way sync between a CRM calendar and Microsoft 365 calendars."""


@app.command()
def version() -> None:
    """Print the installed CalSync version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point of the `calsync` console script."""
    app()
