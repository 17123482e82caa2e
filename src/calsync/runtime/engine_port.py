"""What the runtime needs from the sync engine, as a small interface.

`calsync.sync.engine.SyncEngine` provides it; tests may pass an engine of their own (for example one
that records overlapping runs). Reports are read by attribute, so only the counts named here matter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from calsync.graph.client import GraphClient
from calsync.sync.engine import SyncEngine


class PushOutcome(Protocol):
    @property
    def pushed(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def graph_writes(self) -> int: ...


class PullOutcome(Protocol):
    @property
    def crm_writes(self) -> int: ...
    @property
    def graph_writes(self) -> int: ...
    @property
    def deferred(self) -> int: ...
    @property
    def errors(self) -> int: ...


class SyncEngineLike(Protocol):
    """Push the outbox, pull one mailbox, say which mailboxes are synced, and record an
    administrator's decision on held deletions (SPEC §9)."""

    async def push_pending(self) -> PushOutcome: ...

    async def pull_mailbox(self, address: str) -> PullOutcome: ...

    def synced_mailboxes(self) -> list[str]: ...

    def confirm_held_deletions(self, mailbox: str) -> None: ...

    def discard_held_deletions(self, mailbox: str) -> None: ...


EngineFactory = Callable[[sessionmaker[Session], GraphClient], SyncEngineLike]


def build_sync_engine(sessions: sessionmaker[Session], graph: GraphClient) -> SyncEngineLike:
    """The product's engine over the CRM database and one Graph client."""
    return SyncEngine(sessions, graph)
