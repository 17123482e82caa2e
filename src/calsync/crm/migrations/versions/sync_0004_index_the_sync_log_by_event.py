"""The sync log indexed by CRM event: an event's page lists that event's sync history.

Revision ID: sync_0004
Revises: sync_0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "sync_0004"
down_revision: str | None = "sync_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_sync_log_crm_event_id"), "sync_log", ["crm_event_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_log_crm_event_id"), table_name="sync_log")
