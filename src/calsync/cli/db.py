"""`calsync db …`: look after the CRM database (create it, bring it to the current version)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from calsync.crm.database import DATABASE_URL_VARIABLE, database_url
from calsync.crm.migrate import upgrade_database

app = typer.Typer(help="Manage the CRM database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help=f"Database URL (default: ${DATABASE_URL_VARIABLE}, else calsync.sqlite3).",
        ),
    ] = None,
) -> None:
    """Create the CRM tables, or migrate an existing database to this version of CalSync."""
    target = url or database_url()
    revision = upgrade_database(target)
    shown = make_url(target).render_as_string(hide_password=True)
    typer.echo(f"Database {shown} is at revision {revision} (up to date).")
