"""The sync engine's tables in the CRM database: links, delta cursors, the outbox, runs and the log.

They live next to the CRM's own tables (same declarative base, same Alembic chain) because the
engine's guarantees rest on sharing transactions with them: an outbox entry is written in the same
transaction as the CRM change it announces, and a pulled change, its link and the mailbox's new
deltaLink are committed together, so a crash replays work instead of losing or doubling it.

`crm_event_id` columns are deliberately not foreign keys: a link and a delete entry must outlive the
CRM event they name, since "this event was deleted in the CRM" is exactly what they record.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from calsync.crm.models import Base
from calsync.crm.models.base import Timestamped, enum_column, utc_now


class LinkOrigin(enum.StrEnum):
    """Where the linked event was first created (the core's `Origin`)."""

    CRM = "crm"
    MICROSOFT_365 = "microsoft365"


class SyncLinkRecord(Base, Timestamped):
    """One synced event: a CRM event ↔ one Graph event in one mailbox, plus the merge base.

    `etag` is what If-Match needs (Graph's `@odata.etag`); `change_key` is kept for people reading
    the table. `base` is the JSON of the snapshot both sides agreed on after the last sync.
    """

    __tablename__ = "sync_links"
    __table_args__ = (
        UniqueConstraint("mailbox", "graph_id", name="uq_sync_links_mailbox_graph_id"),
        Index("ix_sync_links_mailbox_ical_uid", "mailbox", "ical_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_event_id: Mapped[int] = mapped_column(unique=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    graph_id: Mapped[str] = mapped_column(String(500))
    ical_uid: Mapped[str | None] = mapped_column(String(500))
    change_key: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(200))
    crm_version: Mapped[int]
    origin: Mapped[LinkOrigin] = mapped_column(enum_column(LinkOrigin, "link_origin"))
    is_organizer: Mapped[bool] = mapped_column(default=True)
    event_type: Mapped[str] = mapped_column(String(32), default="singleInstance")
    series_master_graph_id: Mapped[str | None] = mapped_column(String(500))
    base: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The write in flight: committed before a PATCH is sent, cleared when its outcome is recorded.
    # A crash in between leaves it, so the next run can tell our own unrecorded write from an
    # Outlook edit (docs/sync-engine.md, "Writes in flight").
    pending_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_crm_version: Mapped[int | None]


class CursorStatus(enum.StrEnum):
    """How a mailbox's pull stands; `needs_attention` waits for an administrator (SPEC §9)."""

    OK = "ok"
    NEEDS_ATTENTION = "needs_attention"
    ERROR = "error"


class DeltaCursor(Base, Timestamped):
    """Where the pull of one mailbox stands: its deltaLink, window, last run and status."""

    __tablename__ = "sync_delta_cursors"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320), unique=True)
    delta_link: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    status: Mapped[CursorStatus] = mapped_column(
        enum_column(CursorStatus, "cursor_status"), default=CursorStatus.OK
    )
    status_message: Mapped[str | None] = mapped_column(Text)
    # An administrator's decision on the deletions a held run wanted, used by the next run once:
    # confirmed (apply them) or discarded (keep both sides' events, unlinked).
    deletions_confirmed: Mapped[bool] = mapped_column(default=False)
    deletions_discarded: Mapped[bool] = mapped_column(default=False)


class OutboxKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class OutboxEntry(Base):
    """A CRM change waiting to be pushed to Microsoft 365, written in the change's transaction."""

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_crm_event_id", "crm_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_event_id: Mapped[int]
    owner_id: Mapped[int]
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind, "outbox_kind"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # On a create entry: the snapshot the POST sends, committed before it is sent, so a re-link
    # after a crash merges against what was created instead of letting it override newer CRM edits.
    pending_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_crm_version: Mapped[int | None]


class RunKind(enum.StrEnum):
    PUSH = "push"
    PULL = "pull"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    HELD = "held"
    FAILED = "failed"


class SyncRun(Base):
    """One push or one pull of one mailbox: when, how it ended, and how much it wrote."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(enum_column(RunKind, "run_kind"))
    mailbox: Mapped[str | None] = mapped_column(String(320))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "run_status"), default=RunStatus.RUNNING
    )
    full_resync: Mapped[bool] = mapped_column(default=False)
    crm_writes: Mapped[int] = mapped_column(default=0)
    graph_writes: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)


class Direction(enum.StrEnum):
    CRM_TO_MICROSOFT_365 = "crm_to_microsoft365"
    MICROSOFT_365_TO_CRM = "microsoft365_to_crm"
    NONE = "none"


class LogKind(enum.StrEnum):
    ACTION = "action"
    CONFLICT = "conflict"
    NOTICE = "notice"
    ERROR = "error"


class SyncLogEntry(Base):
    """One line of the sync log: a write, a conflict, a notice or an error, for a person to read."""

    __tablename__ = "sync_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utc_now)
    mailbox: Mapped[str | None] = mapped_column(String(320))
    crm_event_id: Mapped[int | None] = mapped_column(index=True)
    graph_id: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[LogKind] = mapped_column(enum_column(LogKind, "log_kind"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    field: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
