"""The real API on a fresh migrated database (SQLite and PostgreSQL), called as different users."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import Role
from calsync.crm.services.api_tokens import create_api_token
from calsync.crm.services.users import create_user
from calsync.web import WebSettings, create_app

API = "/api/v1"


@dataclass
class Caller:
    """One user of the API: their id, their token, and a client that sends it."""

    client: TestClient
    user_id: int
    token: str

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **options.pop("headers", {})}
        return self.client.request(method, API + path, headers=headers, **options)

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    def patch(self, path: str, **options: Any) -> httpx.Response:
        return self.request("PATCH", path, **options)

    def put(self, path: str, **options: Any) -> httpx.Response:
        return self.request("PUT", path, **options)

    def delete(self, path: str, **options: Any) -> httpx.Response:
        return self.request("DELETE", path, **options)


@pytest.fixture
def api_app(database_url: str) -> Iterator[FastAPI]:
    app = create_app(WebSettings(database_url=database_url))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def api(api_app: FastAPI) -> Iterator[TestClient]:
    """A client without credentials."""
    with TestClient(api_app) as client:
        yield client


@pytest.fixture
def api_session(api_app: FastAPI) -> Iterator[Session]:
    """A session on the API's database, for arranging records and checking what was stored."""
    factory: sessionmaker[Session] = api_app.state.session_factory
    with factory() as session:
        yield session


def make_caller(
    client: TestClient, session: Session, name: str, email: str, role: Role, time_zone: str
) -> Caller:
    user = create_user(session, name=name, email=email, role=role, time_zone=time_zone)
    issued = create_api_token(session, user.id, "tests")
    session.commit()
    return Caller(client=client, user_id=user.id, token=issued.secret)


@pytest.fixture
def admin(api: TestClient, api_session: Session) -> Caller:
    return make_caller(
        api,
        api_session,
        "Dana Whitfield",
        "dana@harborview.example",
        Role.ADMIN,
        "America/New_York",
    )


@pytest.fixture
def advisor(api: TestClient, api_session: Session) -> Caller:
    return make_caller(
        api, api_session, "Marcus Reyes", "marcus@harborview.example", Role.STAFF, "America/Chicago"
    )


@pytest.fixture
def colleague(api: TestClient, api_session: Session) -> Caller:
    return make_caller(
        api, api_session, "Priya Natarajan", "priya@harborview.example", Role.STAFF, "Europe/London"
    )


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an API error with this status, code and (when given) field."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field"}, body
    assert error["code"] == code, body
    if field is not None:
        assert error["field"] == field, body
    assert error["message"], body
    return error
