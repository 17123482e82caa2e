"""The packaged migrations build exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import inspect
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine
from calsync.crm.migrate import current_revision, head_revision, upgrade_database
from calsync.crm.models import Base
from tests.fixtures.postgres import PostgresServer


def test_upgraded_database_matches_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_is_idempotent_and_reports_the_head_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    assert current_revision(url) is None
    assert upgrade_database(url) == head_revision()
    assert upgrade_database(url) == head_revision()


def test_db_upgrade_command_creates_the_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALSYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("CALSYNC_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    database_file = tmp_path / "data" / "calsync.sqlite3"
    assert database_file.exists()
    assert "up to date" in result.output
    engine = create_database_engine(f"sqlite:///{database_file}")
    assert {"events", "users", "individuals", "contacts", "email_index"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_db_upgrade_command_hides_the_password_of_the_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert str(tmp_path) in result.output


@pytest.mark.postgres
def test_db_upgrade_command_builds_an_empty_postgresql_database(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_server.execute(sql.SQL("CREATE DATABASE calsync_cli_upgrade"))
    monkeypatch.setenv("CALSYNC_DATABASE_URL", postgres_server.url("calsync_cli_upgrade"))
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"at revision {head_revision()}" in result.output
        assert current_revision(postgres_server.url("calsync_cli_upgrade")) == head_revision()
    finally:
        postgres_server.execute(sql.SQL("DROP DATABASE calsync_cli_upgrade WITH (FORCE)"))
