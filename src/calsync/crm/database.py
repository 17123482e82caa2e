"""Where the CRM's database is and how to open it.

`CALSYNC_DATABASE_URL` names it (for example `postgresql+psycopg://calsync@db.internal/calsync`);
without it
CalSync uses the SQLite file `calsync.sqlite3` in `CALSYNC_DATA_DIR`, or in the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_VARIABLE = "CALSYNC_DATABASE_URL"
DATA_DIR_VARIABLE = "CALSYNC_DATA_DIR"
SQLITE_FILE_NAME = "calsync.sqlite3"


def database_url(environ: dict[str, str] | None = None) -> str:
    """The configured database URL, falling back to the SQLite file of the data directory."""
    env = os.environ if environ is None else environ
    configured = env.get(DATABASE_URL_VARIABLE, "").strip()
    if configured:
        return configured
    data_dir = Path(env.get(DATA_DIR_VARIABLE, "").strip() or Path.cwd())
    return f"sqlite:///{(data_dir / SQLITE_FILE_NAME).resolve()}"


SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless each connection asks for them.
    # The API, the push worker and the scheduler share one file: a writer waits for another writer
    # (busy timeout) instead of failing with "database is locked", and WAL lets readers go on
    # while one of them writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_database_engine(url: str | None = None, **engine_options: Any) -> Engine:
    """An engine for `url` (default: `database_url()`), with SQLite's foreign keys switched on."""
    parsed = make_url(url or database_url())
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **engine_options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for the services. Objects stay readable after commit, so results can be returned
    as-is.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)
