"""`calsync demo`: one command from a fresh clone to a running CalSync full of realistic data.

The steps are separate functions so the demo can grow (a later issue adds the Microsoft 365
emulator and the sync to it) without this command turning into one long function.
"""

from __future__ import annotations

import os
import secrets
import shlex
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from calsync.cli.serve import DEFAULT_HOST, DEFAULT_PORT, base_url, migrate_or_exit
from calsync.cli.sync import serve_demo_with_sync
from calsync.crm.database import (
    DATA_DIR_VARIABLE,
    create_database_engine,
    create_session_factory,
    database_url,
)
from calsync.crm.services.api_tokens import create_api_token, list_api_tokens, revoke_api_token
from calsync.crm.services.users import UserChanges, update_user
from calsync.demo_data import DemoSummary, NotADemoDatabaseError, seed_demo_data
from calsync.runtime.gc_tuning import tune_garbage_collector
from calsync.web.passwords import hash_password

DEMO_DATA_DIR = Path("data")
DEMO_TOKEN_NAME = "calsync demo"


def demo_database_url() -> str:
    """CALSYNC_DATABASE_URL when set, else the SQLite file in CALSYNC_DATA_DIR or ./data/."""
    environment = dict(os.environ)
    if not environment.get(DATA_DIR_VARIABLE, "").strip():
        environment[DATA_DIR_VARIABLE] = str(DEMO_DATA_DIR)
    return database_url(environment)


def prepare_demo(url: str, today: date) -> tuple[DemoSummary, str, str]:
    """Migrate, seed (once) and issue the administrator a fresh demo token and web password;
    returns the summary, the token and the password.

    The previous demo token is revoked and the password replaced, so running the demo again adds
    nothing to the database and only the token and password printed last work.
    """
    migrate_or_exit(url)
    engine = create_database_engine(url)
    try:
        with create_session_factory(engine)() as session:
            summary = seed_demo_data(session, today)
            for token in list_api_tokens(session, summary.admin.id):
                if token.name == DEMO_TOKEN_NAME:
                    revoke_api_token(session, token.id)
            secret = create_api_token(session, summary.admin.id, DEMO_TOKEN_NAME).secret
            password = secrets.token_urlsafe(12)
            update_user(
                session, summary.admin.id, UserChanges(password_hash=hash_password(password))
            )
            session.commit()
    finally:
        engine.dispose()
    return summary, secret, password


def welcome_text(
    summary: DemoSummary, url: str, server: str, token: str, password: str | None = None
) -> str:
    """What the demo prints before serving: where things are and how to make a first call."""
    shown_database = make_url(url).render_as_string(hide_password=True)
    seeded = (
        "Seeded Harborview Wealth Partners: 4 staff users, 30 individuals, 15 contacts and this "
        "week's meetings."
        if summary.created
        else "Demo data was already there; nothing was added."
    )
    curl = f"curl -H {shlex.quote('Authorization: Bearer ' + token)} '{server}/api/v1/users/me'"
    return "\n".join(
        [
            f"Database: {shown_database}",
            seeded,
            "",
            f"CalSync is at        {server}/",
            f"API documentation:   {server}/api/v1/docs",
            f"Administrator:       {summary.admin.name} <{summary.admin.email}>",
            f"Their API token:     {token}",
            *(
                [f"Sign in at {server}/signin as {summary.admin.email} / {password}"]
                if password
                else []
            ),
            "",
            "Try:",
            f"  {curl}",
        ]
    )


def demo(
    host: Annotated[
        str, typer.Option(help="Address to listen on (default: this machine only).")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="TCP port to listen on.")
    ] = DEFAULT_PORT,
    seed_only: Annotated[
        bool,
        typer.Option("--seed-only", help="Migrate, seed and print the token, but do not serve."),
    ] = False,
) -> None:
    """Run CalSync with realistic demo data: migrate, seed once, print a token, serve.

    The database is CALSYNC_DATABASE_URL if set, else data/calsync.sqlite3. Seeding adds an
    advisory firm (an admin, 3 advisors, 30 individuals, 15 contacts, custom email fields and a
    week of meetings) the first time only; each run issues the admin a new API token.
    """
    url = demo_database_url()
    try:
        summary, token, password = prepare_demo(url, date.today())
    except NotADemoDatabaseError as refused:
        typer.echo(f"Error: {refused}", err=True)
        raise typer.Exit(code=1) from None
    server = base_url(host, port)
    typer.echo(welcome_text(summary, url, server, token, password))
    if seed_only:
        return
    typer.echo("\nServing; press Ctrl+C to stop.")
    tune_garbage_collector()
    serve_demo_with_sync(url, host, port, default_data_dir=DEMO_DATA_DIR)
