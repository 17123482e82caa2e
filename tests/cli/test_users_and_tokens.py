"""`calsync users create` and `calsync tokens create`: the first admin and their token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Role
from calsync.crm.services.api_tokens import resolve_api_token
from calsync.crm.services.users import list_users

ADMIN = ["--email", "dana@harborview.example", "--name", "Dana Whitfield"]


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CALSYNC_DATABASE_URL", database_url)
    return CliRunner()


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    engine = create_database_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def test_the_first_admin_and_their_token_come_from_the_command_line(
    runner: CliRunner, database_url: str
) -> None:
    created = runner.invoke(
        app, ["users", "create", *ADMIN, "--role", "admin", "--time-zone", "America/New_York"]
    )
    assert created.exit_code == 0, created.output
    assert "Dana Whitfield" in created.stdout
    issued = runner.invoke(app, ["tokens", "create", "--email", "DANA@harborview.example"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    with _session(database_url) as session:
        user = resolve_api_token(session, token)
        assert (user.email, user.role, user.time_zone) == (
            "dana@harborview.example",
            Role.ADMIN,
            "America/New_York",
        )


def test_a_malformed_email_is_refused_by_name_and_no_user_is_added(
    runner: CliRunner, database_url: str
) -> None:
    result = runner.invoke(app, ["users", "create", "--email", "dana at harborview", "--name", "D"])
    assert result.exit_code == 1
    assert "email" in result.stderr
    with _session(database_url) as session:
        assert list_users(session) == []


def test_an_unknown_time_zone_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["users", "create", *ADMIN, "--time-zone", "Mars/Olympus_Mons"])
    assert result.exit_code == 1
    assert "unknown time zone" in result.stderr


def test_a_token_for_a_mailbox_nobody_has_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["tokens", "create", "--email", "nobody@harborview.example"])
    assert result.exit_code == 1
    assert "calsync users create" in result.stderr


def test_help_explains_roles_and_that_the_token_is_shown_once() -> None:
    users_help = CliRunner().invoke(app, ["users", "create", "--help"])
    assert "admin" in users_help.output
    assert "--time-zone" in users_help.output
    tokens_help = CliRunner().invoke(app, ["tokens", "create", "--help"])
    assert "shown only this once" in tokens_help.output
