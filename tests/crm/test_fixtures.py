"""The test databases themselves: both kinds are fresh, migrated and isolated from each other."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from calsync.crm.migrate import head_revision
from calsync.crm.models import User
from tests.fixtures import postgres as postgres_fixtures


def test_each_test_gets_a_migrated_empty_database(db_session: Session) -> None:
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
    revision = db_session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == head_revision()


def test_database_url_covers_both_databases(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    url = make_url(database_url)
    assert url.get_backend_name() == request.node.callspec.params["database_url"]
    if url.get_backend_name() == "postgresql":
        assert url.host == "127.0.0.1"


def test_missing_postgresql_binaries_fail_the_run_saying_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postgres_fixtures.glob, "glob", lambda _pattern: [])
    # The session fixture turns this error into pytest.fail: the run fails instead of skipping.
    with (
        pytest.raises(postgres_fixtures.PostgresUnavailableError) as failed,
        postgres_fixtures.throwaway_postgres(),
    ):
        pass
    assert "apt-get install postgresql" in str(failed.value)


def test_the_newest_postgresql_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    found = ["/usr/lib/postgresql/9/bin/initdb", "/usr/lib/postgresql/16/bin/initdb"]
    monkeypatch.setattr(postgres_fixtures.glob, "glob", lambda _pattern: found)
    assert str(postgres_fixtures.postgres_bin_dir()) == "/usr/lib/postgresql/16/bin"
