"""`calsync sync enable|disable|now|status|held|confirm-deletions|discard-deletions` and
`calsync status`: the sync service from a shell.

They act on the database of `CALSYNC_DATABASE_URL` (else the SQLite file), with the key of
`CALSYNC_ENCRYPTION_KEY` (else the data directory's key file) and the Graph endpoints of
`CALSYNC_GRAPH_AUTHORITY_HOST` / `CALSYNC_GRAPH_URL` / `CALSYNC_GRAPH_CA_BUNDLE` (else Microsoft's).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import (
    DATA_DIR_VARIABLE,
    create_database_engine,
    create_session_factory,
    database_url,
)
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import User
from calsync.crm.services.organization import get_organization
from calsync.emulator.server import EmulatorServerError
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.embedded import (
    EmbeddedMicrosoft365,
    start_embedded_microsoft365,
)
from calsync.runtime.enablement import disable_sync, enable_sync, require_enabled
from calsync.runtime.errors import SyncServiceError
from calsync.runtime.held_deletions import HeldDeletions, all_held_deletions, require_held
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.runtime.status import mailbox_states
from calsync.runtime.webhooks import CLIENT_STATE, WebhookSettings
from calsync.web.app import create_app
from calsync.web.settings import WebSettings

EMULATOR_PORT_VARIABLE = "CALSYNC_EMULATOR_PORT"

app = typer.Typer(
    help="Enable, disable, run and inspect the Microsoft 365 sync.", no_args_is_help=True
)


def _sessions() -> tuple[sessionmaker[Session], Engine]:
    url = database_url()
    upgrade_database(url)
    engine = create_database_engine(url)
    return create_session_factory(engine), engine


def _fail(error: SyncServiceError) -> typer.Exit:
    where = f" ({error.field})" if error.field else ""
    typer.echo(f"Error{where}: {error.message} [{error.code}]", err=True)
    return typer.Exit(code=1)


def _read(path: Path | None) -> str | None:
    return path.read_text() if path is not None else None


@app.command("enable")
def enable(
    tenant_id: Annotated[str, typer.Option(help="Directory (tenant) id or domain.")],
    client_id: Annotated[str, typer.Option(help="Application (client) id of CalSync's app.")],
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="CALSYNC_CLIENT_SECRET",
            help="The app's client secret (or set CALSYNC_CLIENT_SECRET; keeps it out of the "
            "shell history).",
        ),
    ] = None,
    certificate: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Public certificate (PEM) instead."),
    ] = None,
    private_key: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="The certificate's private key (PEM)."),
    ] = None,
    thumbprint: Annotated[
        str | None, typer.Option(help="SHA-1 thumbprint, instead of the public certificate.")
    ] = None,
    test_mailbox: Annotated[
        str | None,
        typer.Option(help="Mailbox the test call reads (default: first user with sync on)."),
    ] = None,
) -> None:
    """Test the tenant connection (token request + calendar read), then save it and enable."""
    connection = TenantConnection(
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        certificate_pem=_read(certificate),
        certificate_thumbprint=thumbprint,
        private_key_pem=_read(private_key),
    )
    sessions, engine = _sessions()
    try:
        check = asyncio.run(
            enable_sync(
                sessions,
                connection,
                GraphEndpoints.from_environment(),
                SecretBox.from_environment(),
                test_mailbox=test_mailbox,
            )
        )
    except SyncServiceError as error:
        raise _fail(error) from None
    finally:
        engine.dispose()
    teams = "can" if check.can_host_teams_meetings else "cannot"
    typer.echo(
        f"Connection tested: the calendar of {check.mailbox} was read ({teams} host Teams "
        "meetings). The sync is enabled; `calsync serve` runs it."
    )


@app.command("disable")
def disable() -> None:
    """Switch the sync off; the connection, links and sync log are kept."""
    sessions, engine = _sessions()
    try:
        with sessions() as session:
            disable_sync(session)
            session.commit()
    except SyncServiceError as error:
        raise _fail(error) from None
    finally:
        engine.dispose()
    typer.echo("The sync is disabled. Enable it again with `calsync sync enable`.")


@app.command("now")
def now(
    user: Annotated[
        str | None, typer.Option(help="Only this user's mailbox (their email address).")
    ] = None,
) -> None:
    """Push what waits, pull every synced mailbox (or one user's), push again; print the result."""
    sessions, engine = _sessions()
    try:
        mailbox = _synced_mailbox(sessions, user) if user else None
        results = asyncio.run(_run_now(sessions, mailbox))
    except SyncServiceError as error:
        raise _fail(error) from None
    finally:
        engine.dispose()
    for address, succeeded in results.items():
        typer.echo(f"{address}: {'synced' if succeeded else 'FAILED (see calsync status)'}")
    if not all(results.values()):
        raise typer.Exit(code=1)


def _synced_mailbox(sessions: sessionmaker[Session], email: str) -> str:
    address = email.strip().lower()
    with sessions() as session:
        require_enabled(session)
        found = session.scalar(select(User).where(User.email_normalized == address))
    if found is None:
        raise SyncServiceError(f"no user has the email {email}", field="user", code="not_found")
    if not found.sync_enabled:
        raise SyncServiceError(
            f"{found.name}'s sync is switched off", field="user", code="user_not_synced"
        )
    return address


async def _run_now(sessions: sessionmaker[Session], mailbox: str | None) -> dict[str, bool]:
    runtime = SyncRuntime(
        sessions, endpoints=GraphEndpoints.from_environment(), box=SecretBox.from_environment()
    )
    try:
        return await runtime.run_now(mailbox)
    finally:
        await runtime.close()


@app.command("held")
def held(
    user: Annotated[
        str | None, typer.Option(help="Only this user's mailbox (their email address).")
    ] = None,
) -> None:
    """List the deletions the mass-deletion guard holds, per mailbox, for an administrator."""
    sessions, engine = _sessions()
    try:
        with sessions() as session:
            require_enabled(session)
            found = (
                [require_held(session, _user_mailbox(session, user), field="user")]
                if user
                else all_held_deletions(session)
            )
    except SyncServiceError as error:
        raise _fail(error) from None
    finally:
        engine.dispose()
    if not found:
        typer.echo("No mailbox holds deletions.")
    for mailbox in found:
        _print_held(mailbox)


def _print_held(held: HeldDeletions) -> None:
    console = Console()
    console.print(f"[bold]{held.name}[/bold] ({held.mailbox}): {held.message}")
    if not held.listed and not held.events:
        console.print("  The events deleted in Outlook are listed after the mailbox's next run.")
    for event in held.events:
        where = "the CRM" if event.would_be_deleted_from == "crm" else "Microsoft 365"
        console.print(f"  - {event.describe()}: confirming deletes it from {where}")
    console.print(
        f"  Decide with `calsync sync confirm-deletions --user {held.mailbox}` or "
        f"`calsync sync discard-deletions --user {held.mailbox}`."
    )


@app.command("confirm-deletions")
def confirm_deletions(
    user: Annotated[str, typer.Option(help="The user whose mailbox holds them (email).")],
) -> None:
    """Apply the deletions the guard held for a mailbox, then run it now."""
    _decide(user, confirm=True)


@app.command("discard-deletions")
def discard_deletions(
    user: Annotated[str, typer.Option(help="The user whose mailbox holds them (email).")],
) -> None:
    """Keep the held events on both sides (no longer linked), then run the mailbox now."""
    _decide(user, confirm=False)


def _decide(user: str, *, confirm: bool) -> None:
    sessions, engine = _sessions()
    try:
        with sessions() as session:
            require_enabled(session)
            mailbox = _user_mailbox(session, user)
            held = require_held(session, mailbox, field="user")
        succeeded = asyncio.run(_decide_now(sessions, mailbox, confirm=confirm))
    except SyncServiceError as error:
        raise _fail(error) from None
    finally:
        engine.dispose()
    verb = "deleted" if confirm else "kept"
    typer.echo(f"{held.mailbox}: the {held.count} held events are {verb}.")
    if not succeeded:
        typer.echo(f"{held.mailbox}: the run FAILED (see calsync status)", err=True)
        raise typer.Exit(code=1)


def _user_mailbox(session: Session, email: str) -> str:
    address = email.strip().lower()
    if session.scalar(select(User.id).where(User.email_normalized == address)) is None:
        raise SyncServiceError(f"no user has the email {email}", field="user", code="not_found")
    return address


async def _decide_now(sessions: sessionmaker[Session], mailbox: str, *, confirm: bool) -> bool:
    runtime = SyncRuntime(
        sessions, endpoints=GraphEndpoints.from_environment(), box=SecretBox.from_environment()
    )
    try:
        return await runtime.decide_held_deletions_now(mailbox, confirm=confirm)
    finally:
        await runtime.close()


@app.command("status")
def status() -> None:
    """Print the Sync Settings and each staff mailbox's state."""
    sessions, engine = _sessions()
    try:
        with sessions() as session:
            print_status(session)
            session.commit()
    finally:
        engine.dispose()


def print_status(session: Session) -> None:
    console = Console()
    organization = get_organization(session)
    if not organization.sync_enabled:
        console.print(
            "The Microsoft 365 sync is [bold]not enabled[/bold]. Enable it with "
            "`calsync sync enable --tenant-id … --client-id …`."
        )
        return
    console.print(
        f"Sync [bold green]enabled[/bold green] for tenant {organization.tenant_id}: every "
        f"{organization.run_frequency_minutes} minutes, window {organization.window_past_days} "
        f"days back and {organization.window_future_days} days ahead; the sync log is kept "
        f"{organization.sync_log_retention_days} days."
    )
    table = Table(title="Mailboxes")
    for column in ("User", "Mailbox", "Synced", "State", "Last run", "Waiting", "Failed", "Why"):
        table.add_column(column)
    for state in mailbox_states(session):
        colour = {"ok": "green", "never_run": "dim"}.get(state.status, "red")
        table.add_row(
            state.name,
            state.mailbox,
            "yes" if state.synced else "no",
            f"[{colour}]{state.status}[/{colour}]",
            _when(state.last_run_at),
            str(state.pending_changes),
            str(state.failed_changes),
            state.status_message or state.last_error or "",
        )
    console.print(table)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"


def serve_with_sync(
    embedded: EmbeddedMicrosoft365, database_url: str, host: str, port: int
) -> None:
    """`calsync demo`: serve the web app with the sync service against the embedded Microsoft 365
    on `host`:`port` until interrupted, then stop the emulator."""
    app = create_app(WebSettings(database_url=database_url))
    # The emulator runs on this machine, so it reaches the server on the loopback address: the
    # demo has webhooks on (CALSYNC_PUBLIC_URL still wins), and Outlook changes arrive at once.
    webhooks = WebhookSettings.from_environment(embedded.box) or WebhookSettings(
        public_url=f"http://127.0.0.1:{port}", client_state=embedded.box.derive(CLIENT_STATE)
    )
    install_sync_runtime(app, endpoints=embedded.endpoints, box=embedded.box, webhooks=webhooks)
    sys.stdout.flush()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        embedded.stop()


def serve_demo_with_sync(url: str, host: str, port: int, *, default_data_dir: Path) -> None:
    """`calsync demo`'s serving step: start the embedded Microsoft 365 (its state, CA and key in
    CALSYNC_DATA_DIR, else `default_data_dir`), print where it is, and serve with the sync."""
    data_dir = Path(os.environ.get(DATA_DIR_VARIABLE, "").strip() or default_data_dir)
    port_setting = os.environ.get(EMULATOR_PORT_VARIABLE, "").strip()
    if port_setting and not port_setting.isdigit():
        typer.echo(f"Error: {EMULATOR_PORT_VARIABLE} must be a port number", err=True)
        raise typer.Exit(code=1)
    emulator_port = int(port_setting) if port_setting else None
    try:
        embedded = start_embedded_microsoft365(url, data_dir, port=emulator_port)
    except EmulatorServerError as error:
        typer.echo(
            f"Error: the demo's Microsoft 365 emulator could not start: {error}. Stop what "
            f"uses the port, or choose another with {EMULATOR_PORT_VARIABLE} (keep it the same "
            "from one demo run to the next: the sync's saved links point at it).",
            err=True,
        )
        raise typer.Exit(code=1) from None
    except SyncServiceError as error:
        typer.echo(f"Error: the sync could not be enabled against the emulator: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(embedded.describe())
    serve_with_sync(embedded, url, host, port)
