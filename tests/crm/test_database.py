"""Where CalSync finds its database, and that SQLite enforces the foreign keys the rules rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from calsync.crm.database import create_database_engine, database_url


def test_database_url_prefers_the_environment_variable(tmp_path: Path) -> None:
    url = database_url(
        {"CALSYNC_DATABASE_URL": "postgresql+psycopg://crm@db/calsync", "CALSYNC_DATA_DIR": "/x"}
    )
    assert url == "postgresql+psycopg://crm@db/calsync"


def test_database_url_defaults_to_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    assert database_url({"CALSYNC_DATA_DIR": str(tmp_path)}) == (
        f"sqlite:///{tmp_path / 'calsync.sqlite3'}"
    )


def test_database_url_defaults_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url({}) == f"sqlite:///{tmp_path.resolve() / 'calsync.sqlite3'}"


def test_sqlite_connections_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'nested' / 'crm.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()
