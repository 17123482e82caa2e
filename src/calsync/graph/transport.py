"""One Graph HTTP exchange done right: token, headers, limits, retries, typed errors.

Every request CalSync makes to Graph goes through ``GraphTransport.send``:

- ``Authorization: Bearer`` from the token provider and ``Prefer: IdType="ImmutableId"`` (ids must
  not change when an item moves folders, and the preference applies per request, GRAPH.md §2.6);
- a slot from the mailbox's limiter (4 in flight, 10,000 per 10 minutes);
- a 401 is answered by one token refresh and one immediate resend (tokens expire mid-sync, GRAPH.md
  §3.2);
- 429 waits ``Retry-After``; 500/502/503/504, timeouts and dropped connections back off
  exponentially with full jitter; all retries of one request together stop at ``max_retry_seconds``
  / ``max_attempts`` and the last error is raised with ``attempts`` set. Resending a create is safe
  because creates carry a ``transactionId``; a conditional write retried after it was applied comes
  back as 412 and the caller re-reads;
- any other error answer becomes the matching ``GraphError`` subclass.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from calsync.graph.auth import TokenProvider
from calsync.graph.errors import (
    GraphConnectionError,
    GraphError,
    PreconditionFailed,
    ServiceUnavailable,
    Throttled,
    TlsVerificationFailed,
    error_from_response,
)
from calsync.graph.limits import MailboxLimiter, MailboxLimits
from calsync.graph.settings import GraphSettings
from calsync.graph.tls import is_certificate_failure

IMMUTABLE_ID = 'IdType="ImmutableId"'
_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


class RetryPolicy:
    """When to retry and how long to wait, shared by single requests and ``$batch`` items."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.max_attempts = settings.max_attempts
        self.max_retry_seconds = settings.max_retry_seconds
        self._base = settings.backoff_base_seconds
        self._cap = settings.backoff_max_seconds
        self.clock = clock
        self._jitter = jitter

    @staticmethod
    def is_transient(error: BaseException) -> bool:
        """Throttling, server trouble and lost connections pass; everything else is the caller's to
        handle."""
        if isinstance(error, Throttled | GraphConnectionError):
            return True
        return isinstance(error, ServiceUnavailable) and error.status in _TRANSIENT_STATUS

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``.

        Graph's ``Retry-After`` is obeyed as given (retrying sooner counts against the quota and
        prolongs the throttling); otherwise exponential backoff with full jitter spreads out the
        callers.
        """
        retry_after = error.retry_after if isinstance(error, GraphError) else None
        if retry_after is not None:
            return retry_after
        ceiling: float = min(self._cap, self._base * 2.0 ** (attempt - 1))
        return float(self._jitter() * ceiling)

    def gives_up(self, attempt: int, started: float, upcoming_sleep: float) -> bool:
        """True once another attempt would exceed the attempt count or the total retry time."""
        if attempt >= self.max_attempts:
            return True
        return self.clock() - started + upcoming_sleep > self.max_retry_seconds


class GraphTransport:
    """Sends requests to Graph for the rest of ``calsync.graph``; nothing else in CalSync speaks
    HTTP to Graph."""

    def __init__(
        self,
        settings: GraphSettings,
        tokens: TokenProvider,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._tokens = tokens
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            verify=settings.tls_verification(),
            timeout=httpx.Timeout(settings.request_timeout_seconds),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self.sleep = sleep
        self.retry_policy = RetryPolicy(settings, clock=clock, jitter=jitter)
        self.limits = MailboxLimits(
            concurrency=settings.mailbox_concurrency,
            budget=settings.mailbox_request_budget,
            window_seconds=settings.budget_window_seconds,
            clock=clock,
            sleep=sleep,
        )

    @property
    def tokens(self) -> TokenProvider:
        """Where the bearer tokens come from (tests and diagnostics read the current one)."""
        return self._tokens

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def url_for(self, path_or_link: str) -> str:
        """An absolute URL: links from Graph (``@odata.nextLink``) are used exactly as given."""
        if path_or_link.startswith(("https://", "http://")):
            return path_or_link
        return f"{self.settings.graph_root}/{path_or_link.lstrip('/')}"

    async def send(
        self,
        method: str,
        path_or_link: str,
        *,
        mailbox: str | None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        prefer: Sequence[str] = (),
        retry_precondition: bool = False,
        items: int = 1,
    ) -> httpx.Response:
        """Send one request, retrying transient failures; returns the successful response or raises.

        ``retry_precondition`` lets reads retry one 412, which Exchange sometimes returns
        transiently on plain GETs (GRAPH.md §6); writes never do, because their 412 means "your ETag
        is stale". ``items``: how many Graph requests this one carries (a ``$batch``'s items), each
        counted against the mailbox's limits as Outlook counts them (GRAPH.md §7).
        """
        request_headers = {
            "Prefer": ", ".join((IMMUTABLE_ID, *prefer)),
            "client-request-id": str(uuid.uuid4()),
        }
        if json is not None:
            request_headers["Content-Type"] = "application/json"
        if headers:
            request_headers.update(headers)
        url = self.url_for(path_or_link)
        policy = self.retry_policy
        started = policy.clock()
        precondition_retried = False

        def should_retry(error: BaseException) -> bool:
            nonlocal precondition_retried
            if retry_precondition and isinstance(error, PreconditionFailed):
                if not precondition_retried:
                    precondition_retried = True
                    return True
                return False
            return policy.is_transient(error)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return policy.delay(state.attempt_number, error)

        def stop(state: RetryCallState) -> bool:
            return policy.gives_up(state.attempt_number, started, state.upcoming_sleep)

        retrying = AsyncRetrying(
            sleep=self.sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception(should_retry),
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    return await self._exchange(
                        method, url, mailbox, params, json, request_headers, items
                    )
        except GraphError as error:
            error.attempts = attempts
            raise
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _exchange(
        self,
        method: str,
        url: str,
        mailbox: str | None,
        params: Mapping[str, str] | None,
        json: Any,
        headers: dict[str, str],
        items: int,
    ) -> httpx.Response:
        """One attempt: at most two HTTP exchanges (the second only after a 401 and a token
        refresh)."""
        limiter = self.limits.for_mailbox(mailbox)
        token = await self._tokens.token()
        response = await self._once(limiter, method, url, params, json, headers, token, items)
        if response.status_code == 401:
            token = await self._tokens.refresh(token)
            response = await self._once(limiter, method, url, params, json, headers, token, items)
        if response.status_code < 400:
            return response
        error = error_from_response(
            response.status_code, _json_or_none(response), headers=response.headers
        )
        if isinstance(error, Throttled) and error.retry_after:
            limiter.hold_off(error.retry_after)
        raise error

    async def _once(
        self,
        limiter: MailboxLimiter,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        json: Any,
        headers: dict[str, str],
        token: str,
        items: int,
    ) -> httpx.Response:
        async with limiter.slot(items):
            try:
                return await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
            except httpx.ConnectError as exc:
                if is_certificate_failure(exc):
                    raise TlsVerificationFailed(
                        f"{_host(url)} presented a certificate that is not trusted "
                        "(check ca_bundle)"
                    ) from exc
                raise GraphConnectionError(f"{method} {_path(url)} could not connect") from exc
            except httpx.TimeoutException as exc:
                raise GraphConnectionError(f"{method} {_path(url)} timed out") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise GraphConnectionError(
                    f"{method} {_path(url)} lost its connection: {exc.__class__.__name__}"
                ) from exc


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _host(url: str) -> str:
    return httpx.URL(url).host


def _path(url: str) -> str:
    return httpx.URL(url).path
