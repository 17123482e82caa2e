"""Injected faults: the failures a real Microsoft 365 produces now and then, on demand.

A sync engine is only trustworthy if it survives 429s, 503/504s, slow answers and connections that
die, including the nasty case where the write happened but the caller never heard back (GRAPH.md
§7: "a write that returned 504 may still have happened"). Tests and the demo add `FaultRule`s to the
`FaultInjector` (usually through the control API); `FaultInjectionMiddleware` applies them.

A rule fires either for the next N matching requests or with a probability drawn from a seeded
random generator, so a failing run can be replayed with the same seed.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calsync.emulator.errors import GraphApiError
from calsync.emulator.traffic import (
    BATCH_ITEM_SCOPE_KEY,
    MailboxKey,
    MailboxResolver,
    graph_error_response,
    mailbox_of_request,
)

_Number = TypeVar("_Number", int, float)
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


class FaultKind(StrEnum):
    """What happens to a request a rule catches."""

    THROTTLED = "throttled"
    """429 with Retry-After and code activityLimitReached; the request is not applied."""
    UNAVAILABLE = "unavailable"
    """503 serviceNotAvailable with Retry-After; the request is not applied."""
    GATEWAY_TIMEOUT = "gateway_timeout"
    """504 with code gatewayTimeout; the request is not applied."""
    SLOW = "slow"
    """The request is applied normally after waiting `delay_seconds`."""
    DROP = "drop"
    """The connection closes with no response; the request is not applied."""
    APPLY_THEN_DROP = "apply_then_drop"
    """The request is applied, then the connection closes with no response."""


_DROPS = frozenset({FaultKind.DROP, FaultKind.APPLY_THEN_DROP})


class ConnectionDroppedError(Exception):
    """Raised in-process (no socket to cut) where a real server would close the connection."""


def _invalid(field: str, problem: str) -> GraphApiError:
    return GraphApiError(400, "invalidFaultRule", f"{field}: {problem}")


@dataclass(frozen=True)
class FaultRule:
    """One kind of failure, when it fires (`rate` or `next_requests`) and which requests it targets.

    `mailbox` (id or address), `method` and `path_pattern` (a regular expression searched in the
    request path, e.g. `/events$`) narrow the requests the rule looks at; None means any.
    """

    kind: FaultKind
    rate: float | None = None
    next_requests: int | None = None
    mailbox: str | None = None
    method: str | None = None
    path_pattern: str | None = None
    delay_seconds: float = 0.0
    retry_after_seconds: int = 1
    id: str = ""

    def __post_init__(self) -> None:
        if (self.rate is None) == (self.next_requests is None):
            raise _invalid(
                "rate", "give exactly one of rate (0 < rate <= 1) or nextRequests (>= 1)"
            )
        if self.rate is not None and not 0.0 < self.rate <= 1.0:
            raise _invalid("rate", f"must be > 0 and <= 1, got {self.rate}")
        if self.next_requests is not None and self.next_requests < 1:
            raise _invalid("nextRequests", f"must be at least 1, got {self.next_requests}")
        if self.method is not None and self.method.upper() not in _METHODS:
            raise _invalid("method", f"must be one of {sorted(_METHODS)}, got {self.method!r}")
        if self.path_pattern is not None:
            try:
                re.compile(self.path_pattern)
            except re.error as exc:
                raise _invalid("pathPattern", f"is not a valid regular expression ({exc})") from exc
        if self.delay_seconds < 0 or (self.kind is FaultKind.SLOW and self.delay_seconds == 0):
            raise _invalid("delaySeconds", "a slow fault needs a delay > 0 seconds")
        if self.retry_after_seconds < 0:
            raise _invalid("retryAfterSeconds", "must be >= 0")

    def targets(self, method: str, path: str, mailbox: MailboxKey | None) -> bool:
        """Whether a request falls under this rule's filters (ignoring rate and count)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_pattern is not None and re.search(self.path_pattern, path) is None:
            return False
        return self.mailbox is None or (mailbox is not None and mailbox.matches(self.mailbox))

    def to_json(self, remaining: int | None) -> dict[str, Any]:
        """The control API's view of the rule; `remainingRequests` counts down next-N rules."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "rate": self.rate,
            "nextRequests": self.next_requests,
            "remainingRequests": remaining,
            "mailbox": self.mailbox,
            "method": self.method,
            "pathPattern": self.path_pattern,
            "delaySeconds": self.delay_seconds,
            "retryAfterSeconds": self.retry_after_seconds,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> FaultRule:
        """Parse the control API's JSON (camelCase keys), naming the field that is wrong."""
        known = {
            "kind",
            "rate",
            "nextRequests",
            "mailbox",
            "method",
            "pathPattern",
            "delaySeconds",
            "retryAfterSeconds",
        }
        unknown = sorted(set(body) - known)
        if unknown:
            raise _invalid(unknown[0], f"unknown field; expected some of {sorted(known)}")
        try:
            kind = FaultKind(str(body.get("kind")))
        except ValueError:
            raise _invalid(
                "kind", f"must be one of {[k.value for k in FaultKind]}, got {body.get('kind')!r}"
            ) from None
        delay = _optional_number(body, "delaySeconds", float)
        retry_after = _optional_number(body, "retryAfterSeconds", int)
        return cls(
            kind=kind,
            rate=_optional_number(body, "rate", float),
            next_requests=_optional_number(body, "nextRequests", int),
            mailbox=_optional_text(body, "mailbox"),
            method=_optional_text(body, "method"),
            path_pattern=_optional_text(body, "pathPattern"),
            delay_seconds=0.0 if delay is None else delay,
            retry_after_seconds=1 if retry_after is None else retry_after,
        )


def _optional_text(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(field, "must be a non-empty string")
    return value.strip()


def _optional_number(body: Mapping[str, Any], field: str, kind: type[_Number]) -> _Number | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(field, f"must be a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise _invalid(field, f"must be a whole number, got {value!r}")
    return kind(value)


class FaultInjector:
    """The active fault rules and the seeded random generator their rates draw from.

    Thread-safe: the server runs in its own thread while tests add rules from theirs.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._remaining: dict[str, int] = {}
        self._random = random.Random(seed)
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule) -> FaultRule:
        """Activate a rule (after those already active); returns it with its id filled in."""
        with self._lock:
            stored = replace(rule, id=f"fault-{next(self._ids)}")
            self._rules.append(stored)
            if stored.next_requests is not None:
                self._remaining[stored.id] = stored.next_requests
            return stored

    def remove(self, rule_id: str) -> bool:
        """Deactivate one rule; False when no active rule has that id."""
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            self._remaining.pop(rule_id, None)
            return len(self._rules) != before

    def clear(self) -> None:
        """Deactivate every rule."""
        with self._lock:
            self._rules.clear()
            self._remaining.clear()

    def seed(self, seed: int) -> None:
        """Restart the random sequence, so rate-based faults repeat exactly."""
        with self._lock:
            self._random = random.Random(seed)

    def rules(self) -> list[dict[str, Any]]:
        """The active rules as the control API shows them."""
        with self._lock:
            return [rule.to_json(self._remaining.get(rule.id)) for rule in self._rules]

    def pick(
        self, method: str, path: str, mailbox: MailboxKey | None, can_drop: bool = True
    ) -> FaultRule | None:
        """The first active rule that fires for this request, consuming one of its next-N uses.

        With `can_drop=False` (a `$batch` item: no connection of its own) drop rules are passed
        over without using them up.
        """
        with self._lock:
            for rule in self._rules:
                if not rule.targets(method, path, mailbox):
                    continue
                if not can_drop and rule.kind in _DROPS:
                    continue
                if rule.rate is not None:
                    if self._random.random() < rule.rate:
                        return rule
                    continue
                self._remaining[rule.id] -= 1
                if self._remaining[rule.id] == 0:
                    self._rules.remove(rule)
                    del self._remaining[rule.id]
                return rule
            return None


class FaultInjectionMiddleware:
    """ASGI middleware that applies the injector's rules to Graph requests (`/v1.0/...`).

    The control API (`/_emulator/`) and the token endpoint are never faulted. Requests a `$batch`
    runs for its items are faulted like any other, except that connection drops only apply to the
    outer request (a batch item has no connection of its own).
    """

    def __init__(self, app: ASGIApp, injector: FaultInjector, resolve_mailbox: MailboxResolver):
        self.app = app
        self.injector = injector
        self.resolve_mailbox = resolve_mailbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/v1.0/"):
            await self.app(scope, receive, send)
            return
        mailbox = mailbox_of_request(scope, self.resolve_mailbox)
        in_batch = BATCH_ITEM_SCOPE_KEY in scope
        rule = self.injector.pick(str(scope["method"]), path, mailbox, can_drop=not in_batch)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.kind is FaultKind.SLOW:
            await asyncio.sleep(rule.delay_seconds)
            await self.app(scope, receive, send)
            return
        if rule.kind is FaultKind.DROP:
            await _drop_connection(receive)
            return
        if rule.kind is FaultKind.APPLY_THEN_DROP:
            await self.app(scope, receive, _discard)
            await _drop_connection(receive)
            return
        status, code, message = _ERROR_FAULTS[rule.kind]
        headers = {"Retry-After": str(rule.retry_after_seconds)}
        if rule.kind is FaultKind.GATEWAY_TIMEOUT:
            headers = {}
        response = graph_error_response(scope, status, code, message, headers)
        await response(scope, receive, send)


_ERROR_FAULTS = {
    FaultKind.THROTTLED: (
        429,
        "activityLimitReached",
        "The request has been throttled (fault injected by the emulator). Retry after the "
        "number of seconds in Retry-After.",
    ),
    FaultKind.UNAVAILABLE: (
        503,
        "serviceNotAvailable",
        "The service is temporarily unavailable (fault injected by the emulator). Retry later.",
    ),
    FaultKind.GATEWAY_TIMEOUT: (
        504,
        "gatewayTimeout",
        "The server, while acting as a proxy, did not receive a timely response "
        "(fault injected by the emulator).",
    ),
}


async def _discard(message: Message) -> None:
    """A `send` that loses the response, as a client whose connection died would."""


async def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without a response.

    ASGI has no message for "hang up", so under uvicorn we reach the connection's transport
    through the bound `receive` of its request cycle and abort it. In-process (httpx's
    ASGITransport) there is no socket: raising makes the client call fail, as a drop would.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    abort = getattr(transport, "abort", None)  # asyncio's and uvloop's transports both have it
    if not callable(abort):
        raise ConnectionDroppedError("the emulator dropped the connection (fault injected)")
    abort()
    # Let the server notice the lost connection before the app returns, so it does not try to
    # answer on it with a 500.
    for _ in range(3):
        await asyncio.sleep(0)
