"""Record a Graph write's intent before sending it: the pending snapshot on links and creates.

A push commits the field values it is about to send (and the CRM version they come from) before
the Graph write, and clears them when it records the outcome. After a crash in between, the next
run recognises the Graph version as our own unrecorded write instead of an Outlook edit, so a newer
CRM edit is not overwritten by the older value we pushed ourselves.

Revision ID: sync_0002
Revises: sync_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sync_0002"
down_revision: str | None = "sync_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("sync_links", "sync_outbox")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("pending_snapshot", sa.JSON(), nullable=True))
            batch.add_column(sa.Column("pending_crm_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pending_crm_version")
            batch.drop_column("pending_snapshot")
