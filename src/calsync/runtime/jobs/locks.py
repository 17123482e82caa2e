"""PostgreSQL advisory locks: no mailbox is pulled twice at once, and no push overlaps a pull, in
any process on any machine.

procrastinate's job locks already keep the jobs of one mailbox in turn; these locks are the
engine's own guarantee, held for exactly the length of a run, so even two jobs that slipped
through (a stalled job retried while its worker was only slow) cannot overlap:

- a pull holds its mailbox's lock (exclusive), then the engine lock **shared**;
- a push (it drains the outbox of every mailbox) holds the engine lock **exclusive**: it waits
  for the running pulls to finish, and pulls wait for it. So a push never saves a link while a
  pull of the same event's mailbox is between its Graph read and its commit — the same rule the
  single-process runtime keeps by running one engine call at a time.

The locks live on a connection of their own (session-level advisory locks), so the engine's
transactions commit and roll back freely while they are held. A worker killed mid-run loses its
connection and PostgreSQL releases its locks at once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import LiteralString

import psycopg

# Two-key advisory locks (int4, int4): the first key says what is locked ("CSMB" a mailbox,
# "CSEN" the engine), so CalSync's locks never collide with another application's.
MAILBOX_NAMESPACE = 0x43534D42
ENGINE_NAMESPACE = 0x4353454E


def mailbox_key(mailbox: str) -> int:
    """A stable int4 for `mailbox` (two mailboxes sharing one only take turns: harmless)."""
    digest = hashlib.blake2b(mailbox.strip().lower().encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class RunLocks:
    """The advisory locks of one worker process, on one dedicated connection."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        # One holder at a time on the shared connection (a worker runs one engine call at once).
        self._turn = asyncio.Lock()

    async def _connected(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed or self._connection.broken:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True
            )
        return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @asynccontextmanager
    async def pulling(self, mailbox: str) -> AsyncIterator[None]:
        """Hold `mailbox` exclusively and the engine shared while the block pulls it."""
        key = mailbox_key(mailbox)
        async with self._turn:
            connection = await self._connected()
            await connection.execute("SELECT pg_advisory_lock(%s, %s)", (MAILBOX_NAMESPACE, key))
            try:
                await connection.execute(
                    "SELECT pg_advisory_lock_shared(%s, 0)", (ENGINE_NAMESPACE,)
                )
                try:
                    yield
                finally:
                    await _quietly(
                        connection, "SELECT pg_advisory_unlock_shared(%s, 0)", (ENGINE_NAMESPACE,)
                    )
            finally:
                await _quietly(
                    connection, "SELECT pg_advisory_unlock(%s, %s)", (MAILBOX_NAMESPACE, key)
                )

    @asynccontextmanager
    async def pushing(self) -> AsyncIterator[None]:
        """Hold the engine exclusively while the block drains the outbox."""
        async with self._turn:
            connection = await self._connected()
            await connection.execute("SELECT pg_advisory_lock(%s, 0)", (ENGINE_NAMESPACE,))
            try:
                yield
            finally:
                await _quietly(connection, "SELECT pg_advisory_unlock(%s, 0)", (ENGINE_NAMESPACE,))


async def _quietly(
    connection: psycopg.AsyncConnection[tuple[object, ...]],
    statement: LiteralString,
    params: tuple[int, ...],
) -> None:
    """Release a lock; if the connection broke, PostgreSQL released it already."""
    try:
        await connection.execute(statement, params)
    except psycopg.Error:
        await connection.close()
