"""procrastinate's tables in the CRM database: installed, upgraded, checked.

The job queue's schema belongs to procrastinate, not to CalSync's Alembic chain: it ships a full
schema (`SchemaManager.apply_schema`) and one SQL file per change (its `sql/migrations`). CalSync
records which procrastinate version the installed schema matches in `calsync_job_schema`, then:

- no queue tables yet → procrastinate's schema is applied and the version recorded;
- recorded version older than the installed procrastinate → its migration files newer than the
  record are applied in order (each version's `pre` files before its `post` files, as the file
  names sort), then the record moves on;
- the same version → nothing (so running it at every start costs one query);
- newer than the installed procrastinate → refused: an older CalSync must not run against a
  queue a newer one upgraded.

Every worker and every `calsync serve` in jobs mode calls `install_job_schema` at start, under a
PostgreSQL advisory lock, so processes starting together install it once.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager

from calsync.runtime.jobs.connection import conninfo_of
from calsync.runtime.jobs.settings import JobsConfigurationError

# Key of the advisory lock that serialises installers (two int4 keys: "CSJS", 1).
_INSTALL_LOCK = (0x43534A53, 1)
_VERSION_TABLE = "calsync_job_schema"
_MIGRATION_NAME = re.compile(r"^(\d+)\.(\d+)\.(\d+)_(\d+)_.*\.sql$")

Version = tuple[int, int, int]


def procrastinate_version() -> Version:
    """The installed procrastinate's version, as the tuple its migration names use."""
    return _version_of(importlib.metadata.version("procrastinate"))


def _version_of(text: str) -> Version:
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]]
    numbers += [0] * (3 - len(numbers))
    return (numbers[0], numbers[1], numbers[2])


def _shown(version: Version) -> str:
    return ".".join(str(part) for part in version)


def pending_migrations(installed: Version, target: Version, directory: Path) -> list[Path]:
    """procrastinate's migration files after `installed` up to `target`, in the order to apply."""
    chosen: list[tuple[Version, int, Path]] = []
    for path in directory.glob("*.sql"):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            continue
        version = (int(match[1]), int(match[2]), int(match[3]))
        if installed < version <= target:
            chosen.append((version, int(match[4]), path))
    return [path for _, _, path in sorted(chosen)]


def install_job_schema(database_url: str) -> str:
    """Install or upgrade the job queue's tables; returns what was done, for a log line."""
    target = procrastinate_version()
    with psycopg.connect(conninfo_of(database_url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s, %s)", _INSTALL_LOCK)
        try:
            return _install(connection, target)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", _INSTALL_LOCK)


def _install(connection: psycopg.Connection[tuple[object, ...]], target: Version) -> str:
    connection.execute(f"CREATE TABLE IF NOT EXISTS {_VERSION_TABLE} (version text NOT NULL)")
    row = connection.execute(f"SELECT version FROM {_VERSION_TABLE}").fetchone()
    has_queue = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if row is None and (has_queue is None or has_queue[0] is None):
        with connection.transaction():
            connection.execute(SchemaManager.get_schema())
            _record(connection, target)
        return f"installed the job queue (procrastinate {_shown(target)})"
    if row is None:
        raise JobsConfigurationError(
            "the database has procrastinate tables CalSync did not install (no "
            f"{_VERSION_TABLE} record); drop them or record their version there",
            field=_VERSION_TABLE,
        )
    installed = _version_of(str(row[0]))
    if installed == target:
        return f"the job queue is up to date (procrastinate {_shown(target)})"
    if installed > target:
        raise JobsConfigurationError(
            f"the job queue was upgraded to procrastinate {_shown(installed)} by a newer "
            f"CalSync; this one has {_shown(target)}: upgrade this installation",
            field=_VERSION_TABLE,
        )
    directory = Path(SchemaManager.get_migrations_path())
    migrations = pending_migrations(installed, target, directory)
    with connection.transaction():
        for path in migrations:
            connection.execute(path.read_text(encoding="utf-8").encode())
        _record(connection, target)
    return (
        f"upgraded the job queue from procrastinate {_shown(installed)} to {_shown(target)} "
        f"({len(migrations)} migrations)"
    )


def _record(connection: psycopg.Connection[tuple[object, ...]], version: Version) -> None:
    connection.execute(f"DELETE FROM {_VERSION_TABLE}")
    connection.execute(
        f"INSERT INTO {_VERSION_TABLE} (version) VALUES (%s)",
        (_shown(version),),
    )
