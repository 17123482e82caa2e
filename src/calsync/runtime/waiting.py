"""Waiting for a wake-up signal or a timeout, in a way that stopping the runtime always ends.

The push worker and the scheduler sleep until they are woken (a CRM commit, a change
notification) or their poll interval passes. They used `asyncio.wait_for(event.wait(), timeout)`,
which on Python 3.11 loses a cancellation that arrives while the event is being set (CPython
gh-86296, fixed in 3.12 by rewriting `wait_for` on `asyncio.timeout`): `wait_for` sees the inner
wait done and returns its result instead of raising `CancelledError`. Enabling the sync wakes the
push worker; a `stop()` within a few loop iterations of that wake-up was swallowed, the worker went
back to sleep for its 30 s poll, `RuntimeHost.stop` gave up after 30 s and the runtime lived on,
pushing into whatever database the next test (or nothing) had there.

`asyncio.timeout` waits in the caller's own task and counts cancellations (`Task.uncancel`), so an
outside cancellation always wins over the event and over the timeout.
"""

from __future__ import annotations

import asyncio


async def wait_for_signal(signal: asyncio.Event, seconds: float) -> bool:
    """Wait until `signal` is set or `seconds` have passed; True if it was set. A cancellation
    of the waiting task is always raised, even one arriving as the signal is set."""
    try:
        async with asyncio.timeout(seconds):
            await signal.wait()
    except TimeoutError:
        return False
    return True
