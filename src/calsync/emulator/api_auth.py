"""The Microsoft identity platform part: OpenID metadata and the client-credentials token endpoint.

MSAL reads `{authority}/v2.0/.well-known/openid-configuration` (or, with `oidc_authority`,
`{authority}/.well-known/openid-configuration` and checks `issuer`), then POSTs the form to
`token_endpoint` (GRAPH.md §9). Refusals use the OAuth error JSON MSAL understands:
`{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calsync.emulator.config import GRAPH_SCOPE
from calsync.emulator.emulator import Emulator


def _oauth_error(status: int, error: str, code: int, description: str) -> JSONResponse:
    trace = str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return JSONResponse(
        {
            "error": error,
            "error_description": (
                f"AADSTS{code}: {description} Trace ID: {trace} Timestamp: {stamp}"
            ),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _tenant_matches(emulator: Emulator, tenant: str) -> bool:
    return tenant.lower() in (emulator.config.tenant.lower(), "organizations")


async def openid_configuration(request: Request) -> JSONResponse:
    """OpenID provider metadata for the emulated tenant (both discovery locations)."""
    emulator: Emulator = request.app.state.emulator
    tenant = request.path_params["tenant"]
    if not _tenant_matches(emulator, tenant):
        return _oauth_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
    base = emulator.config.public_base_url.rstrip("/") + "/" + tenant
    return JSONResponse(
        {
            "issuer": base + "/v2.0",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "token_endpoint": base + "/oauth2/v2.0/token",
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }
    )


async def token(request: Request) -> JSONResponse:
    """Client credentials for the configured app only; every refusal names what was wrong."""
    emulator: Emulator = request.app.state.emulator
    config = emulator.config
    tenant = request.path_params["tenant"]
    if not _tenant_matches(emulator, tenant):
        return _oauth_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error(
            400,
            "invalid_request",
            900144,
            "The request body must be application/x-www-form-urlencoded.",
        )
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{fields.get('grant_type', '')}'.",
        )
    if fields.get("client_id") != config.client_id:
        return _oauth_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{fields.get('client_id', '')}' was not found in the "
            f"directory '{config.tenant}'.",
        )
    if fields.get("client_secret") != config.client_secret:
        return _oauth_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            "client secret value, not the client secret ID.",
        )
    scopes = fields.get("scope", "").split()
    if scopes != [GRAPH_SCOPE]:
        return _oauth_error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope '{fields.get('scope', '')}' is not valid. Client "
            f"credential flows must have a scope value with /.default suffixed to the resource "
            f"identifier; this tenant serves only {GRAPH_SCOPE}.",
        )
    access_token, lifetime = emulator.tokens.issue()
    return JSONResponse(
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        },
        headers={"Cache-Control": "no-store"},
    )


def auth_routes() -> list[Route]:
    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration),
        Route("/{tenant}/.well-known/openid-configuration", openid_configuration),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    ]
