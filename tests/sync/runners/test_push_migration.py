"""Migration sync_0002: the pending snapshot of a write in flight, on links and outbox entries.

Existing rows (made before the upgrade) get no pending snapshot, and a downgrade drops the columns
without touching the rows, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from psycopg import sql
from sqlalchemy import inspect, text

from calsync.crm.database import create_database_engine
from calsync.crm.migrate import alembic_config, current_revision
from tests.fixtures.postgres import PostgresServer

_LINK = (
    "INSERT INTO sync_links (crm_event_id, mailbox, graph_id, crm_version, origin, is_organizer, "
    "event_type, base, created_at, updated_at) VALUES (7, 'ana@firm.example', 'AAMk-7', 3, 'crm', "
    "true, 'singleInstance', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
_ENTRY = (
    "INSERT INTO sync_outbox (crm_event_id, owner_id, kind, created_at, attempts) "
    "VALUES (7, 1, 'update', CURRENT_TIMESTAMP, 0)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    server.execute(sql.SQL("CREATE DATABASE calsync_sync_0002"))
    try:
        yield server.url("calsync_sync_0002")
    finally:
        server.execute(sql.SQL("DROP DATABASE calsync_sync_0002 WITH (FORCE)"))


def _pending_columns(url: str) -> dict[str, set[str]]:
    engine = create_database_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: {
                column["name"]
                for column in inspector.get_columns(table)
                if column["name"].startswith("pending_")
            }
            for table in ("sync_links", "sync_outbox")
        }
    finally:
        engine.dispose()


def test_rows_from_before_the_upgrade_have_no_write_in_flight_and_survive_a_downgrade(
    empty_database: str,
) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "sync_0001")
    engine = create_database_engine(empty_database)
    try:
        with engine.begin() as connection:
            connection.execute(text(_LINK))
            connection.execute(text(_ENTRY))
        command.upgrade(config, "sync_0002")
        assert current_revision(empty_database) == "sync_0002"
        pending = {"pending_snapshot", "pending_crm_version"}
        assert _pending_columns(empty_database) == {"sync_links": pending, "sync_outbox": pending}
        with engine.connect() as connection:
            link = connection.execute(
                text("SELECT crm_version, pending_snapshot, pending_crm_version FROM sync_links")
            ).one()
            entry = connection.execute(
                text("SELECT kind, pending_snapshot, pending_crm_version FROM sync_outbox")
            ).one()
        assert tuple(link) == (3, None, None)
        assert tuple(entry) == ("update", None, None)

        command.downgrade(config, "sync_0001")
        assert _pending_columns(empty_database) == {"sync_links": set(), "sync_outbox": set()}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT graph_id FROM sync_links")).scalar_one() == (
                "AAMk-7"
            )
            assert connection.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one() == 1
    finally:
        engine.dispose()
