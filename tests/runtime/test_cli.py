"""`calsync sync …` and `calsync status` against the emulator, as an administrator types them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import User
from calsync.crm.services.events import EventInput, create_event, delete_event
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
    assert "the sync log is kept 90 days" in output
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


def test_an_administrator_lists_and_confirms_held_deletions_from_the_shell(
    environment: dict[str, str],
) -> None:
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
    engine = create_database_engine(environment["CALSYNC_DATABASE_URL"])
    sessions = create_session_factory(engine)
    start = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    with sessions() as session:
        [adele] = session.scalars(select(User).where(User.email_normalized == ADELE)).all()
        event_ids = [
            create_event(
                session,
                EventInput(
                    owner_id=adele.id,
                    subject=f"Retirement plan {day}",
                    start=start + timedelta(days=day),
                    end=start + timedelta(days=day, hours=1),
                ),
            ).id
            for day in range(8)
        ]
        session.commit()
    assert calsync(environment, "sync", "now")[0] == 0
    with sessions() as session:
        for event_id in event_ids[:6]:
            delete_event(session, event_id)
        session.commit()
    engine.dispose()
    assert calsync(environment, "sync", "now")[0] == 0  # the push holds the six deletions

    code, output = calsync(environment, "sync", "held")
    assert code == 0, output
    assert "6 of the 8" in output
    assert [f"“Retirement plan {day}”" in output for day in range(8)] == [True] * 6 + [False] * 2
    assert "confirming deletes it from Microsoft 365" in output

    code, output = calsync(environment, "sync", "confirm-deletions", "--user", ADELE)
    assert code == 0, output
    assert f"{ADELE}: the 6 held events are deleted." in output

    assert calsync(environment, "sync", "held") == (0, "No mailbox holds deletions.\n")
    code, output = calsync(environment, "sync", "discard-deletions", "--user", ADELE)
    assert code == 1
    assert "Error (user): no deletions are held" in output
    assert "[nothing_held]" in output
    code, output = calsync(environment, "sync", "held", "--user", "nobody@harborview.example")
    assert code == 1
    assert "no user has the email nobody@harborview.example [not_found]" in output
