"""Bring a database to the current shape of the CRM tables with the Alembic migrations shipped in
the package.

Alembic is configured here in code, so upgrading works from an installed package without an
`alembic.ini`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from calsync.crm.database import create_database_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs with escaped passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> str:
    """Apply every pending migration to the database at `url`; return the revision it is now at."""
    command.upgrade(alembic_config(url), "head")
    return current_revision(url) or ""


def head_revision() -> str:
    """The newest migration shipped with this version of CalSync."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return head or ""


def current_revision(url: str) -> str | None:
    """The migration the database at `url` is at (None for an empty database)."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
