"""Opaque bearer tokens for the client-credentials flow, with a configurable lifetime.

Real tokens are JWTs, but a client must treat them as opaque; random strings keep the emulator from
inviting anyone to parse them. Tokens live in memory: a restarted emulator asks clients to sign in
again, which is also what a real token cache sees after a tenant-side revocation.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class TokenIssuer:
    """Issues access tokens and tells whether a presented one is still valid."""

    def __init__(self, lifetime_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, int]:
        """A new token and its lifetime in seconds (the `expires_in` of the token response)."""
        token = "emu." + secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + self.lifetime_seconds
        return token, self.lifetime_seconds

    def is_valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(token)
            return expiry is not None and expiry > self._clock()

    def expire_all(self) -> None:
        """Invalidate every token: the next Graph call gets 401, as expiry mid-sync does."""
        with self._lock:
            self._expiry.clear()
