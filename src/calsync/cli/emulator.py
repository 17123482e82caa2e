"""`calsync emulator`: run the Microsoft 365 calendar emulator in the foreground.

It serves the token endpoint, the OpenID metadata MSAL reads and the Graph calendar subset on a
loopback port, so the product (or any Graph client) can be pointed at it instead of Microsoft 365.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType

import typer

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.server import EmulatorServer, EmulatorServerError


def _check_addresses(addresses: list[str], option: str) -> None:
    for address in addresses:
        local, _, domain = address.partition("@")
        if not local or "." not in domain:
            raise typer.BadParameter(f"{address!r} is not an email address", param_hint=option)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def emulator(
    host: str = typer.Option("127.0.0.1", help="Loopback address to listen on."),
    port: int = typer.Option(8765, min=0, max=65535, help="Port; 0 picks a free one."),
    tenant: str = typer.Option("contoso.onmicrosoft.com", help="Tenant name or id clients use."),
    client_id: str = typer.Option(
        "00000000-0000-0000-0000-00000000c0de", help="The only app id the token endpoint accepts."
    ),
    client_secret: str = typer.Option("emulator-secret", help="That app's client secret."),
    mailbox: list[str] = typer.Option([], help="A mailbox address to host (repeatable)."),
    mailbox_without_teams: list[str] = typer.Option(
        [], help="A mailbox that cannot host Teams meetings (repeatable)."
    ),
    tls: bool = typer.Option(False, "--tls", help="Serve https with a generated certificate."),
    ca_file: Path | None = typer.Option(
        None, help="Where --tls writes the CA certificate clients must trust (PEM)."
    ),
    state: Path | None = typer.Option(
        None, help="SQLite file that keeps events across restarts (default: memory only)."
    ),
    token_lifetime: int = typer.Option(3599, min=1, help="Access-token lifetime in seconds."),
) -> None:
    """Run the Microsoft 365 calendar emulator until interrupted (Ctrl+C)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise typer.BadParameter(
            "the emulator only listens on loopback addresses", param_hint="--host"
        )
    _check_addresses(mailbox, "--mailbox")
    _check_addresses(mailbox_without_teams, "--mailbox-without-teams")
    if tls and ca_file is None:
        raise typer.BadParameter(
            "--tls needs --ca-file PATH for the CA certificate", param_hint="--ca-file"
        )
    if ca_file is not None and not tls:
        raise typer.BadParameter("--ca-file only makes sense with --tls", param_hint="--ca-file")
    config = EmulatorConfig(
        tenant=tenant,
        client_id=client_id,
        client_secret=client_secret,
        mailboxes=list(mailbox),
        mailboxes_without_teams=list(mailbox_without_teams),
        token_lifetime_seconds=token_lifetime,
        state_path=state,
    )
    server = EmulatorServer(config, tls=tls, ca_path=ca_file, port=port, host=host)
    try:
        server.start()
    except EmulatorServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Microsoft 365 emulator listening on {server.base_url}")
    typer.echo(f"  authority: {server.base_url}/{tenant}")
    typer.echo(f"  Graph:     {server.graph_url}")
    if server.ca_path is not None:
        typer.echo(f"  CA file:   {server.ca_path}")
    typer.echo(f"  state:     {state or 'in memory'}")
    for hosted in server.emulator.store.list_mailboxes():
        teams = "" if hosted.can_host_teams else " (cannot host Teams)"
        typer.echo(f"  mailbox:   {hosted.address}  id {hosted.id}{teams}")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        server.stop()
        server.emulator.store.close()
