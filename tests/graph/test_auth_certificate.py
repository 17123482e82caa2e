"""A certificate credential through real MSAL: the token request carries a JWT signed by our key.

The emulator only accepts client secrets, so Entra ID's side is played by an
``httpx.MockTransport`` given to MSAL as its HTTP client; everything in between (metadata discovery,
the client assertion) is MSAL's own code.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from calsync.graph.auth import MsalTokenProvider
from calsync.graph.settings import CertificateCredential

from .conftest import settings

AUTHORITY = "https://login.contoso-idp.example"
TENANT = "contoso-tenant"


def _certificate() -> tuple[rsa.RSAPrivateKey, str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CalSync app")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key, key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


async def test_a_certificate_credential_signs_the_client_assertion_with_our_key() -> None:
    key, key_pem, cert_pem = _certificate()
    token_forms: list[dict[str, list[str]]] = []

    def identity_provider(request: httpx.Request) -> httpx.Response:
        base = f"{AUTHORITY}/{TENANT}"
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                },
            )
        token_forms.append(parse_qs(request.content.decode()))
        return httpx.Response(
            200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "cert-token"}
        )

    config = settings(
        client_secret=None,
        certificate=CertificateCredential(private_key_pem=key_pem, public_certificate_pem=cert_pem),
        authority_host=AUTHORITY,
    )
    provider = MsalTokenProvider(
        config, http=httpx.Client(transport=httpx.MockTransport(identity_provider))
    )
    assert await provider.token() == "cert-token"

    [form] = token_forms
    assert form["grant_type"] == ["client_credentials"]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    header, claims, signature = form["client_assertion"][0].split(".")
    assert json.loads(_b64(claims))["aud"].endswith(f"{TENANT}/oauth2/v2.0/token")
    # The assertion verifies with our certificate's public key: MSAL signed it with our private key.
    key.public_key().verify(
        _b64(signature),
        f"{header}.{claims}".encode(),
        padding.PKCS1v15()
        if json.loads(_b64(header))["alg"] == "RS256"
        else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )
