"""A CRM database with four synced staff mailboxes, the session's TLS emulator, and the tenant
connection an administrator would enter for it."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from cryptography.fernet import Fernet

from calsync.crm.services.organization import SyncSettingsChanges, update_sync_settings
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.host import STOP_TIMEOUT_SECONDS
from calsync.runtime.secrets import SecretBox
from tests.fixtures.emulator import CLIENT_ID, CLIENT_SECRET, TENANT
from tests.graph.emulator_support import settings_for
from tests.sync.runners.world import World

# Fast retries: a test fault fails a push at once instead of after two minutes of retrying.
FAST_GRAPH = {
    "max_attempts": 1,
    "max_retry_seconds": 1.0,
    "backoff_base_seconds": 0.05,
    "backoff_max_seconds": 0.2,
}

# A served app's shutdown stops its sync runtime (`RuntimeHost.stop`: up to STOP_TIMEOUT_SECONDS,
# then as long again for its thread).
SERVER_STOP_SECONDS = 2 * STOP_TIMEOUT_SECONDS + 10


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Stop an app served in `thread` and wait until it, and so its sync runtime, has ended; a
    runtime left running would write into the database of the tests after this one."""
    server.should_exit = True
    thread.join(SERVER_STOP_SECONDS)
    assert not thread.is_alive(), "the server and its sync runtime did not stop"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key()])


@pytest.fixture
def endpoints(emulator_server: EmulatorServer) -> GraphEndpoints:
    ca_path = emulator_server.ca_path
    assert isinstance(ca_path, Path)
    return GraphEndpoints(
        authority_host=emulator_server.base_url,
        graph_url=emulator_server.graph_url,
        ca_bundle=ca_path,
    )


@pytest.fixture
def connection() -> TenantConnection:
    return TenantConnection(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture
async def world(
    database_url: str, emulator_server: EmulatorServer, control: EmulatorControl
) -> AsyncIterator[World]:
    """Four staff users with sync on; the organisation's sync stays off until a test enables it."""
    async with (
        GraphClient(settings_for(emulator_server)) as graph,
        GraphClient(settings_for(emulator_server)) as outlook,
    ):
        world = World(database_url, graph, outlook)
        with world.sessions() as session:
            update_sync_settings(session, SyncSettingsChanges(sync_enabled=False))
            session.commit()
        try:
            yield world
        finally:
            world.close()
