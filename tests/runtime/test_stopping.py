"""Stopping the sync service always ends it, and before the app's database goes away.

The CI failure this guards against: enabling the sync wakes the push worker; a stop arriving a few
loop iterations later was swallowed by `asyncio.wait_for` (Python 3.11, CPython gh-86296), the
worker went back to sleep for its 30 s poll, `RuntimeHost.stop` timed out and the runtime went on
pushing into the next test's database. The interleavings are driven step by step, so the tests
fail the same way every time without the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import pytest

from calsync.runtime import host as host_module
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.errors import RuntimeStopTimeoutError
from calsync.runtime.host import RuntimeHost
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.runtime.waiting import wait_for_signal
from calsync.sync.runners.pull import PullReport
from calsync.sync.runners.push import PushReport
from tests.sync.runners.world import World

# However many loop iterations pass between a wake-up and a stop, the stop wins. The window that
# lost the cancellation was one or two iterations wide; a few more cover the other orderings.
ITERATIONS_BETWEEN_WAKE_AND_STOP = range(6)
# Guards against a hang, not a speed check: a stop that was lost waits for the 60 s push poll.
HANG_GUARD_SECONDS = 15


async def _iterations(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.mark.parametrize("iterations", ITERATIONS_BETWEEN_WAKE_AND_STOP)
async def test_a_waiter_cancelled_as_its_signal_is_set_is_cancelled(iterations: int) -> None:
    signal = asyncio.Event()
    waiter = asyncio.create_task(wait_for_signal(signal, 60))
    await _iterations(2)  # the waiter is waiting
    signal.set()
    await _iterations(iterations)
    cancelled = waiter.cancel()

    if cancelled:
        with pytest.raises(asyncio.CancelledError):
            await waiter
    else:  # it had already returned: the cancellation came too late to be lost
        assert waiter.result() is True


async def test_a_waiter_says_whether_it_was_woken_or_timed_out() -> None:
    signal = asyncio.Event()
    assert await wait_for_signal(signal, 0.01) is False
    signal.set()
    assert await wait_for_signal(signal, 60) is True


class _CountingEngine:
    """An engine with nothing to do, counting the pushes the worker started."""

    def __init__(self) -> None:
        self.pushes = 0

    async def push_pending(self) -> PushReport:
        self.pushes += 1
        return PushReport()

    async def pull_mailbox(self, address: str) -> PullReport:
        return PullReport(address)

    def synced_mailboxes(self) -> list[str]:
        return []

    def confirm_held_deletions(self, mailbox: str) -> None:
        raise AssertionError("not used")

    def discard_held_deletions(self, mailbox: str) -> None:
        raise AssertionError("not used")


async def test_the_runtime_stops_however_close_behind_a_wake_up_the_stop_comes(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> None:
    with world.sessions() as session:
        save_connection(session, connection, box)  # enabled, as the admin's "Enable" does
        session.commit()
    for iterations in ITERATIONS_BETWEEN_WAKE_AND_STOP:
        engine = _CountingEngine()
        runtime = SyncRuntime(
            world.sessions,
            endpoints=endpoints,
            box=box,
            engine_factory=lambda _sessions, _graph, engine=engine: engine,
            push_poll_seconds=60.0,
        )
        await runtime.start()
        await runtime.push_once()  # the binding exists and the worker sleeps on its 60 s poll
        runtime.wake_push()  # what the Sync page does right after enabling
        await _iterations(iterations)

        async with asyncio.timeout(HANG_GUARD_SECONDS):
            await runtime.stop()

        pushes = engine.pushes
        await _iterations(10)
        assert engine.pushes == pushes, f"the push worker ran on after a stop ({iterations})"


class _StubbornRuntime:
    """A runtime whose one task ignores being cancelled (a library swallowing the cancellation,
    as `asyncio.wait_for` did)."""

    def __init__(self) -> None:
        self.subscriptions = None
        self.problem = None
        self.rounds = 0

    async def start(self) -> None:
        asyncio.get_running_loop().create_task(self._work(), name="calsync-stubborn-worker")

    async def _work(self) -> None:
        while True:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)
            self.rounds += 1

    async def stop(self) -> None:
        await asyncio.Event().wait()  # waits for the worker, which never ends

    def wake_push(self) -> None:
        return None


def test_a_runtime_that_does_not_stop_in_time_is_ended_anyway_and_named(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(host_module, "STOP_TIMEOUT_SECONDS", 0.5)
    runtime = _StubbornRuntime()
    host = RuntimeHost(runtime)  # type: ignore[arg-type]
    host.start()
    assert host.is_running

    with (
        caplog.at_level(logging.ERROR, "calsync.runtime"),
        pytest.raises(RuntimeStopTimeoutError) as refused,
    ):
        host.stop()

    assert refused.value.code == "sync_runtime_stop_timeout"
    assert "calsync-stubborn-worker" in refused.value.message
    assert "did not stop within" in caplog.text
    assert not host.is_running
    rounds = runtime.rounds
    threading.Event().wait(0.1)
    assert runtime.rounds == rounds  # its loop is gone: nothing of it runs any more
