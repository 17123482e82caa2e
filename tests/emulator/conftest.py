"""Fixtures of the emulator tests (the emulator itself comes from tests/fixtures/emulator.py)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from calsync.emulator.server import EmulatorServer
from tests.emulator.webhook_receiver import Receiver, serve_receiver
from tests.fixtures.emulator import token_form


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that records what the emulator sends it."""
    with serve_receiver() as running:
        yield running


@pytest.fixture
def graph(emulator_server: EmulatorServer) -> Iterator[httpx.Client]:
    """Raw Graph HTTP against the TLS emulator, with an app token."""
    verify = ssl.create_default_context(cafile=str(emulator_server.ca_path))
    config = emulator_server.emulator.config
    token = httpx.post(
        f"{emulator_server.base_url}/{config.tenant}/oauth2/v2.0/token",
        data=token_form(config),
        verify=verify,
    ).json()["access_token"]
    with httpx.Client(
        base_url=emulator_server.graph_url,
        verify=verify,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client
