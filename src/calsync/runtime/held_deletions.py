"""Held deletions (SPEC §9): what the mass-deletion guard stopped, for the administrator to decide.

When a run would delete most of a mailbox's synced events the engine deletes nothing, marks the
mailbox `needs_attention` and waits for `confirm_held_deletions` or `discard_held_deletions`. An
administrator cannot decide well on a count alone, so this module says *which* events wait:

- **Deleted in the CRM, waiting to be deleted in Microsoft 365**: exact and current. Those are the
  outbox entries of CRM events that no longer exist, whose link is in the mailbox (the push keeps
  them while the guard holds).
- **Deleted in Microsoft 365, waiting to be deleted in the CRM**: the pull does not keep the list of
  what it held, so after a held pull the runtime asks Microsoft 365 once per hold
  (`list_removed_in_microsoft365`): it reads the same delta round again (the held run did not move
  the cursor) and checks each linked event reported removed — or, for a full listing, each linked
  event missing from it — with a GET, as the pull does: only a 404 proves a deletion. The result
  is written to the sync log (`deletion_held` per event, `held_deletions_listed` once), so the API,
  the pages and the CLI read it without calling Microsoft 365, in any process.

A hold lasts from the first held pull after the mailbox's last pull that was not held until an
administrator decides (the engine sets the mailbox back to `ok`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import Event, User
from calsync.graph.client import GraphClient
from calsync.graph.errors import NotFound, ResyncRequired
from calsync.runtime.errors import SyncServiceError
from calsync.sync.errors import SyncError
from calsync.sync.fields import AllDaySpan
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    Direction,
    LogKind,
    OutboxEntry,
    RunKind,
    RunStatus,
    SyncLinkRecord,
    SyncLogEntry,
    SyncRun,
)
from calsync.sync.storage.snapshots import snapshot_from_json

# Sync log codes of the list written after a held pull.
HELD_EVENT_CODE = "deletion_held"
LISTED_CODE = "held_deletions_listed"

Side = Literal["crm", "microsoft365"]
"""Where confirming a held deletion deletes the event."""
CRM: Side = "crm"
MICROSOFT_365: Side = "microsoft365"


class NothingHeldError(SyncServiceError):
    """Confirm or discard asked for a mailbox whose runs hold no deletions."""

    code = "nothing_held"
    status = 409

    def __init__(self, mailbox: str, *, field: str = "user_id") -> None:
        super().__init__(
            f"no deletions are held for {mailbox}: its runs are not waiting for an administrator",
            field=field,
        )


@dataclass(frozen=True)
class HeldEvent:
    """One event a held run would delete, as a person recognises it."""

    crm_event_id: int
    graph_id: str
    subject: str
    start: datetime | date | None
    would_be_deleted_from: Side

    def describe(self) -> str:
        """ "“Annual review” (2026-12-03 15:00 UTC)", for log lines and the shell."""
        subject = f"“{self.subject}”" if self.subject else "(no subject)"
        if isinstance(self.start, datetime):
            return f"{subject} ({self.start.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        if isinstance(self.start, date):
            return f"{subject} ({self.start.isoformat()}, all day)"
        return subject


@dataclass(frozen=True)
class HeldDeletions:
    """A mailbox waiting for an administrator: the guard's message and the events at stake.

    `listed` is False while the Microsoft 365 side has not been listed yet (the next held run
    does it) or could not be (the mailbox unreachable); `message` still gives the guard's counts.
    """

    user_id: int | None
    name: str
    mailbox: str
    message: str
    events: tuple[HeldEvent, ...]
    listed: bool

    @property
    def count(self) -> int:
        return len(self.events)


def held_deletions(session: Session, mailbox: str) -> HeldDeletions | None:
    """What `mailbox`'s runs hold, or None when the mailbox is not waiting for a decision."""
    mailbox = mailbox.strip().lower()
    cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == mailbox))
    if cursor is None or cursor.status is not CursorStatus.NEEDS_ATTENTION:
        return None
    user = session.scalar(select(User).where(User.email_normalized == mailbox))
    listed, removed_in_microsoft365 = _listed_removals(session, mailbox)
    return HeldDeletions(
        user_id=user.id if user is not None else None,
        name=user.name if user is not None else mailbox,
        mailbox=mailbox,
        message=cursor.status_message or "",
        events=(*_deleted_in_crm(session, mailbox), *removed_in_microsoft365),
        listed=listed,
    )


def all_held_deletions(session: Session) -> list[HeldDeletions]:
    """Every mailbox waiting for an administrator, by mailbox address."""
    mailboxes = session.scalars(
        select(DeltaCursor.mailbox)
        .where(DeltaCursor.status == CursorStatus.NEEDS_ATTENTION)
        .order_by(DeltaCursor.mailbox)
    ).all()
    return [held for held in (held_deletions(session, m) for m in mailboxes) if held is not None]


def require_held(session: Session, mailbox: str, *, field: str = "user_id") -> HeldDeletions:
    """`held_deletions`, refusing with `NothingHeldError` (409, naming `field`) when nothing
    waits."""
    held = held_deletions(session, mailbox)
    if held is None:
        raise NothingHeldError(mailbox.strip().lower(), field=field)
    return held


def _deleted_in_crm(session: Session, mailbox: str) -> list[HeldEvent]:
    """CRM events deleted in the CRM whose deletion waits in the outbox for this mailbox."""
    gone = ~exists().where(Event.id == OutboxEntry.crm_event_id)
    links = session.scalars(
        select(SyncLinkRecord)
        .where(
            SyncLinkRecord.mailbox == mailbox,
            SyncLinkRecord.crm_event_id.in_(select(OutboxEntry.crm_event_id).where(gone)),
        )
        .order_by(SyncLinkRecord.crm_event_id)
    ).all()
    return [_held_event(link, MICROSOFT_365) for link in links]


def _hold_started_after(session: Session, mailbox: str) -> int:
    """The id of the mailbox's last pull that was not held: the current hold began after it."""
    last_clear = session.scalar(
        select(func.max(SyncRun.id)).where(
            SyncRun.kind == RunKind.PULL,
            SyncRun.mailbox == mailbox,
            SyncRun.status.in_((RunStatus.SUCCEEDED, RunStatus.FAILED)),
        )
    )
    return int(last_clear or 0)


def _listed_removals(session: Session, mailbox: str) -> tuple[bool, list[HeldEvent]]:
    """The Microsoft 365 deletions written to the log for the current hold, if listed yet."""
    since = _hold_started_after(session, mailbox)
    lines = session.scalars(
        select(SyncLogEntry).where(
            SyncLogEntry.mailbox == mailbox,
            SyncLogEntry.code.in_((HELD_EVENT_CODE, LISTED_CODE)),
            SyncLogEntry.run_id > since,
        )
    ).all()
    listed = any(line.code == LISTED_CODE for line in lines)
    event_ids = sorted({line.crm_event_id for line in lines if line.crm_event_id is not None})
    links = session.scalars(
        select(SyncLinkRecord)
        .where(SyncLinkRecord.mailbox == mailbox, SyncLinkRecord.crm_event_id.in_(event_ids))
        .order_by(SyncLinkRecord.crm_event_id)
    ).all()
    return listed, [_held_event(link, CRM) for link in links]


def _held_event(link: SyncLinkRecord, would_be_deleted_from: Side) -> HeldEvent:
    subject = ""
    start: datetime | date | None = None
    try:
        snapshot = snapshot_from_json(link.base)
    except SyncError:
        pass  # an unreadable merge base still names the event by its ids
    else:
        subject = snapshot.subject
        timing = snapshot.timing
        start = timing.first_day if isinstance(timing, AllDaySpan) else timing.start
    return HeldEvent(link.crm_event_id, link.graph_id, subject, start, would_be_deleted_from)


# ----- after a held pull: list what Microsoft 365 deleted ------------------------------------


def needs_listing(session: Session, mailbox: str) -> bool:
    """Whether the mailbox waits for an administrator and its Microsoft 365 deletions have not
    been listed for the current hold."""
    cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == mailbox))
    if cursor is None or cursor.status is not CursorStatus.NEEDS_ATTENTION:
        return False
    latest_held = _latest_held_pull(session, mailbox)
    if latest_held is None:
        return False  # held by a push: the outbox lists those deletions exactly
    listed, _ = _listed_removals(session, mailbox)
    return not listed


def _latest_held_pull(session: Session, mailbox: str) -> int | None:
    return session.scalar(
        select(func.max(SyncRun.id)).where(
            SyncRun.kind == RunKind.PULL,
            SyncRun.mailbox == mailbox,
            SyncRun.status == RunStatus.HELD,
            SyncRun.id > _hold_started_after(session, mailbox),
        )
    )


async def list_removed_in_microsoft365(
    sessions: sessionmaker[Session], graph: GraphClient, mailbox: str
) -> int:
    """Ask Microsoft 365 which of the mailbox's linked events the held pull saw deleted, and
    write them to the sync log of that run; returns how many. Graph errors propagate (nothing is
    written, and the next held run tries again)."""
    with sessions() as session:
        run_id = _latest_held_pull(session, mailbox)
        cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == mailbox))
        if run_id is None or cursor is None:
            return 0
        delta_link = cursor.delta_link
        window_start, window_end = cursor.window_start, cursor.window_end
        links = {
            link.graph_id: link
            for link in session.scalars(
                select(SyncLinkRecord).where(SyncLinkRecord.mailbox == mailbox)
            )
        }
        session.commit()
    candidates = await _removal_candidates(
        graph, mailbox, delta_link, window_start, window_end, set(links)
    )
    removed: list[HeldEvent] = []
    for graph_id in sorted(candidates):
        try:
            await graph.get_event(mailbox, graph_id)
        except NotFound:
            removed.append(_held_event(links[graph_id], CRM))
    with sessions() as session:
        for event in removed:
            session.add(
                _log_line(
                    run_id,
                    mailbox,
                    HELD_EVENT_CODE,
                    f"{event.describe()} was deleted in Microsoft 365; deleting it from the CRM "
                    "waits for an administrator.",
                    crm_event_id=event.crm_event_id,
                    graph_id=event.graph_id,
                )
            )
        session.add(
            _log_line(
                run_id,
                mailbox,
                LISTED_CODE,
                f"{len(removed)} synced events of {mailbox} were deleted in Microsoft 365 and wait "
                "for an administrator to confirm or discard their deletion from the CRM.",
            )
        )
        session.commit()
    return len(removed)


async def _removal_candidates(
    graph: GraphClient,
    mailbox: str,
    delta_link: str | None,
    window_start: datetime,
    window_end: datetime,
    linked: set[str],
) -> set[str]:
    """Linked Graph ids the held round reported removed (or, for a full listing, did not list)."""
    if delta_link is not None:
        try:
            removed: set[str] = set()
            async for page in graph.delta_round(mailbox, delta_link=delta_link):
                removed.update(item.id for item in page.value if item.is_removed)
            return removed & linked
        except ResyncRequired:
            pass  # the link died meanwhile: compare a full listing, as the pull's resync does
    listed: set[str] = set()
    async for page in graph.delta_round(mailbox, start=window_start, end=window_end):
        listed.update(item.id for item in page.value if not item.is_removed)
    return linked - listed


def _log_line(
    run_id: int,
    mailbox: str,
    code: str,
    message: str,
    *,
    crm_event_id: int | None = None,
    graph_id: str | None = None,
) -> SyncLogEntry:
    return SyncLogEntry(
        run_id=run_id,
        mailbox=mailbox,
        crm_event_id=crm_event_id,
        graph_id=graph_id,
        kind=LogKind.NOTICE,
        direction=Direction.NONE,
        code=code,
        severity="warning",
        message=message,
    )
