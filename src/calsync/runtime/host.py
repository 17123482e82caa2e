"""`RuntimeHost`: a `SyncRuntime` on an event loop of its own, in its own thread.

The engine's runners make blocking database calls inside async code. On the web server's loop, a
run waiting for a SQLite write lock would block that loop, and with it the very request holding
the lock (its commit is scheduled by the loop): a deadlock until the busy timeout. On a loop of its
own the runtime may block as long as it needs while the server keeps answering and committing. The
host is what the web app talks to; every call is safe from any thread or loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from calsync.runtime.errors import RuntimeStopTimeoutError
from calsync.runtime.service import SyncRuntime
from calsync.runtime.webhooks import SubscriptionKeeper

ResultT = TypeVar("ResultT")

logger = logging.getLogger("calsync.runtime")

STOP_TIMEOUT_SECONDS = 30.0
# How long a runtime that did not stop gets to say which of its tasks are still running.
LOOP_ANSWER_SECONDS = 1.0


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
        """Stop the runtime (runs cut short are redone later) and end the thread.

        The loop is stopped even when the runtime's own stop does not finish in time: a runtime
        left running after its app would go on writing to a database that is closed, emptied or
        someone else's. That case raises `RuntimeStopTimeoutError`, naming what was still running
        (or saying that the loop itself was blocked), and is logged."""
        if not self._thread.is_alive():
            return
        stopping = asyncio.run_coroutine_threadsafe(self.runtime.stop(), self._loop)
        try:
            stopping.result(STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            unfinished = self._unfinished()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT_SECONDS)
            error = RuntimeStopTimeoutError(
                f"the sync runtime did not stop within {STOP_TIMEOUT_SECONDS:.0f} s "
                f"({unfinished}); its event loop was stopped anyway"
            )
            logger.error("%s", error.message)
            raise error from None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT_SECONDS)

    def _unfinished(self) -> str:
        """What keeps the runtime from stopping, in words: its tasks still running, or a loop
        that does not even answer (a blocking call on the runtime's thread)."""
        answer: concurrent.futures.Future[list[str]] = concurrent.futures.Future()

        def name_tasks() -> None:
            tasks = asyncio.all_tasks(self._loop)
            answer.set_result(sorted(task.get_name() for task in tasks if not task.done()))

        self._loop.call_soon_threadsafe(name_tasks)
        try:
            names = answer.result(LOOP_ANSWER_SECONDS)
        except TimeoutError:
            return "its event loop is blocked by a call on the runtime's thread"
        return "still running: " + ", ".join(names)

    @property
    def is_running(self) -> bool:
        """Whether the runtime's thread (and so its event loop) is still alive."""
        return self._thread.is_alive()

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
