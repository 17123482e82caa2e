"""`calsync tokens …`: issue API tokens from the command line (the first admin's, say)."""

from __future__ import annotations

from typing import Annotated

import typer

from calsync.cli.users import refuse
from calsync.crm.database import create_database_engine, create_session_factory, database_url
from calsync.crm.errors import CrmError, NotFoundError
from calsync.crm.migrate import upgrade_database
from calsync.crm.services.api_tokens import create_api_token
from calsync.crm.services.users import find_user_by_email

app = typer.Typer(
    help="Manage API tokens (Authorization: Bearer <token> for the REST API).", no_args_is_help=True
)


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Mailbox of the user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'reporting'.")] = "cli",
) -> None:
    """Issue an API token for a user and print it. It is shown only this once: store it now."""
    url = database_url()
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        with create_session_factory(engine)() as session:
            try:
                user = find_user_by_email(session, email)
                if user is None:
                    raise NotFoundError(
                        f"no user has the mailbox {email.strip()};"
                        " add one with `calsync users create`",
                        field="email",
                    )
                issued = create_api_token(session, user.id, name)
            except CrmError as error:
                raise refuse(error) from None
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"API token for {user.name} <{user.email}> (shown once, store it now):", err=True)
    typer.echo(issued.secret)
