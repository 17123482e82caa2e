"""A real CalSync app on a migrated SQLite copy, driven through Starlette's test client.

The pages are server-rendered, so most of their behaviour (sign-in, CSRF, inline errors) is
checked here at HTTP level; tests/browser/ drives the same pages in Chromium.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.models import Role, User
from calsync.crm.services.users import create_user
from calsync.web import WebSettings, create_app, passwords
from calsync.web.passwords import hash_password

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its smallest cost: these tests hash often and check behaviour, not strength."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def pages_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "calsync.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def client(pages_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("CALSYNC_SECRET_KEY", raising=False)
    app = create_app(WebSettings(database_url=pages_database_url))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    factory: sessionmaker[Session] = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        yield session


@pytest.fixture
def staff_user(db: Session) -> User:
    user = create_user(
        db,
        name="Grace Hopper",
        email="Grace.Hopper@northwind.example",
        time_zone="Europe/London",
        role=Role.STAFF,
        password_hash=hash_password(STAFF_PASSWORD),
    )
    db.commit()
    return user


def csrf_token(html: str) -> str:
    """The CSRF token a page put in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str) -> None:
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def signed_in(client: TestClient, staff_user: User) -> TestClient:
    """The client, signed in as the staff user."""
    sign_in(client, staff_user.email, STAFF_PASSWORD)
    return client


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Response:
    """Submit a form the way the page would: with the CSRF token the page carries."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


@pytest.fixture
def admin_user(db: Session) -> User:
    user = create_user(
        db,
        name="Katherine Johnson",
        email="katherine@northwind.example",
        time_zone="America/New_York",
        role=Role.ADMIN,
        password_hash=hash_password(STAFF_PASSWORD),
    )
    db.commit()
    return user


@pytest.fixture
def signed_in_admin(client: TestClient, admin_user: User) -> TestClient:
    """The client, signed in as a System Administrator."""
    sign_in(client, admin_user.email, STAFF_PASSWORD)
    return client
