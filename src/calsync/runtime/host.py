"""`RuntimeHost`: a `SyncRuntime` on an event loop of its own, in its own thread.

The engine's runners make blocking database calls inside async code. On the web server's loop, a
run waiting for a SQLite write lock would block that loop, and with it the very request holding
the lock (its commit is scheduled by the loop): a deadlock until the busy timeout. On a loop of its
own the runtime may block as long as it needs while the server keeps answering and committing. The
host is what the web app talks to; every call is safe from any thread or loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from calsync.runtime.service import SyncRuntime
from calsync.runtime.webhooks import SubscriptionKeeper

ResultT = TypeVar("ResultT")

STOP_TIMEOUT_SECONDS = 30.0


class RuntimeHost:
    """Runs `runtime` in a daemon thread between `start()` and `stop()`."""

    def __init__(self, runtime: SyncRuntime) -> None:
        self.runtime = runtime
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="calsync-sync-runtime", daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.runtime.start())
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    def start(self) -> None:
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        """Stop the runtime (runs cut short are redone later) and end the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.runtime.stop(), self._loop).result(
            STOP_TIMEOUT_SECONDS
        )
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_SECONDS)

    async def call(self, coroutine: Coroutine[Any, Any, ResultT]) -> ResultT:
        """Run `coroutine` on the runtime's loop and await its result from the caller's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    async def sync_now(self, mailbox: str | None = None) -> list[str]:
        return await self.call(self.runtime.sync_now(mailbox))

    def wake_push(self) -> None:
        self.runtime.wake_push()

    def on_notifications(self, notifications: list[Any]) -> None:
        self._loop.call_soon_threadsafe(self.runtime.on_notifications, notifications)

    @property
    def subscriptions(self) -> SubscriptionKeeper | None:
        return self.runtime.subscriptions

    @property
    def problem(self) -> str | None:
        return self.runtime.problem
