"""The identity endpoints and the bearer-token gate, driven over raw HTTP."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.emulator import Emulator
from tests.fixtures.emulator import ADELE, token_form


def _anonymous(app: Starlette, config: EmulatorConfig) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=config.public_base_url
    )


async def test_openid_configuration_points_msal_at_the_token_endpoint(
    emulator_app: Starlette, emulator_config: EmulatorConfig
) -> None:
    tenant = emulator_config.tenant
    async with _anonymous(emulator_app, emulator_config) as client:
        for path in (
            f"/{tenant}/v2.0/.well-known/openid-configuration",
            f"/{tenant}/.well-known/openid-configuration",
        ):
            document = (await client.get(path)).json()
            base = f"{emulator_config.public_base_url}/{tenant}"
            assert document["token_endpoint"] == f"{base}/oauth2/v2.0/token"
            assert document["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
            assert document["issuer"] == f"{base}/v2.0"


async def test_client_credentials_give_a_bearer_token_with_the_configured_lifetime(
    emulator_app: Starlette, emulator_config: EmulatorConfig
) -> None:
    async with _anonymous(emulator_app, emulator_config) as client:
        reply = await client.post(
            f"/{emulator_config.tenant}/oauth2/v2.0/token", data=token_form(emulator_config)
        )
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == emulator_config.token_lifetime_seconds
    assert body["access_token"]


async def test_each_wrong_credential_is_refused_with_the_oauth_error_msal_reads(
    emulator_app: Starlette, emulator_config: EmulatorConfig
) -> None:
    cases = [
        (emulator_config.tenant, {"client_secret": "wrong"}, 401, "invalid_client"),
        (emulator_config.tenant, {"client_id": "someone-else"}, 400, "unauthorized_client"),
        (emulator_config.tenant, {"grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            emulator_config.tenant,
            {"scope": "https://outlook.office.com/.default"},
            400,
            "invalid_scope",
        ),
        ("fabrikam.onmicrosoft.com", {}, 400, "invalid_request"),
    ]
    async with _anonymous(emulator_app, emulator_config) as client:
        for tenant, change, status, error in cases:
            reply = await client.post(
                f"/{tenant}/oauth2/v2.0/token", data=token_form(emulator_config, **change)
            )
            assert (reply.status_code, reply.json()["error"]) == (status, error), change
            assert reply.json()["error_description"].startswith("AADSTS")
            assert "access_token" not in reply.json()


async def test_graph_calls_without_a_valid_token_get_401_in_graph_shape(
    emulator_app: Starlette, emulator_config: EmulatorConfig
) -> None:
    async with _anonymous(emulator_app, emulator_config) as client:
        for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic x"}):
            reply = await client.get(f"/v1.0/users/{ADELE}/events", headers=headers)
            assert reply.status_code == 401
            error = reply.json()["error"]
            assert error["code"] == "InvalidAuthenticationToken"
            assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


async def test_expired_tokens_stop_working_until_a_new_one_is_fetched(
    emulator_app: Starlette, emulator_client: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    assert (await emulator_client.get(f"/users/{ADELE}/events")).status_code == 200
    emulator: Emulator = emulator_app.state.emulator
    emulator.tokens.expire_all()
    reply = await emulator_client.get(f"/users/{ADELE}/events")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_a_token_past_its_lifetime_is_refused(
    emulator_config: EmulatorConfig,
) -> None:
    emulator_config.token_lifetime_seconds = 0
    from calsync.emulator.app import create_app

    app = create_app(emulator_config)
    async with _anonymous(app, emulator_config) as client:
        token = (
            await client.post(
                f"/{emulator_config.tenant}/oauth2/v2.0/token", data=token_form(emulator_config)
            )
        ).json()["access_token"]
        reply = await client.get(
            f"/v1.0/users/{ADELE}/events", headers={"Authorization": f"Bearer {token}"}
        )
    assert reply.status_code == 401


async def test_client_request_id_is_echoed_in_errors_and_headers(
    emulator_client: httpx.AsyncClient,
) -> None:
    reply = await emulator_client.get(
        "/users/nobody@contoso.com/events", headers={"client-request-id": "trace-me"}
    )
    assert reply.status_code == 404
    assert reply.headers["client-request-id"] == "trace-me"
    assert reply.json()["error"]["innerError"]["client-request-id"] == "trace-me"
