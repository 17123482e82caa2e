"""Fixtures for the runners' end-to-end tests: a `World` per test on a fresh database (SQLite and
PostgreSQL) and the session's TLS emulator, reset for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from tests.graph.emulator_support import settings_for
from tests.sync.runners.world import World


@pytest.fixture
async def world(
    database_url: str, emulator_server: EmulatorServer, control: EmulatorControl
) -> AsyncIterator[World]:
    async with (
        GraphClient(settings_for(emulator_server)) as graph,
        GraphClient(settings_for(emulator_server)) as outlook,
    ):
        world = World(database_url, graph, outlook)
        try:
            yield world
        finally:
            world.close()
