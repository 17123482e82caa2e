"""Per-mailbox exclusivity: never two pulls of one mailbox at the same time in this process.

A scheduled run skips a mailbox that is already running (it is due again at its next slot); a
"sync now" waits for the running one to finish and then runs, so the person's request is honoured
with the newest changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class MailboxLocks:
    """One asyncio lock per mailbox address (lower-cased)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, mailbox: str) -> asyncio.Lock:
        return self._locks.setdefault(mailbox.strip().lower(), asyncio.Lock())

    def is_running(self, mailbox: str) -> bool:
        return self._lock(mailbox).locked()

    @asynccontextmanager
    async def hold(self, mailbox: str) -> AsyncIterator[None]:
        """Wait until `mailbox` is free, then hold it for the block."""
        async with self._lock(mailbox):
            yield
