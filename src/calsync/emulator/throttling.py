"""Outlook-style throttling: a request budget per mailbox and a cap on concurrent requests.

Outlook allows an app 10,000 requests per 10 minutes per mailbox and 4 concurrent requests
(GRAPH.md §7). Beyond either it answers 429 with `Retry-After`, and throttled requests still count
against the budget, so a client that retries at once only digs deeper. The emulator enforces both
per mailbox (GRAPH.md notes the concurrency scope is unconfirmed; per mailbox is the common
reading), so a sync engine's back-off is exercised for real.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from calsync.emulator.errors import GraphApiError
from calsync.emulator.traffic import MailboxResolver, graph_error_response, mailbox_of_request


@dataclass(frozen=True)
class ThrottleSettings:
    """The limits enforced per mailbox; `enabled=False` lets everything through (benchmarks)."""

    requests_per_window: int = 10000
    window_seconds: float = 600.0
    max_concurrent: int = 4
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.requests_per_window < 1:
            raise _invalid("requestsPerWindow", "must be at least 1")
        if self.window_seconds <= 0:
            raise _invalid("windowSeconds", "must be more than 0")
        if self.max_concurrent < 1:
            raise _invalid("maxConcurrent", "must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return {
            "requestsPerWindow": self.requests_per_window,
            "windowSeconds": self.window_seconds,
            "maxConcurrent": self.max_concurrent,
            "enabled": self.enabled,
        }

    def updated_from_json(self, body: dict[str, Any]) -> ThrottleSettings:
        """These settings with the fields present in the control API body replaced."""
        fields = {
            "requestsPerWindow": "requests_per_window",
            "windowSeconds": "window_seconds",
            "maxConcurrent": "max_concurrent",
            "enabled": "enabled",
        }
        values = {
            "requests_per_window": self.requests_per_window,
            "window_seconds": self.window_seconds,
            "max_concurrent": self.max_concurrent,
            "enabled": self.enabled,
        }
        for key, value in body.items():
            if key not in fields:
                raise _invalid(key, f"unknown field; expected some of {sorted(fields)}")
            if key == "enabled":
                if not isinstance(value, bool):
                    raise _invalid(key, "must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(key, f"must be a number, got {value!r}")
            elif key != "windowSeconds" and not float(value).is_integer():
                raise _invalid(key, f"must be a whole number, got {value!r}")
            values[fields[key]] = value
        return ThrottleSettings(
            requests_per_window=int(values["requests_per_window"]),
            window_seconds=float(values["window_seconds"]),
            max_concurrent=int(values["max_concurrent"]),
            enabled=bool(values["enabled"]),
        )


def _invalid(field: str, problem: str) -> GraphApiError:
    return GraphApiError(400, "invalidThrottleSettings", f"{field}: {problem}")


@dataclass(frozen=True)
class Throttled:
    """Why a request was refused and how long the caller should wait."""

    retry_after_seconds: int
    reason: str


class MailboxThrottle:
    """Per-mailbox sliding-window request counts and in-flight counts.

    `enter` admits or refuses a request; an admitted request must be paired with `leave`.
    """

    def __init__(
        self,
        settings: ThrottleSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings or ThrottleSettings()
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    @property
    def settings(self) -> ThrottleSettings:
        return self._settings

    def configure(self, settings: ThrottleSettings) -> None:
        """Change the limits; counts already gathered stay and are judged by the new limits."""
        with self._lock:
            self._settings = settings

    def reset(self) -> None:
        """Forget every count (a fresh window for every mailbox)."""
        with self._lock:
            self._recent.clear()
            self._in_flight.clear()

    def enter(self, mailbox: str) -> Throttled | None:
        """Count a request against `mailbox`; None admits it, a `Throttled` refuses it."""
        with self._lock:
            settings = self._settings
            if not settings.enabled:
                return None
            now = self._clock()
            recent = self._recent.setdefault(mailbox, deque())
            while recent and recent[0] <= now - settings.window_seconds:
                recent.popleft()
            recent.append(now)
            if len(recent) > settings.requests_per_window:
                # Wait until enough of the window's requests age out to get back under the budget.
                oldest_needed = recent[len(recent) - settings.requests_per_window - 1]
                wait = oldest_needed + settings.window_seconds - now
                return Throttled(
                    max(1, math.ceil(wait)),
                    f"Application is over its request budget for this mailbox "
                    f"({settings.requests_per_window} requests per {settings.window_seconds:g} s).",
                )
            in_flight = self._in_flight.get(mailbox, 0)
            if in_flight >= settings.max_concurrent:
                return Throttled(
                    1,
                    f"Application is over its MailboxConcurrency limit "
                    f"({settings.max_concurrent} concurrent requests).",
                )
            self._in_flight[mailbox] = in_flight + 1
            return None

    def leave(self, mailbox: str) -> None:
        """An admitted request finished."""
        with self._lock:
            remaining = self._in_flight.get(mailbox, 0) - 1
            if remaining > 0:
                self._in_flight[mailbox] = remaining
            else:
                self._in_flight.pop(mailbox, None)


class ThrottlingMiddleware:
    """ASGI middleware answering 429 `activityLimitReached` with Retry-After per mailbox limits.

    Only mailbox requests (`/v1.0/users/{id}/...`) are throttled; `$batch` itself is not, but each
    of its items passes through here again, so one item can be a 429 inside a 200 batch.
    """

    def __init__(self, app: ASGIApp, throttle: MailboxThrottle, resolve_mailbox: MailboxResolver):
        self.app = app
        self.throttle = throttle
        self.resolve_mailbox = resolve_mailbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mailbox = (
            mailbox_of_request(scope, self.resolve_mailbox) if scope["type"] == "http" else None
        )
        if mailbox is None:
            await self.app(scope, receive, send)
            return
        refused = self.throttle.enter(mailbox.id)
        if refused is not None:
            response = graph_error_response(
                scope,
                429,
                "activityLimitReached",
                refused.reason,
                {"Retry-After": str(refused.retry_after_seconds)},
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.throttle.leave(mailbox.id)
