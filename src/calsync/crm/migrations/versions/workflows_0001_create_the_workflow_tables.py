"""Create the workflow tables (definitions, their versions, runs) of `calsync.workflows`.

Revision ID: workflows_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "workflows_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


SUCCEEDED_ONLY = sa.text("status = 'succeeded'")


def upgrade() -> None:
    op.create_table(
        "workflow_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("record_type", _enum("record_type", "individual", "contact"), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "trigger_kind",
            _enum("trigger_kind", "manual", "on_create", "on_field_change"),
            nullable=False,
        ),
        sa.Column("trigger_field", sa.String(length=100), nullable=True),
        sa.Column("trigger_value", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_definitions")),
        sa.UniqueConstraint("name", name=op.f("uq_workflow_definitions_name")),
    )
    op.create_index(
        "ix_workflow_definitions_trigger",
        "workflow_definitions",
        ["record_type", "trigger_kind", "active"],
        unique=False,
    )
    op.create_table(
        "workflow_definition_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_workflow_definition_versions_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["workflow_definitions.id"],
            name=op.f("fk_workflow_definition_versions_definition_id_workflow_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_definition_versions")),
        sa.UniqueConstraint("definition_id", "version", name="uq_workflow_definition_version"),
    )
    op.create_index(
        op.f("ix_workflow_definition_versions_created_by_user_id"),
        "workflow_definition_versions",
        ["created_by_user_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_workflow_definition_versions_definition_id"),
        "workflow_definition_versions",
        ["definition_id"],
        unique=False,
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("definition_version_id", sa.Integer(), nullable=False),
        sa.Column("record_type", _enum("record_type", "individual", "contact"), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column(
            "trigger_kind",
            _enum("trigger_kind", "manual", "on_create", "on_field_change"),
            nullable=False,
        ),
        sa.Column("firing_key", sa.String(length=300), nullable=False),
        sa.Column("status", _enum("status", "succeeded", "failed"), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_field", sa.String(length=200), nullable=True),
        sa.Column("started_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["workflow_definitions.id"],
            name=op.f("fk_workflow_runs_definition_id_workflow_definitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["definition_version_id"],
            ["workflow_definition_versions.id"],
            name=op.f("fk_workflow_runs_definition_version_id_workflow_definition_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_user_id"],
            ["users.id"],
            name=op.f("fk_workflow_runs_started_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index(
        op.f("ix_workflow_runs_definition_id"), "workflow_runs", ["definition_id"], unique=False
    )
    op.create_index(
        op.f("ix_workflow_runs_definition_version_id"),
        "workflow_runs",
        ["definition_version_id"],
        unique=False,
    )
    op.create_index(
        "ix_workflow_runs_record", "workflow_runs", ["record_type", "record_id"], unique=False
    )
    op.create_index(
        op.f("ix_workflow_runs_started_by_user_id"),
        "workflow_runs",
        ["started_by_user_id"],
        unique=False,
    )
    # A trigger firing is answered by at most one successful run (idempotent triggers).
    op.create_index(
        "uq_workflow_runs_succeeded_firing",
        "workflow_runs",
        ["definition_id", "firing_key"],
        unique=True,
        sqlite_where=SUCCEEDED_ONLY,
        postgresql_where=SUCCEEDED_ONLY,
    )


def downgrade() -> None:
    op.drop_table("workflow_runs")
    op.drop_table("workflow_definition_versions")
    op.drop_table("workflow_definitions")
