"""A run's sync log lines reach the database in the order they were recorded, with the run's
transaction: an administrator reading the log sees what happened in the order it happened, and a
run that rolls back leaves no lines claiming writes it never made."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from calsync.sync.actions import NoticeCode, Severity, SyncNotice
from calsync.sync.runners.cursors import start_run
from calsync.sync.runners.sync_log import RunLog
from calsync.sync.storage.models import Direction, LogKind, RunKind, SyncLogEntry

MAILBOX = "adele.vance@contoso.com"


def _lines(session: Session) -> list[SyncLogEntry]:
    return list(session.scalars(select(SyncLogEntry).order_by(SyncLogEntry.id)))


def _run(db_session: Session) -> int:
    return start_run(sessionmaker(db_session.get_bind()), RunKind.PULL, MAILBOX)


def test_a_runs_lines_are_written_in_the_order_recorded_with_their_context(
    db_session: Session,
) -> None:
    run_id = _run(db_session)
    log = RunLog(run_id, MAILBOX)
    for number in range(250):
        log.action(
            Direction.MICROSOFT_365_TO_CRM,
            "created_in_crm",
            f"Created CRM event {number} 'Portfolio review' from {MAILBOX}.",
            crm_event_id=number,
            graph_id=f"AAMk-{number}",
        )
    log.notice(
        SyncNotice(
            NoticeCode.CONFLICT_MICROSOFT_365_WON,
            Severity.CONFLICT,
            "Subject was changed in both; Outlook's wins.",
            field="subject",
        ),
        crm_event_id=7,
    )
    log.error("pull_failed", "Microsoft 365 did not answer.", field_name="x" * 80)
    log.write_to(db_session)
    db_session.commit()

    lines = _lines(db_session)
    assert len(lines) == 252
    assert [line.crm_event_id for line in lines[:250]] == list(range(250))
    first = lines[0]
    assert (first.run_id, first.mailbox, first.kind, first.direction, first.severity) == (
        run_id,
        MAILBOX,
        LogKind.ACTION,
        Direction.MICROSOFT_365_TO_CRM,
        "info",
    )
    assert first.graph_id == "AAMk-0"
    assert first.at is not None
    conflict, error = lines[250], lines[251]
    assert (conflict.kind, conflict.field, conflict.code) == (
        LogKind.CONFLICT,
        "subject",
        NoticeCode.CONFLICT_MICROSOFT_365_WON.value,
    )
    assert (error.kind, error.severity, error.field) == (LogKind.ERROR, "error", "x" * 64)
    assert [line.at for line in lines] == sorted(line.at for line in lines)
    assert log.lines == []


def test_lines_of_a_run_that_rolls_back_are_not_kept(db_session: Session) -> None:
    run_id = _run(db_session)
    log = RunLog(run_id, MAILBOX)
    log.action(Direction.MICROSOFT_365_TO_CRM, "created_in_crm", "Created CRM event 1.")
    log.write_to(db_session)
    db_session.rollback()

    assert _lines(db_session) == []


def test_writing_an_empty_log_writes_nothing(db_session: Session) -> None:
    RunLog(None, None).write_to(db_session)
    db_session.commit()

    assert _lines(db_session) == []
