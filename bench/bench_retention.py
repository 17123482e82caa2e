"""Sync log retention: how fast expired history is pruned, and how long each batch holds the lock.

A SQLite CRM database (migrated) gets `--lines` sync log lines spread over the last `--days` days,
written by runs of 20 lines each, with the default retention of 90 days; then the sync service's
pruning (`SyncRuntime.prune_sync_history`, batches of 500 rows, one per engine turn) removes what
is older. Printed: rows removed per second, the number of batches, and the longest and median
batch (each batch is one write transaction: the time a concurrent push or pull could wait for
SQLite's lock), plus the same for a second pruning with nothing expired (the daily no-op).

Run: .venv/bin/python bench/bench_retention.py [--lines 200000] [--days 365]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.runtime import retention
from calsync.runtime import service as service_module
from calsync.runtime.connection import GraphEndpoints
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from calsync.sync.storage.models import SyncLogEntry, SyncRun

LINES_PER_RUN = 20


def _fill(session: Session, lines: int, days: int, now: datetime) -> None:
    """`lines` log lines in runs of LINES_PER_RUN, evenly spread over the last `days` days."""
    runs = max(lines // LINES_PER_RUN, 1)
    step = timedelta(days=days) / runs
    run_rows = [
        {
            "kind": "pull",
            "mailbox": f"advisor{number % 50}@harborview.example",
            "started_at": now - timedelta(days=days) + step * number,
            "finished_at": now - timedelta(days=days) + step * number,
            "status": "succeeded",
            "full_resync": False,
            "crm_writes": LINES_PER_RUN,
            "graph_writes": 0,
        }
        for number in range(runs)
    ]
    session.execute(insert(SyncRun), run_rows)
    run_ids = session.scalars(select(SyncRun.id).order_by(SyncRun.id)).all()
    batch: list[dict[str, object]] = []
    for number, run_id in enumerate(run_ids):
        at = now - timedelta(days=days) + step * number
        for line in range(LINES_PER_RUN):
            batch.append(
                {
                    "run_id": run_id,
                    "at": at,
                    "mailbox": f"advisor{number % 50}@harborview.example",
                    "kind": "action",
                    "direction": "microsoft365_to_crm",
                    "code": "updated_in_crm",
                    "severity": "info",
                    "message": f"Updated 'Client meeting {number}-{line}' from Outlook.",
                }
            )
        if len(batch) >= 10_000:
            session.execute(insert(SyncLogEntry), batch)
            batch.clear()
    if batch:
        session.execute(insert(SyncLogEntry), batch)
    session.commit()


class _TimedBatches:
    """Wraps `retention.prune_batch` to time each batch (one write transaction)."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._original = retention.prune_batch

    def __call__(self, *args: object, **kwargs: object) -> bool:
        started = time.perf_counter()
        more = self._original(*args, **kwargs)  # type: ignore[arg-type]
        self.durations.append(time.perf_counter() - started)
        return more


async def _prune(runtime: SyncRuntime) -> tuple[retention.PruneReport, float]:
    started = time.perf_counter()
    report = await runtime.prune_sync_history()
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    options = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'calsync.sqlite3'}"
        upgrade_database(url)
        engine = create_database_engine(url)
        sessions = create_session_factory(engine)
        with sessions() as session:
            _fill(session, options.lines, options.days, now)
        runtime = SyncRuntime(
            sessions,
            endpoints=GraphEndpoints.from_environment(),
            box=SecretBox([Fernet.generate_key()]),
        )
        timed = _TimedBatches()
        service_module.prune_batch = timed  # type: ignore[assignment]
        report, elapsed = asyncio.run(_prune(runtime))
        removed = report.log_lines + report.runs
        with sessions() as session:
            kept = session.scalar(select(func.count()).select_from(SyncLogEntry)) or 0
        print(f"history: {options.lines} log lines over {options.days} days, retention 90 days")
        print(f"pruned: {report.log_lines} log lines and {report.runs} runs in {elapsed:.2f} s")
        print(f"rate: {removed / elapsed:,.0f} rows/s; kept {kept} log lines")
        print(
            f"batches: {len(timed.durations)}; per batch median "
            f"{statistics.median(timed.durations) * 1000:.1f} ms, "
            f"max {max(timed.durations) * 1000:.1f} ms"
        )
        timed.durations.clear()
        _, again = asyncio.run(_prune(runtime))
        print(f"daily no-op pruning: {again * 1000:.1f} ms in {len(timed.durations)} batch(es)")
        engine.dispose()


if __name__ == "__main__":
    main()
