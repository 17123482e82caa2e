"""`calsync users create`: add staff users from the command line (above all, the first admin).

The `users` command group itself lives in `calsync.cli.passwords` (`set-password`); `create` is
added to it in `calsync.cli`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from tzlocal import get_localzone_name

from calsync.crm.database import create_database_engine, create_session_factory, database_url
from calsync.crm.errors import CrmError
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import Role
from calsync.crm.services.users import create_user


def refuse(error: CrmError) -> typer.Exit:
    """Print a CRM refusal the way a person reads it and return the exit to raise."""
    typer.echo(f"Error: {error}", err=True)
    return typer.Exit(code=1)


def create(
    email: Annotated[str, typer.Option(help="The user's Microsoft 365 mailbox (unique).")],
    name: Annotated[str, typer.Option(help="Full name, as colleagues see it.")],
    role: Annotated[
        Role,
        typer.Option(help="admin: manages people, users and settings; staff: works with events."),
    ] = Role.STAFF,
    time_zone: Annotated[
        str | None,
        typer.Option(help="IANA time zone, e.g. America/New_York (default: this machine's)."),
    ] = None,
) -> None:
    """Add a staff user to the database (migrating it first if needed) and print their id.

    Create the first administrator with --role admin, then give them a token with
    `calsync tokens create --email …`.
    """
    url = database_url()
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        with create_session_factory(engine)() as session:
            try:
                user = create_user(
                    session,
                    name=name,
                    email=email,
                    role=role,
                    time_zone=time_zone or get_localzone_name(),
                )
            except CrmError as error:
                raise refuse(error) from None
            session.commit()
            typer.echo(f"Created {user.role.value} user {user.name} <{user.email}> (id {user.id}).")
    finally:
        engine.dispose()
