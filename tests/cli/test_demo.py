"""`calsync demo`: migrates, seeds realistic data once, and hands out a working admin token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from calsync.cli import app
from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import (
    ApiToken,
    Base,
    Contact,
    ContactPointEmail,
    CustomFieldDefinition,
    Event,
    FieldType,
    Individual,
    Role,
    User,
)
from calsync.crm.services.api_tokens import resolve_api_token
from calsync.crm.services.calendar import list_events
from calsync.crm.services.users import create_user
from calsync.demo_data import ADMIN_EMAIL, seed_demo_data
from calsync.workflows.models import WorkflowDefinition


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = create_database_engine(database_url)
    try:
        with create_session_factory(engine)() as opened:
            yield opened
    finally:
        engine.dispose()


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_the_demo_firm_has_the_promised_people_and_meetings(session: Session) -> None:
    seed_demo_data(session, date(2026, 11, 26))
    session.commit()
    users = session.scalars(select(User)).all()
    assert sorted(user.role for user in users) == [Role.ADMIN, Role.STAFF, Role.STAFF, Role.STAFF]
    assert session.scalar(select(func.count()).select_from(Individual)) == 30
    contacts = session.scalars(select(Contact)).all()
    assert len(contacts) == 15
    assert all(contact.alternate_email for contact in contacts)
    email_fields = session.scalars(
        select(CustomFieldDefinition).where(CustomFieldDefinition.field_type == FieldType.EMAIL)
    ).all()
    assert len(email_fields) >= 2
    assert session.scalar(select(func.count()).select_from(ContactPointEmail)) >= 15
    events = session.scalars(select(Event)).all()
    assert any(event.is_all_day for event in events)
    assert any(event.recurrence_rule for event in events)
    assert any(event.copy_of_event_id for event in events), "no internal meeting copies"
    workflow_names = set(session.scalars(select(WorkflowDefinition.name)))
    assert {"Annual review", "Welcome call"} <= workflow_names


def test_the_demo_week_is_the_week_of_the_given_day(session: Session) -> None:
    summary = seed_demo_data(session, date(2026, 11, 26))
    session.commit()
    advisor = session.scalars(select(User).where(User.role == Role.STAFF)).first()
    assert advisor is not None
    week = list_events(
        session,
        advisor.id,
        datetime(2026, 11, 23, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    )
    assert len(week) >= 10
    assert summary.admin.email == ADMIN_EMAIL


def test_seeding_again_adds_nothing(session: Session) -> None:
    assert seed_demo_data(session, date(2026, 11, 26)).created
    session.commit()
    before = _row_counts(session)
    assert not seed_demo_data(session, date(2026, 12, 10)).created
    session.commit()
    assert _row_counts(session) == before


def test_the_demo_command_twice_adds_nothing_and_only_the_last_token_works(
    database_url: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_DATABASE_URL", database_url)
    first = CliRunner().invoke(app, ["demo", "--seed-only"])
    assert first.exit_code == 0, first.output
    counts = _row_counts(session)
    second = CliRunner().invoke(app, ["demo", "--seed-only"])
    assert second.exit_code == 0, second.output
    assert "nothing was added" in second.output
    assert _row_counts(session) == counts
    token = next(line.split()[-1] for line in second.output.splitlines() if "API token" in line)
    assert resolve_api_token(session, token).email == ADMIN_EMAIL
    assert f"Authorization: Bearer {token}" in second.output
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_demo_help_says_what_it_seeds_and_where() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    for expected in ("CALSYNC_DATABASE_URL", "data/calsync.sqlite3", "--port", "--seed-only"):
        assert expected in result.output


def test_the_demo_firm_is_never_mixed_into_a_database_with_real_users(
    database_url: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(session, name="Ana Real", email="ana@realfirm.example", time_zone="UTC")
    session.commit()
    before = _row_counts(session)
    monkeypatch.setenv("CALSYNC_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["demo", "--seed-only"])
    assert result.exit_code == 1
    assert "already has users" in result.stderr
    assert _row_counts(session) == before
