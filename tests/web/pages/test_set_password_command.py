"""`calsync users set-password`: how an administrator gives staff a web sign-in."""

from __future__ import annotations

from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Role, User
from calsync.web.passwords import verify_password

runner = CliRunner()


def _add_user(url: str) -> int:
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        user = User(
            name="Ada Lovelace",
            email="ada@northwind.example",
            email_normalized="ada@northwind.example",
            role=Role.ADMIN,
            time_zone="Europe/London",
        )
        session.add(user)
        session.commit()
        user_id = user.id
    engine.dispose()
    return user_id


def _stored_hash(url: str, user_id: int) -> str | None:
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        user = session.get(User, user_id)
        assert user is not None
        stored = user.password_hash
    engine.dispose()
    return stored


def test_the_password_is_stored_as_an_argon2_hash_that_verifies(pages_database_url: str) -> None:
    user_id = _add_user(pages_database_url)
    result = runner.invoke(
        app,
        ["users", "set-password", " ADA@northwind.example", "--stdin", "--url", pages_database_url],
        input="analytical engine\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password set for Ada Lovelace" in result.output
    stored = _stored_hash(pages_database_url, user_id)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "analytical engine" not in stored
    assert verify_password(stored, "analytical engine")


def test_a_short_password_is_refused_and_nothing_is_stored(pages_database_url: str) -> None:
    user_id = _add_user(pages_database_url)
    result = runner.invoke(
        app,
        ["users", "set-password", "ada@northwind.example", "--stdin", "--url", pages_database_url],
        input="short\n",
    )
    assert result.exit_code == 2
    assert "at least 10 characters" in result.output
    assert _stored_hash(pages_database_url, user_id) is None


def test_an_unknown_email_is_reported(pages_database_url: str) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "set-password",
            "nobody@northwind.example",
            "--stdin",
            "--url",
            pages_database_url,
        ],
        input="analytical engine\n",
    )
    assert result.exit_code == 1
    assert "no staff user has the email nobody@northwind.example" in result.output
