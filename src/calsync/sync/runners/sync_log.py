"""The sync log of a run: every write, conflict, notice and error, in words a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from calsync.sync.actions import SyncNotice
from calsync.sync.storage.models import Direction, LogKind, SyncLogEntry


@dataclass
class RunLog:
    """Collects one run's log lines; `write_to` adds them to the run's final transaction."""

    run_id: int | None
    mailbox: str | None
    lines: list[SyncLogEntry] = field(default_factory=list)

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
            SyncLogEntry(
                run_id=self.run_id,
                mailbox=self.mailbox,
                crm_event_id=crm_event_id,
                graph_id=graph_id,
                kind=kind,
                direction=direction,
                code=code[:64],
                severity=severity,
                field=field_name[:64] if field_name else None,
                message=message,
            )
        )

    def write_to(self, session: Session) -> None:
        session.add_all(self.lines)
        self.lines = []
