"""How many Graph requests each mailbox received, for "requests per mailbox" benchmarks and tests.

Counts every request that reaches the emulator for a mailbox path, including ones later refused by
an injected fault or by throttling (the client spent a request on them all the same), and each
`$batch` item separately (Graph counts items, not batches, against a mailbox).
"""

from __future__ import annotations

import threading
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

from calsync.emulator.traffic import MailboxResolver, mailbox_of_request


class RequestCounts:
    """Thread-safe request counters keyed by mailbox address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_mailbox: Counter[str] = Counter()
        self._total = 0

    def record(self, mailbox_address: str | None) -> None:
        with self._lock:
            self._total += 1
            if mailbox_address is not None:
                self._by_mailbox[mailbox_address] += 1

    def snapshot(self) -> dict[str, object]:
        """`{"total": n, "mailboxes": {address: n}}`; total includes requests to no mailbox."""
        with self._lock:
            return {"total": self._total, "mailboxes": dict(self._by_mailbox)}

    def clear(self) -> None:
        with self._lock:
            self._by_mailbox.clear()
            self._total = 0


class RequestCountingMiddleware:
    """Counts Graph requests (`/v1.0/...`) as they arrive, before anything can refuse them."""

    def __init__(self, app: ASGIApp, counts: RequestCounts, resolve_mailbox: MailboxResolver):
        self.app = app
        self.counts = counts
        self.resolve_mailbox = resolve_mailbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/v1.0/"):
            mailbox = mailbox_of_request(scope, self.resolve_mailbox)
            self.counts.record(mailbox.address if mailbox is not None else None)
        await self.app(scope, receive, send)
