"""Slowing down password guessing on the sign-in page.

Failed sign-ins are counted per account and browser address (5 in 15 minutes) and per address
alone (30 in 15 minutes); past either limit the page refuses further tries, even right ones, until
the oldest failure leaves the window. Counting per account *and* address means someone guessing
from elsewhere cannot lock a colleague out. The counts live in the server process's memory: a
restart forgets them, and several processes each count their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30
WINDOW_SECONDS = 15 * 60


@dataclass
class SignInThrottle:
    """Failure counts in a sliding window; `clock` is monotonic seconds (replaceable in tests)."""

    max_failures_per_account: int = MAX_FAILURES_PER_ACCOUNT
    max_failures_per_address: int = MAX_FAILURES_PER_ADDRESS
    window_seconds: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _by_account: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _by_address: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until this account may try again from this address, or None if it may now."""
        now = self.clock()
        with self._lock:
            waits = [
                self._wait(
                    self._by_account.get(self._key(email, address)),
                    now,
                    self.max_failures_per_account,
                ),
                self._wait(self._by_address.get(address), now, self.max_failures_per_address),
            ]
        longest = max((wait for wait in waits if wait is not None), default=None)
        return None if longest is None else max(1, int(longest + 0.999))

    def record_failure(self, email: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            self._by_account.setdefault(self._key(email, address), deque()).append(now)
            self._by_address.setdefault(address, deque()).append(now)

    def record_success(self, email: str, address: str) -> None:
        """A right password forgives this account's failures from this address."""
        with self._lock:
            self._by_account.pop(self._key(email, address), None)

    @staticmethod
    def _key(email: str, address: str) -> tuple[str, str]:
        return (email.strip().lower(), address)

    def _wait(self, failures: deque[float] | None, now: float, limit: int) -> float | None:
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        if len(failures) < limit:
            return None
        return failures[0] + self.window_seconds - now
