"""Per-mailbox traffic limits, so CalSync stays under Outlook's throttling thresholds instead of
tripping them.

Outlook throttles per app and mailbox: at most 4 requests in flight and 10,000 requests per 10
minutes (GRAPH.md §7). Each mailbox gets a semaphore for the first and a sliding window of request
start times for the second; a request that would exceed the budget waits until the oldest request
leaves the window. Throttled requests still count against Graph's quota, so every attempt (retries
included) takes a slot here.

When Graph does throttle a mailbox, its ``Retry-After`` holds off *every* request to that mailbox,
not only the refused one: otherwise the other queued requests keep hitting the limit, each refusal
counts against the quota again, and the mailbox never recovers.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class MailboxLimiter:
    """Concurrency and request budget for one mailbox."""

    def __init__(
        self,
        *,
        concurrency: int,
        budget: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._multi_slot_lock = asyncio.Lock()
        self._budget = budget
        self._window = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._budget_lock = asyncio.Lock()
        self._resume_at = 0.0
        self.in_flight = 0
        self.peak_in_flight = 0

    @asynccontextmanager
    async def slot(self, items: int = 1) -> AsyncIterator[None]:
        """Hold the mailbox's concurrent slots for the duration of one HTTP exchange that carries
        `items` Graph requests (a `$batch`'s items; 1 otherwise).

        Every item counts against the request budget, as Outlook throttles each item on its own;
        and Outlook runs up to 4 items of a batch at once, so a batch holds as many slots as it
        can run items at once (at most all of them), not one.
        """
        if items < 1:
            raise ValueError(f"items: a request carries at least one Graph request, not {items}")
        wanted = min(items, self._concurrency)
        async with self._acquired(wanted):
            while (pause := self._resume_at - self._clock()) > 0:
                await self._sleep(pause)
            await self._spend_budget(items)
            self.in_flight += wanted
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= wanted

    @asynccontextmanager
    async def _acquired(self, wanted: int) -> AsyncIterator[None]:
        """Take `wanted` slots. Requests needing several take them one by one under a lock, so
        two of them never each hold part of the slots while waiting for the rest."""
        taken = 0
        try:
            if wanted == 1:
                await self._slots.acquire()
                taken = 1
            else:
                async with self._multi_slot_lock:
                    for _ in range(wanted):
                        await self._slots.acquire()
                        taken += 1
            yield
        finally:
            for _ in range(taken):
                self._slots.release()

    def hold_off(self, seconds: float) -> None:
        """Start no request to this mailbox for ``seconds`` (Graph's ``Retry-After`` for it)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def _spend_budget(self, items: int) -> None:
        """Wait until `items` more requests fit in the window's budget, then count them."""
        needed = min(items, self._budget)
        async with self._budget_lock:
            while True:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self._window:
                    self._starts.popleft()
                if len(self._starts) + needed <= self._budget:
                    self._starts.extend([now] * items)
                    return
                await self._sleep(
                    self._starts[len(self._starts) + needed - self._budget - 1] + self._window - now
                )


class MailboxLimits:
    """One ``MailboxLimiter`` per mailbox address or id, created on first use.

    Mailbox keys are compared case-insensitively because Exchange addresses are case-insensitive;
    requests that address no mailbox (``$batch`` across mailboxes, subscriptions) share the ``""``
    key.
    """

    def __init__(
        self,
        *,
        concurrency: int,
        budget: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._make = functools.partial(
            MailboxLimiter,
            concurrency=concurrency,
            budget=budget,
            window_seconds=window_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._limiters: dict[str, MailboxLimiter] = {}

    def for_mailbox(self, mailbox: str | None) -> MailboxLimiter:
        key = (mailbox or "").strip().lower()
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = self._make()
        return limiter
