"""No input gets a server error: schemathesis drives every operation of the OpenAPI document.

Each operation gets a fresh database (SQLite and PostgreSQL) with a few real records, so that
small ids name existing rows and updates and deletes are exercised too, and requests are sent as
an administrator, so they get past authentication into the services. Hypothesis generates both
valid and invalid requests; every answer must be below 500, match the documented response
schema, and every 4xx must carry the API's error shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import FieldType, RecordType, Role
from calsync.crm.services.api_tokens import create_api_token
from calsync.crm.services.contact_point_emails import add_contact_point_email
from calsync.crm.services.custom_fields import define_custom_field
from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
)
from calsync.crm.services.users import create_user
from calsync.web import WebSettings, create_app

MAX_EXAMPLES_PER_OPERATION = 12


def _seed(session: Session) -> str:
    """A few records of every kind; returns an admin's token (not the one with id 1)."""
    admin = create_user(
        session,
        name="Dana Whitfield",
        email="dana@harborview.example",
        role=Role.ADMIN,
        time_zone="America/New_York",
    )
    advisor = create_user(
        session, name="Marcus Reyes", email="marcus@harborview.example", time_zone="UTC"
    )
    for throwaway in range(3):
        create_api_token(session, advisor.id, f"spare {throwaway}")
    individual = create_individual(
        session, IndividualInput(first_name="Olivia", last_name="Hartman", email="o@mail.example")
    )
    contact = create_contact(session, ContactInput(last_name="Lakeshore", email="l@cpa.example"))
    create_individual(session, IndividualInput(first_name="James", last_name="Okafor"))
    create_contact(session, ContactInput(first_name="Hannah", last_name="Schuster"))
    add_contact_point_email(session, RecordType.INDIVIDUAL, individual.id, "oh@work.example")
    add_contact_point_email(session, RecordType.CONTACT, contact.id, "billing@cpa.example")
    define_custom_field(session, RecordType.INDIVIDUAL, "spouse_email", "Spouse", FieldType.EMAIL)
    define_custom_field(session, RecordType.CONTACT, "referrals", "Referrals", FieldType.NUMBER)
    start = datetime(2026, 12, 1, 15, tzinfo=UTC)
    for subject, rule in (("Review", None), ("Weekly pipeline", "FREQ=WEEKLY;COUNT=4")):
        create_event(
            session,
            EventInput(
                owner_id=admin.id,
                subject=subject,
                start=start,
                end=start.replace(hour=16),
                recurrence_rule=rule,
                attendees=(
                    AttendeeInput(user_id=advisor.id),
                    AttendeeInput(individual_id=individual.id),
                ),
            ),
        )
    token = create_api_token(session, admin.id, "fuzz").secret
    session.commit()
    return token


@pytest.fixture
def fuzz_app(database_url: str) -> Iterator[FastAPI]:
    app = create_app(WebSettings(database_url=database_url))
    factory: sessionmaker[Session] = app.state.session_factory
    with factory() as session:
        app.state.fuzz_token = _seed(session)
    yield app
    _current_app.app = None
    app.state.engine.dispose()


class _CurrentApp:
    """One ASGI entry point for the whole module that forwards to the current test's app.

    Schemathesis loads the OpenAPI document (and keeps an app's lifespan running) per app object;
    forwarding lets it do that once, while each test still gets its own app and database.
    """

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self.app is not None, "no fuzzed app is active"
        await self.app(scope, receive, send)


_current_app = _CurrentApp()


@lru_cache(maxsize=1)
def _schema() -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", _current_app)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the API's OpenAPI document."""
    document_only = create_app(WebSettings(database_url="sqlite://"))
    try:
        paths = document_only.openapi()["paths"]
    finally:
        document_only.state.engine.dispose()
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def _no_server_error_and_the_error_shape(case: Any, response: Any) -> None:
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "field"}, body
        assert isinstance(body["error"]["code"], str), body
        assert body["error"]["message"], body


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_request_gets_a_server_error_and_errors_have_the_api_shape(
    fuzz_app: FastAPI, method: str, path: str
) -> None:
    _current_app.app = fuzz_app
    operation = _schema()[path][method]
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    path_names = re.findall(r"{(\w+)}", path)
    if path_names:
        # Random ids almost never name a seeded record; these requests reach real rows (ids 1 and
        # 2 exist for every kind of record), so updates and deletes meet the services' rules.
        strategies += [
            operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters=dict.fromkeys(path_names, 1)
            ),
            operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters=dict.fromkeys(path_names, 2)
            ),
        ]
    requests = st.one_of(*strategies)

    @given(case=requests)
    @settings(
        max_examples=MAX_EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def every_answer_is_a_proper_answer(case: Any) -> None:
        _no_server_error_and_the_error_shape(case, case.call(headers=headers))

    every_answer_is_a_proper_answer()
