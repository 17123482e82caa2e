"""`calsync users set-password EMAIL`: give a staff user a password for the web app's sign-in.

The password is asked for twice without echo (or read from standard input with `--stdin`, for
scripts) and only its argon2 hash is stored, in the user's `password_hash`. Setting a new password
ends every browser session signed in with the old one.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from calsync.crm.database import (
    DATABASE_URL_VARIABLE,
    create_database_engine,
    create_session_factory,
    database_url,
)
from calsync.web import passwords
from calsync.web.passwords import PasswordError, user_with_email

app = typer.Typer(help="Create staff users and manage their web sign-in.", no_args_is_help=True)


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The user's email address (their mailbox).")],
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help=f"Database URL (default: ${DATABASE_URL_VARIABLE}, else calsync.sqlite3).",
        ),
    ] = None,
) -> None:
    """Set the web sign-in password of the staff user with this email address."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    engine = create_database_engine(url or database_url())
    try:
        with create_session_factory(engine)() as session:
            user = user_with_email(session, email)
            if user is None:
                typer.echo(f"Password not changed: no staff user has the email {email}.", err=True)
                raise typer.Exit(code=1)
            try:
                passwords.set_password(session, user.id, password)
            except PasswordError as refused:
                typer.echo(f"Password not changed: the password {refused.message}.", err=True)
                raise typer.Exit(code=2) from None
            session.commit()
            typer.echo(f"Password set for {user.name} <{user.email}>.")
    finally:
        engine.dispose()
