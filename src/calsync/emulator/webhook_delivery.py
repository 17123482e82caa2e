"""Outbound webhook traffic: the validation handshake and notification POSTs with retries.

Graph checks a notification URL before it creates a subscription (POST `?validationToken=…`,
the endpoint must echo the decoded token as text/plain within 10 s), then POSTs notifications
that the receiver must acknowledge with 2xx within 3 s; on 5xx or a timeout it retries for up to
four hours (GRAPH.md §8). The emulator does the same with shorter, configurable times, so tests
can watch a receiver that fails for a while and then recovers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from calsync.emulator.errors import GraphApiError

log = logging.getLogger(__name__)

VALIDATION_TIMEOUT_SECONDS = 10.0
_BATCHING_DELAY_SECONDS = 0.05
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the emulator tries to deliver a notification.

    Graph's own numbers are a 3 s answer time, retries for 4 hours and 10 s for the validation
    handshake; tests shorten them so that a receiver that stays down (or a handshake that hangs)
    is given up on quickly.
    """

    attempt_timeout_seconds: float = 3.0
    retry_for_seconds: float = 4 * 3600.0
    first_retry_delay_seconds: float = 1.0
    max_retry_delay_seconds: float = 60.0
    verify_tls: bool = True
    validation_timeout_seconds: float = VALIDATION_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        for name, value in (
            ("attemptTimeoutSeconds", self.attempt_timeout_seconds),
            ("validationTimeoutSeconds", self.validation_timeout_seconds),
            ("firstRetryDelaySeconds", self.first_retry_delay_seconds),
            ("maxRetryDelaySeconds", self.max_retry_delay_seconds),
        ):
            if value <= 0:
                raise GraphApiError(400, "invalidDeliveryPolicy", f"{name}: must be more than 0")
        if self.retry_for_seconds < 0:
            raise GraphApiError(400, "invalidDeliveryPolicy", "retryForSeconds: must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return {
            "attemptTimeoutSeconds": self.attempt_timeout_seconds,
            "retryForSeconds": self.retry_for_seconds,
            "firstRetryDelaySeconds": self.first_retry_delay_seconds,
            "maxRetryDelaySeconds": self.max_retry_delay_seconds,
            "verifyTls": self.verify_tls,
            "validationTimeoutSeconds": self.validation_timeout_seconds,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DeliveryPolicy:
        names = {
            "attemptTimeoutSeconds": "attempt_timeout_seconds",
            "retryForSeconds": "retry_for_seconds",
            "firstRetryDelaySeconds": "first_retry_delay_seconds",
            "maxRetryDelaySeconds": "max_retry_delay_seconds",
            "verifyTls": "verify_tls",
            "validationTimeoutSeconds": "validation_timeout_seconds",
        }
        values: dict[str, Any] = {}
        for key, value in body.items():
            if key not in names:
                raise GraphApiError(
                    400, "invalidDeliveryPolicy", f"{key}: unknown field; expected {sorted(names)}"
                )
            wants_bool = key == "verifyTls"
            if wants_bool != isinstance(value, bool) or not isinstance(value, int | float):
                kind = "true or false" if wants_bool else "a number"
                raise GraphApiError(400, "invalidDeliveryPolicy", f"{key}: must be {kind}")
            values[names[key]] = value
        return cls(**values)


def check_receiver_url(field: str, url: object) -> str:
    """Graph wants https; the emulator also accepts plain http to a loopback receiver."""
    if not isinstance(url, str) or not url.strip():
        raise GraphApiError(400, "InvalidRequest", f"{field}: must be a URL")
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip()
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS | {"[::1]"}:
        return url.strip()
    if parts.scheme == "http" and (parts.hostname or "").startswith("127."):
        return url.strip()
    raise GraphApiError(
        400,
        "InvalidRequest",
        f"{field}: must be an https URL (the emulator also accepts http on a loopback address), "
        f"got {url!r}",
    )


@dataclass(frozen=True)
class DeliveryRecord:
    """One finished delivery, for the control API: where, how many notifications, the outcome."""

    url: str
    notifications: int
    attempts: int
    delivered: bool
    last_status: int | None


class WebhookDelivery:
    """Sends validation requests and notification batches; callable from any thread.

    Notifications submitted within a few milliseconds to the same URL travel in one POST (Graph
    batches too). Delivery runs on the event loop of the server, which `bind_loop` records the
    first time a subscription is made (or `DeliveryLoopMiddleware` at the first request).
    """

    def __init__(self, policy: DeliveryPolicy | None = None) -> None:
        self.policy = policy or DeliveryPolicy()
        self.on_given_up: Callable[[list[dict[str, Any]]], None] | None = None
        """Called (on the delivery loop) with the notifications of a batch given up on."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.history: deque[DeliveryRecord] = deque(maxlen=500)

    def bind_loop(self) -> None:
        """Remember the running loop as the one deliveries run on (call from async code)."""
        self._loop = asyncio.get_running_loop()

    def bind_loop_if_unbound(self) -> None:
        """Bind the running loop unless a live one is bound: a restarted emulator has stored
        subscriptions before anyone creates one, and its first request gives it a loop."""
        if self._loop is None or self._loop.is_closed():
            self.bind_loop()

    async def validate(self, url: str) -> str | None:
        """Run the validation handshake; None when the endpoint passed, else what went wrong."""
        token = (
            "Validation: Testing client application reachability for subscription Request-Id: "
            + secrets.token_hex(16)
        )
        separator = "&" if urlsplit(url).query else "?"
        target = f"{url}{separator}validationToken={quote(token, safe='')}"
        try:
            async with self._client(self.policy.validation_timeout_seconds) as client:
                response = await client.post(
                    target, headers={"Content-Type": "text/plain; charset=utf-8"}, content=b""
                )
        except httpx.HTTPError as exc:
            return f"the endpoint could not be reached ({type(exc).__name__})"
        if response.status_code != 200:
            return f"the endpoint answered {response.status_code}, expected 200"
        if not response.headers.get("content-type", "").startswith("text/plain"):
            return "the endpoint must answer with Content-Type text/plain"
        if response.text != token:
            return "the endpoint must answer with the URL-decoded validationToken as its body"
        return None

    def submit(self, url: str, notification: dict[str, Any]) -> None:
        """Queue one notification for `url`; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            self._pending.setdefault(url, []).append(notification)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        try:
            loop.call_soon_threadsafe(self._schedule_flush)
        except RuntimeError:  # the loop closed between the check and the call
            with self._lock:
                self._flush_scheduled = False

    def send_now(self, url: str, notifications: list[dict[str, Any]]) -> None:
        """Deliver a batch (with retries) in the background; call on the delivery loop."""
        self._spawn(self._deliver(url, notifications))

    async def drain(self) -> None:
        """Wait until every queued and in-flight delivery finished (tests, shutdown)."""
        while True:
            await asyncio.sleep(_BATCHING_DELAY_SECONDS * 2)
            with self._lock:
                idle = not self._pending and not self._flush_scheduled
            if idle and not self._tasks:
                return
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        """Drop queued notifications and stop deliveries in flight; safe from any thread."""
        with self._lock:
            self._pending.clear()
            self._flush_scheduled = False
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._cancel_tasks)
        except RuntimeError:  # the loop closed meanwhile: nothing left to cancel
            return

    def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        """Stop every delivery in flight (the emulator is shutting down or resetting)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        with self._lock:
            self._pending.clear()
            self._flush_scheduled = False

    def _schedule_flush(self) -> None:
        self._spawn(self._flush_after_delay())

    async def _flush_after_delay(self) -> None:
        await asyncio.sleep(_BATCHING_DELAY_SECONDS)
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flush_scheduled = False
        for url, notifications in pending.items():
            self.send_now(url, notifications)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout, verify=self.policy.verify_tls)

    async def _deliver(self, url: str, notifications: list[dict[str, Any]]) -> None:
        policy = self.policy
        deadline = time.monotonic() + policy.retry_for_seconds
        delay = policy.first_retry_delay_seconds
        attempts = 0
        status: int | None = None
        async with self._client(policy.attempt_timeout_seconds) as client:
            while True:
                attempts += 1
                try:
                    response = await client.post(url, json={"value": notifications})
                    status = response.status_code
                except httpx.HTTPError as exc:
                    log.info("notification to %s failed: %s", url, type(exc).__name__)
                    status = None
                if status is not None and status < 500:
                    # 2xx is delivered; a 4xx is the receiver refusing, which retrying won't fix.
                    break
                if time.monotonic() + delay > deadline:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, policy.max_retry_delay_seconds)
        delivered = status is not None and 200 <= status < 300
        self.history.append(DeliveryRecord(url, len(notifications), attempts, delivered, status))
        if not delivered and self.on_given_up is not None:
            self.on_given_up(notifications)


class DeliveryLoopMiddleware:
    """Gives `WebhookDelivery` the server's event loop at the first request it sees."""

    def __init__(self, app: ASGIApp, delivery: WebhookDelivery) -> None:
        self.app = app
        self.delivery = delivery

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.delivery.bind_loop_if_unbound()
        await self.app(scope, receive, send)
