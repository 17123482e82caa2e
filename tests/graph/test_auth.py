"""The MSAL token provider: caching, early renewal, refresh after 401, configuration passed to
MSAL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import msal
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from calsync.graph import auth
from calsync.graph.auth import MsalTokenProvider
from calsync.graph.errors import ConfigurationInvalid, TokenAcquisitionFailed
from calsync.graph.settings import CertificateCredential

from .conftest import settings

KEY_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    .decode()
)
DAMAGED_KEY_PEM = "-----BEGIN PRIVATE KEY-----\nZGFtYWdlZA==\n-----END PRIVATE KEY-----\n"


class FakeMsalApp:
    """Stands in for ConfidentialClientApplication: issues numbered tokens into a real MSAL
    TokenCache."""

    def __init__(self, lifetime: int = 3599, error: dict[str, str] | None = None) -> None:
        self.calls = 0  # tokens issued over the "network"
        self.requests = 0  # times the provider asked MSAL
        self.lifetime = lifetime
        self.error = error
        self.token_cache = msal.TokenCache()
        self.cached: str | None = None

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.requests += 1
        if self.error:
            return dict(self.error)
        if self.cached and any(
            e.get("secret") == self.cached for e in self.token_cache.search("AccessToken")
        ):
            return {"access_token": self.cached, "expires_in": self.lifetime}
        self.calls += 1
        self.cached = f"token-{self.calls}"
        self.token_cache.add(
            {
                "client_id": "calsync-app",
                "scope": scopes,
                "token_endpoint": "https://login.example/contoso/oauth2/v2.0/token",
                "response": {
                    "access_token": self.cached,
                    "expires_in": self.lifetime,
                    "token_type": "Bearer",
                },
            }
        )
        return {"access_token": self.cached, "expires_in": self.lifetime}


def _provider(
    monkeypatch: pytest.MonkeyPatch, app: FakeMsalApp, now: list[float]
) -> MsalTokenProvider:
    monkeypatch.setattr(auth, "_build_application", lambda config, http: app)
    return MsalTokenProvider(settings(), clock=lambda: now[0])


async def test_tokens_are_cached_until_shortly_before_they_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, now = FakeMsalApp(lifetime=3600), [0.0]
    provider = _provider(monkeypatch, app, now)
    assert await provider.token() == "token-1"
    now[0] = 3200.0
    assert await provider.token() == "token-1"
    assert app.requests == 1  # served from the provider's own copy, no thread hop to MSAL
    now[0] = 3301.0  # inside the 5-minute renewal margin: ask MSAL again
    await provider.token()
    assert app.requests == 2


async def test_concurrent_callers_share_one_token_request(monkeypatch: pytest.MonkeyPatch) -> None:
    app, now = FakeMsalApp(), [0.0]
    provider = _provider(monkeypatch, app, now)
    tokens = await asyncio.gather(*(provider.token() for _ in range(20)))
    assert set(tokens) == {"token-1"}
    assert app.calls == 1


async def test_refresh_drops_the_rejected_token_from_msals_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, now = FakeMsalApp(), [0.0]
    provider = _provider(monkeypatch, app, now)
    first = await provider.token()
    assert await provider.refresh(first) == "token-2"
    # A second task that saw the same rejection does not cause a third token request.
    assert await provider.refresh(first) == "token-2"
    assert app.calls == 2


async def test_a_refused_credential_is_a_typed_error_with_the_oauth_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = FakeMsalApp(
        error={"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"}
    )
    provider = _provider(monkeypatch, app, [0.0])
    with pytest.raises(TokenAcquisitionFailed) as caught:
        await provider.token()
    assert caught.value.graph_code == "invalid_client"
    assert caught.value.code == "graph.token_failed"


def test_a_private_authority_disables_instance_discovery_and_shares_our_http_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def capture(client_id: str, **kwargs: Any) -> object:
        seen.update(kwargs, client_id=client_id)
        return object()

    monkeypatch.setattr(msal, "ConfidentialClientApplication", capture)
    private = settings(
        authority_host="https://127.0.0.1:8443", graph_url="https://127.0.0.1:8443/v1.0"
    )
    with httpx.Client() as raw:
        http = auth.MsalHttpClient(raw)
        auth._build_application(private, http)
        assert seen["authority"] == "https://127.0.0.1:8443/contoso-tenant"
        assert seen["instance_discovery"] is False
        assert seen["http_client"] is http  # MSAL uses our TLS settings, CA bundle included
        seen.clear()
        auth._build_application(settings(), http)
    assert seen["authority"] == "https://login.microsoftonline.com/contoso-tenant"
    assert "instance_discovery" not in seen


def test_a_certificate_is_handed_to_msal_as_its_credential_dict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(msal, "ConfidentialClientApplication", lambda cid, **kw: seen.update(kw))
    cert = CertificateCredential(private_key_pem=KEY_PEM, public_certificate_pem="-----BEGIN CERT")
    auth._build_application(settings(client_secret=None, certificate=cert), httpx.Client())
    assert seen["client_credential"] == {
        "private_key": KEY_PEM,
        "public_certificate": "-----BEGIN CERT",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tenant_id": " "}, "tenant_id"),
        ({"client_secret": None}, "client_secret"),
        ({"authority_host": "http://127.0.0.1:8080"}, "authority_host"),
        ({"graph_url": "graph.microsoft.com"}, "graph_url"),
        ({"ca_bundle": Path("/nonexistent/ca.pem")}, "ca_bundle"),
        ({"mailbox_concurrency": 0}, "mailbox_concurrency"),
        ({"page_size": 5000}, "page_size"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationInvalid) as caught:
        settings(**overrides)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("pem", "thumbprint", "field"),
    [
        ("-----BEGIN PRIVATE KEY-----", None, "certificate.public_certificate_pem"),
        ("not a key", "A1B2", "certificate.private_key_pem"),
        (DAMAGED_KEY_PEM, "A1B2", "certificate.private_key_pem"),
    ],
)
def test_an_unusable_certificate_is_refused_naming_the_part(
    pem: str, thumbprint: str | None, field: str
) -> None:
    with pytest.raises(ConfigurationInvalid) as caught:
        CertificateCredential(private_key_pem=pem, thumbprint=thumbprint)
    assert caught.value.field == field


def test_secrets_never_appear_in_the_settings_repr() -> None:
    cert = CertificateCredential(private_key_pem=KEY_PEM, thumbprint="A1B2")
    key_body = KEY_PEM.splitlines()[1]
    assert "s3cret" not in repr(settings())
    assert key_body not in repr(settings(client_secret=None, certificate=cert))
