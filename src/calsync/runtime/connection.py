"""The tenant connection: what an administrator gives to enable the sync, and how it is stored.

The credentials (tenant id, application id, a client secret or a certificate) live on the
organisation row, the secret parts sealed by `SecretBox`. Where Microsoft 365 is reached is the
installation's configuration, not the organisation's: Entra ID and Graph by default, or another
https authority and Graph root with their CA (the embedded emulator, a private cloud) through
`CALSYNC_GRAPH_AUTHORITY_HOST`, `CALSYNC_GRAPH_URL` and `CALSYNC_GRAPH_CA_BUNDLE`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from calsync.crm.models import Organization
from calsync.graph.errors import ConfigurationInvalid
from calsync.graph.settings import (
    ENTRA_AUTHORITY_HOST,
    GRAPH_URL,
    CertificateCredential,
    GraphSettings,
)
from calsync.runtime.errors import InvalidConnectionError, SyncServiceError
from calsync.runtime.secrets import SecretBox

AUTHORITY_HOST_VARIABLE = "CALSYNC_GRAPH_AUTHORITY_HOST"
GRAPH_URL_VARIABLE = "CALSYNC_GRAPH_URL"
CA_BUNDLE_VARIABLE = "CALSYNC_GRAPH_CA_BUNDLE"


@dataclass(frozen=True)
class GraphEndpoints:
    """Where the token endpoint and Graph are, and which CA to trust for them."""

    authority_host: str = ENTRA_AUTHORITY_HOST
    graph_url: str = GRAPH_URL
    ca_bundle: Path | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> GraphEndpoints:
        env = os.environ if environ is None else environ
        ca_bundle = env.get(CA_BUNDLE_VARIABLE, "").strip()
        return cls(
            authority_host=env.get(AUTHORITY_HOST_VARIABLE, "").strip() or ENTRA_AUTHORITY_HOST,
            graph_url=env.get(GRAPH_URL_VARIABLE, "").strip() or GRAPH_URL,
            ca_bundle=Path(ca_bundle) if ca_bundle else None,
        )


@dataclass(frozen=True)
class TenantConnection:
    """App-only access to one tenant: a client secret, or a certificate (private key + public
    certificate or thumbprint)."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate_pem: str | None = None
    certificate_thumbprint: str | None = None
    private_key_pem: str | None = field(default=None, repr=False)

    def graph_settings(self, endpoints: GraphEndpoints) -> GraphSettings:
        """The Graph client's settings; a missing or malformed part is refused by name."""
        certificate = None
        if self.private_key_pem or self.certificate_pem or self.certificate_thumbprint:
            if not self.private_key_pem:
                raise InvalidConnectionError(
                    "a certificate needs its private key (PEM)", field="private_key_pem"
                )
            try:
                certificate = CertificateCredential(
                    private_key_pem=self.private_key_pem,
                    public_certificate_pem=self.certificate_pem or None,
                    thumbprint=self.certificate_thumbprint or None,
                )
            except ConfigurationInvalid as error:
                raise InvalidConnectionError(_problem_of(error), field=_field_of(error)) from error
        if certificate is not None and self.client_secret:
            raise InvalidConnectionError(
                "give either a client secret or a certificate, not both", field="client_secret"
            )
        try:
            return GraphSettings(
                tenant_id=self.tenant_id.strip(),
                client_id=self.client_id.strip(),
                client_secret=self.client_secret or None,
                certificate=certificate,
                authority_host=endpoints.authority_host,
                graph_url=endpoints.graph_url,
                ca_bundle=endpoints.ca_bundle,
            )
        except ConfigurationInvalid as error:
            field_name = _field_of(error)
            if field_name in ("authority_host", "graph_url", "ca_bundle"):
                # The installation's configuration, not the administrator's input.
                raise SyncServiceError(
                    f"CalSync's Microsoft 365 endpoints are misconfigured: {_problem_of(error)}",
                    field=field_name,
                    code="endpoints_invalid",
                ) from error
            raise InvalidConnectionError(_problem_of(error), field=field_name) from error


def _problem_of(error: ConfigurationInvalid) -> str:
    return error.message.removeprefix(f"{error.field}: ")


def _field_of(error: ConfigurationInvalid) -> str | None:
    name = getattr(error, "field", None)
    if not isinstance(name, str):
        return None
    return {
        "certificate.private_key_pem": "private_key_pem",
        "certificate.public_certificate_pem": "certificate_pem",
    }.get(name, name)


def stored_connection(organization: Organization, box: SecretBox) -> TenantConnection | None:
    """The organisation's saved connection with its secrets opened, or None if none is saved."""
    if organization.tenant_id is None or organization.client_id is None:
        return None
    return TenantConnection(
        tenant_id=organization.tenant_id,
        client_id=organization.client_id,
        client_secret=(
            box.open(organization.client_secret_encrypted)
            if organization.client_secret_encrypted is not None
            else None
        ),
        certificate_pem=organization.certificate_pem,
        certificate_thumbprint=organization.certificate_thumbprint,
        private_key_pem=(
            box.open(organization.certificate_private_key_encrypted)
            if organization.certificate_private_key_encrypted is not None
            else None
        ),
    )
