"""The embedded Microsoft 365 of `calsync demo`: the emulator, the staff's mailboxes in it, and the
sync enabled against it, so the demo syncs both ways without any set-up step.

`start_embedded_microsoft365` starts the emulator over TLS on a loopback port with one mailbox per
staff user, switches every staff user's sync on, and enables the organisation's sync through the
same path an administrator uses (a real token request through MSAL, trusting the emulator's CA,
then a test call). The emulator keeps its state in the data directory and listens on the same port
every run (8765, or the free port the first run found, remembered in `data/emulator-port`), so
the delta links the CRM stored stay valid when the demo is started again.

`calsync.cli.sync.serve_with_sync` then serves the web app with the sync service in the same
process.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from calsync.crm.database import DATA_DIR_VARIABLE, create_database_engine, create_session_factory
from calsync.crm.models import User
from calsync.crm.services.users import UserChanges, update_user
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.server import EmulatorServer, EmulatorServerError
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import ConnectionCheck, enable_sync
from calsync.runtime.secrets import SecretBox

DEMO_TENANT = "harborview.onmicrosoft.com"
DEMO_EMULATOR_PORT = 8765
STATE_FILE_NAME = "emulator.sqlite3"
CA_FILE_NAME = "emulator-ca.pem"
PORT_FILE_NAME = "emulator-port"


@dataclass
class EmbeddedMicrosoft365:
    """The running emulator and what the sync service needs to reach it."""

    server: EmulatorServer
    endpoints: GraphEndpoints
    box: SecretBox
    mailboxes: list[str]
    check: ConnectionCheck

    def stop(self) -> None:
        self.server.stop()

    def describe(self) -> str:
        return "\n".join(
            [
                f"Microsoft 365 (emulator): {self.endpoints.graph_url}",
                f"  its CA:                {self.endpoints.ca_bundle}",
                f"  mailboxes:             {', '.join(self.mailboxes)}",
                f"  sync enabled, tested on the calendar of {self.check.mailbox}",
            ]
        )


def demo_emulator_port(data_dir: Path, requested: int | None) -> int | None:
    """The port the demo's emulator should use: the one asked for, else the one it used before
    (its delta links, stored in the CRM, name it), else None (8765, or any free one if taken)."""
    if requested is not None:
        return requested
    remembered = (
        (data_dir / PORT_FILE_NAME).read_text().strip()
        if (data_dir / PORT_FILE_NAME).is_file()
        else ""
    )
    return int(remembered) if remembered.isdigit() else None


def _started(config: EmulatorConfig, data_dir: Path, port: int | None) -> EmulatorServer:
    ca_path = data_dir / CA_FILE_NAME
    if port is not None:
        return EmulatorServer(config, tls=True, ca_path=ca_path, port=port).start()
    try:
        server = EmulatorServer(config, tls=True, ca_path=ca_path, port=DEMO_EMULATOR_PORT)
        return server.start()
    except EmulatorServerError:
        # A first demo run on a machine where 8765 is taken: any free port will do, and is
        # remembered for the next runs.
        return EmulatorServer(config, tls=True, ca_path=ca_path, port=0).start()


def start_embedded_microsoft365(
    database_url: str, data_dir: Path, *, port: int | None = None
) -> EmbeddedMicrosoft365:
    """Start the emulator with the staff's mailboxes and enable the sync against it.

    `port`: the emulator's port; by default the one of the previous run in `data_dir`, else 8765,
    else a free one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        with sessions() as session:
            staff = session.scalars(select(User).order_by(User.id)).all()
            for user in staff:
                if not user.sync_enabled:
                    update_user(session, user.id, UserChanges(sync_enabled=True))
            session.commit()
            mailboxes = [user.email_normalized for user in staff]
        # A fresh app registration each start: the secret only ever lives in this process and,
        # sealed, in the CRM database.
        config = EmulatorConfig(
            tenant=DEMO_TENANT,
            client_id=str(uuid.uuid4()),
            client_secret=secrets.token_urlsafe(24),
            mailboxes=mailboxes,
            state_path=data_dir / STATE_FILE_NAME,
        )
        server = _started(config, data_dir, demo_emulator_port(data_dir, port))
        (data_dir / PORT_FILE_NAME).write_text(f"{server.port}\n")
        endpoints = GraphEndpoints(
            authority_host=server.base_url,
            graph_url=server.graph_url,
            ca_bundle=server.ca_path,
        )
        box = SecretBox.from_environment({DATA_DIR_VARIABLE: str(data_dir)} | _key_environment())
        connection = TenantConnection(
            tenant_id=config.tenant,
            client_id=config.client_id,
            client_secret=config.client_secret,
        )
        try:
            check = asyncio.run(enable_sync(sessions, connection, endpoints, box))
        except BaseException:
            server.stop()
            raise
    finally:
        engine.dispose()
    return EmbeddedMicrosoft365(server, endpoints, box, mailboxes, check)


def _key_environment() -> dict[str, str]:
    key = os.environ.get("CALSYNC_ENCRYPTION_KEY", "").strip()
    return {"CALSYNC_ENCRYPTION_KEY": key} if key else {}
