"""App-only access tokens through MSAL's ``ConfidentialClientApplication`` (client credentials
flow).

MSAL does the protocol (authority metadata, client assertion for certificates, its own token cache);
this module adapts it to asyncio. MSAL is synchronous and does network I/O, so token requests run in
a worker thread, one at a time. The current token is kept here as well so that the hot path (every
Graph request) costs a dictionary lookup, and it is renewed a few minutes before ``expires_in`` runs
out. When Graph still answers 401 (a token revoked or expired early, GRAPH.md §9 [i2002]) the
transport calls ``refresh`` with the rejected token; the token is dropped from MSAL's cache too, so
the next acquisition really goes to the network.

MSAL's HTTP goes through an ``httpx.Client`` built from the same settings as the Graph transport
(MSAL accepts any requests-like client). That keeps one TLS configuration for both: with
``requests``, MSAL's own ``verify=`` is silently overridden by a ``REQUESTS_CA_BUNDLE`` environment
variable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import msal

from calsync.graph.errors import (
    GraphConnectionError,
    GraphError,
    ServiceUnavailable,
    TlsVerificationFailed,
    TokenAcquisitionFailed,
)
from calsync.graph.settings import GraphSettings
from calsync.graph.tls import is_certificate_failure


class TokenProvider(Protocol):
    """What the transport needs from authentication."""

    async def token(self) -> str:
        """A bearer token valid for at least a little while."""
        ...

    async def refresh(self, rejected: str) -> str:
        """A new token after Graph rejected ``rejected`` (no-op if another task already replaced
        it)."""
        ...


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float


class MsalTokenProvider:
    """Tokens for one app registration in one tenant."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.Client | None = None,
    ) -> None:
        """``http`` replaces the client MSAL talks through (a proxy set-up, or a test double)."""
        self._settings = settings
        self._clock = clock
        self._http = http or httpx.Client(
            verify=settings.tls_verification(), timeout=settings.request_timeout_seconds
        )
        # Built on first use, in the worker thread: MSAL fetches the authority's metadata when
        # constructed.
        self._app: Any = None
        self._current: _Token | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        current = self._current
        if current is not None and self._clock() < current.renew_at:
            return current.value
        async with self._lock:
            current = self._current
            if current is not None and self._clock() < current.renew_at:
                return current.value
            return await self._acquire()

    async def refresh(self, rejected: str) -> str:
        async with self._lock:
            current = self._current
            if current is not None and current.value != rejected:
                return current.value
            self._current = None
            await asyncio.to_thread(self._forget, rejected)
            return await self._acquire()

    async def _acquire(self) -> str:
        started = self._clock()
        try:
            result: dict[str, Any] = await asyncio.to_thread(self._acquire_blocking)
        except httpx.HTTPError as exc:
            raise self._network_error(exc) from exc
        if "access_token" not in result:
            raise TokenAcquisitionFailed(
                str(result.get("error_description") or "no access token in the token response"),
                graph_code=str(result.get("error") or "unknown"),
            )
        lifetime = float(result.get("expires_in") or 0)
        # Renew ahead of expiry: 5 minutes for normal hour-long tokens, a tenth for short-lived
        # ones.
        margin = min(300.0, lifetime / 10)
        token = _Token(str(result["access_token"]), renew_at=started + max(lifetime - margin, 0.0))
        self._current = token
        return token.value

    def _network_error(self, exc: httpx.HTTPError) -> GraphError:
        authority = self._settings.authority
        if isinstance(exc, httpx.HTTPStatusError):
            return ServiceUnavailable(
                f"the token endpoint of {authority} failed", status=exc.response.status_code
            )
        if is_certificate_failure(exc):
            return TlsVerificationFailed(
                f"{authority} presented a certificate that is not trusted (check ca_bundle)"
            )
        return GraphConnectionError(f"could not reach {authority}: {exc.__class__.__name__}")

    def close(self) -> None:
        """Release MSAL's connections (the Graph transport closes its own)."""
        self._http.close()

    def _acquire_blocking(self) -> dict[str, Any]:
        if self._app is None:
            self._app = _build_application(self._settings, MsalHttpClient(self._http))
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self._settings.scope])
        return result

    def _forget(self, rejected: str) -> None:
        if self._app is None:
            return
        cache = self._app.token_cache
        for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            if entry.get("secret") == rejected:
                cache.remove_at(entry)


class MsalHttpClient:
    """The requests-like ``get``/``post`` MSAL calls, over an ``httpx.Client``.

    MSAL hands some form values over as bytes (the signed client assertion of a certificate
    credential); ``requests`` encodes bytes as they are, httpx would write ``b'…'``, so values are
    decoded here before the form is encoded. MSAL's own timeout is not used: the ``httpx.Client``
    carries ``request_timeout_seconds``.
    """

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def get(
        self,
        url: str,
        params: Any = None,
        headers: Any = None,
        **_: Any,
    ) -> httpx.Response:
        return self.http.get(url, params=params, headers=headers)

    def post(
        self,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **_: Any,
    ) -> httpx.Response:
        if isinstance(data, dict):
            form = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
            return self.http.post(url, params=params, data=form, headers=headers)
        return self.http.post(url, params=params, content=data, headers=headers)

    def close(self) -> None:
        self.http.close()


def _build_application(settings: GraphSettings, http_client: MsalHttpClient) -> Any:
    credential: str | dict[str, str]
    if settings.certificate is not None:
        credential = settings.certificate.to_msal()
    else:
        assert settings.client_secret is not None  # guaranteed by GraphSettings
        credential = settings.client_secret
    options: dict[str, Any] = {"http_client": http_client}
    if not settings.uses_entra_id:
        options["instance_discovery"] = False
    try:
        return msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=credential,
            authority=settings.authority,
            **options,
        )
    except ValueError as exc:  # MSAL's words for "the authority's metadata was unusable"
        raise TokenAcquisitionFailed(
            f"the authority {settings.authority} did not serve usable OpenID metadata: {exc}",
            graph_code="invalid_authority",
        ) from exc
