"""Sync Settings: how many days the sync log and the record of sync runs are kept (default 90).

Revision ID: sync_0003
Revises: sync_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sync_0003"
down_revision: str | None = "sync_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(
            sa.Column("sync_log_retention_days", sa.Integer(), nullable=False, server_default="90")
        )
        batch.create_check_constraint(
            op.f("ck_organization_sync_log_retention_positive"),
            sa.text("sync_log_retention_days > 0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.drop_constraint(op.f("ck_organization_sync_log_retention_positive"), type_="check")
        batch.drop_column("sync_log_retention_days")
