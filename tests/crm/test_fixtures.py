"""The test databases themselves: both kinds are fresh, migrated and isolated from each other."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from calsync.crm.migrate import head_revision
from calsync.crm.models import User


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
