"""`SyncEngine`: the one object the runtime service (scheduler, worker, webhooks) drives.

    engine = SyncEngine(session_factory, graph_client)
    await engine.push_pending()          # right after CRM changes (SPEC §2: "at once")
    await engine.pull_mailbox(address)   # on the schedule, or when a webhook says so
    await engine.run_once()              # push, pull every synced mailbox, push again

The engine holds no state of its own between calls: everything lives in the CRM database (links,
cursors, outbox, runs, log), so any number of processes may construct one, and a crash loses
nothing that a later call does not redo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import User
from calsync.crm.services.organization import get_organization
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError
from calsync.sync.runners.common import Checkpoint, Clock, no_checkpoint, system_clock
from calsync.sync.runners.cursors import cursor_for
from calsync.sync.runners.pull import PullReport, PullRunner
from calsync.sync.runners.push import PushReport, PushRunner
from calsync.sync.storage import install_outbox
from calsync.sync.storage.models import CursorStatus


@dataclass
class RunReport:
    """What `run_once` did: the pushes before and after, and each mailbox's pull."""

    pushes: list[PushReport] = field(default_factory=list)
    pulls: list[PullReport] = field(default_factory=list)
    failed_mailboxes: dict[str, str] = field(default_factory=dict)


class SyncEngine:
    """Push and pull over one CRM database and one Graph client."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        graph: GraphClient,
        *,
        clock: Clock = system_clock,
        checkpoint: Checkpoint = no_checkpoint,
    ) -> None:
        install_outbox()
        self._sessions = sessions
        self._clock = clock
        self.push = PushRunner(sessions, graph, clock=clock, checkpoint=checkpoint)
        self.pull = PullRunner(sessions, graph, clock=clock, checkpoint=checkpoint)

    async def push_pending(self) -> PushReport:
        """Drain the outbox: every CRM change not yet in Microsoft 365."""
        return await self.push.push_pending()

    async def pull_mailbox(self, address: str) -> PullReport:
        """Apply one mailbox's changes since its last pull (a full listing the first time)."""
        return await self.pull.pull_mailbox(address)

    def synced_mailboxes(self) -> list[str]:
        """The mailboxes of users with sync switched on, when the organisation syncs at all."""
        with self._sessions() as session:
            if not get_organization(session).sync_enabled:
                session.commit()
                return []
            users = session.scalars(
                select(User).where(User.sync_enabled.is_(True)).order_by(User.id)
            ).all()
            session.commit()
            return [user.email_normalized for user in users]

    async def run_once(self) -> RunReport:
        """Push, pull every synced mailbox, pull again those whose invitations waited for their
        organizer's copy (so the order of mailboxes never matters), then push what remains."""
        report = RunReport()
        report.pushes.append(await self.push_pending())
        waiting: list[str] = []
        for mailbox in self.synced_mailboxes():
            pulled = await self._pull_safely(mailbox, report)
            if pulled is not None and pulled.deferred:
                waiting.append(mailbox)
        for mailbox in waiting:
            await self._pull_safely(mailbox, report)
        report.pushes.append(await self.push_pending())
        return report

    async def _pull_safely(self, mailbox: str, report: RunReport) -> PullReport | None:
        try:
            pulled = await self.pull_mailbox(mailbox)
        except GraphError as error:
            report.failed_mailboxes[mailbox] = str(error)
            return None
        report.pulls.append(pulled)
        return pulled

    def confirm_held_deletions(self, mailbox: str) -> None:
        """An administrator confirms the deletions the mass-deletion guard held (SPEC §9): the
        next run of the mailbox applies them."""
        self._decide(mailbox, confirm=True)

    def discard_held_deletions(self, mailbox: str) -> None:
        """An administrator discards the held deletions (SPEC §9): the next run deletes nothing;
        the events it would have deleted stay where they still exist, unlinked, and a CRM event
        whose Outlook copy is gone shows why it is no longer synced."""
        self._decide(mailbox, confirm=False)

    def _decide(self, mailbox: str, *, confirm: bool) -> None:
        with self._sessions() as session:
            cursor = cursor_for(session, mailbox.strip().lower(), self._clock())
            cursor.deletions_confirmed = confirm
            cursor.deletions_discarded = not confirm
            cursor.status = CursorStatus.OK
            cursor.status_message = None
            session.commit()
