"""MSAL's ConfidentialClientApplication signs in against the emulator's TLS token endpoint.

MSAL uses a requests Session, and requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
session's `verify` (psf/requests#3829); the fixture clears them so `verify=<CA file>` is honoured,
as it is on a machine without those variables.
"""

from __future__ import annotations

import httpx
import msal
import pytest

from calsync.emulator.config import GRAPH_SCOPE
from calsync.emulator.server import EmulatorServer
from tests.fixtures.emulator import ADELE


@pytest.fixture(autouse=True)
def _no_ca_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return


def _app(
    server: EmulatorServer, secret: str, **authority: str
) -> msal.ConfidentialClientApplication:
    if not authority:
        authority = {"authority": f"{server.base_url}/{server.config.tenant}"}
    return msal.ConfidentialClientApplication(
        server.config.client_id,
        client_credential=secret,
        verify=str(server.ca_path),
        instance_discovery=False,
        **authority,
    )


def test_msal_gets_a_token_that_graph_calls_accept(emulator_server: EmulatorServer) -> None:
    result = _app(emulator_server, emulator_server.config.client_secret).acquire_token_for_client(
        scopes=[GRAPH_SCOPE]
    )
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    reply = httpx.get(
        f"{emulator_server.graph_url}/users/{ADELE}/events",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        verify=str(emulator_server.ca_path),
    )
    assert reply.status_code == 200


def test_msal_reports_a_wrong_secret_as_invalid_client(emulator_server: EmulatorServer) -> None:
    result = _app(emulator_server, "not-the-secret").acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" not in result
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]


def test_msal_oidc_authority_checks_the_issuer_and_signs_in(
    emulator_server: EmulatorServer,
) -> None:
    app = _app(
        emulator_server,
        emulator_server.config.client_secret,
        oidc_authority=f"{emulator_server.base_url}/{emulator_server.config.tenant}/v2.0",
    )
    result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result
