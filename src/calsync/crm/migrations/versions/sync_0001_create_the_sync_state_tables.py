"""Create the sync engine's tables: links, delta cursors, outbox, runs and the sync log.

Revision ID: sync_0001
Revises: workflows_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sync_0001"
down_revision: str | None = "workflows_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _instant(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_delta_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=True),
        _instant("window_start"),
        _instant("window_end"),
        _instant("last_run_at", nullable=True),
        sa.Column(
            "status", _enum("cursor_status", "ok", "needs_attention", "error"), nullable=False
        ),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("deletions_confirmed", sa.Boolean(), nullable=False),
        sa.Column("deletions_discarded", sa.Boolean(), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_delta_cursors")),
        sa.UniqueConstraint("mailbox", name=op.f("uq_sync_delta_cursors_mailbox")),
    )
    op.create_table(
        "sync_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crm_event_id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("graph_id", sa.String(length=500), nullable=False),
        sa.Column("ical_uid", sa.String(length=500), nullable=True),
        sa.Column("change_key", sa.String(length=200), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("crm_version", sa.Integer(), nullable=False),
        sa.Column("origin", _enum("link_origin", "crm", "microsoft365"), nullable=False),
        sa.Column("is_organizer", sa.Boolean(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("series_master_graph_id", sa.String(length=500), nullable=True),
        sa.Column("base", sa.JSON(), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_links")),
        sa.UniqueConstraint("crm_event_id", name=op.f("uq_sync_links_crm_event_id")),
        sa.UniqueConstraint("mailbox", "graph_id", name="uq_sync_links_mailbox_graph_id"),
    )
    op.create_index(
        "ix_sync_links_mailbox_ical_uid", "sync_links", ["mailbox", "ical_uid"], unique=False
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crm_event_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("outbox_kind", "create", "update", "delete"), nullable=False),
        _instant("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_outbox")),
    )
    op.create_index("ix_sync_outbox_crm_event_id", "sync_outbox", ["crm_event_id"], unique=False)
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("run_kind", "push", "pull"), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=True),
        _instant("started_at"),
        _instant("finished_at", nullable=True),
        sa.Column(
            "status",
            _enum("run_status", "running", "succeeded", "held", "failed"),
            nullable=False,
        ),
        sa.Column("full_resync", sa.Boolean(), nullable=False),
        sa.Column("crm_writes", sa.Integer(), nullable=False),
        sa.Column("graph_writes", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        _instant("at"),
        sa.Column("mailbox", sa.String(length=320), nullable=True),
        sa.Column("crm_event_id", sa.Integer(), nullable=True),
        sa.Column("graph_id", sa.String(length=500), nullable=True),
        sa.Column(
            "kind", _enum("log_kind", "action", "conflict", "notice", "error"), nullable=False
        ),
        sa.Column(
            "direction",
            _enum("direction", "crm_to_microsoft365", "microsoft365_to_crm", "none"),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_log_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    op.create_index(op.f("ix_sync_log_run_id"), "sync_log", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_log_run_id"), table_name="sync_log")
    op.drop_table("sync_log")
    op.drop_table("sync_runs")
    op.drop_index("ix_sync_outbox_crm_event_id", table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_index("ix_sync_links_mailbox_ical_uid", table_name="sync_links")
    op.drop_table("sync_links")
    op.drop_table("sync_delta_cursors")
