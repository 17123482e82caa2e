"""The sync log of a run: every write, conflict, notice and error, in words a person can act on.

A run collects its lines as plain rows and writes them with one multi-row insert in its final
transaction (`BulkInsert`: the rows go to the driver as tuples, all stamped with the time of the
insert). An initial import logs a line per created event; as ORM objects those lines cost more
than the events' own inserts (object construction, then a flush of one INSERT each), see
docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from calsync.crm.bulk_insert import BulkInsert
from calsync.crm.models.base import utc_now
from calsync.crm.services.event_import import table_of
from calsync.sync.actions import SyncNotice
from calsync.sync.storage.models import Direction, LogKind, SyncLogEntry


@dataclass
class RunLog:
    """Collects one run's log lines (rows of `sync_log`); `write_to` inserts them in the run's
    final transaction, in the order they were recorded."""

    run_id: int | None
    mailbox: str | None
    # Rows in `_LOG_COLUMNS` order; `write_to` gives them all the time of the insert.
    lines: list[tuple[Any, ...]] = field(default_factory=list)

    def action(
        self,
        direction: Direction,
        code: str,
        message: str,
        *,
        crm_event_id: int | None = None,
        graph_id: str | None = None,
    ) -> None:
        self._add(LogKind.ACTION, direction, code, "info", message, crm_event_id, graph_id, None)

    def notice(
        self, notice: SyncNotice, *, crm_event_id: int | None = None, graph_id: str | None = None
    ) -> None:
        kind = LogKind.CONFLICT if notice.severity.value == "conflict" else LogKind.NOTICE
        self._add(
            kind,
            Direction.NONE,
            notice.code.value,
            notice.severity.value,
            notice.message,
            crm_event_id,
            graph_id,
            notice.field,
        )

    def error(
        self,
        code: str,
        message: str,
        *,
        crm_event_id: int | None = None,
        graph_id: str | None = None,
        field_name: str | None = None,
    ) -> None:
        self._add(
            LogKind.ERROR,
            Direction.NONE,
            code,
            "error",
            message,
            crm_event_id,
            graph_id,
            field_name,
        )

    def _add(
        self,
        kind: LogKind,
        direction: Direction,
        code: str,
        severity: str,
        message: str,
        crm_event_id: int | None,
        graph_id: str | None,
        field_name: str | None,
    ) -> None:
        self.lines.append(
            (
                self.run_id,
                self.mailbox,
                crm_event_id,
                graph_id,
                kind,
                direction,
                code[:64],
                severity,
                field_name[:64] if field_name else None,
                message,
            )
        )

    def write_to(self, session: Session) -> None:
        """Insert the collected lines now, in `session`'s transaction (they commit or roll back
        with it), and start collecting afresh."""
        _LOG.execute(session, self.lines, (utc_now(),))
        self.lines = []


_LOG_COLUMNS = (
    "run_id",
    "mailbox",
    "crm_event_id",
    "graph_id",
    "kind",
    "direction",
    "code",
    "severity",
    "field",
    "message",
)
_LOG = BulkInsert(table_of(SyncLogEntry), _LOG_COLUMNS, shared=("at",))
