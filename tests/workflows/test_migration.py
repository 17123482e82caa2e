"""The workflow migration builds exactly the tables `calsync.workflows.models` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import calsync.workflows.models  # noqa: F401  (registers the workflow tables on Base.metadata)
from calsync.crm.database import create_database_engine
from calsync.crm.migrate import alembic_config
from calsync.crm.models import Base


def test_the_migrations_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_migrated_database_matches_the_workflow_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
