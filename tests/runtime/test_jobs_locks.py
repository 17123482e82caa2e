"""The advisory locks of the jobs runtime, on a real PostgreSQL: a mailbox is never pulled twice
at once, pulls of different mailboxes run together, and a push never runs beside a pull."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.locks import RunLocks
from tests.fixtures.postgres import PostgresServer
from tests.runtime.jobs_cluster import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def conninfo(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    with fresh_database(postgres_server, postgres_template) as url:
        yield conninfo_of(url)


async def _blocked(coroutine: asyncio.Future[None] | asyncio.Task[None]) -> bool:
    """Whether the task is still waiting a moment later (it could not take its lock)."""
    await asyncio.sleep(0.3)
    return not coroutine.done()


async def test_a_second_pull_of_a_mailbox_waits_for_the_first(conninfo: str) -> None:
    first, second = RunLocks(conninfo), RunLocks(conninfo)
    order: list[str] = []

    async def pull(locks: RunLocks, name: str, release: asyncio.Event) -> None:
        async with locks.pulling("Ana@Firm.example"):
            order.append(f"{name} started")
            await release.wait()
            order.append(f"{name} finished")

    go_first, go_second = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(pull(first, "first", go_first))
    await asyncio.sleep(0.2)
    waiting = asyncio.create_task(pull(second, "second", go_second))
    assert await _blocked(waiting)
    go_first.set()
    go_second.set()
    await asyncio.gather(running, waiting)
    assert order == ["first started", "first finished", "second started", "second finished"]
    await first.close()
    await second.close()


async def test_pulls_of_two_mailboxes_run_together(conninfo: str) -> None:
    first, second = RunLocks(conninfo), RunLocks(conninfo)
    async with first.pulling("ana@firm.example"):
        together = asyncio.create_task(_hold(second.pulling("ben@firm.example")))
        await asyncio.wait_for(together, timeout=5)
    await first.close()
    await second.close()


async def test_a_push_waits_for_running_pulls_and_pulls_wait_for_a_push(conninfo: str) -> None:
    puller, pusher = RunLocks(conninfo), RunLocks(conninfo)
    release = asyncio.Event()

    async def pull() -> None:
        async with puller.pulling("ana@firm.example"):
            await release.wait()

    running = asyncio.create_task(pull())
    await asyncio.sleep(0.2)
    push = asyncio.create_task(_hold(pusher.pushing()))
    assert await _blocked(push)
    release.set()
    await asyncio.wait_for(asyncio.gather(running, push), timeout=5)

    release.clear()

    async def push_holding() -> None:
        async with pusher.pushing():
            await release.wait()

    pushing = asyncio.create_task(push_holding())
    await asyncio.sleep(0.2)
    later_pull = asyncio.create_task(_hold(puller.pulling("ben@firm.example")))
    assert await _blocked(later_pull)
    release.set()
    await asyncio.wait_for(asyncio.gather(pushing, later_pull), timeout=5)
    await puller.close()
    await pusher.close()


async def test_a_killed_holder_releases_its_locks(conninfo: str) -> None:
    """A worker that dies loses its connection; PostgreSQL releases what it held."""
    dying, next_one = RunLocks(conninfo), RunLocks(conninfo)
    release = asyncio.Event()

    async def pull() -> None:
        async with dying.pulling("ana@firm.example"):
            await release.wait()

    running = asyncio.create_task(pull())
    await asyncio.sleep(0.2)
    waiting = asyncio.create_task(_hold(next_one.pulling("ana@firm.example")))
    assert await _blocked(waiting)
    connection = dying._connection
    assert connection is not None
    await connection.close()  # what the kernel does for a SIGKILLed worker
    await asyncio.wait_for(waiting, timeout=5)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await next_one.close()


async def _hold(context: object) -> None:
    async with context:  # type: ignore[attr-defined]
        await asyncio.sleep(0)
