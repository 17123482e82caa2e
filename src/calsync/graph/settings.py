"""How to reach a Microsoft 365 tenant (or the emulator): identity, endpoints and traffic limits.

There is one code path for Entra ID and for the local emulator. Pointing at the emulator is only a
matter of configuration: a different ``authority_host`` and ``graph_url`` (both https) and the
``ca_bundle`` that signed its certificate. A non-Microsoft authority host also turns MSAL's instance
discovery off, because discovery asks login.microsoftonline.com about the host, which cannot know a
private one (GRAPH.md §9).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from calsync.graph.errors import ConfigurationInvalid

ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True, slots=True)
class CertificateCredential:
    """A certificate registered on the app: PEM private key plus its public certificate (or SHA-1
    thumbprint)."""

    private_key_pem: str = field(repr=False)
    public_certificate_pem: str | None = None
    thumbprint: str | None = None
    passphrase: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if "PRIVATE KEY" not in self.private_key_pem:
            raise ConfigurationInvalid("certificate.private_key_pem", "must be a PEM private key")
        if not self.public_certificate_pem and not self.thumbprint:
            raise ConfigurationInvalid(
                "certificate.public_certificate_pem",
                "give the public certificate (or its SHA-1 thumbprint) so Entra ID finds the key",
            )
        # Read it now: MSAL would only fail when it signs the first token request, with an error
        # of its JWT library instead of one naming the field.
        passphrase = self.passphrase.encode() if self.passphrase else None
        try:
            load_pem_private_key(self.private_key_pem.encode(), password=passphrase)
        except (ValueError, TypeError) as exc:
            raise ConfigurationInvalid(
                "certificate.private_key_pem",
                "cannot be read as a PEM private key (damaged, or the passphrase is wrong or "
                f"missing): {exc}",
            ) from None

    def to_msal(self) -> dict[str, str]:
        credential = {"private_key": self.private_key_pem}
        if self.public_certificate_pem:
            credential["public_certificate"] = self.public_certificate_pem
        if self.thumbprint:
            credential["thumbprint"] = self.thumbprint
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential


@dataclass(frozen=True, slots=True)
class GraphSettings:
    """Everything the client needs; validated on construction so a bad setting fails before any
    traffic.

    Limits default to Outlook's published ones per app and mailbox: 4 concurrent requests and 10,000
    requests per 10 minutes (GRAPH.md §7). ``max_retry_seconds`` caps the total time spent waiting
    to retry one request; after it the last error is raised, never swallowed.
    """

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: CertificateCredential | None = None
    authority_host: str = ENTRA_AUTHORITY_HOST
    graph_url: str = GRAPH_URL
    scope: str = GRAPH_SCOPE
    ca_bundle: Path | None = None
    mailbox_concurrency: int = 4
    mailbox_request_budget: int = 10_000
    budget_window_seconds: float = 600.0
    max_retry_seconds: float = 120.0
    max_attempts: int = 8
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    request_timeout_seconds: float = 30.0
    page_size: int | None = 100

    def __post_init__(self) -> None:
        for name in ("tenant_id", "client_id"):
            if not getattr(self, name).strip():
                raise ConfigurationInvalid(name, "must not be empty")
        if (self.client_secret is None) == (self.certificate is None):
            raise ConfigurationInvalid(
                "client_secret", "give exactly one of a client secret or a certificate"
            )
        if self.client_secret is not None and not self.client_secret.strip():
            raise ConfigurationInvalid("client_secret", "must not be empty")
        for name in ("authority_host", "graph_url"):
            url = urlsplit(getattr(self, name))
            if url.scheme != "https" or not url.hostname:
                raise ConfigurationInvalid(name, "must be an https URL with a host")
        if self.ca_bundle is not None and not self.ca_bundle.is_file():
            raise ConfigurationInvalid("ca_bundle", f"{self.ca_bundle} is not a readable file")
        positive: dict[str, float] = {
            "mailbox_concurrency": self.mailbox_concurrency,
            "mailbox_request_budget": self.mailbox_request_budget,
            "budget_window_seconds": self.budget_window_seconds,
            "max_attempts": self.max_attempts,
            "request_timeout_seconds": self.request_timeout_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigurationInvalid(name, "must be greater than 0")
        for name, value in {
            "max_retry_seconds": self.max_retry_seconds,
            "backoff_base_seconds": self.backoff_base_seconds,
            "backoff_max_seconds": self.backoff_max_seconds,
        }.items():
            if value < 0:
                raise ConfigurationInvalid(name, "must not be negative")
        if self.page_size is not None and not 1 <= self.page_size <= 1000:
            raise ConfigurationInvalid("page_size", "must be between 1 and 1000")

    def tls_verification(self) -> ssl.SSLContext | bool:
        """What httpx should verify servers against: the configured CA bundle, or the default trust
        store."""
        if self.ca_bundle is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def uses_entra_id(self) -> bool:
        """True for Microsoft's own authority, where MSAL's instance discovery applies."""
        return self.authority_host.rstrip("/").lower() == ENTRA_AUTHORITY_HOST

    @property
    def graph_root(self) -> str:
        return self.graph_url.rstrip("/")
