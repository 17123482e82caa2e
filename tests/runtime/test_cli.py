"""`calsync sync …` and `calsync status` against the emulator, as an administrator types them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.services.users import create_user
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from tests.fixtures.emulator import ADELE, CLIENT_ID, CLIENT_SECRET, TENANT

runner = CliRunner()


@pytest.fixture
def environment(
    tmp_path: Path, emulator_server: EmulatorServer, control: EmulatorControl
) -> dict[str, str]:
    """A fresh SQLite database with Adele (sync on), pointed at the emulator."""
    url = f"sqlite:///{tmp_path / 'calsync.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        create_user(session, name="Adele Vance", email=ADELE, time_zone="UTC", sync_enabled=True)
        session.commit()
    engine.dispose()
    return {
        "CALSYNC_DATABASE_URL": url,
        "CALSYNC_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CALSYNC_GRAPH_AUTHORITY_HOST": emulator_server.base_url,
        "CALSYNC_GRAPH_URL": emulator_server.graph_url,
        "CALSYNC_GRAPH_CA_BUNDLE": str(emulator_server.ca_path),
    }


def calsync(environment: dict[str, str], *arguments: str) -> tuple[int, str]:
    # A wide terminal, so the status table keeps each address on one line.
    result = runner.invoke(app, list(arguments), env={**environment, "COLUMNS": "200"})
    return result.exit_code, result.output


def test_an_administrator_enables_runs_inspects_and_disables_the_sync(
    environment: dict[str, str],
) -> None:
    code, output = calsync(environment, "status")
    assert code == 0
    assert "not enabled" in output

    code, output = calsync(environment, "sync", "now")
    assert code == 1
    assert "sync_not_enabled" in output

    code, output = calsync(
        {**environment, "CALSYNC_CLIENT_SECRET": CLIENT_SECRET},
        "sync",
        "enable",
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT_ID,
    )
    assert code == 0, output
    assert f"the calendar of {ADELE} was read" in output

    code, output = calsync(environment, "sync", "now", "--user", ADELE.upper())
    assert code == 0, output
    assert f"{ADELE}: synced" in output

    code, output = calsync(environment, "status")
    assert code == 0, output
    assert "enabled" in output
    assert ADELE in output
    assert "ok" in output

    code, output = calsync(environment, "sync", "disable")
    assert code == 0, output
    code, output = calsync(environment, "sync", "disable")
    assert code == 1
    assert "sync_not_enabled" in output


def test_a_wrong_secret_is_reported_with_the_step_that_failed(
    environment: dict[str, str],
) -> None:
    code, output = calsync(
        environment,
        "sync",
        "enable",
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "wrong",
    )
    assert code == 1
    assert "the token request" in output
    assert "connection_test_failed" in output
    code, output = calsync(environment, "status")
    assert "not enabled" in output
