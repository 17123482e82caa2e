"""Browser tests: the real CalSync server in a thread, driven by Debian's headless Chromium.

Nothing is downloaded: Playwright for Python drives `/usr/bin/chromium` (the Debian package that
`make test` installs) through `executable_path`. The server is the same `create_app` that
`calsync serve` runs, on a free loopback port, over a migrated SQLite file in a temporary folder,
seeded through the CRM's services. Each test gets a fresh browser context (no shared cookies).

Screenshots of every page a test visits go to `test-artifacts/browser/` at the repository root.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.models import Individual, Role
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.crm.services.users import create_user
from calsync.web import WebSettings, create_app
from calsync.web.passwords import hash_password
from tests.runtime.conftest import stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@dataclass(frozen=True)
class RunningServer:
    """A CalSync server listening on the loopback address, and a way into its database."""

    base_url: str
    database_url: str
    session_factory: sessionmaker[Session]


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: FastAPI, database_url: str) -> Iterator[RunningServer]:
    """Run `app` with uvicorn on a free loopback port in a thread, until the block ends."""
    port = _free_loopback_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="calsync-browser-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the CalSync server did not start for the browser tests")
        time.sleep(0.05)
    engine = create_database_engine(database_url)
    try:
        yield RunningServer(
            base_url=f"http://127.0.0.1:{port}",
            database_url=database_url,
            session_factory=create_session_factory(engine),
        )
    finally:
        stop_server(server, thread)
        engine.dispose()


def fresh_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite copy in its own temporary folder."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    database = data_dir / "calsync.sqlite3"
    shutil.copyfile(sqlite_template, database)
    return f"sqlite:///{database}"


@pytest.fixture(scope="session")
def calsync_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    url = fresh_database(sqlite_template, tmp_path_factory)
    with serve_in_thread(create_app(WebSettings(database_url=url)), url) as server:
        yield server


# Playwright's sync API marks an event loop as running in the main thread while it is started, so
# it lives per module: pytest-asyncio's tests in other folders need that thread free of loops.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is not installed at /usr/bin/chromium. The browser tests use Debian's "
            "package: run `make test` (it installs it) or `apt-get install -y chromium`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, calsync_server: RunningServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=calsync_server.base_url,
        viewport={"width": 1280, "height": 900},
        timezone_id="America/Los_Angeles",
        locale="en-GB",
    )
    context.set_default_timeout(10_000)
    browser_page = context.new_page()
    yield browser_page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows now as test-artifacts/browser/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class StaffMember:
    """A seeded staff user who can sign in."""

    id: int
    name: str
    email: str
    password: str


_staff_numbers = iter(range(1, 10_000))


@pytest.fixture
def staff(calsync_server: RunningServer) -> StaffMember:
    """A new staff user (London time) with a web password, made through the CRM's services."""
    number = next(_staff_numbers)
    email = f"advisor{number}@northwind.example"
    password = f"browser test password {number}"
    with calsync_server.session_factory() as session:
        user = create_user(
            session,
            name=f"Morgan Advisor {number}",
            email=email,
            time_zone="Europe/London",
            role=Role.STAFF,
            password_hash=hash_password(password),
        )
        session.commit()
        return StaffMember(id=user.id, name=user.name, email=email, password=password)


@pytest.fixture
def client_individual(calsync_server: RunningServer, staff: StaffMember) -> Individual:
    with calsync_server.session_factory() as session:
        person = create_individual(
            session,
            IndividualInput(
                first_name="Ada",
                last_name=f"Lovelace {staff.id}",
                email=f"ada.{staff.id}@lovelace.example",
            ),
        )
        session.commit()
        return person


def sign_in(page: Page, who: StaffMember) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/signin")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/calendar")
