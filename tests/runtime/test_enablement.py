"""Enabling checks the connection by a real token request and a test call before saving it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from calsync.crm.services.organization import get_organization
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import disable_sync, enable_sync, require_enabled
from calsync.runtime.errors import (
    ConnectionTestFailedError,
    InvalidConnectionError,
    SyncNotEnabledError,
)
from calsync.runtime.secrets import SecretBox
from tests.fixtures.emulator import ADELE, CLIENT_SECRET
from tests.sync.runners.world import World


def _nothing_saved(world: World) -> None:
    with world.sessions() as session:
        organization = get_organization(session)
        assert organization.sync_enabled is False
        assert organization.tenant_id is None
        assert organization.client_secret_encrypted is None


async def test_enabling_saves_the_tested_connection_sealed_and_turns_the_sync_on(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    check = await enable_sync(world.sessions, connection, endpoints, box)
    assert check.mailbox == ADELE  # the first user whose sync is on
    assert check.can_host_teams_meetings
    with world.sessions() as session:
        organization = require_enabled(session)
        assert organization.tenant_id == connection.tenant_id
        sealed = organization.client_secret_encrypted
        assert sealed is not None
        assert CLIENT_SECRET.encode() not in sealed
        assert box.open(sealed) == CLIENT_SECRET


async def test_a_wrong_secret_fails_the_token_request_and_saves_nothing(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    wrong = replace(connection, client_secret="not-the-secret")
    with pytest.raises(ConnectionTestFailedError, match="the token request to") as refused:
        await enable_sync(world.sessions, wrong, endpoints, box)
    assert "invalid_client" in refused.value.message
    assert refused.value.code == "connection_test_failed"
    _nothing_saved(world)


async def test_a_mailbox_the_app_cannot_reach_fails_the_test_call_and_saves_nothing(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    with pytest.raises(
        ConnectionTestFailedError, match="test call reading the calendar"
    ) as refused:
        await enable_sync(
            world.sessions, connection, endpoints, box, test_mailbox="nobody@contoso.com"
        )
    assert refused.value.field == "test_mailbox"
    _nothing_saved(world)


async def test_an_incomplete_connection_is_refused_by_field_before_any_request(
    world: World, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    for connection, field in [
        (TenantConnection(tenant_id=" ", client_id="app", client_secret="s"), "tenant_id"),
        (TenantConnection(tenant_id="t", client_id="app"), "client_secret"),
        (TenantConnection(tenant_id="t", client_id="app", certificate_pem="x"), "private_key_pem"),
    ]:
        with pytest.raises(InvalidConnectionError) as refused:
            await enable_sync(world.sessions, connection, endpoints, box)
        assert refused.value.field == field
    _nothing_saved(world)


async def test_disabling_turns_the_sync_off_and_keeps_the_connection(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    await enable_sync(world.sessions, connection, endpoints, box)
    with world.sessions() as session:
        disable_sync(session)
        session.commit()
    with world.sessions() as session:
        organization = get_organization(session)
        assert organization.sync_enabled is False
        assert organization.client_secret_encrypted is not None
        with pytest.raises(SyncNotEnabledError):
            require_enabled(session)
        with pytest.raises(SyncNotEnabledError):
            disable_sync(session)
