"""The workflow tables, on the CRM's declarative base.

- `WorkflowDefinition`: one row per workflow, named uniquely. It mirrors the trigger of its current
  version in columns so that "which workflows react to this change?" is one indexed query.
- `WorkflowDefinitionVersion`: every saved edit is a new, immutable version holding the definition's
  JSON as written. Runs point at the version they used, so editing a workflow never changes a run
  already made.
- `WorkflowRun`: one row per run, successful or not: the version, the record, the trigger firing it
  answered, the events it created or the error that stopped it. A trigger firing is answered by at
  most one successful run — a partial unique index on (definition, firing key) among succeeded runs
  — so a retried trigger cannot create a second meeting, while a firing whose run failed may be
  retried once the record is fixed.

Importing this module registers the tables on `calsync.crm.models.Base.metadata`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from calsync.crm.models import Base, RecordType
from calsync.crm.models.base import Timestamped, enum_column, utc_now


class TriggerKind(enum.StrEnum):
    """What starts a workflow: a person (manual), a record being created, a field changing."""

    MANUAL = "manual"
    ON_CREATE = "on_create"
    ON_FIELD_CHANGE = "on_field_change"


class RunStatus(enum.StrEnum):
    """A run either created all of its events or none of them."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WorkflowDefinition(Base, Timestamped):
    """A workflow; its content lives in its versions, the newest being `current_version`."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (
        Index("ix_workflow_definitions_trigger", "record_type", "trigger_kind", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    record_type: Mapped[RecordType] = mapped_column(enum_column(RecordType, "record_type"))
    current_version: Mapped[int] = mapped_column(default=1)
    # Copied from the current version, for finding the workflows a record change triggers.
    active: Mapped[bool] = mapped_column(default=True)
    trigger_kind: Mapped[TriggerKind] = mapped_column(enum_column(TriggerKind, "trigger_kind"))
    trigger_field: Mapped[str | None] = mapped_column(String(100))
    trigger_value: Mapped[str | None] = mapped_column(String(500))

    versions: Mapped[list[WorkflowDefinitionVersion]] = relationship(
        back_populates="definition",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WorkflowDefinitionVersion.version",
    )


class WorkflowDefinitionVersion(Base):
    """One saved version of a workflow: its definition JSON exactly as accepted. Never updated."""

    __tablename__ = "workflow_definition_versions"
    __table_args__ = (
        UniqueConstraint("definition_id", "version", name="uq_workflow_definition_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    definition: Mapped[WorkflowDefinition] = relationship(back_populates="versions")


class WorkflowRun(Base):
    """One run of one workflow version on one record."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index(
            "uq_workflow_runs_succeeded_firing",
            "definition_id",
            "firing_key",
            unique=True,
            sqlite_where=text("status = 'succeeded'"),
            postgresql_where=text("status = 'succeeded'"),
        ),
        Index("ix_workflow_runs_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"), index=True
    )
    definition_version_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_definition_versions.id", ondelete="CASCADE"), index=True
    )
    record_type: Mapped[RecordType] = mapped_column(enum_column(RecordType, "record_type"))
    record_id: Mapped[int]
    trigger_kind: Mapped[TriggerKind] = mapped_column(enum_column(TriggerKind, "trigger_kind"))
    # Identifies the trigger firing this run answers; the same firing retried carries the same key.
    firing_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "status"))
    # The instant the run's start times were computed from.
    run_at: Mapped[datetime]
    # The CRM events created, in step order (empty for a failed run).
    event_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    error_code: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_field: Mapped[str | None] = mapped_column(String(200))
    started_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    definition: Mapped[WorkflowDefinition] = relationship()
    version: Mapped[WorkflowDefinitionVersion] = relationship()
